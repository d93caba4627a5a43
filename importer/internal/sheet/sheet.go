// Package sheet reads the office's import files, CSV or XLSX, into rows of
// text with their physical line numbers. It knows nothing of the kinds of
// file or of the database, so that it can be fuzzed alone.
package sheet

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"prodays"
)

// Sheet is a file read into memory: its normalised header and its data
// rows, each with the physical line (or spreadsheet row) where it starts.
type Sheet struct {
	File   string
	Header []string // lower-cased, trimmed column names, in file order
	Rows   []Row
}

// Row is one data record. Fields are as read (not yet trimmed or
// normalised); Line is 1-based and counts the header as line 1.
type Row struct {
	Line   int
	Fields []string
}

// MaxIssues bounds the errors collected from one file, so that a wholly
// wrong file (Latin-1, wrong kind) gives a readable report.
const MaxIssues = 200

// Clean is how every text value is stored (prodays.CleanText: outer white
// space trimmed, then Unicode NFC).
func Clean(s string) string {
	return prodays.CleanText(s)
}

// Issue is an error or a warning about an import file. Line is the
// physical line in the file where the record starts (the header is line
// 1; a quoted field holding line breaks spans several lines), 0 for a
// problem of the whole file. Column is the header name of the column and
// Position its 1-based position, both empty/0 when not about one column.
type Issue struct {
	File     string `json:"file"`
	Line     int    `json:"line,omitempty"`
	Column   string `json:"column,omitempty"`
	Position int    `json:"position,omitempty"`
	Message  string `json:"message"`
}

// String renders the issue as FILE:LINE:COLUMN: message, leaving out the
// parts that do not apply (a column without a name shows its position).
func (i Issue) String() string {
	var b strings.Builder
	b.WriteString(i.File)
	if i.Line > 0 {
		b.WriteString(":" + strconv.Itoa(i.Line))
		if i.Column != "" {
			b.WriteString(":" + i.Column)
		} else if i.Position > 0 {
			b.WriteString(":" + strconv.Itoa(i.Position))
		}
	}
	b.WriteString(": " + i.Message)
	return b.String()
}

// Error makes an Issue usable as an error.
func (i Issue) Error() string { return i.String() }

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

// TooLarge is the issue of a file over the size cap.
func TooLarge(file string, maxBytes int64) Issue {
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

// ReadCSV reads a CSV file of at most maxBytes bytes: UTF-8 with or without
// a BOM, comma or semicolon separated (detected from the header line),
// RFC 4180 quoting, LF or CRLF. Problems of the file's form are returned as
// issues (with the physical line where the record starts); the error is
// for a failing reader only. It never holds more than maxBytes+1 bytes of
// input.
func ReadCSV(file string, r io.Reader, maxBytes int64) (*Sheet, []Issue, error) {
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
	s := &Sheet{File: file}
	var issues []Issue
	fail := func(is Issue) bool {
		issues = append(issues, is)
		if len(issues) >= MaxIssues {
			issues = append(issues, Issue{File: file, Message: fmt.Sprintf("too many errors; stopped after %d", MaxIssues)})
			return true
		}
		return false
	}
	first := true
	for {
		rec, err := cv.Read()
		if cr.n > maxBytes {
			return nil, []Issue{TooLarge(file, maxBytes)}, nil
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
				issues = append(issues, Issue{File: file, Line: l, Column: ColumnName(s.Header, i), Position: i + 1,
					Message: "text is not valid UTF-8: save the file as \"CSV UTF-8\"; nothing more was read"})
				return s, issues, nil
			}
			if strings.IndexByte(f, 0) >= 0 {
				l, _ := cv.FieldPos(i)
				issues = append(issues, Issue{File: file, Line: l, Column: ColumnName(s.Header, i), Position: i + 1,
					Message: "binary content (NUL byte) in text; nothing more was read"})
				return s, issues, nil
			}
		}
		if first {
			first = false
			s.Header = make([]string, len(rec))
			for i, h := range rec {
				s.Header[i] = strings.ToLower(Clean(h))
			}
			continue
		}
		s.Rows = append(s.Rows, Row{Line: line, Fields: rec})
	}
	if first {
		issues = append(issues, Issue{File: file, Message: "file is empty: want a header line and data rows"})
	}
	return s, issues, nil
}

// ColumnName is the header name of 0-based field i, or "" past the header.
func ColumnName(header []string, i int) string {
	if i < len(header) {
		return header[i]
	}
	return ""
}

// ReadXLSX reads the first sheet of an XLSX workbook of at most maxBytes
// bytes. Line numbers are spreadsheet row numbers (the header is row 1).
// Cells are read as displayed; trailing empty cells of a row are not
// counted as extra fields.
func ReadXLSX(file string, r io.Reader, maxBytes int64) (*Sheet, []Issue, error) {
	cr := &countingReader{r: io.LimitReader(r, maxBytes+1)}
	data, err := io.ReadAll(cr)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", file, err)
	}
	if int64(len(data)) > maxBytes {
		return nil, []Issue{TooLarge(file, maxBytes)}, nil
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
	s := &Sheet{File: file}
	for i, rec := range rows {
		if s.Header == nil {
			if AllEmpty(rec) {
				continue
			}
			s.Header = make([]string, len(rec))
			for j, h := range rec {
				s.Header[j] = strings.ToLower(Clean(h))
			}
			continue
		}
		// A spreadsheet pads or trims rows freely: drop trailing empty
		// cells, pad short rows.
		for len(rec) > len(s.Header) && rec[len(rec)-1] == "" {
			rec = rec[:len(rec)-1]
		}
		for len(rec) < len(s.Header) {
			rec = append(rec, "")
		}
		for j, v := range rec {
			if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
				return s, []Issue{{File: file, Line: i + 1, Column: ColumnName(s.Header, j), Position: j + 1, Message: "binary or non-UTF-8 content in a cell"}}, nil
			}
		}
		s.Rows = append(s.Rows, Row{Line: i + 1, Fields: rec})
	}
	if s.Header == nil {
		return nil, []Issue{{File: file, Message: "file is empty: want a header line and data rows"}}, nil
	}
	return s, nil, nil
}

// AllEmpty reports whether every field is blank.
func AllEmpty(fields []string) bool {
	for _, f := range fields {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}
