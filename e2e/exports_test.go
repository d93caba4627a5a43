package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// exportResult clicks the export button key and returns what the screen
// got back (the fetch's file name and media type, or its error text).
func exportResult(t *testing.T, ctx context.Context, key string) (name, typ string) {
	t.Helper()
	res := `document.querySelector('[data-test=export-` + key + `]').nextElementSibling`
	eval[bool](t, ctx, `(delete `+res+`.dataset.size, delete `+res+`.dataset.error, true)`)
	jsClick(t, ctx, `[data-test=export-`+key+`]`)
	waitFor(t, ctx, key, `!!(`+res+`.dataset.size || `+res+`.dataset.error)`, 60*time.Second)
	if eval[string](t, ctx, res+`.dataset.error || ''`) != "" {
		t.Fatalf("%s: %s", key, eval[string](t, ctx, res+`.textContent`))
	}
	return eval[string](t, ctx, res+`.dataset.name`), eval[string](t, ctx, res+`.dataset.type`)
}

// TestSupervisorExports: a regional supervisor opens the exports screen
// from the console, picks the day, an establishment and its group and an
// activity from the pickers (no code typed from memory: the lists come
// from the server), and makes the region's day sheets and two batches of
// certificates; the server's file names and the audit say what was made.
func TestSupervisorExports(t *testing.T) {
	srv, env := consoleFixture(t)
	staffCheckIns(t, env, [3]string{"MTG-0001", "trainee", traineeAit}, [3]string{"MTG-0001", "trainee", traineeBenaissa},
		[3]string{"VIS-0001", "trainee", traineeAit})
	today := time.Now().In(time.Local).Format("2006-01-02")

	ctx := consoleTab(t, srv, "sup.cs", 3*time.Minute)
	if !eval[bool](t, ctx, `!!document.querySelector('[data-test=nav-exports]')`) {
		t.Fatal("the supervisor's console has no exports screen")
	}
	jsClick(t, ctx, `[data-test=nav-exports]`)
	goTo(t, ctx, "#/exports", "exports")

	// The region is the supervisor's, fixed; the day is today's (an
	// edition day); the pickers hold the region's establishments and the
	// day's activities.
	if got := eval[string](t, ctx, `(() => { const s = document.querySelector('[data-test=param-region]'); return s.value + (s.disabled ? ' fixed' : ''); })()`); got != "CS fixed" {
		t.Errorf("region: %q, want CS fixed", got)
	}
	if got := eval[string](t, ctx, `document.querySelector('[data-test=param-date]').value`); got != today {
		t.Errorf("day: %q, want %s", got, today)
	}
	options := func(id string) string {
		return eval[string](t, ctx, `[...document.querySelectorAll('#`+id+` option')].map(o => o.value + '=' + o.textContent).join('|')`)
	}
	waitFor(t, ctx, "the day's activities", `document.querySelectorAll('#exports-activities option').length >= 2`, 10*time.Second)
	if acts := options("exports-activities"); !strings.Contains(acts, "MTG-0001=09:00 Rencontre stagiaires-professionnels") || !strings.Contains(acts, "VIS-0001=") {
		t.Errorf("activities picker: %s", acts)
	}
	if ests := options("exports-establishments"); !strings.Contains(ests, "EFP0105=ISTA Hay Hassani") {
		t.Errorf("establishments picker: %s", ests)
	}
	if !eval[bool](t, ctx, `!!document.querySelector('[data-test=csv-note]')`) {
		t.Error("no line says that the CSV keeps machine headers")
	}
	for k, v := range map[string]string{"establishment": "EFP0105", "activity": "MTG-0001"} {
		if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`[data-test=param-`+k+`]`), v)); err != nil {
			t.Fatal(err)
		}
	}
	if groups := options("exports-groups"); !strings.Contains(groups, "GE101") {
		t.Errorf("groups picker after EFP0105: %s", groups)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`[data-test=param-group]`), "GE101")); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ key, name, typ string }{
		{"region_day_pdf", "feuilles-presence-" + today + "-CS.pdf", "application/pdf"},
		{"certificates_group", "attestations-EFP0105-GE101.pdf", "application/pdf"},
		{"certificates_activity", "attestations-MTG-0001.pdf", "application/pdf"},
		{"participations_csv", "participations-CS-" + today + ".csv", "text/csv"},
		{"participations_csv_semicolon", "participations-CS-" + today + "-pointvirgule.csv", "text/csv"},
	} {
		name, typ := exportResult(t, ctx, tc.key)
		if name != tc.name || !strings.HasPrefix(typ, tc.typ) {
			t.Errorf("%s: saved %q (%s), want %q (%s)", tc.key, name, typ, tc.name, tc.typ)
		}
	}
	// The server made them for sup.cs: the day's sheets of the region,
	// certificates for the group's two present trainees.
	for _, w := range []struct{ target, detail, detail2 string }{
		{"attendance.pdf", `"region":"CS"`, `"date":"` + today + `"`},
		{"certificates.pdf", `"group":"GE101"`, `"count":2`},
	} {
		if n := sqlValue[int](t, srv, `SELECT count(*) FROM audit_log WHERE username = 'sup.cs' AND action = 'export' AND target = ? AND instr(detail, ?) > 0 AND instr(detail, ?) > 0`, w.target, w.detail, w.detail2); n != 1 {
			t.Errorf("audit of %s with %s %s: %d entries", w.target, w.detail, w.detail2, n)
		}
	}
	for _, v := range runAxe(t, ctx, axeSource(t)) {
		t.Errorf("axe-core %s %s (%s): %v", v.Impact, v.ID, v.Help, v.Nodes)
	}
	consoleShots(t, ctx, "console-exports-supervisor", `!!document.querySelector('[data-test=export-region_day_pdf]')`)
}
