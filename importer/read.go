package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/unicode/norm"
)

// sheet is a file read into memory: its normalised header and its data
// rows, each with the physical line (or spreadsheet row) where it starts.
type sheet struct {
	file   string
	header []string // lower-cased, trimmed column names, in file order
	rows   []row
}

// row is one data record. fields is as read (not yet trimmed or
// normalised); line is 1-based and counts the header as line 1.
type row struct {
	line   int
	fields []string
}

// maxIssuesPerFile bounds the errors collected from one file, so that a
// wholly wrong file (Latin-1, wrong kind) gives a readable report.
const maxIssuesPerFile = 200

// clean is how every text value is stored: outer white space trimmed, then
// Unicode NFC. Nothing else is altered.
func clean(s string) string {
	return norm.NFC.String(strings.TrimSpace(s))
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// tooLarge is the issue of a file over the size cap.
func tooLarge(file string, maxBytes int64) Issue {
	return Issue{File: file, Message: fmt.Sprintf("file is larger than the limit of %s; split it or raise the limit", formatBytes(maxBytes))}
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// detectSeparator returns ';' when the header line holds more semicolons
// than commas outside quotes, ',' otherwise.
func detectSeparator(head []byte) rune {
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	var commas, semis int
	quoted := false
	for _, b := range head {
		switch b {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				commas++
			}
		case ';':
			if !quoted {
				semis++
			}
		}
	}
	if semis > commas {
		return ';'
	}
	return ','
}

// readCSV reads a CSV file of at most maxBytes bytes: UTF-8 with or without
// a BOM, comma or semicolon separated (detected from the header line),
// RFC 4180 quoting, LF or CRLF. Problems of the file's form are returned as
// issues (with the physical line where the record starts); the error is
// for a failing reader only. It never holds more than maxBytes+1 bytes of
// input.
func readCSV(file string, r io.Reader, maxBytes int64) (*sheet, []Issue, error) {
	cr := &countingReader{r: io.LimitReader(r, maxBytes+1)}
	br := bufio.NewReaderSize(cr, 64<<10)
	if b, _ := br.Peek(3); bytes.Equal(b, utf8BOM) {
		br.Discard(3)
	}
	head, err := br.Peek(64 << 10)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, nil, fmt.Errorf("read %s: %w", file, err)
	}
	if len(bytes.TrimSpace(head)) == 0 {
		return nil, []Issue{{File: file, Message: "file is empty: want a header line and data rows"}}, nil
	}
	if bytes.HasPrefix(head, []byte("PK\x03\x04")) {
		return nil, []Issue{{File: file, Message: "file is an XLSX (zip) workbook, not CSV text: give it the .xlsx extension"}}, nil
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return nil, []Issue{{File: file, Message: "file is binary, not CSV text"}}, nil
	}

	cv := csv.NewReader(br)
	cv.Comma = detectSeparator(head)
	cv.FieldsPerRecord = -1 // counts are checked here, with a clearer message
	s := &sheet{file: file}
	var issues []Issue
	fail := func(is Issue) bool {
		issues = append(issues, is)
		if len(issues) >= maxIssuesPerFile {
			issues = append(issues, Issue{File: file, Message: fmt.Sprintf("too many errors; stopped after %d", maxIssuesPerFile)})
			return true
		}
		return false
	}
	first := true
	for {
		rec, err := cv.Read()
		if cr.n > maxBytes {
			return nil, []Issue{tooLarge(file, maxBytes)}, nil
		}
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			if fail(Issue{File: file, Line: pe.Line, Message: "CSV syntax: " + pe.Err.Error()}) {
				return s, issues, nil
			}
			continue
		} else if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", file, err)
		}
		line, _ := cv.FieldPos(0)
		for i, f := range rec {
			if !utf8.ValidString(f) {
				l, _ := cv.FieldPos(i)
				issues = append(issues, Issue{File: file, Line: l, Column: columnName(s.header, i), Position: i + 1,
					Message: "text is not valid UTF-8: save the file as \"CSV UTF-8\"; nothing more was read"})
				return s, issues, nil
			}
			if strings.IndexByte(f, 0) >= 0 {
				l, _ := cv.FieldPos(i)
				issues = append(issues, Issue{File: file, Line: l, Column: columnName(s.header, i), Position: i + 1,
					Message: "binary content (NUL byte) in text; nothing more was read"})
				return s, issues, nil
			}
		}
		if first {
			first = false
			s.header = make([]string, len(rec))
			for i, h := range rec {
				s.header[i] = strings.ToLower(clean(h))
			}
			continue
		}
		s.rows = append(s.rows, row{line: line, fields: rec})
	}
	if first {
		issues = append(issues, Issue{File: file, Message: "file is empty: want a header line and data rows"})
	}
	return s, issues, nil
}

// columnName is the header name of 0-based field i, or "" past the header.
func columnName(header []string, i int) string {
	if i < len(header) {
		return header[i]
	}
	return ""
}

// readXLSX reads the first sheet of an XLSX workbook of at most maxBytes
// bytes. Line numbers are spreadsheet row numbers (the header is row 1).
// Cells are read as displayed; trailing empty cells of a row are not
// counted as extra fields.
func readXLSX(file string, r io.Reader, maxBytes int64) (*sheet, []Issue, error) {
	cr := &countingReader{r: io.LimitReader(r, maxBytes+1)}
	data, err := io.ReadAll(cr)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", file, err)
	}
	if int64(len(data)) > maxBytes {
		return nil, []Issue{tooLarge(file, maxBytes)}, nil
	}
	if len(data) == 0 {
		return nil, []Issue{{File: file, Message: "file is empty: want a header line and data rows"}}, nil
	}
	// Bound what the zip may inflate to, against zip bombs.
	limit := max(maxBytes*20, 64<<20)
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: limit, UnzipXMLSizeLimit: limit})
	if err != nil {
		return nil, []Issue{{File: file, Message: "not a readable XLSX workbook: " + err.Error()}}, nil
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, []Issue{{File: file, Message: "workbook has no sheet"}}, nil
	}
	rows, err := f.GetRows(sheets[0])
	if err != nil {
		return nil, []Issue{{File: file, Message: "cannot read the first sheet: " + err.Error()}}, nil
	}
	s := &sheet{file: file}
	for i, rec := range rows {
		if s.header == nil {
			if allEmpty(rec) {
				continue
			}
			s.header = make([]string, len(rec))
			for j, h := range rec {
				s.header[j] = strings.ToLower(clean(h))
			}
			continue
		}
		// A spreadsheet pads or trims rows freely: drop trailing empty
		// cells, pad short rows.
		for len(rec) > len(s.header) && rec[len(rec)-1] == "" {
			rec = rec[:len(rec)-1]
		}
		for len(rec) < len(s.header) {
			rec = append(rec, "")
		}
		for j, v := range rec {
			if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
				return s, []Issue{{File: file, Line: i + 1, Column: columnName(s.header, j), Position: j + 1, Message: "binary or non-UTF-8 content in a cell"}}, nil
			}
		}
		s.rows = append(s.rows, row{line: i + 1, fields: rec})
	}
	if s.header == nil {
		return nil, []Issue{{File: file, Message: "file is empty: want a header line and data rows"}}, nil
	}
	return s, nil, nil
}

func allEmpty(fields []string) bool {
	for _, f := range fields {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}
