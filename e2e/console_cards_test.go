package e2e_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"prodays/internal/synctest"
)

// TestReviewCardsNamesAndArabic (issue #18, finding 6): the review cards
// name the trainee (matricule in small print) and the staff member (the
// device's short id at most, never its full UUID); a merge card lays out
// the establishment, programme and group of the walk-in and of the roster
// trainee with the differing rows marked; a conflict's title names the
// field in the user's language; in Arabic each date of a conflict card is
// one isolated string equal to Intl's ar-MA format; on a 360 px phone
// each card fits in one screen.
func TestReviewCardsNamesAndArabic(t *testing.T) {
	srv, env := consoleFixture(t)
	if _, err := srv.DB.Write.Exec(`UPDATE users SET full_name = 'Nadia Bennani' WHERE username = 's.staff'`); err != nil {
		t.Fatal(err)
	}
	const devA, devB = "0b6f3c1e-5d2a-4c4e-9f7a-2b8d1e6c3a90", "7d1e2f3a-4b5c-4d6e-8f70-112233445566"
	a := env.Login(t, "s.staff", devA)
	b := env.Login(t, "s.staff", devB)
	sup := env.Login(t, "sup.cs", "dev-sup-api")
	closeActivity(t, sup, "VIS-0001")
	now := time.Now()
	pa := synctest.NewPhone(devA, now.Add(-2*time.Minute))
	late := pa.CheckIn("VIS-0001", "trainee", traineeAit)
	walkIn := pa.Register("EFP0105", "Benaïssa", "Salma")
	walkIn.Trainee.Program, walkIn.Trainee.Group = "Génie mécanique", "GM201"
	upA := pa.Update(traineeByID, 1, map[string]string{"last_name": "El Idrissi Alaoui"})
	push(t, a, synctest.Body(devA, now, 3, late, walkIn, upA))
	pb := synctest.NewPhone(devB, now.Add(-time.Minute))
	push(t, b, synctest.Body(devB, now, 1, pb.Update(traineeByID, 1, map[string]string{"last_name": "Idrissi"})))

	lateFlag := sqlValue[int](t, srv, `SELECT id FROM flags WHERE kind = 'late' AND mutation_id = ?`, late.ID)
	proposal := sqlValue[int](t, srv, `SELECT id FROM merge_proposals WHERE status = 'open' AND walk_in_id = ?`, walkIn.Trainee.ID)
	conflict := sqlValue[int](t, srv, `SELECT id FROM conflicts WHERE status = 'open' AND trainee_id = ? AND field = 'last_name'`, traineeByID)
	name := sqlValue[string](t, srv, `SELECT last_name || ' ' || first_name FROM trainees WHERE id = ?`, traineeByID)

	ctx := consoleTab(t, srv, "sup.cs", 3*time.Minute)
	lateSel := fmt.Sprintf(`[data-test=item-late][data-id="%d"]`, lateFlag)
	mergeSel := fmt.Sprintf(`[data-test=item-merge][data-id="%d"]`, proposal)
	conflictSel := fmt.Sprintf(`[data-test=item-conflict][data-id="%d"]`, conflict)
	waitFor(t, ctx, "the cards", `!!document.querySelector(`+jsString(conflictSel)+`) && !!document.querySelector(`+jsString(mergeSel)+`)`, 20*time.Second)

	// Late card: the trainee's name and matricule, the staff member's name
	// and the device's short id, never the full UUID.
	if got := text(t, ctx, lateSel+` [data-test=person] .who-name`); got != "Aït Baha Marouane" {
		t.Errorf("late card's person: %q", got)
	}
	if got := text(t, ctx, lateSel+` [data-test=person] small`); got != traineeAit {
		t.Errorf("late card's matricule: %q", got)
	}
	if got := text(t, ctx, lateSel+` [data-test=staff]`); !strings.Contains(got, "Nadia Bennani") || !strings.Contains(got, devA[:8]) {
		t.Errorf("late card's staff member: %q", got)
	}
	for _, sel := range []string{lateSel, conflictSel} {
		if got := text(t, ctx, sel); strings.Contains(got, devA) || strings.Contains(got, devB) {
			t.Errorf("%s shows a full device id: %q", sel, got)
		}
	}
	// Merge card: the differences with the roster trainee.
	for k, want := range map[string]string{"establishment": "false", "program": "true", "group": "true"} {
		if got := eval[string](t, ctx, `document.querySelector(`+jsString(mergeSel+` [data-test=diff-`+k+`]`)+`).dataset.differs`); got != want {
			t.Errorf("merge card, %s differs: %s, want %s", k, got, want)
		}
	}
	if got := text(t, ctx, mergeSel+` [data-test=diff-group]`); !strings.Contains(got, "GM201") || !strings.Contains(got, "GE101") {
		t.Errorf("merge card's groups: %q", got)
	}
	// Conflict card: the field's label, the trainee's name, both staff members.
	if got := text(t, ctx, conflictSel+` h3`); got != "Nom de "+name {
		t.Errorf("conflict title in French: %q, want %q", got, "Nom de "+name)
	}
	if n := eval[int](t, ctx, `[...document.querySelectorAll(`+jsString(conflictSel+` [data-test=staff] .who-name`)+`)].filter(e => e.textContent === 'Nadia Bennani').length`); n != 2 {
		t.Errorf("conflict card names the staff member %d times, want 2 (both writes)", n)
	}

	chooseLang(t, ctx, "ar", `!!document.querySelector(`+jsString(conflictSel)+`)`)
	if got := text(t, ctx, conflictSel+` h3`); !strings.HasPrefix(got, "النسب") || strings.Contains(got, "last_name") {
		t.Errorf("conflict title in Arabic: %q", got)
	}
	// Each date is one <time> isolated in a <bdi>, its text Intl's ar-MA
	// format of its datetime: never pieces put together.
	bad := eval[[]string](t, ctx, `[...document.querySelectorAll(`+jsString(conflictSel+` time[data-test=at]`)+`)].filter(e =>
		e.parentElement.tagName !== 'BDI' || e.children.length !== 0 ||
		e.textContent !== new Intl.DateTimeFormat('ar-MA', { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(e.dateTime))
	).map(e => e.dateTime + ' → ' + e.textContent)`)
	if n := eval[int](t, ctx, `document.querySelectorAll(`+jsString(conflictSel+` time[data-test=at]`)+`).length`); n != 2 || len(bad) != 0 {
		t.Errorf("Arabic conflict dates: %d time elements, ill-formed: %q", n, bad)
	}
	if got := text(t, ctx, conflictSel+` time[data-test=at]`); !strings.Contains(got, "2026") && !strings.Contains(got, fmt.Sprint(now.Year())) {
		t.Errorf("Arabic date without its year: %q", got)
	}
	consoleShots(t, ctx, "console-review-cards", `!!document.querySelector(`+jsString(conflictSel)+`)`)

	// consoleShots leaves a 360 × 740 phone: one card fits in one screen.
	for _, sel := range []string{lateSel, mergeSel, conflictSel} {
		if h := eval[float64](t, ctx, `document.querySelector(`+jsString(sel)+`).getBoundingClientRect().height`); h > 740 {
			t.Errorf("%s is %.0f px tall on a 360 px phone, over one 740 px screen", sel, h)
		}
		if w := eval[float64](t, ctx, `document.querySelector(`+jsString(sel)+`).scrollWidth - document.querySelector(`+jsString(sel)+`).clientWidth`); w > 1 {
			t.Errorf("%s overflows sideways by %.0f px", sel, w)
		}
	}
}
