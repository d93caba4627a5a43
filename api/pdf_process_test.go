package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"prodays/internal/fixture"
	"prodays/internal/pdftest"
	"prodays/internal/synctest"
	"prodays/internal/testenv"
	"prodays/store"
)

// TestPDFExportsSurviveAstralCharacters (issue #13, PDF finding) runs
// against the real binary: names, titles and places holding characters
// above U+FFFF (emoji, a ZWJ family, a flag, supplementary CJK, U+10000
// and U+10FFFF) and BMP characters the font lacks, written by an admin's
// import or by a staff phone's walk-in, no longer make the PDF exports
// answer 500: every PDF route answers 200 and the rest of each name reads
// back intact, each unprintable cluster drawn as one U+FFFD.
func TestPDFExportsSurviveAstralCharacters(t *testing.T) {
	env := testenv.Process(t, testenv.ProcessOptions{
		Seed: func(tb testing.TB, db *store.DB) {
			fixture.Base(tb, db)
			fixture.Nasty(tb, db)
			testenv.CreateUser(tb, db, "boss", "admin", "", "")
			testenv.CreateUser(tb, db, "sup", "supervisor", "", "CS")
			testenv.CreateUser(tb, db, "staff2", "staff", "E2", "")
			for _, q := range []string{
				// Chraibi Omar (T3, E2) is present at M2, V1 and V2.
				"UPDATE trainees SET last_name = 'Chraibi 👨‍👩‍👧', first_name = 'Omar 😀' || char(65536) || ' Zaki' WHERE id = 'T3'",
				"UPDATE establishments SET name = 'ISTA Anfa 🌿 𠀋 Maarif' WHERE code = 'E2'",
				"UPDATE speakers SET last_name = 'Kabbaj 🇲🇦', first_name = 'Leila 👍🏽 Amal' WHERE id = 'S1'",
				"UPDATE organizations SET name = 'OCP ' || char(1114111) || ' Group' WHERE id = 'O1'",
				"UPDATE activities SET title = 'Rencontre 🎉 Métiers ' || char(57344, 64976, 65534, 65535, 888) || ' fin' WHERE id = 'M2'",
				"UPDATE companies SET name = 'Renault 𝄞 Somaca' WHERE id = 'C1'",
				"UPDATE editions SET name = 'Pro''Days 2026 🚀 printemps' WHERE id = 1",
			} {
				if _, err := db.Write.Exec(q); err != nil {
					tb.Fatalf("%s: %v", q, err)
				}
			}
		},
	})
	boss := env.Login(t, "boss", "dev-boss")

	// A staff phone registers a walk-in: the name reaches the badges.
	staff := env.Login(t, "staff2", "dev-staff2")
	phone := synctest.NewPhone("dev-staff2", time.Now().Add(-time.Minute))
	st, rs := pushAs(t, env, staff.AccessToken, "dev-staff2", phone.Register("E2", "N😀X", "Walkin"))
	wantApplied(t, "walk-in N😀X", st, rs, 1)

	const fb = "\uFFFD"
	for _, tc := range []struct {
		name, path string
		wants      []string
	}{
		{"badges of an establishment", "/api/v1/exports/badges.pdf?establishment=E2",
			[]string{"Chraibi " + fb, "Omar " + fb + " Zaki", "ISTA Anfa " + fb + " " + fb + " Maarif", "N" + fb + "X", "Walkin"}},
		{"badges of a group", "/api/v1/exports/badges.pdf?establishment=E2&group=G2",
			[]string{"Chraibi " + fb, "Omar " + fb + " Zaki"}},
		{"speaker badges", "/api/v1/exports/badges.pdf?kind=speaker&activity=N1",
			[]string{"Kabbaj " + fb, "Leila " + fb + " Amal", "OCP " + fb + " Group"}},
		{"attendance sheet", "/api/v1/exports/attendance/M2.pdf",
			[]string{"Rencontre " + fb + " Métiers", "fin", "Chraibi " + fb + " Omar " + fb + " Zaki", "Kabbaj " + fb + " Leila " + fb + " Amal", "ISTA Anfa " + fb}},
		{"day sheet", "/api/v1/exports/attendance-day?date=2026-03-22&region=CS",
			[]string{"Rencontre " + fb + " Métiers", "Chraibi " + fb + " Omar " + fb + " Zaki"}},
		{"certificate", "/api/v1/exports/certificates/T3.pdf",
			[]string{"Omar " + fb + " Zaki Chraibi " + fb, "ISTA Anfa " + fb + " " + fb + " Maarif", "Rencontre " + fb + " Métiers", "Renault " + fb + " Somaca"}},
		{"bilan of the edition", "/api/v1/exports/bilan.pdf?edition=1",
			[]string{"Pro'Days 2026 " + fb + " printemps"}},
		{"bilan", "/api/v1/exports/bilan.pdf", []string{"Bilan Pro'Days"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := send(t, env, "GET", tc.path, boss.AccessToken, nil)
			if a.Status != http.StatusOK {
				t.Fatalf("GET %s: %d %s", tc.path, a.Status, a.Body)
			}
			if ct := a.Header.Get("Content-Type"); ct != "application/pdf" {
				t.Fatalf("Content-Type %q", ct)
			}
			text := readPDF(t, a.Body)
			flat := strings.Join(strings.Fields(text), " ")
			for _, w := range tc.wants {
				if !strings.Contains(flat, w) {
					t.Errorf("PDF text lacks %q:\n%s", w, flat)
				}
			}
		})
	}
	// A supervisor of the region gets the same documents.
	sup := env.Login(t, "sup", "dev-sup")
	for _, p := range []string{"/api/v1/exports/badges.pdf?establishment=E2", "/api/v1/exports/certificates/T3.pdf"} {
		if a := send(t, env, "GET", p, sup.AccessToken, nil); a.Status != http.StatusOK {
			t.Errorf("supervisor GET %s: %d %s", p, a.Status, a.Body)
		}
	}
	if log := env.Proc.Log.String(); strings.Contains(log, "panic") {
		t.Errorf("the server logged a panic:\n%s", log)
	}
}

// readPDF extracts the text of a PDF with poppler's pdftotext, NFKC (as
// export's tests do). Without pdftotext the text checks are skipped,
// unless PRODAYS_REQUIRE_PDFTOTEXT=1 makes that a failure.
func readPDF(t *testing.T, data []byte) string {
	t.Helper()
	bin := pdftest.Tool(t)
	if bin == "" {
		t.Skip("pdftotext not found (Debian: apt-get install poppler-utils)")
	}
	text, err := pdftest.Text(bin, t.TempDir(), data)
	if err != nil {
		t.Fatal(err)
	}
	return text
}
