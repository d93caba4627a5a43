package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// axeSource is the vendored axe-core (e2e/testdata/axe, see its README).
func axeSource(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "testdata", "axe", "axe.min.js"))
	if err != nil {
		t.Fatalf("vendored axe-core: %v", err)
	}
	return string(b)
}

// axeViolation is one rule that failed, with the elements it failed on.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// runAxe injects axe-core into the page (through CDP, which the page's CSP
// does not govern) and returns the serious and critical violations.
func runAxe(t *testing.T, ctx context.Context, src string) []axeViolation {
	t.Helper()
	if !eval[bool](t, ctx, `typeof window.axe === 'object'`) {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](src+"\n;undefined")); err != nil {
			t.Fatalf("inject axe-core: %v", err)
		}
	}
	type result struct {
		Violations []axeViolation `json:"violations"`
		Passes     int            `json:"passes"`
		Minor      []string       `json:"minor"`
	}
	r := eval[result](t, ctx, `axe.run(document).then((r) => ({ passes: r.passes.length,
		minor: r.violations.filter((v) => v.impact !== 'serious' && v.impact !== 'critical').map((v) => v.impact + ' ' + v.id + ': ' + v.nodes.map((n) => n.target.join(' ')).join(', ')),
		violations: r.violations
		.filter((v) => v.impact === 'serious' || v.impact === 'critical')
		.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
			nodes: v.nodes.map((n) => n.target.join(' ') + ' — ' + (n.failureSummary || '').replace(/\s+/g, ' ').slice(0, 200)) })) }))`)
	for _, m := range r.Minor {
		t.Logf("axe-core, not failing: %s", m)
	}
	if r.Passes < 10 {
		t.Fatalf("axe-core checked only %d rules: did it run?", r.Passes)
	}
	return r.Violations
}

// TestAccessibility runs axe-core on the login, home and activity screens
// in French and in Arabic, in the light and the dark theme
// (prefers-color-scheme), and fails on any violation of impact "serious"
// or "critical", listing them.
func TestAccessibility(t *testing.T) {
	src := axeSource(t)
	srv, ctx := openApp(t, 50, serverOptions{}, 3*time.Minute)

	setLang := func(l string) {
		t.Helper()
		chooseLang(t, ctx, l, "")
	}
	check := func(screen, prepare, ready string) {
		t.Helper()
		for _, l := range []string{"fr", "ar"} {
			setLang(l)
			if prepare != "" {
				eval[bool](t, ctx, prepare)
			}
			waitFor(t, ctx, screen+" in "+l, ready, 10*time.Second)
			for _, theme := range []string{"light", "dark"} {
				setTheme(t, ctx, theme)
				vs := runAxe(t, ctx, src)
				if len(vs) == 0 {
					t.Logf("%s (%s, %s): no serious or critical violation", screen, l, theme)
					continue
				}
				var b strings.Builder
				for _, v := range vs {
					fmt.Fprintf(&b, "\n  [%s] %s: %s", v.Impact, v.ID, v.Help)
					for _, n := range v.Nodes {
						fmt.Fprintf(&b, "\n      %s", n)
					}
				}
				t.Errorf("%s (%s, %s): %d serious or critical axe-core violations:%s", screen, l, theme, len(vs), b.String())
			}
			setTheme(t, ctx, "light")
		}
		setLang("fr")
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	check("login", "", `!!document.querySelector('[data-test=login-form]')`)
	loginAndDownload(t, ctx, srv)
	check("home", "", `document.querySelectorAll('[data-test=activity]').length > 0`)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/#/activity/MTG-0001")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the activity screen", `!!document.querySelector('#q')`, 10*time.Second)
	// A search with results and one check-in, so that the lists are filled.
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#q"), "benaissa")); err != nil {
		t.Fatal(err)
	}
	click(t, ctx, `[data-test=results] li[data-id="`+traineeBenaissa+`"] [data-test=check-in]`)
	waitFor(t, ctx, "the recent list", `!!document.querySelector('[data-test=recent] li')`, 10*time.Second)
	check("activity", `(() => { const i = document.querySelector('#q'); i.value = 'a'; i.dispatchEvent(new Event('input')); return true; })()`, `document.querySelectorAll('[data-test=results] li').length > 0`)
}
