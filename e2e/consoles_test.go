package e2e_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"prodays/internal/dbtest"
	"prodays/internal/synctest"
)

// TestSupervisorReviewConsole: a supervisor closes an activity with open
// items (a reason is asked) and resolves one item of each kind of the
// review queue, each built through the real push API; the server state
// is checked after each action.
func TestSupervisorReviewConsole(t *testing.T) {
	srv, env := consoleFixture(t)
	staff := env.Login(t, "s.staff", "dev-staff")
	skewDev := env.Login(t, "s.staff", "dev-skew")
	sup := env.Login(t, "sup.cs", "dev-sup-api")
	closeActivity(t, sup, "VIS-0001")
	now := time.Now()
	ph := synctest.NewPhone("dev-staff", now.Add(-time.Minute))
	late := ph.CheckIn("VIS-0001", "trainee", traineeAit)
	ph.Clock = now.Add(-5 * 24 * time.Hour)
	outside := ph.CheckIn("MTG-0001", "trainee", traineeBenaissa)
	ph.Clock = now.Add(-30 * time.Second)
	w1 := ph.Register("EFP0105", "Moussaoui", "Rachid")
	w2 := ph.Register("EFP0105", "Moussaoui", "Rachid")
	u1 := ph.Update(traineeByID, 1, map[string]string{"last_name": "El Idrissi Alaoui"})
	refused := ph.CheckIn("MTG-0200", "trainee", traineeAit)
	unknown := ph.CheckIn("MTG-9999", "trainee", traineeAit)
	push(t, staff, synctest.Body("dev-staff", now, 7, late, outside, w1, w2, u1, refused, unknown))
	sk := synctest.NewPhone("dev-skew", now.Add(time.Hour))
	u2 := sk.Update(traineeByID, 1, map[string]string{"last_name": "Idrissi"})
	push(t, skewDev, synctest.Body("dev-skew", now.Add(time.Hour), 1, u2, sk.CheckIn("MTG-0001", "trainee", traineeArabic)))

	lateFlag := sqlValue[int](t, srv, `SELECT id FROM flags WHERE kind = 'late' AND mutation_id = ?`, late.ID)
	windowFlag := sqlValue[int](t, srv, `SELECT id FROM flags WHERE kind = 'out_of_window' AND mutation_id = ?`, outside.ID)
	proposal := sqlValue[int](t, srv, `SELECT id FROM merge_proposals WHERE status = 'open'`)
	conflict := sqlValue[int](t, srv, `SELECT id FROM conflicts WHERE status = 'open' AND trainee_id = ?`, traineeByID)
	if sqlValue[string](t, srv, `SELECT code FROM mutations WHERE id = ?`, refused.ID) != "out_of_scope" {
		t.Fatal("the MTG-0200 check-in should be refused out_of_scope")
	}
	if sqlValue[int](t, srv, `SELECT clock_skewed FROM devices WHERE id = 'dev-skew'`) != 1 {
		t.Fatal("dev-skew should be marked skewed")
	}

	ctx := consoleTab(t, srv, "sup.cs", 3*time.Minute)
	waitFor(t, ctx, "the review queue", `!!document.querySelector('[data-test=screen-review] [data-test=group-late]')`, 20*time.Second)
	for _, sel := range []string{
		fmt.Sprintf(`[data-test=item-late][data-id="%d"]`, lateFlag),
		fmt.Sprintf(`[data-test=item-out_of_window][data-id="%d"]`, windowFlag),
		`[data-test=item-skew][data-id="dev-skew"]`,
		fmt.Sprintf(`[data-test=item-merge][data-id="%d"]`, proposal),
		fmt.Sprintf(`[data-test=item-conflict][data-id="%d"]`, conflict),
		fmt.Sprintf(`[data-test=item-quarantine][data-id=%q]`, refused.ID),
		fmt.Sprintf(`[data-test=item-quarantine][data-id=%q]`, unknown.ID),
	} {
		if !eval[bool](t, ctx, `!!document.querySelector(`+jsString(sel)+`)`) {
			t.Errorf("the queue does not show %s", sel)
		}
	}
	if got := text(t, ctx, fmt.Sprintf(`[data-test=item-conflict][data-id="%d"]`, conflict)); !bytes.Contains([]byte(got), []byte("dev-skew")) {
		t.Errorf("the conflict should say which device wrote what: %q", got)
	}
	// The refusals' reasons are the server's codes in French (reasons.js,
	// reason.<code> in fr.json), not the server's English messages.
	for id, want := range map[string]string{
		refused.ID: "Hors de votre périmètre : l'activité ou le stagiaire relève d'un autre établissement ou d'une autre région.",
		unknown.ID: "Activité inconnue du serveur.",
	} {
		if got := text(t, ctx, fmt.Sprintf(`[data-test=item-quarantine][data-id=%q] [data-test=reason]`, id)); got != want {
			t.Errorf("reason of %s in the French console: got %q, want %q", id, got, want)
		}
	}
	// Counting present is offered where it can work (out_of_scope), not for
	// a check-in of an activity the server does not have.
	if eval[bool](t, ctx, fmt.Sprintf(`!!document.querySelector('[data-test=item-quarantine][data-id=%q] [data-test=act-present]')`, unknown.ID)) ||
		!eval[bool](t, ctx, fmt.Sprintf(`!!document.querySelector('[data-test=item-quarantine][data-id=%q] [data-test=act-present]')`, refused.ID)) {
		t.Error("count present: offered for unknown_activity, or not for out_of_scope")
	}
	consoleShots(t, ctx, "console-review", `!!document.querySelector('[data-test=group-late] h2')`)

	// Close MTG-0001 while its out-of-window check-in is open: a reason is asked.
	goTo(t, ctx, "#/activities", "activities")
	jsClick(t, ctx, `[data-test=console-activity][data-id="MTG-0001"] [data-test=close]`)
	waitFor(t, ctx, "the reason field", `!!document.querySelector('[data-test=close-reason]')`, 10*time.Second)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`[data-test=close-reason]`), "feuille papier signée")); err != nil {
		t.Fatal(err)
	}
	jsClick(t, ctx, `[data-test=close-anyway]`)
	waitFor(t, ctx, "the signed sheet", `!!document.querySelector('[data-test=console-activity][data-id="MTG-0001"][data-status=closed] [data-test=signed]')`, 10*time.Second)
	if got := sqlValue[string](t, srv, `SELECT status || '|' || closed_by || '|' || close_reason FROM activities WHERE id = 'MTG-0001'`); got != "closed|sup.cs|feuille papier signée" {
		t.Errorf("MTG-0001 after close: %q", got)
	}

	goTo(t, ctx, "#/review", "review")
	act := func(sel, action, what string, check func() bool) {
		t.Helper()
		jsClick(t, ctx, sel+` [data-test=act-`+action+`]`)
		waitFor(t, ctx, what, `!!document.querySelector('[data-test=review-notice]') && !document.querySelector(`+jsString(sel+` [data-test=act-`+action+`]`)+`)`, 10*time.Second)
		if !check() {
			t.Errorf("%s: server state not as expected", what)
		}
	}
	act(fmt.Sprintf(`[data-test=item-late][data-id="%d"]`, lateFlag), "accept", "late accepted", func() bool {
		return sqlValue[string](t, srv, `SELECT status FROM flags WHERE id = ?`, lateFlag) == "accepted" &&
			sqlValue[int](t, srv, `SELECT count(*) FROM attendance WHERE activity_id = 'VIS-0001' AND person_id = ? AND present = 1`, traineeAit) == 1
	})
	act(fmt.Sprintf(`[data-test=item-out_of_window][data-id="%d"]`, windowFlag), "reject", "out of window rejected", func() bool {
		return sqlValue[string](t, srv, `SELECT status FROM flags WHERE id = ?`, windowFlag) == "rejected" &&
			sqlValue[string](t, srv, `SELECT code FROM mutations WHERE id = ?`, outside.ID) == "flag_rejected"
	})
	act(fmt.Sprintf(`[data-test=item-merge][data-id="%d"]`, proposal), "merge", "walk-ins merged", func() bool {
		return sqlValue[string](t, srv, `SELECT status FROM merge_proposals WHERE id = ?`, proposal) == "merged"
	})
	// The page keeps its place after a decision (issue #18, 5e): the
	// conflict card is scrolled to mid-screen, decided, and the page is
	// redrawn where it was, not at the top.
	conflictCard := fmt.Sprintf(`[data-test=item-conflict][data-id="%d"]`, conflict)
	before := eval[float64](t, ctx, `(() => { document.querySelector(`+jsString(conflictCard)+`).scrollIntoView({block: 'center'}); return document.scrollingElement.scrollTop; })()`)
	act(conflictCard, "reverse", "conflict reversed", func() bool {
		return sqlValue[string](t, srv, `SELECT status FROM conflicts WHERE id = ?`, conflict) == "reversed"
	})
	if after := eval[float64](t, ctx, `document.scrollingElement.scrollTop`); before <= 0 || after != before {
		t.Errorf("scroll after a decision: %v, want it kept at %v (> 0)", after, before)
	}
	act(fmt.Sprintf(`[data-test=item-quarantine][data-id=%q]`, refused.ID), "present", "refused check-in counted present", func() bool {
		return sqlValue[string](t, srv, `SELECT override FROM attendance WHERE activity_id = 'MTG-0200' AND person_id = ?`, traineeAit) == "present" &&
			sqlValue[string](t, srv, `SELECT review_decision || '|' || review_decided_by FROM mutations WHERE id = ?`, refused.ID) == "counted_present|sup.cs"
	})
	act(fmt.Sprintf(`[data-test=item-quarantine][data-id=%q]`, unknown.ID), "acknowledge", "refused check-in acknowledged", func() bool {
		return sqlValue[string](t, srv, `SELECT status || '|' || review_decision || '|' || review_decided_by FROM mutations WHERE id = ?`, unknown.ID) == "rejected|acknowledged|sup.cs"
	})
	act(`[data-test=item-skew][data-id="dev-skew"]`, "acknowledge_skew", "clock skew acknowledged", func() bool {
		return sqlValue[string](t, srv, `SELECT clock_skewed || '|' || skew_acknowledged_by FROM devices WHERE id = 'dev-skew'`) == "1|sup.cs"
	})
	// The decisions are the server's: after a reload the items stay gone,
	// and the device keeps its offset on the Devices screen.
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the review queue after reload", `!!document.querySelector('[data-test=screen-review] [data-test=group-quarantine]')`, 20*time.Second)
	for _, sel := range []string{
		fmt.Sprintf(`[data-test=item-quarantine][data-id=%q]`, refused.ID),
		fmt.Sprintf(`[data-test=item-quarantine][data-id=%q]`, unknown.ID),
		`[data-test=item-skew]`,
	} {
		if eval[bool](t, ctx, `!!document.querySelector(`+jsString(sel)+`)`) {
			t.Errorf("after a reload the queue still shows %s", sel)
		}
	}
	goTo(t, ctx, "#/devices", "devices")
	if got := text(t, ctx, `[data-test=device][data-id="dev-skew"]`); !strings.Contains(got, "sup.cs") {
		t.Errorf("the device row should keep the offset and say who noted it: %q", got)
	}
	if n := sqlValue[int](t, srv, `SELECT count(*) FROM audit_log WHERE username = 'sup.cs' AND action LIKE 'review.%'`); n < 7 {
		t.Errorf("audited review decisions: %d, want at least 7", n)
	}
	if n := sqlValue[int](t, srv, `SELECT count(*) FROM attendance WHERE activity_id = 'MTG-0200' AND person_kind = 'trainee' AND person_id = ? AND seq > 0`, traineeAit); n != 1 {
		t.Errorf("the counted presence is not in the change log: %d", n)
	}
}

// TestAdminImportsUsersAudit: an admin imports a CSV with one bad line
// through the Imports page (refused, the line shown with file, line and
// column; then imported with the bad line skipped, through the 48 px
// checkbox), creates an account, resets its password through the form
// (a short one is refused on the page), and finds those actions in the
// audit log. On a phone the menu is the compact one.
func TestAdminImportsUsersAudit(t *testing.T) {
	srv, _ := consoleFixture(t)
	csv := tempFile(t, "etablissements.csv", []byte("code,name,city,region_code\nEFP0900,ISTA Test,Tanger,CS\nEFP0901,ITA Nulle part,Nowhere,ZZZ\n"))

	ctx := consoleTab(t, srv, "admin1", 3*time.Minute)
	// 360 px: the compact menu, not a tall stack of links.
	if !eval[bool](t, ctx, `getComputedStyle(document.querySelector('.nav-wide')).display === 'none' && getComputedStyle(document.querySelector('[data-test=nav-menu]')).display !== 'none'`) {
		t.Error("on a phone the console menu should be the compact one")
	}
	if h := eval[float64](t, ctx, `document.querySelector('.console-nav').getBoundingClientRect().height`); h > 120 {
		t.Errorf("the phone menu is %.0f px tall", h)
	}
	jsClick(t, ctx, `[data-test=nav-menu] summary`)
	jsClick(t, ctx, `[data-test=menu-imports]`)
	waitFor(t, ctx, "the imports screen", `!!document.querySelector('[data-test=import-form]')`, 20*time.Second)

	if h := eval[float64](t, ctx, `document.querySelector('[data-test=skip-label]').getBoundingClientRect().height`); h < 48 {
		t.Errorf("the checkbox's label is %.0f px tall, want a 48 px target", h)
	}
	eval[bool](t, ctx, `(() => { const s = document.querySelector('[data-test=import-form] select'); s.value = 'establishments'; return true; })()`)
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS(`[data-test=import-form] input[type=file]`), []string{csv})); err != nil {
		t.Fatal(err)
	}
	jsClick(t, ctx, `[data-test=import-form] button[type=submit]`)
	waitFor(t, ctx, "the error line", `!!document.querySelector('[data-test=import-error]')`, 20*time.Second)
	cells := eval[[]string](t, ctx, `[...document.querySelectorAll('[data-test=import-error] td')].map(c => c.textContent)`)
	if len(cells) != 4 || cells[0] != "etablissements.csv" || cells[1] != "3" || cells[2] == "" {
		t.Errorf("error line: %q, want file, line 3, a column, a message", cells)
	}
	if n := sqlValue[int](t, srv, `SELECT count(*) FROM establishments WHERE code IN ('EFP0900', 'EFP0901')`); n != 0 {
		t.Errorf("a refused file imported %d rows", n)
	}
	jsClick(t, ctx, `[data-test=skip-label] span`) // the label's text ticks the box
	if !eval[bool](t, ctx, `document.getElementById('skip-invalid').checked`) {
		t.Fatal("clicking the label should tick the box")
	}
	jsClick(t, ctx, `[data-test=import-form] button[type=submit]`)
	waitFor(t, ctx, "the import report", `!!document.querySelector('[data-test=import-result] .notice.ok')`, 20*time.Second)
	if n := sqlValue[int](t, srv, `SELECT count(*) FROM establishments WHERE code IN ('EFP0900', 'EFP0901')`); n != 1 {
		t.Errorf("imported with the bad line skipped: %d rows, want 1", n)
	}

	goTo(t, ctx, "#/users", "users")
	for k, v := range map[string]string{"username": "k.nouveau", "full_name": "Karim Nouveau", "establishment_code": "EFP0105", "password": "premier-mot-de-passe"} {
		if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`[data-test=user-form] [name=`+k+`]`), v)); err != nil {
			t.Fatal(err)
		}
	}
	jsClick(t, ctx, `[data-test=user-form] button[type=submit]`)
	waitFor(t, ctx, "the new account", `!!document.querySelector('[data-test=user][data-id="k.nouveau"]')`, 20*time.Second)
	hash := sqlValue[string](t, srv, `SELECT password_hash FROM users WHERE username = 'k.nouveau'`)

	jsClick(t, ctx, `[data-test=user][data-id="k.nouveau"] [data-test=reset]`)
	waitFor(t, ctx, "the password form", `!!document.querySelector('[data-test=password-form]')`, 10*time.Second)
	if !eval[bool](t, ctx, `(() => { const i = document.querySelector('[data-test=new-password]'); return !!i.labels.length && i.type === 'password' && i.minLength === 10; })()`) {
		t.Error("the password field needs a label, type password and minlength 10")
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`[data-test=new-password]`), "court")); err != nil {
		t.Fatal(err)
	}
	jsClick(t, ctx, `[data-test=password-submit]`)
	waitFor(t, ctx, "the short-password error", `document.querySelector('[data-test=password-form] [data-test=console-msg]').textContent !== ''`, 10*time.Second)
	if sqlValue[string](t, srv, `SELECT password_hash FROM users WHERE username = 'k.nouveau'`) != hash {
		t.Error("a short password was sent")
	}
	eval[bool](t, ctx, `(document.querySelector('[data-test=new-password]').value = '', true)`)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`[data-test=new-password]`), "un-mot-de-passe-solide")); err != nil {
		t.Fatal(err)
	}
	jsClick(t, ctx, `[data-test=password-submit]`)
	waitFor(t, ctx, "the password changed", `!document.querySelector('[data-test=password-form]') && !!document.querySelector('[data-test=screen-users] .notice.ok')`, 10*time.Second)
	if sqlValue[string](t, srv, `SELECT password_hash FROM users WHERE username = 'k.nouveau'`) == hash {
		t.Error("the password was not changed")
	}

	goTo(t, ctx, "#/audit", "audit")
	waitFor(t, ctx, "the audit entries", `!!document.querySelector('[data-test=audit-entry]')`, 20*time.Second)
	rows := eval[[]string](t, ctx, `[...document.querySelectorAll('[data-test=audit-entry]')].map(r => r.textContent)`)
	want := dbtest.Rows(t, srv.DB, dbtest.Pair, `SELECT action, COALESCE(target, '') FROM audit_log WHERE username = 'admin1' AND (action = 'import' OR target = 'k.nouveau')`)
	if len(want) < 3 {
		t.Errorf("audited: %v, want the import, the creation and the password change", want)
	}
	for _, w := range want {
		found := false
		for _, r := range rows {
			found = found || strings.Contains(r, w[0]) && strings.Contains(r, w[1])
		}
		if !found {
			t.Errorf("the audit screen does not show %s %s", w[0], w[1])
		}
	}
	consoleShots(t, ctx, "console-audit", `!!document.querySelector('[data-test=audit-entry]')`)
}

// TestAdminExportsAndBilan: an admin downloads every export from the
// Exports page (blobs fetched with the token: type and size checked) and
// sees the bilan dashboard with the fixture's totals.
func TestAdminExportsAndBilan(t *testing.T) {
	srv, env := consoleFixture(t)
	staffCheckIns(t, env, [3]string{"MTG-0001", "trainee", traineeAit}, [3]string{"MTG-0001", "trainee", traineeBenaissa},
		[3]string{"VIS-0001", "trainee", traineeAit}, [3]string{"MTG-0001", "speaker", "SPK-0001"})

	ctx := consoleTab(t, srv, "admin1", 3*time.Minute)
	waitFor(t, ctx, "the bilan", `!!document.querySelector('[data-test=fig-beneficiaries]')`, 20*time.Second)
	for fig, want := range map[string]int{"beneficiaries": 3, "meeting_participations": 2, "visit_participations": 1, "speakers_present": 1, "organizations_represented": 1, "meetings_held": 1, "visits_held": 1} {
		if got := eval[string](t, ctx, `document.querySelector('[data-test=fig-`+fig+`]').dataset.value`); got != fmt.Sprint(want) {
			t.Errorf("bilan %s = %s, want %d", fig, got, want)
		}
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('svg.chart rect.bar').length`); n < 3 {
		t.Errorf("bars drawn: %d", n)
	}
	consoleShots(t, ctx, "console-bilan", `!!document.querySelector('[data-test=fig-beneficiaries]')`)

	goTo(t, ctx, "#/exports", "exports")
	for k, v := range map[string]string{"activity": "MTG-0001", "establishment": "EFP0105", "group": "GE101", "trainee": traineeAit} {
		if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`[data-test=param-`+k+`]`), v)); err != nil {
			t.Fatal(err)
		}
	}
	// The region's day sheets need a region: the admin picks one.
	eval[bool](t, ctx, `(() => { const s = document.querySelector('[data-test=param-region]'); s.value = 'CS'; s.dispatchEvent(new Event('change')); return true; })()`)
	keys := eval[[]string](t, ctx, `[...document.querySelectorAll('button[data-test^=export-]')].map(b => b.dataset.test)`)
	if len(keys) != 15 {
		t.Fatalf("export buttons: %v", keys)
	}
	want := map[string]string{"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "pdf": "application/pdf"}
	for _, k := range keys {
		jsClick(t, ctx, `[data-test=`+k+`]`)
		res := `document.querySelector('[data-test=` + k + `]').nextElementSibling`
		waitFor(t, ctx, k, `!!(`+res+`.dataset.size || `+res+`.dataset.error)`, 30*time.Second)
		typ := eval[string](t, ctx, res+`.dataset.type || ('error: ' + `+res+`.textContent)`)
		size := eval[string](t, ctx, res+`.dataset.size || '0'`)
		kind := "pdf"
		switch {
		case bytes.Contains([]byte(k), []byte("csv")):
			kind = "csv"
		case bytes.Contains([]byte(k), []byte("xlsx")):
			kind = "xlsx"
		}
		if !bytes.HasPrefix([]byte(typ), []byte(want[kind])) || size == "0" {
			t.Errorf("%s: type %q size %s", k, typ, size)
		}
	}
}
