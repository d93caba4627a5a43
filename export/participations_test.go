package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"prodays"
	"prodays/internal/dbtest"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"prodays/export"
	"prodays/internal/fixture"
	"prodays/store"
)

// nastyDB is the Base fixture plus the nasty names at meeting N1.
func nastyDB(tb testing.TB) *store.DB {
	db := dbtest.Open(tb)
	fixture.Base(tb, db)
	fixture.Nasty(tb, db)
	return db
}

var ed1 = func() *int64 { i := int64(1); return &i }()

func col(name string) int {
	for i, c := range export.ParticipationColumns {
		if c == name {
			return i
		}
	}
	panic(name)
}

func TestParticipationsCSV(t *testing.T) {
	db := nastyDB(t)
	for _, tc := range []struct {
		name string
		f    export.Filter
		sep  rune
		rows int
	}{
		{"edition 1, comma", export.Filter{Scope: prodays.AdminScope(), EditionID: ed1}, ',', 23},
		{"edition 1, region CS, semicolon", export.Filter{Scope: prodays.AdminScope(), EditionID: ed1, RegionCode: "CS"}, ';', 16},
		{"one day", export.Filter{Scope: prodays.AdminScope(), Date: "2026-03-22"}, ',', 3 + 10 + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			n, err := export.WriteParticipationsCSV(context.Background(), db, &buf, tc.f, tc.sep)
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.rows {
				t.Fatalf("rows: got %d, want %d", n, tc.rows)
			}
			out := buf.Bytes()
			if !bytes.HasPrefix(out, []byte("\xEF\xBB\xBF")) {
				t.Fatalf("no UTF-8 BOM: % x", out[:3])
			}
			r := csv.NewReader(bytes.NewReader(out[3:]))
			r.Comma = tc.sep
			recs, err := r.ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(recs[0], ","); got != strings.Join(export.ParticipationColumns, ",") {
				t.Fatalf("header: got %s", got)
			}
			if len(recs)-1 != tc.rows {
				t.Fatalf("parsed rows: got %d, want %d", len(recs)-1, tc.rows)
			}
			// Byte for byte: writing the parsed records back gives the file.
			var again bytes.Buffer
			again.WriteString("\uFEFF")
			w := csv.NewWriter(&again)
			w.Comma = tc.sep
			w.WriteAll(recs)
			if !bytes.Equal(again.Bytes(), out) {
				t.Fatalf("re-encoding the parsed CSV differs from the export")
			}
			for _, rec := range recs[1:] {
				for i, v := range rec {
					if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
						t.Errorf("row %s %s column %s not neutralised: %q", rec[0], rec[col("person_id")], export.ParticipationColumns[i], v)
					}
				}
			}
		})
	}

	// The nasty names, exactly.
	var buf bytes.Buffer
	if _, err := export.WriteParticipationsCSV(context.Background(), db, &buf, export.Filter{Scope: prodays.AdminScope(), ActivityID: "N1"}, ','); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(buf.Bytes()[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string][]string{}
	for _, r := range recs[1:] {
		byID[r[col("person_id")]] = r
	}
	for _, tc := range []struct{ id, column, want string }{
		{fixture.ArabicTrainee, "last_name", fixture.ArabicLastName},
		{fixture.ArabicTrainee, "first_name", fixture.ArabicFirstName},
		{fixture.ArabicTrainee, "methods", "qr|search"},
		{fixture.ArabicTrainee, "checked_in_at", "2026-03-22T09:00:10+01:00"},
		{fixture.ArabicTrainee, "activity_title", fixture.NastyTitle}, // starts with "R": kept, line break and all
		{fixture.FormulaTrainee, "first_name", "'" + fixture.FormulaFirstName},
		{fixture.FormulaTrainee, "program", "'=SUM(A1:A9)"},
		{fixture.FormulaTrainee, "group", "G=1"},
		{fixture.PhoneTrainee, "first_name", "'+212600000000"},
		{fixture.PhoneTrainee, "group", "'@G2"},
		{fixture.AtTrainee, "last_name", "'@Bouzidi"},
		{fixture.AtTrainee, "first_name", "'-Rachid"},
		{fixture.QuoteTrainee, "first_name", `"Simo" ’Lahlou’, dit « Hamoudi »`},
		{fixture.LongTrainee, "last_name", fixture.LongLastName},
		{fixture.ControlTrainee, "last_name", "'\tTab"},
		{fixture.ControlTrainee, "first_name", "'\rReturn"},
		{fixture.ArabicSpeaker, "person_kind", "speaker"},
		{fixture.ArabicSpeaker, "organization", "CRI"},
	} {
		r, ok := byID[tc.id]
		if !ok {
			t.Fatalf("%s missing", tc.id)
		}
		if got := r[col(tc.column)]; got != tc.want {
			t.Errorf("%s %s: got %q, want %q", tc.id, tc.column, got, tc.want)
		}
	}
}

func TestParticipationsXLSX(t *testing.T) {
	db := nastyDB(t)
	var buf bytes.Buffer
	n, err := export.WriteParticipationsXLSX(context.Background(), db, &buf, export.Filter{Scope: prodays.AdminScope(), EditionID: ed1})
	if err != nil {
		t.Fatal(err)
	}
	if n != 23 {
		t.Fatalf("rows: got %d, want 23", n)
	}
	x, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if got := strings.Join(x.GetSheetList(), ","); got != "Rencontres,Visites,Synthèse" {
		t.Fatalf("sheets: %s", got)
	}
	for sheet, want := range map[string]int{"Rencontres": 19, "Visites": 4} {
		rows, err := x.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows)-1 != want {
			t.Fatalf("%s: %d rows, want %d", sheet, len(rows)-1, want)
		}
		if strings.Join(rows[0], ",") != strings.Join(export.ParticipationColumns, ",") {
			t.Fatalf("%s header: %v", sheet, rows[0])
		}
		for r, row := range rows {
			for c, v := range row {
				cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
				f, err := x.GetCellFormula(sheet, cell)
				if err != nil || f != "" {
					t.Fatalf("%s!%s holds a formula %q (%v)", sheet, cell, f, err)
				}
				if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
					t.Errorf("%s!%s not neutralised: %q", sheet, cell, v)
				}
			}
		}
	}
	rows, _ := x.GetRows("Rencontres")
	found := 0
	for _, row := range rows {
		switch row[col("person_id")] {
		case fixture.FormulaTrainee:
			found++
			if got := row[col("first_name")]; got != "'"+fixture.FormulaFirstName {
				t.Errorf("formula name: got %q", got)
			}
		case fixture.ArabicTrainee:
			found++
			if got := row[col("last_name")] + " " + row[col("first_name")]; got != fixture.ArabicLastName+" "+fixture.ArabicFirstName {
				t.Errorf("arabic name: got %q", got)
			}
			if got := row[col("checked_in_at")]; got != "2026-03-22T09:00:10+01:00" {
				t.Errorf("checked_in_at: got %q", got)
			}
		}
	}
	if found != 2 {
		t.Fatalf("nasty rows found: %d", found)
	}
	sum, _ := x.GetRows("Synthèse")
	want := map[string]string{"Participations aux rencontres": "13", "Participations aux visites": "4", "Bénéficiaires (participations)": "17", "Participations d'intervenants": "6"}
	for _, row := range sum {
		if len(row) > 1 {
			if w, ok := want[row[0]]; ok && row[1] != w {
				t.Errorf("Synthèse %s: got %s, want %s", row[0], row[1], w)
			}
			delete(want, row[0])
		}
	}
	if len(want) > 0 {
		t.Errorf("Synthèse lacks %v", want)
	}
	// Unfiltered, every region has its row (the bilan's 12), zeros
	// included.
	regions, zeros, in := 0, 0, false
	for _, row := range sum {
		switch {
		case len(row) > 0 && row[0] == "region_code":
			in = true
		case len(row) > 0 && row[0] == "date":
			in = false
		case in && len(row) == 5:
			regions++
			if row[4] == "0" {
				zeros++
			}
		}
	}
	if regions != 12 || zeros == 0 {
		t.Errorf("Synthèse regions: %d rows (%d with zero participations), want 12 with some zeros", regions, zeros)
	}
}
