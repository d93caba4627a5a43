package e2e_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"prodays/internal/testenv"
)

// TestAdminUsersAtSize (issue #18, finding 10): among 480 accounts an
// admin finds one by name through the search, re-enables it (it was
// disabled), is asked before disabling it again (no: nothing changes) and
// before revoking its phone (yes: revoked); the phone list opens in view.
// The list comes 50 at a time with a page counter.
func TestAdminUsersAtSize(t *testing.T) {
	srv, env := consoleFixture(t)
	for i := 0; i < 476; i++ {
		testenv.CreateUser(t, srv.DB, fmt.Sprintf("staff.%03d", i), "staff", "EFP0105", "")
	}
	testenv.CreateUser(t, srv.DB, "z.lahlou", "staff", "EFP0105", "")
	if _, err := srv.DB.Write.Exec(`UPDATE users SET full_name = 'Zineb Lahlou' WHERE username = 'z.lahlou'`); err != nil {
		t.Fatal(err)
	}
	env.Login(t, "z.lahlou", "dev-zineb")
	if _, err := srv.DB.Write.Exec(`UPDATE users SET disabled = 1 WHERE username = 'z.lahlou'`); err != nil {
		t.Fatal(err)
	}
	total := sqlValue[int](t, srv, `SELECT count(*) FROM users`)
	if total < 478 {
		t.Fatalf("%d accounts", total)
	}

	ctx := consoleTab(t, srv, "admin1", 3*time.Minute)
	goTo(t, ctx, "#/users", "users")
	if got := eval[string](t, ctx, `document.querySelector('[data-test=users-table]').dataset.total`); got != fmt.Sprint(total) {
		t.Errorf("the list counts %s accounts, the database %d", got, total)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('[data-test=user]').length`); n != 50 {
		t.Errorf("first page: %d rows, want 50", n)
	}
	jsClick(t, ctx, `[data-test=page-next]`)
	waitFor(t, ctx, "page 2", `(document.querySelector('[data-test=page-of]') || {}).textContent?.startsWith('Page 2 /')`, 10*time.Second)

	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`[data-test=user-search]`), "lahlou")); err != nil {
		t.Fatal(err)
	}
	jsClick(t, ctx, `[data-test=user-search-form] button[type=submit]`)
	waitFor(t, ctx, "the search result", `document.querySelectorAll('[data-test=user]').length === 1 && !!document.querySelector('[data-test=user][data-id="z.lahlou"]')`, 10*time.Second)
	row := `[data-test=user][data-id="z.lahlou"]`
	jsClick(t, ctx, row+` [data-test=enable]`)
	waitFor(t, ctx, "re-enabled", `!!document.querySelector('[data-test=user][data-id="z.lahlou"] [data-test=disable]')`, 10*time.Second)
	if n := sqlValue[int](t, srv, `SELECT disabled FROM users WHERE username = 'z.lahlou'`); n != 0 {
		t.Fatal("the account is still disabled")
	}
	if got := eval[string](t, ctx, `document.querySelector('[data-test=user-search]').value`); got != "lahlou" {
		t.Errorf("the search was lost after the decision: %q", got)
	}
	env.Login(t, "z.lahlou", "dev-zineb") // a re-enabled account logs in again

	jsClick(t, ctx, row+` [data-test=disable]`)
	waitFor(t, ctx, "the question", `!!document.querySelector('[data-test=user-confirm] [data-test=confirm-no]')`, 10*time.Second)
	if n := sqlValue[int](t, srv, `SELECT disabled FROM users WHERE username = 'z.lahlou'`); n != 0 {
		t.Fatal("disabled without a confirmation")
	}
	jsClick(t, ctx, `[data-test=user-confirm] [data-test=confirm-no]`)
	if n := sqlValue[int](t, srv, `SELECT disabled FROM users WHERE username = 'z.lahlou'`); n != 0 {
		t.Fatal("disabled although the admin said no")
	}

	jsClick(t, ctx, row+` [data-test=devices]`)
	waitFor(t, ctx, "the phones", `!!document.querySelector('[data-test=user-device] [data-test=revoke]')`, 10*time.Second)
	if !eval[bool](t, ctx, `(() => { const r = document.querySelector('[data-test=user-device]').getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; })()`) {
		t.Error("the phone list is not in view")
	}
	jsClick(t, ctx, `[data-test=user-device] [data-test=revoke]`)
	waitFor(t, ctx, "the revoke question", `!!document.querySelector('[data-test=revoke-confirm] [data-test=confirm-yes]')`, 10*time.Second)
	if n := sqlValue[int](t, srv, `SELECT count(*) FROM devices WHERE id = 'dev-zineb' AND revoked_at IS NOT NULL`); n != 0 {
		t.Fatal("revoked without a confirmation")
	}
	jsClick(t, ctx, `[data-test=revoke-confirm] [data-test=confirm-yes]`)
	waitFor(t, ctx, "revoked", `!document.querySelector('[data-test=user-device] [data-test=revoke]') && !!document.querySelector('[data-test=user-device]')`, 10*time.Second)
	if n := sqlValue[int](t, srv, `SELECT count(*) FROM devices WHERE id = 'dev-zineb' AND revoked_at IS NOT NULL`); n != 1 {
		t.Error("the phone was not revoked")
	}
	if n := sqlValue[int](t, srv, `SELECT count(*) FROM audit_log WHERE username = 'admin1' AND target = 'z.lahlou'`); n < 1 {
		t.Error("the re-enabling is not audited")
	}
	consoleShots(t, ctx, "console-users", `!!document.querySelector('[data-test=user-device]') || !!document.querySelector('[data-test=user]')`)
}
