package e2e_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestImportErrorsTranslated (issue #18, finding 10): a refused import
// shows, in Arabic, every error of a row (not only the first), each with
// its code's text from ar.json and the server's exact words below.
func TestImportErrorsTranslated(t *testing.T) {
	srv, _ := consoleFixture(t)
	ar := messages(t, "ar")
	csv := tempFile(t, "stagiaires.csv", []byte("trainee_id,last_name,first_name,establishment_code,program,group,gender\nF2501050000X,,Salma,EFP9999,GE,GE101,X\n"))
	ctx := consoleTab(t, srv, "admin1", 3*time.Minute)
	goTo(t, ctx, "#/imports", "imports")
	chooseLang(t, ctx, "ar", `!!document.querySelector('[data-test=import-form]')`)
	eval[bool](t, ctx, `(() => { const s = document.querySelector('[data-test=import-form] select'); s.value = 'trainees'; return true; })()`)
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS(`[data-test=import-form] input[type=file]`), []string{csv})); err != nil {
		t.Fatal(err)
	}
	jsClick(t, ctx, `[data-test=import-form] button[type=submit]`)
	waitFor(t, ctx, "the errors", `!!document.querySelector('[data-test=import-error]')`, 20*time.Second)
	rows := eval[[][]string](t, ctx, `[...document.querySelectorAll('[data-test=import-error]')].map(r => [r.cells[1].textContent, r.cells[2].textContent, r.dataset.code, (r.querySelector('[data-test=issue-text]') || {}).textContent || ''])`)
	want := [][2]string{{"last_name", "import_required"}, {"trainee_id", "import_invalid_value"}, {"establishment_code", "import_unknown"}, {"gender", "import_invalid_value"}}
	if len(rows) != len(want) {
		t.Fatalf("errors shown: %q, want the row's 4", rows)
	}
	for i, w := range want {
		r := rows[i]
		if r[0] != "2" || r[1] != w[0] || r[2] != w[1] || r[3] != ar["reason."+w[1]] || strings.ContainsAny(r[3], "abcdefghijklmnopqrstuvwxyz") {
			t.Errorf("error %d: %q, want line 2, column %s, code %s in Arabic %q", i, r, w[0], w[1], ar["reason."+w[1]])
		}
	}
	// A change of language redraws the form: the errors are shot as they are, in Arabic.
	screenshot(t, ctx, screenshotDir(t), "console-import-errors-ar-360")
}
