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
	"strings"
	"unicode/utf8"

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

// MaxRows caps the rows of one file (header included), and MaxCells its
// fields, all rows together: what the file holds in memory once read
// (about 16 bytes a field and 56 a row, beside the text) stays bounded
// whatever the file's shape. The biggest real file, trainees of the 2026
// edition, has 47,652 rows and 333,564 fields: about ten times that.
const (
	MaxRows  = 500_000
	MaxCells = 4_000_000
)

// budget counts the rows and fields read from one file against MaxRows
// and MaxCells.
type budget struct{ rows, cells int }

// add counts a row of n fields at line; past a cap it returns the issue
// that refuses the file.
func (b *budget) add(file string, line, n int) *Issue {
	b.rows++
	b.cells += n
	switch {
	case b.rows > MaxRows:
		return &Issue{File: file, Line: line, Message: fmt.Sprintf("file has more than %d rows, the import limit: split it", MaxRows)}
	case b.cells > MaxCells:
		return &Issue{File: file, Line: line, Message: fmt.Sprintf("file has more than %d fields in all, the import limit: split it", MaxCells)}
	}
	return nil
}

// Clean is how every text value is stored (prodays.CleanText: outer white
// space trimmed, then Unicode NFC).
func Clean(s string) string {
	return prodays.CleanText(s)
}

// Issue is prodays.ImportIssue.
type Issue = prodays.ImportIssue

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
// input, MaxRows rows or MaxCells fields.
func ReadCSV(file string, r io.Reader, maxBytes int64) (*Sheet, []Issue, error) {
	// lr.N falls to 0 once the byte after the first maxBytes is read.
	lr := &io.LimitedReader{R: r, N: maxBytes + 1}
	br := bufio.NewReaderSize(lr, 64<<10)
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

	cv := csv.NewReader(&recordCap{r: br})
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
	var b budget
	prev := 0 // line of the last record read
	for {
		rec, err := cv.Read()
		if lr.N <= 0 {
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
		} else if errors.Is(err, errRecordTooLong) {
			return nil, []Issue{{File: file, Message: fmt.Sprintf("the record after line %d is longer than %s, the import limit; nothing more was read", prev, formatBytes(MaxRecordBytes))}}, nil
		} else if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", file, err)
		}
		line, _ := cv.FieldPos(0)
		prev = line
		if is := b.add(file, line, len(rec)); is != nil {
			return nil, []Issue{*is}, nil
		}
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

// MaxRecordBytes caps one CSV record (a line, or several when a quoted
// field holds line breaks): csv.Reader holds a record whole, and 16 bytes
// a field, so a 50 MB line of empty fields would take 400 MB. A real
// record is well under 4 KB.
const MaxRecordBytes = 1 << 20

var errRecordTooLong = errors.New("CSV record too long")

// recordCap fails a read past MaxRecordBytes since the last line break
// outside quotes (RFC 4180 quoting: a doubled quote toggles twice).
type recordCap struct {
	r      io.Reader
	n      int
	quoted bool
}

func (c *recordCap) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for _, b := range p[:n] {
		switch {
		case b == '"':
			c.quoted = !c.quoted
		case b == '\n' && !c.quoted:
			c.n = 0
			continue
		}
		c.n++
		if c.n > MaxRecordBytes {
			return 0, errRecordTooLong
		}
	}
	return n, err
}

// ColumnName is the header name of 0-based field i, or "" past the header.
func ColumnName(header []string, i int) string {
	if i < len(header) {
		return header[i]
	}
	return ""
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
