package e2e_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// pdfText extracts a PDF's text with poppler's pdftotext (skips without it
// unless PRODAYS_REQUIRE_PDFTOTEXT=1).
func pdfText(t *testing.T, data []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("PRODAYS_REQUIRE_PDFTOTEXT") == "1" {
			t.Fatal("pdftotext not found; PRODAYS_REQUIRE_PDFTOTEXT=1 makes this a failure")
		}
		t.Skip("pdftotext not found (Debian: apt-get install poppler-utils)")
	}
	path := filepath.Join(t.TempDir(), "bilan.pdf")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v: %s", err, out)
	}
	return string(out)
}

// TestAdminEditionsScreen (issue #18, finding 10): an admin creates an
// edition on the Editions screen and renames it; the bilan PDF of that
// edition carries its name and dates in its header (pdftotext), and the
// import of activities shows the edition's dates.
func TestAdminEditionsScreen(t *testing.T) {
	srv, env := consoleFixture(t)
	ctx := consoleTab(t, srv, "admin1", 3*time.Minute)
	goTo(t, ctx, "#/editions", "editions")
	eval[bool](t, ctx, `(() => {
		const f = document.querySelector('[data-test=edition-form]');
		const set = (n, v) => { f.querySelector('[name=' + n + ']').value = v; };
		set('name', "Pro'Days 2026 essai"); set('theme', 'Métiers verts'); set('start_date', '2026-03-23'); set('end_date', '2026-03-28');
		return true; })()`)
	jsClick(t, ctx, `[data-test=edition-form] [data-test=edition-submit]`)
	waitFor(t, ctx, "the new edition", `!!document.querySelector('[data-test=edition]')`, 10*time.Second)
	id := sqlValue[int](t, srv, `SELECT id FROM editions WHERE name = ?`, "Pro'Days 2026 essai")

	jsClick(t, ctx, fmt.Sprintf(`[data-test=edition][data-id="%d"] [data-test=edition-edit-open]`, id))
	waitFor(t, ctx, "the edit form", `!!document.querySelector('[data-test=edition-edit]')`, 10*time.Second)
	eval[bool](t, ctx, `(document.querySelector('[data-test=edition-edit] [name=name]').value = "Pro'Days 2026 nationale", true)`)
	jsClick(t, ctx, `[data-test=edition-edit] [data-test=edition-submit]`)
	waitFor(t, ctx, "the renamed edition", `(document.querySelector("[data-test=editions-notice]") || {}).textContent?.includes("nationale")`, 10*time.Second)
	if got := sqlValue[string](t, srv, `SELECT name || '|' || start_date || '|' || end_date FROM editions WHERE id = ?`, id); got != "Pro'Days 2026 nationale|2026-03-23|2026-03-28" {
		t.Fatalf("the edition in the database: %q", got)
	}
	jsClick(t, ctx, fmt.Sprintf(`[data-test=edition][data-id="%d"] [data-test=edition-bilan]`, id))
	waitFor(t, ctx, "the bilan download", fmt.Sprintf(`!!document.querySelector('[data-test=edition][data-id="%d"] .dl-result').dataset.size`, id), 30*time.Second)

	admin := env.Login(t, "admin1", "dev-admin-api")
	a := env.Raw(t, "GET", fmt.Sprintf("/api/v1/exports/bilan.pdf?edition=%d", id), admin.AccessToken, "", nil)
	if a.Status != 200 {
		t.Fatalf("bilan.pdf: %d %s", a.Status, a.Body)
	}
	txt := pdfText(t, a.Body)
	head := txt[:min(len(txt), 600)]
	if !strings.Contains(head, "Pro'Days 2026 nationale") && !strings.Contains(head, "Pro’Days 2026 nationale") {
		t.Errorf("the bilan's header does not name the edition:\n%s", head)
	}
	if !strings.Contains(txt, "2026") || !strings.Contains(txt, "23") || !strings.Contains(txt, "28") {
		t.Errorf("the bilan does not carry the edition's dates:\n%s", head)
	}
	chooseLang(t, ctx, "ar", "")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1))); err != nil {
		t.Fatal(err)
	}
	if w := eval[float64](t, ctx, `document.documentElement.scrollWidth - innerWidth`); w > 0 {
		t.Errorf("the Arabic editions screen overflows sideways by %.0f px at 1280", w)
	}
	consoleShots(t, ctx, "console-editions", `!!document.querySelector('[data-test=edition]')`)

	goTo(t, ctx, "#/imports", "imports")
	eval[bool](t, ctx, `(() => { const s = document.querySelector('[data-test=import-form] select'); s.value = 'activities'; s.dispatchEvent(new Event('change')); return true; })()`)
	waitFor(t, ctx, "the edition's dates", `document.querySelector('[data-test=import-edition-dates]').textContent.includes("Pro'Days 2026 nationale")`, 10*time.Second)
}
