package sheet

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"prodays"

	"github.com/xuri/excelize/v2"
)

// DefaultMaxInflatedBytes is the default cap on what one XLSX workbook may
// inflate to, all its zip entries together: 64 MiB. The biggest real file
// of the 2026 edition, trainees (47,651 rows), saved as XLSX inflates to
// 13.8 MB (a 12.4 MB sheet); 64 MiB leaves room for an edition twice as
// big written by a tool twice as verbose (inline strings).
const DefaultMaxInflatedBytes = prodays.DefaultImportMaxInflatedBytes

// MaxPartBytes caps each zip entry that is read whole into memory: every
// part but the worksheets and the shared strings, which are streamed. The
// real ones are a few KB (workbook, styles, theme); a styles part at
// Excel's limit of about 64,000 cell formats is about 5 MB. excelize
// decodes such a part whole, at about 9 times its size (a 16 MiB
// relationships part took a reader to 145 MB).
const MaxPartBytes = 8 << 20

// streamAbove is the size over which a worksheet or the shared strings
// table is inflated to a temporary file and streamed from it, rather than
// held in memory (excelize's UnzipXMLSizeLimit).
const streamAbove = 16 << 20

// maxEntries caps the zip entries of a workbook (a real one has about
// ten), so that a directory of millions of empty entries is refused
// before archive/zip builds a record for each.
const maxEntries = 10_000

// Limits bound what reading one file may take. Zero fields take the
// defaults.
type Limits struct {
	// MaxBytes caps the file as given, in bytes (no default: the caller's
	// cap).
	MaxBytes int64
	// MaxInflatedBytes caps an XLSX workbook once inflated, in bytes: the
	// sum of the sizes of its zip entries (default
	// DefaultMaxInflatedBytes).
	MaxInflatedBytes int64
}

// InflatedError is the error of a workbook that would inflate past a
// limit: Limit bytes in total when Entry is "", or MaxPartBytes for the
// one entry Entry. The sizes checked are those the zip's central
// directory declares, before anything is inflated; archive/zip refuses to
// inflate an entry past its declared size, so a lying directory gains
// nothing.
type InflatedError struct {
	File  string
	Entry string
	Limit int64
}

func (e *InflatedError) Error() string {
	if e.Entry != "" {
		return fmt.Sprintf("%s: its part %s inflates to more than %s, the limit of one part of a workbook", e.File, e.Entry, formatBytes(e.Limit))
	}
	return fmt.Sprintf("%s: the workbook inflates to more than %s, the import limit of inflated XLSX data", e.File, formatBytes(e.Limit))
}

// streamedPart reports whether excelize streams the zip entry name from a
// temporary file when it is large (worksheets and the shared strings), as
// excelize's ReadZipReader decides.
func streamedPart(name string) bool {
	n := strings.ToLower(strings.ReplaceAll(name, "\\", "/"))
	return n == "xl/sharedstrings.xml" || strings.HasPrefix(n, "xl/worksheets/sheet")
}

// checkInflated checks the sizes the zip's central directory declares
// against the limits. It returns an issue for a file that is not a zip.
func checkInflated(file string, data []byte, limit int64) ([]Issue, error) {
	if n := bytes.Count(data, []byte("PK\x01\x02")); n > maxEntries {
		return []Issue{{File: file, Message: fmt.Sprintf("not an XLSX workbook: more than %d parts", maxEntries)}}, nil
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return []Issue{{File: file, Message: "not a readable XLSX workbook: " + err.Error()}}, nil
	}
	part := uint64(min(MaxPartBytes, limit))
	var total uint64
	for _, zf := range zr.File {
		size := zf.UncompressedSize64
		if !streamedPart(zf.Name) && size > part {
			return nil, &InflatedError{File: file, Entry: zf.Name, Limit: int64(part)}
		}
		if size > uint64(limit) || total+size > uint64(limit) {
			return nil, &InflatedError{File: file, Limit: limit}
		}
		total += size
	}
	// Within the caps, a worksheet or the shared strings could still hold
	// one huge cell or row, which excelize would decode whole. Every XML
	// part is scanned: a sheet may live at another path.
	for _, zf := range zr.File {
		if strings.HasSuffix(strings.ToLower(zf.Name), ".xml") || strings.HasSuffix(strings.ToLower(zf.Name), ".rels") {
			if is, err := scanPart(file, zf); is != nil || err != nil {
				return []Issue{*is}, err
			}
		}
	}
	return nil, nil
}

// ReadXLSX reads the first sheet of an XLSX workbook of at most
// lim.MaxBytes bytes that inflates to at most lim.MaxInflatedBytes
// (otherwise an *InflatedError, before anything is inflated). Line numbers
// are spreadsheet row numbers (the header is row 1). Cells are read as
// displayed; trailing empty cells of a row are not counted as extra
// fields. The sheet is read row by row (excelize's Rows), from a
// temporary file when it is large; at most MaxRows rows and MaxCells
// cells are kept.
func ReadXLSX(file string, r io.Reader, lim Limits) (*Sheet, []Issue, error) {
	maxBytes, maxInflated := lim.MaxBytes, lim.MaxInflatedBytes
	if maxInflated <= 0 {
		maxInflated = DefaultMaxInflatedBytes
	}
	data, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", file, err)
	}
	if int64(len(data)) > maxBytes {
		return nil, []Issue{TooLarge(file, maxBytes)}, nil
	}
	if len(data) == 0 {
		return nil, []Issue{{File: file, Message: "file is empty: want a header line and data rows"}}, nil
	}
	if issues, err := checkInflated(file, data, maxInflated); issues != nil || err != nil {
		return nil, issues, err
	}
	// excelize's temporary files go to a folder of this read, removed at
	// the end: it leaves them behind when opening fails half-way.
	tmp, err := os.MkdirTemp("", "prodays-import-")
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", file, err)
	}
	defer os.RemoveAll(tmp)
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{TmpDir: tmp,
		UnzipSizeLimit: maxInflated, UnzipXMLSizeLimit: min(maxInflated, streamAbove)})
	data = nil // excelize has its own copy
	if f != nil {
		defer f.Close()
	}
	if err != nil {
		return nil, []Issue{{File: file, Message: "not a readable XLSX workbook: " + err.Error()}}, nil
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, []Issue{{File: file, Message: "workbook has no sheet"}}, nil
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		return nil, []Issue{{File: file, Message: "cannot read the first sheet: " + err.Error()}}, nil
	}
	defer rows.Close()
	s := &Sheet{File: file}
	var b budget
	// Empty rows are kept between data rows (as GetRows did), not after
	// the last one.
	var blank []int
	for line := 1; rows.Next(); line++ {
		rec, err := rows.Columns()
		if err != nil {
			return nil, []Issue{{File: file, Line: line, Message: "cannot read this row: " + err.Error()}}, nil
		}
		if s.Header == nil {
			if AllEmpty(rec) {
				continue
			}
			s.Header = make([]string, len(rec))
			for j, h := range rec {
				s.Header[j] = strings.ToLower(Clean(h))
			}
			if is := b.add(file, line, len(rec)); is != nil {
				return nil, []Issue{*is}, nil
			}
			continue
		}
		if len(rec) == 0 {
			blank = append(blank, line)
			continue
		}
		for _, l := range blank {
			if is := b.add(file, l, len(s.Header)); is != nil {
				return nil, []Issue{*is}, nil
			}
			s.Rows = append(s.Rows, Row{Line: l, Fields: make([]string, len(s.Header))})
		}
		blank = blank[:0]
		// A spreadsheet pads or trims rows freely: drop trailing empty
		// cells, pad short rows.
		for len(rec) > len(s.Header) && rec[len(rec)-1] == "" {
			rec = rec[:len(rec)-1]
		}
		for len(rec) < len(s.Header) {
			rec = append(rec, "")
		}
		if is := b.add(file, line, len(rec)); is != nil {
			return nil, []Issue{*is}, nil
		}
		for j, v := range rec {
			if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
				return s, []Issue{{File: file, Line: line, Column: ColumnName(s.Header, j), Position: j + 1, Message: "binary or non-UTF-8 content in a cell"}}, nil
			}
		}
		s.Rows = append(s.Rows, Row{Line: line, Fields: rec})
	}
	if err := rows.Error(); err != nil {
		return nil, []Issue{{File: file, Message: "cannot read the first sheet: " + err.Error()}}, nil
	}
	if s.Header == nil {
		return nil, []Issue{{File: file, Message: "file is empty: want a header line and data rows"}}, nil
	}
	return s, nil, nil
}
