package export_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"prodays"
	"prodays/export"
	"prodays/internal/fixture"
)

var now = time.Date(2026, 3, 27, 9, 30, 0, 0, time.UTC)

func TestAttendancePDF(t *testing.T) {
	db := nastyDB(t)
	var buf bytes.Buffer
	if err := export.WriteAttendancePDF(context.Background(), db, &buf, export.Filter{Scope: prodays.AdminScope(), ActivityID: fixture.NastyActivity}, now); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, "attendance-N1.pdf", buf.Bytes())
	mustContain(t, text,
		"FEUILLE DE PRÉSENCE", "Rencontre « Industrie 4.0 »", "dimanche 22 mars 2026, de 09:00 à 11:00",
		"ISTA Anfa, Casablanca",
		fixture.ArabicLastName+" "+fixture.ArabicFirstName, // logical order, joined
		"Aït Taleb Zoé",                                    // decomposed in the database, composed in the PDF
		"El Fassi =HYPERLINK", "Touimi +212600000000", "N'Diaye \"Simo\" ’Lahlou’",
		"العلوي محمد", "Kabbaj Leila",
		"09:00", "Total : 8 stagiaire(s) présent(s), 2 intervenant(s) présent(s).",
		"Feuille clôturée par y.chraibi le 22/03/2026 à 11:15 (+01:00).",
	)
}

func TestAttendanceDay(t *testing.T) {
	db := nastyDB(t)
	ctx := context.Background()
	var buf bytes.Buffer
	// 2026-03-22 in CS: M2, V3, N1 (X2 too: the day is not an edition).
	if err := export.WriteAttendancePDF(ctx, db, &buf, export.Filter{Scope: prodays.AdminScope(), Date: "2026-03-22", RegionCode: "CS"}, now); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, "attendance-day.pdf", buf.Bytes())
	mustContain(t, text, "m2", "v3", "x2", "Chraibi Omar", "Total : 0 stagiaire(s) présent(s)")

	buf.Reset()
	if err := export.WriteAttendanceXLSX(ctx, db, &buf, export.Filter{Scope: prodays.AdminScope(), Date: "2026-03-22", RegionCode: "CS"}); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(x.GetSheetList(), ","); got != "M2,N1,V3,X2" {
		t.Fatalf("sheets: %s", got)
	}
	rows, _ := x.GetRows("N1")
	var names []string
	for r, row := range rows {
		for c := range row {
			cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
			if f, _ := x.GetCellFormula("N1", cell); f != "" {
				t.Fatalf("N1!%s holds formula %q", cell, f)
			}
		}
		if len(row) > 3 && row[0] == "Stagiaire" {
			names = append(names, row[1]+"="+row[2]+" "+row[3])
		}
	}
	all := strings.Join(names, "\n")
	for _, want := range []string{"N3=El Fassi '" + fixture.FormulaFirstName, "N1=" + fixture.ArabicLastName + " " + fixture.ArabicFirstName} {
		if !strings.Contains(all, want) {
			t.Errorf("N1 sheet lacks %q:\n%s", want, all)
		}
	}

	for _, tc := range []struct {
		f    export.Filter
		code string
	}{
		{export.Filter{Scope: prodays.AdminScope(), ActivityID: "NOPE"}, prodays.ENotFound},
		{export.Filter{Scope: prodays.AdminScope(), Date: "2030-01-01", RegionCode: "CS"}, prodays.ENotFound},
		{export.Filter{Scope: prodays.AdminScope(), Date: "22/03/2026"}, prodays.EInvalid},
		{export.Filter{Scope: prodays.AdminScope(), RegionCode: "CS"}, prodays.EInvalid},
	} {
		err := export.WriteAttendancePDF(ctx, db, &bytes.Buffer{}, tc.f, now)
		if got := prodays.ErrorCode(err); got != tc.code {
			t.Errorf("%+v: got %q, want %q (%v)", tc.f, got, tc.code, err)
		}
	}
}
