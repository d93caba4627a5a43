package importer_test

import (
	"context"
	"strings"
	"testing"

	"prodays"
	"prodays/importer"
)

// TestImportRowReportsAllErrors (issue #18, finding 10): a row reports
// every column in error, each once, not only the first: a missing last
// name, a bad matricule, an unknown establishment and a bad gender on one
// line give four issues on that line, in the columns' order; a missing
// establishment is "required", not also "unknown".
func TestImportRowReportsAllErrors(t *testing.T) {
	db := baseDB(t)
	csv := traineeHeader +
		"F2501050000X,,Salma,EFP9999,GE,GE101,X\n" +
		matricule(25, 105, 7) + ",Tahiri,Nora,,GE,GE101,F\n"
	rep, err := importer.Import(context.Background(), db, strings.NewReader(csv), "stagiaires.csv", "trainees", importer.Options{})
	if prodays.ErrorCode(err) != prodays.EImportInvalid {
		t.Fatalf("got %v, want import_invalid", err)
	}
	var line2, line3 []string
	for _, is := range rep.Errors {
		switch is.Line {
		case 2:
			line2 = append(line2, is.Column)
		case 3:
			line3 = append(line3, is.Column)
		}
	}
	if got := strings.Join(line2, ","); got != "last_name,trainee_id,establishment_code,gender" {
		t.Errorf("line 2's errors in columns %q, want last_name,trainee_id,establishment_code,gender (all: %v)", got, rep.Errors)
	}
	if got := strings.Join(line3, ","); got != "establishment_code" {
		t.Errorf("line 3's errors in columns %q, want establishment_code once (all: %v)", got, rep.Errors)
	}
}
