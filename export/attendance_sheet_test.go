package export_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"prodays"
	"prodays/export"
	"prodays/internal/dbtest"
	"prodays/internal/fixture"
)

// A sheet of 32 trainees: the rows fill most of page 1, and the
// signature block does not fit under them; it must not go alone to page
// 2 — the last rows go with it. The day's file numbers each activity's
// pages, and the sheet is signed with the closer's full name.
func TestAttendanceSheetKeepsSignatureWithRows(t *testing.T) {
	db := dbtest.Open(t)
	fixture.Base(t, db)
	ctx := context.Background()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Write.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO users (username, full_name, role, region_code, created_at, updated_at) VALUES ('y.chraibi', 'Youssef Chraibi', 'supervisor', 'CS', 'x', 'x')`)
	exec(`INSERT INTO activities (id, kind, title, date, start_time, end_time, establishment_code, region_code, edition_id, status, closed_at, closed_by)
		VALUES ('B32', 'meeting', 'Trente-deux présents', '2026-03-22', '08:00', '09:00', 'E2', 'CS', 1, 'closed', '2026-03-22T10:15:00.000Z', 'y.chraibi')`)
	for i := 1; i <= 32; i++ {
		id := fmt.Sprintf("P%02d", i)
		exec(`INSERT INTO trainees (id, last_name, first_name, establishment_code, group_name, updated_at) VALUES (?, ?, 'Prénom', 'E2', 'G2', 'x')`, id, fmt.Sprintf("Nom%02d", i))
		exec(`INSERT INTO attendance (activity_id, person_kind, person_id, present, checked_in_at, updated_at) VALUES ('B32', 'trainee', ?, 1, '2026-03-22T08:05:00.000Z', 'x')`, id)
	}
	var buf bytes.Buffer
	if err := export.WriteAttendancePDF(ctx, db, &buf, export.Filter{Scope: prodays.AdminScope(), ActivityID: "B32"}, now); err != nil {
		t.Fatal(err)
	}
	pages := pdfPages(t, "attendance-32.pdf", buf.Bytes())
	if len(pages) != 2 {
		t.Fatalf("pages: got %d, want 2", len(pages))
	}
	last := flat(pages[1])
	if !strings.Contains(last, "Cachet de l'établissement") {
		t.Fatalf("the signature block is not on page 2:\n%s", pages[1])
	}
	if !strings.Contains(last, "Nom32 Prénom") {
		t.Errorf("the signature block is alone on its page (row 32 is elsewhere):\n%s", pages[1])
	}
	if !strings.Contains(last, "Feuille clôturée par Youssef Chraibi (y.chraibi) le 22/03/2026 à 11:15 (+01:00).") {
		t.Errorf("not signed with the full name:\n%s", pages[1])
	}
	for i, want := range []string{"B32 : page 1/2", "B32 : page 2/2"} {
		if !strings.Contains(flat(pages[i]), want) {
			t.Errorf("page %d lacks %q:\n%s", i+1, want, pages[i])
		}
	}
	// Every row is printed once.
	all := flat(strings.Join(pages, " "))
	for i := 1; i <= 32; i++ {
		if n := strings.Count(all, fmt.Sprintf("Nom%02d Prénom", i)); n != 1 {
			t.Errorf("row %d printed %d times", i, n)
		}
	}

	// The day's file (B32, M2, N…): each activity counts its own pages.
	buf.Reset()
	if err := export.WriteAttendancePDF(ctx, db, &buf, export.Filter{Scope: prodays.AdminScope(), Date: "2026-03-22", RegionCode: "CS"}, now); err != nil {
		t.Fatal(err)
	}
	day := pdfPages(t, "attendance-day-32.pdf", buf.Bytes())
	if len(day) < 3 {
		t.Fatalf("day file: %d pages", len(day))
	}
	for i, want := range []string{"B32 : page 1/2", "B32 : page 2/2", "M2 : page 1/1"} {
		if !strings.Contains(flat(day[i]), want) {
			t.Errorf("day page %d lacks %q:\n%s", i+1, want, day[i])
		}
	}
	if !strings.Contains(flat(day[2]), fmt.Sprintf("(fichier 3/%d)", len(day))) {
		t.Errorf("day page 3 lacks the file's page number:\n%s", day[2])
	}
}

// The attendance workbook heads its persons in the user's language.
func TestAttendanceXLSXLanguage(t *testing.T) {
	db := nastyDB(t)
	for _, tc := range []struct{ lang, head, kind string }{
		{"", "Personne", "Stagiaire"},
		{export.LangAR, "الشخص", "متدرب(ة)"},
		{export.LangEN, "Person", "Trainee"},
	} {
		var buf bytes.Buffer
		if err := export.WriteAttendanceXLSX(context.Background(), db, &buf, export.Filter{Scope: prodays.AdminScope(), ActivityID: fixture.NastyActivity, Lang: tc.lang}); err != nil {
			t.Fatal(err)
		}
		x, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := x.GetRows(fixture.NastyActivity)
		x.Close()
		heads, kinds := 0, 0
		for _, r := range rows {
			if len(r) == 7 && r[0] == tc.head && r[2] != "last_name" {
				heads++
			}
			if len(r) > 1 && r[0] == tc.kind {
				kinds++
			}
		}
		if heads != 1 || kinds != 8 {
			t.Errorf("lang %q: %d header rows %q, %d rows of kind %q (want 1 and 8):\n%q", tc.lang, heads, tc.head, kinds, tc.kind, rows)
		}
	}
}
