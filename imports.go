package prodays

import (
	"strconv"
	"strings"
)

// ImportIssue is an error or a warning about an import file. Line is the
// physical line in the file where the record starts (the header is line
// 1; a quoted field holding line breaks spans several lines), 0 for a
// problem of the whole file. Column is the header name of the column and
// Position its 1-based position, both empty/0 when not about one column.
type ImportIssue struct {
	File     string `json:"file"`
	Line     int    `json:"line,omitempty"`
	Column   string `json:"column,omitempty"`
	Position int    `json:"position,omitempty"`
	// Code is the issue's kind from the registry (the Import… codes of
	// codes.go: the screens translate it); empty for a file-level issue.
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
}

// String renders the issue as FILE:LINE:COLUMN: message, leaving out the
// parts that do not apply (a column without a name shows its position).
func (i ImportIssue) String() string {
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

// Error makes an ImportIssue usable as an error.
func (i ImportIssue) Error() string { return i.String() }

// ImportOptions tune an import run. The zero value validates strictly, caps
// files at DefaultImportMaxBytes and audits as "cli".
type ImportOptions struct {
	// SkipInvalid imports the valid rows of a file that has errors; the
	// bad rows are listed in the report and counted as skipped (rows that
	// refer to a skipped row are skipped too). An error of a whole file
	// (size, encoding, header, CSV syntax) still refuses the run.
	SkipInvalid bool
	// MaxBytes caps the size of each file in bytes (default
	// DefaultImportMaxBytes).
	MaxBytes int64
	// MaxInflatedBytes caps what each XLSX workbook inflates to, in bytes
	// (default DefaultImportMaxInflatedBytes); past it the run is refused with
	// a *prodays.Error of code prodays.ETooLarge whose Detail holds
	// "file" and "max_inflated_bytes" (and "entry" when one part alone is
	// over its own cap of sheet.MaxPartBytes, 8 MiB).
	MaxInflatedBytes int64
	// Username is who runs the import, written in the audit log (default
	// "cli").
	Username string
	// OverwriteLocalChanges makes a trainees import take the file's value
	// of a field changed on the server since the last import (a phone's
	// update, a decided conflict), which is otherwise kept; either way the
	// field is listed in ImportReport.LocalChanges.
	OverwriteLocalChanges bool
}

// ImportCounts are the outcome of an import per row: Inserted (new id), Updated
// (a value changed), Unchanged (nothing to write), Skipped (invalid row
// left out under SkipInvalid).
type ImportCounts struct {
	Inserted  int `json:"inserted"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Skipped   int `json:"skipped"`
}

// ImportFileReport is the outcome of one file: its kind, data rows, counts and
// the number of its errors and warnings (listed in the Report).
type ImportFileReport struct {
	File     string       `json:"file"`
	Kind     string       `json:"kind"`
	Rows     int          `json:"rows"`
	Counts   ImportCounts `json:"counts"`
	Errors   int          `json:"errors"`
	Warnings int          `json:"warnings"`
	// LocalChanges counts the file's fields changed on the server since
	// the last import (ImportReport.LocalChanges).
	LocalChanges int `json:"local_changes"`
}

// ImportReport is the outcome of an import run: each file, the counts per kind,
// every error and warning, and whether anything was written.
type ImportReport struct {
	Files    []*ImportFileReport     `json:"files"`
	Counts   map[string]ImportCounts `json:"counts"`
	Errors   []ImportIssue           `json:"errors"`
	Warnings []ImportIssue           `json:"warnings"`
	// Imported is true when the files were written (possibly with
	// skipped rows), false when the run was refused.
	Imported bool `json:"imported"`
	// LocalChanges lists every trainee field changed on the server since
	// the last import that the file would change, with both values and
	// whether the server's was kept (ImportOptions.OverwriteLocalChanges).
	LocalChanges []ImportLocalChange `json:"local_changes"`
}

// ImportLocalChange is a trainee field changed on the server since the
// last import of the trainees file (a phone's update, a supervisor's
// decision on a conflict) that a re-import would change: ServerValue is
// the server's, FileValue the file's. Kept is true when the server's value
// stayed (the default), false when ImportOptions.OverwriteLocalChanges took
// the file's.
type ImportLocalChange struct {
	File        string `json:"file"`
	Line        int    `json:"line"`
	TraineeID   string `json:"trainee_id"`
	Field       string `json:"field"`
	ServerValue string `json:"server_value"`
	FileValue   string `json:"file_value"`
	Kept        bool   `json:"kept"`
}

// DefaultImportMaxBytes is the default cap on one import file's size:
// 50 MB.
const DefaultImportMaxBytes = 50 << 20

// DefaultImportMaxInflatedBytes is the default cap on what one XLSX
// workbook of an import inflates to, all its zip entries together: 64 MiB
// (the biggest real file, trainees of the 2026 edition, inflates to
// 13.8 MB).
const DefaultImportMaxInflatedBytes = 64 << 20
