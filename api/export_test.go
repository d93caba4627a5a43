package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"prodays/internal/fixture"
	"prodays/internal/testenv"
	"prodays/store"
)

// get fetches path as session s and returns status, headers and body.
func get(t *testing.T, s *testenv.Session, path string) (int, http.Header, []byte) {
	t.Helper()
	a := s.Env.Raw(t, "GET", path, s.AccessToken, "", nil)
	return a.Status, a.Header, a.Body
}

func TestExportsAndBilanAPI(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	fixture.Base(t, env.DB)
	fixture.Nasty(t, env.DB)
	testenv.CreateUser(t, env.DB, "a.admin", "admin", "", "")
	testenv.CreateUser(t, env.DB, "s.cs", "supervisor", "", "CS")
	testenv.CreateUser(t, env.DB, "s.tta", "supervisor", "", "TTA")
	testenv.CreateUser(t, env.DB, "staff.e2", "staff", "E2", "")
	sessions := map[string]*testenv.Session{}
	for _, u := range []string{"a.admin", "s.cs", "s.tta", "staff.e2"} {
		sessions[u] = env.Login(t, u, "dev-"+u)
	}
	xlsx := "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	for _, tc := range []struct {
		user, path string
		status     int
		ctype      string // prefix of Content-Type
		file       string // Content-Disposition file name
		code       string // problem code
	}{
		{"a.admin", "/api/v1/reports/bilan?edition=1", 200, "application/json", "", ""},
		{"s.cs", "/api/v1/reports/bilan?edition=1", 200, "application/json", "", ""},
		{"s.cs", "/api/v1/reports/bilan?edition=1&region=TTA", 403, "application/problem+json", "", "forbidden"},
		{"staff.e2", "/api/v1/reports/bilan?edition=1", 403, "application/problem+json", "", "forbidden"},
		{"a.admin", "/api/v1/reports/bilan?edition=99", 404, "application/problem+json", "", "not_found"},
		{"a.admin", "/api/v1/reports/bilan?edition=x", 400, "application/problem+json", "", "invalid"},

		{"a.admin", "/api/v1/exports/participations.csv?edition=1", 200, "text/csv", "participations-national.csv", ""},
		{"s.cs", "/api/v1/exports/participations.csv?edition=1&sep=semicolon", 200, "text/csv", "participations-CS-pointvirgule.csv", ""},
		// The two CSV buttons of the exports screen save two names.
		{"s.cs", "/api/v1/exports/participations.csv?date=2026-03-22&sep=comma", 200, "text/csv", "participations-CS-2026-03-22.csv", ""},
		{"s.cs", "/api/v1/exports/participations.csv?date=2026-03-22&sep=semicolon", 200, "text/csv", "participations-CS-2026-03-22-pointvirgule.csv", ""},
		{"s.cs", "/api/v1/exports/participations.xlsx?region=TTA", 403, "application/problem+json", "", "forbidden"},
		{"a.admin", "/api/v1/exports/participations.xlsx?edition=1", 200, xlsx, "participations-national.xlsx", ""},
		{"a.admin", "/api/v1/exports/participations.csv?edition=99", 404, "application/problem+json", "", "not_found"},
		{"a.admin", "/api/v1/exports/participations.csv?sep=tab", 400, "application/problem+json", "", "invalid"},
		{"staff.e2", "/api/v1/exports/participations.csv", 403, "application/problem+json", "", "forbidden"},

		{"a.admin", "/api/v1/exports/attendance/N1.pdf", 200, "application/pdf", "feuille-presence-N1.pdf", ""},
		{"s.cs", "/api/v1/exports/attendance/N1.xlsx", 200, xlsx, "feuille-presence-N1.xlsx", ""},
		{"s.tta", "/api/v1/exports/attendance/N1.pdf", 403, "application/problem+json", "", "forbidden"},
		{"a.admin", "/api/v1/exports/attendance/NOPE.pdf", 404, "application/problem+json", "", "not_found"},
		{"a.admin", "/api/v1/exports/attendance-day?date=2026-03-22&region=CS&format=pdf", 200, "application/pdf", "feuilles-presence-2026-03-22-CS.pdf", ""},
		{"s.cs", "/api/v1/exports/attendance-day?date=2026-03-22&establishment=E2&format=xlsx", 200, xlsx, "feuilles-presence-2026-03-22-E2.xlsx", ""},
		{"s.tta", "/api/v1/exports/attendance-day?date=2026-03-22&region=CS", 403, "application/problem+json", "", "forbidden"},
		{"a.admin", "/api/v1/exports/attendance-day?date=2026-03-22", 400, "application/problem+json", "", "invalid"},
		{"a.admin", "/api/v1/exports/attendance-day?date=2030-01-01&region=CS", 404, "application/problem+json", "", "not_found"},

		{"s.cs", "/api/v1/exports/badges.pdf?establishment=E2&group=DEV101", 200, "application/pdf", "badges-E2-DEV101.pdf", ""},
		{"s.tta", "/api/v1/exports/badges.pdf?establishment=E2", 403, "application/problem+json", "", "forbidden"},
		{"a.admin", "/api/v1/exports/badges.pdf?kind=speaker&activity=N1", 200, "application/pdf", "badges-N1.pdf", ""},
		{"a.admin", "/api/v1/exports/badges.pdf?establishment=NOPE", 404, "application/problem+json", "", "not_found"},

		{"s.cs", "/api/v1/exports/certificates/T3.pdf", 200, "application/pdf", "attestation-T3.pdf", ""},
		{"s.tta", "/api/v1/exports/certificates/T3.pdf", 403, "application/problem+json", "", "forbidden"},
		{"a.admin", "/api/v1/exports/certificates/NOPE.pdf", 404, "application/problem+json", "", "not_found"},
		{"s.cs", "/api/v1/exports/certificates.pdf?establishment=E2&group=DEV101", 200, "application/pdf", "attestations-E2-DEV101.pdf", ""},
		{"s.cs", "/api/v1/exports/certificates.pdf?activity=N1", 200, "application/pdf", "attestations-N1.pdf", ""},
		{"s.tta", "/api/v1/exports/certificates.pdf?establishment=E2", 403, "application/problem+json", "", "forbidden"},
		{"s.cs", "/api/v1/exports/certificates.pdf", 400, "application/problem+json", "", "invalid"},
		{"s.cs", "/api/v1/exports/certificates.pdf?establishment=E2&group=NOPE", 404, "application/problem+json", "", "not_found"},

		{"a.admin", "/api/v1/exports/bilan.pdf?edition=1", 200, "application/pdf", "bilan-1.pdf", ""},
		{"s.cs", "/api/v1/exports/bilan.xlsx?edition=1", 200, xlsx, "bilan-1-CS.xlsx", ""},
		{"staff.e2", "/api/v1/exports/bilan.pdf?edition=1", 403, "application/problem+json", "", "forbidden"},
	} {
		t.Run(tc.user+" "+tc.path, func(t *testing.T) {
			st, h, body := get(t, sessions[tc.user], tc.path)
			if st != tc.status || !strings.HasPrefix(h.Get("Content-Type"), tc.ctype) {
				t.Fatalf("got %d %s, want %d %s: %.300s", st, h.Get("Content-Type"), tc.status, tc.ctype, body)
			}
			if tc.file != "" && h.Get("Content-Disposition") != `attachment; filename="`+tc.file+`"` {
				t.Errorf("Content-Disposition: %q", h.Get("Content-Disposition"))
			}
			if tc.code != "" {
				var p map[string]any
				json.Unmarshal(body, &p)
				if p["code"] != tc.code {
					t.Errorf("code: got %v, want %s", p["code"], tc.code)
				}
			}
			switch {
			case strings.HasPrefix(tc.ctype, "application/pdf") && !bytes.HasPrefix(body, []byte("%PDF-")):
				t.Errorf("not a PDF")
			case tc.ctype == xlsx && !bytes.HasPrefix(body, []byte("PK")):
				t.Errorf("not an XLSX (zip)")
			case tc.ctype == "text/csv" && !bytes.HasPrefix(body, []byte("\xEF\xBB\xBFactivity_id")):
				t.Errorf("CSV does not start with the BOM and the header")
			}
		})
	}

	// The supervisor's bilan is their region's; every export was audited.
	var b map[string]any
	sessions["s.cs"].Do(t, "GET", "/api/v1/reports/bilan?edition=1", nil, &b)
	if b["region_code"] != "CS" || len(b["per_region"].(map[string]any)) != 1 {
		t.Errorf("supervisor bilan: %v", b)
	}
	entries, err := env.DB.ListAudit(t.Context(), store.AuditFilter{Action: "export", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 16 {
		t.Errorf("audited exports: got %d, want 16 (one per successful export)", len(entries))
	}
	for _, e := range entries {
		if e.Username == "" || e.Target == "" {
			t.Errorf("audit entry without who or what: %+v", e)
		}
	}
}

// The XLSX speaks the language of ?lang=, else of Accept-Language, else
// French; the CSV keeps its machine header whatever the language.
func TestExportLanguage(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	fixture.Base(t, env.DB)
	testenv.CreateUser(t, env.DB, "s.cs", "supervisor", "", "CS")
	s := env.Login(t, "s.cs", "dev-s.cs")
	for _, tc := range []struct{ query, accept, want string }{
		{"", "", "Nom"},
		{"?lang=ar", "fr-FR", "الاسم العائلي"},
		{"", "en-GB,en;q=0.9", "Last name"},
		{"?lang=fr", "ar", "Nom"},
	} {
		a := env.Raw(t, "GET", "/api/v1/exports/participations.xlsx"+tc.query, s.AccessToken, "", nil, "Accept-Language", tc.accept)
		if a.Status != 200 {
			t.Fatalf("%s: status %d %s", tc.query, a.Status, a.Body)
		}
		x, err := excelize.OpenReader(bytes.NewReader(a.Body))
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := x.GetRows("Rencontres")
		if len(rows) == 0 || len(rows[0]) < 10 || rows[0][9] != tc.want {
			t.Errorf("%s Accept-Language %q: header %v, want %q in column J", tc.query, tc.accept, rows[0], tc.want)
		}
		x.Close()
	}
	a := env.Raw(t, "GET", "/api/v1/exports/participations.csv?lang=ar", s.AccessToken, "", nil, "Accept-Language", "ar")
	if !bytes.HasPrefix(a.Body, []byte("\xEF\xBB\xBFactivity_id,kind,")) {
		t.Errorf("CSV header changed with the language: %.80q", a.Body)
	}
}
