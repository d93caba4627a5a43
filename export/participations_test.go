package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
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
		if len(rows[0]) != len(export.ParticipationColumns) || rows[0][0] != "Activité" || rows[0][9] != "Nom" {
			t.Fatalf("%s header (French by default): %v", sheet, rows[0])
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

// The workbook speaks the user's language: headers and coded values
// (kind, person kind, methods), the header row frozen and filtered.
func TestParticipationsXLSXLanguages(t *testing.T) {
	db := nastyDB(t)
	for _, tc := range []struct {
		lang, lastName, visit, trainee, manual string
	}{
		{"", "Nom", "Visite d'entreprise", "Stagiaire", "saisie"},
		{export.LangFR, "Nom", "Visite d'entreprise", "Stagiaire", "saisie"},
		{export.LangAR, "الاسم العائلي", "زيارة مقاولة", "متدرب(ة)", "إدخال يدوي"},
		{export.LangEN, "Last name", "Company visit", "Trainee", "manual"},
	} {
		t.Run("lang="+tc.lang, func(t *testing.T) {
			var buf bytes.Buffer
			if _, err := export.WriteParticipationsXLSX(context.Background(), db, &buf, export.Filter{Scope: prodays.AdminScope(), EditionID: ed1, Lang: tc.lang}); err != nil {
				t.Fatal(err)
			}
			x, err := excelize.OpenReader(&buf)
			if err != nil {
				t.Fatal(err)
			}
			defer x.Close()
			for sheet, rowsWant := range map[string]int{"Rencontres": 20, "Visites": 5} {
				rows, _ := x.GetRows(sheet)
				if len(rows) != rowsWant {
					t.Fatalf("%s: %d rows, want %d", sheet, len(rows), rowsWant)
				}
				if got := rows[0][col("last_name")]; got != tc.lastName {
					t.Errorf("%s last_name header: got %q, want %q", sheet, got, tc.lastName)
				}
				for _, h := range rows[0] {
					if h == "last_name" || h == "person_kind" {
						t.Errorf("%s: machine header %q in the workbook", sheet, h)
					}
				}
				panes, err := x.GetPanes(sheet)
				if err != nil || !panes.Freeze || panes.YSplit != 1 || panes.TopLeftCell != "A2" {
					t.Errorf("%s panes: %+v, %v (want the header row frozen)", sheet, panes, err)
				}
				tables, err := x.GetTables(sheet)
				if err != nil || len(tables) != 1 || tables[0].Range != fmt.Sprintf("A1:Q%d", rowsWant) {
					t.Errorf("%s filters: tables %+v, %v (want one over A1:Q%d)", sheet, tables, err, rowsWant)
				}
			}
			visits, _ := x.GetRows("Visites")
			if got := visits[1][col("kind")]; got != tc.visit {
				t.Errorf("visit kind: got %q, want %q", got, tc.visit)
			}
			meetings, _ := x.GetRows("Rencontres")
			kinds, methods := map[string]bool{}, map[string]bool{}
			for _, r := range meetings[1:] {
				kinds[r[col("person_kind")]] = true
				if len(r) > col("methods") {
					methods[r[col("methods")]] = true
				}
			}
			if !kinds[tc.trainee] || kinds["trainee"] {
				t.Errorf("person kinds: %v, want %q", kinds, tc.trainee)
			}
			if !methods[tc.manual] {
				t.Errorf("methods: %v, want %q among them", methods, tc.manual)
			}
		})
	}
}

func TestParseLang(t *testing.T) {
	for _, tc := range []struct{ query, accept, want string }{
		{"", "", "fr"},
		{"ar", "fr-FR,fr;q=0.9", "ar"},
		{"", "ar-MA,ar;q=0.9,fr;q=0.8", "ar"},
		{"", "en-US,en;q=0.9", "en"},
		{"", "de-DE", "fr"},
		{"xx-not a tag", "en", "en"},
		{"EN", "", "en"},
	} {
		if got := export.ParseLang(tc.query, tc.accept); got != tc.want {
			t.Errorf("ParseLang(%q, %q) = %q, want %q", tc.query, tc.accept, got, tc.want)
		}
	}
}
