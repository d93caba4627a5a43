package export_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"prodays"
	"prodays/export"
)

// pdfPages returns the text of each page of a PDF (pdftotext -f N -l N),
// after pdfText checked it is one and that pdftotext is there.
func pdfPages(t *testing.T, name string, data []byte) []string {
	t.Helper()
	pdfText(t, name, data) // skips without pdftotext
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	info, err := exec.Command("pdfinfo", path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v: %s", err, info)
	}
	var n int
	for _, l := range strings.Split(string(info), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "Pages:" {
			n, _ = strconv.Atoi(f[1])
		}
	}
	pages := make([]string, n)
	for i := range pages {
		p := strconv.Itoa(i + 1)
		out, err := exec.Command("pdftotext", "-layout", "-enc", "UTF-8", "-f", p, "-l", p, path, "-").CombinedOutput()
		if err != nil {
			t.Fatalf("pdftotext page %s: %v: %s", p, err, out)
		}
		pages[i] = norm.NFKC.String(string(out))
	}
	return pages
}

// flat joins runs of white space into one space.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestCertificatesBatch(t *testing.T) {
	db := nastyDB(t)
	ctx := context.Background()
	// A long title for an activity T1 attended: it must wrap, whole.
	long := "Rencontre thématique sur les métiers de l'industrie automobile, de l'aéronautique et des énergies renouvelables au Maroc : parcours, débouchés et témoignages de lauréats terminus"
	if _, err := db.Write.Exec(`UPDATE activities SET title = ? WHERE id = 'M1'`, long); err != nil {
		t.Fatal(err)
	}
	ids, err := export.CertificateTrainees(ctx, db, export.CertificateFilter{Scope: prodays.AdminScope(), EstablishmentCode: "E1", Group: "G1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ids, ","); got != "T1,T2" {
		t.Fatalf("group G1 of E1: got %s, want T1,T2", got)
	}
	var buf bytes.Buffer
	if err := export.WriteCertificatesPDF(ctx, db, &buf, prodays.AdminScope(), ids, now); err != nil {
		t.Fatal(err)
	}
	pages := pdfPages(t, "certificates-G1.pdf", buf.Bytes())
	if len(pages) != 2 {
		t.Fatalf("pages: got %d, want 2 (one certificate each)", len(pages))
	}
	for i, want := range []string{"Ahmed Alaoui, stagiaire", "Sara Bennani, stagiaire"} {
		if !strings.Contains(flat(pages[i]), want) {
			t.Errorf("page %d lacks %q:\n%s", i+1, want, pages[i])
		}
		// The long title wraps: its last word is printed, no "…".
		if !strings.Contains(pages[i], "terminus") || strings.Contains(pages[i], "…") {
			t.Errorf("page %d: the long title is cut:\n%s", i+1, pages[i])
		}
	}

	// By activity: the trainees present at M1 (T1, T2, T3).
	ids, err = export.CertificateTrainees(ctx, db, export.CertificateFilter{Scope: prodays.AdminScope(), ActivityID: "M1"})
	if err != nil || strings.Join(ids, ",") != "T1,T2,T3" {
		t.Errorf("activity M1: got %v, %v", ids, err)
	}
	// A supervisor of CS gets the trainees of CS's establishments only.
	cs := prodays.Scope{Role: prodays.RoleSupervisor, RegionCode: "CS"}
	ids, err = export.CertificateTrainees(ctx, db, export.CertificateFilter{Scope: cs, ActivityID: "M2"})
	if err != nil || strings.Join(ids, ",") != "T3" {
		t.Errorf("activity M2 for CS: got %v, %v", ids, err)
	}
	for _, tc := range []struct {
		f    export.CertificateFilter
		code string
	}{
		{export.CertificateFilter{Scope: prodays.AdminScope()}, prodays.EInvalid},
		{export.CertificateFilter{Scope: prodays.AdminScope(), EstablishmentCode: "NOPE"}, prodays.ENotFound},
		{export.CertificateFilter{Scope: prodays.AdminScope(), EstablishmentCode: "E1", Group: "NOPE"}, prodays.ENotFound},
		{export.CertificateFilter{Scope: cs, EstablishmentCode: "E1"}, prodays.EForbidden},
		{export.CertificateFilter{Scope: cs, ActivityID: "M1"}, prodays.EForbidden},
	} {
		if _, err := export.CertificateTrainees(ctx, db, tc.f); prodays.ErrorCode(err) != tc.code {
			t.Errorf("%+v: got %v, want %s", tc.f, err, tc.code)
		}
	}
}

func TestListChoices(t *testing.T) {
	db := nastyDB(t)
	cs := prodays.Scope{Role: prodays.RoleSupervisor, RegionCode: "CS"}
	c, err := export.ListChoices(context.Background(), db, cs)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Regions) != 1 || c.Regions[0].Code != "CS" {
		t.Errorf("regions: %+v", c.Regions)
	}
	// CS's activities: M2, M3, V1, V3, X2, N1.
	if got := strings.Join(c.Days, ","); got != "2026-03-21,2026-03-22,2026-03-23" {
		t.Errorf("days: %s", got)
	}
	var ests []string
	for _, e := range c.Establishments {
		ests = append(ests, e.Code+":"+strings.Join(e.Groups, "|"))
	}
	// E2 (ISTA Anfa): G2 (T3; T5 is a tombstone), DEV101, G=1, GE102;
	// E3 (CMC Settat): -G3, @G2, G3.
	if got := strings.Join(ests, " "); got != "E3:-G3|@G2|G3 E2:DEV101|G2|G=1|GE102" {
		t.Errorf("establishments: %s", got)
	}
	admin, err := export.ListChoices(context.Background(), db, prodays.AdminScope())
	if err != nil || len(admin.Regions) != 12 || len(admin.Establishments) != 3 {
		t.Errorf("admin: %d regions, %d establishments, %v", len(admin.Regions), len(admin.Establishments), err)
	}
}
