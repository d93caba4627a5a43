package e2e_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"prodays/internal/dbtest"
	"prodays/internal/testenv"
	"prodays/store"
)

// prodaysCmd runs the prodays binary with args and fails t on an error.
func prodaysCmd(t *testing.T, bin string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("prodays %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestPhoneResendsAfterRestore (issue #14, the PWA's side of protocol
// 1.1): the real server binary; the phone checks a trainee in and syncs; a
// backup is taken (`prodays backup`); the phone checks three more in and
// syncs; the server is SIGKILLed, its database files deleted and the
// backup restored (`prodays restore`); after the restart the phone, with no
// user action (its periodic sync, shortened to 2 s for the test), learns
// from the answers' device object that the server lost its last three
// check-ins, re-sends them from its sent log, and says so once; the server
// then holds all four.
func TestPhoneResendsAfterRestore(t *testing.T) {
	env, bin, ctx, srv := processPhone(t)
	loginAndDownload(t, ctx, srv)
	eval[bool](t, ctx, `import('/js/sync.js').then((s) => { s.options.intervalMs = 2000; return true; })`)
	click(t, ctx, `[data-test=activity][data-id="MTG-0001"]`)
	waitFor(t, ctx, "the activity", `!!document.querySelector('#q')`, 5*time.Second)

	ids := []string{traineeAit, traineeBenaissa, traineeByID, traineeArabic}
	checkInBySearch(t, ctx, "MTG-0001", ids[0])
	waitSynced(t, ctx, env.DB, 1)
	backup := t.TempDir() + "/before.db"
	prodaysCmd(t, bin, "backup", "--out", backup, "--db", env.Proc.DB)
	for _, id := range ids[1:] {
		checkInBySearch(t, ctx, "MTG-0001", id)
	}
	waitSynced(t, ctx, env.DB, 4)
	if n := eval[int](t, ctx, `import('/js/sentlog.js').then((s) => s.all()).then((l) => l.length)`); n != 4 {
		t.Fatalf("sent log: %d mutations, want 4", n)
	}

	db := restoreProc(t, env, bin, backup)
	if got := countCheckIns(t, db); got != 1 {
		t.Fatalf("check-ins in the restored database: %d, want 1 (the backup's)", got)
	}
	// No user action from here on.
	waitCheckIns(t, db, 4, 30*time.Second)
	waitFor(t, ctx, "the re-sent notice", `document.querySelector('[data-test=resent]')?.dataset.count === '3'`, 10*time.Second)
	if got := text(t, ctx, "[data-test=resent]"); got != "3 pointages renvoyés après une restauration du serveur" {
		t.Errorf("re-sent notice: %q", got)
	}
	var present int
	if err := db.Read.QueryRow(`SELECT count(*) FROM attendance WHERE present = 1 AND activity_id = 'MTG-0001'`).Scan(&present); err != nil || present != 4 {
		t.Errorf("presences at MTG-0001 after the re-send: %d %v, want 4", present, err)
	}
	// Said once: a tap dismisses it, and it stays dismissed.
	jsClick(t, ctx, "[data-test=resent]")
	waitFor(t, ctx, "the notice gone", `!document.querySelector('[data-test=resent]')`, 5*time.Second)
	time.Sleep(3 * time.Second) // a periodic sync or two
	if eval[bool](t, ctx, `!!document.querySelector('[data-test=resent]')`) {
		t.Error("the re-sent notice came back")
	}
}

// TestPhoneLogsInAgainAfterRestore (protocol 1.1, "Sent log and restore
// without loss"): the backup is older than the phone's first login, so the
// restored server knows neither its device nor its session: its token is
// answered 401, the app asks for a login, and the user's login (with the
// phone's stored device_secret, kept as it was) registers the device again;
// the phone then re-sends its two check-ins from its sent log.
func TestPhoneLogsInAgainAfterRestore(t *testing.T) {
	env, bin, ctx, srv := processPhone(t)
	backup := t.TempDir() + "/before.db"
	prodaysCmd(t, bin, "backup", "--out", backup, "--db", env.Proc.DB)
	loginAndDownload(t, ctx, srv)
	eval[bool](t, ctx, `import('/js/sync.js').then((s) => { s.options.intervalMs = 2000; return true; })`)
	click(t, ctx, `[data-test=activity][data-id="MTG-0001"]`)
	waitFor(t, ctx, "the activity", `!!document.querySelector('#q')`, 5*time.Second)
	checkInBySearch(t, ctx, "MTG-0001", traineeAit)
	checkInBySearch(t, ctx, "MTG-0001", traineeBenaissa)
	waitSynced(t, ctx, env.DB, 2)
	secret := eval[string](t, ctx, `import('/js/db.js').then((db) => db.getMeta('device_secret'))`)

	db := restoreProc(t, env, bin, backup)
	waitFor(t, ctx, "the login asked", `import('/js/sync.js').then((s) => s.state.loginRequired)`, 30*time.Second)
	if n := countCheckIns(t, db); n != 0 {
		t.Fatalf("check-ins before the login: %d, want 0", n)
	}
	// The user taps "Session expirée : se reconnecter" and logs in.
	jsClick(t, ctx, `#status a[href="#/login"]`)
	waitFor(t, ctx, "the login form", `!!document.querySelector('[data-test=login-form]')`, 10*time.Second)
	if got := eval[string](t, ctx, `document.querySelector('#username').value`); got != "s.staff" {
		t.Errorf("login form's user: %q, want s.staff (kept)", got)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#password"), testenv.Password),
		chromedp.Click(chromedp.CSS("[data-test=login-form] button[type=submit]"))); err != nil {
		t.Fatal(err)
	}
	waitCheckIns(t, db, 2, 30*time.Second)
	waitFor(t, ctx, "the re-sent notice", `document.querySelector('[data-test=resent]')?.dataset.count === '2'`, 10*time.Second)
	if got := eval[string](t, ctx, `import('/js/db.js').then((db) => db.getMeta('device_secret'))`); got != secret {
		t.Error("the login replaced the phone's device secret")
	}
}

// processPhone starts the real server binary on the e2e fixture and a
// phone (a browser tab) for it.
func processPhone(t *testing.T) (*testenv.Env, string, context.Context, *server) {
	t.Helper()
	f := newFixture(30)
	env := testenv.Process(t, testenv.ProcessOptions{
		Seed: func(tb testing.TB, db *store.DB) { f.seed(t, db) },
		Args: []string{"--insecure-cookies"},
	})
	browser := newBrowser(t)
	ctx, cancel := newTab(t, browser, 3*time.Minute)
	t.Cleanup(cancel)
	return env, testenv.Binary(t), ctx, &server{URL: env.URL}
}

// restoreProc loses env's disk (SIGKILL, database files deleted), restores
// backup with `prodays restore`, restarts the server and returns a
// connection to the restored database.
func restoreProc(t *testing.T, env *testenv.Env, bin, backup string) *store.DB {
	t.Helper()
	env.Proc.Kill()
	env.DB.Close()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(env.Proc.DB + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	prodaysCmd(t, bin, "restore", backup, "--db", env.Proc.DB)
	env.Proc.Restart(t)
	db, err := store.Open(context.Background(), env.Proc.DB, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// waitSynced waits for the server to hold n check-ins and the phone's
// outbox to be empty.
func waitSynced(t *testing.T, ctx context.Context, db *store.DB, n int) {
	t.Helper()
	waitCheckIns(t, db, n, 20*time.Second)
	waitFor(t, ctx, "an empty outbox", `import('/js/outbox.js').then((o) => o.size()).then((n) => n === 0)`, 10*time.Second)
}

// waitCheckIns polls db until it holds n check-ins.
func waitCheckIns(t *testing.T, db *store.DB, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for countCheckIns(t, db) != n {
		if time.Now().After(deadline) {
			t.Fatalf("the server holds %d check-ins after %v, want %d (the phone re-sends what it lost)", countCheckIns(t, db), timeout, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// countCheckIns counts the check-in mutations a database holds.
func countCheckIns(t *testing.T, db *store.DB) int {
	t.Helper()
	return dbtest.Value[int](t, db, `SELECT count(*) FROM mutations WHERE type = 'attendance.check_in'`)
}
