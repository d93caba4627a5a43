package e2e_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPureModulesInBrowser runs e2e/testdata/unit/unit.js (search,
// scanner, i18n, presence, ids, backoff) in headless Chromium and reports
// each case as a subtest.
func TestPureModulesInBrowser(t *testing.T) {
	srv, ctx := openApp(t, 0, serverOptions{}, 60*time.Second)
	type result struct {
		Name    string `json:"name"`
		OK      bool   `json:"ok"`
		Got     string `json:"got"`
		Want    string `json:"want"`
		Measure bool   `json:"measure"`
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/test/index.html")); err != nil {
		t.Fatal(err)
	}
	results, err := chromedp.Run(ctx, chromedp.Poll[[]result](`window.unitResults`, chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		t.Fatalf("unit page: %v", err)
	}
	if len(results) < 40 {
		t.Fatalf("only %d results", len(results))
	}
	for _, r := range results {
		t.Run(r.Name, func(t *testing.T) {
			if r.Measure {
				t.Logf("%s: %s", r.Name, r.Got)
				return
			}
			if !r.OK {
				t.Errorf("got %s, want %s", r.Got, r.Want)
			}
		})
	}
}
