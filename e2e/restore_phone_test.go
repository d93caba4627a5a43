package e2e_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

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
	f := newFixture(30)
	env := testenv.Process(t, testenv.ProcessOptions{
		Seed: func(tb testing.TB, db *store.DB) { f.seed(t, db) },
		Args: []string{"--insecure-cookies"},
	})
	bin := testenv.Binary(t)
	browser := newBrowser(t)
	ctx, cancel := newTab(t, browser, 3*time.Minute)
	defer cancel()
	srv := &server{URL: env.URL}
	loginAndDownload(t, ctx, srv)
	eval[bool](t, ctx, `import('/js/sync.js').then((s) => { s.options.intervalMs = 2000; return true; })`)
	click(t, ctx, `[data-test=activity][data-id="MTG-0001"]`)
	waitFor(t, ctx, "the activity", `!!document.querySelector('#q')`, 5*time.Second)

	synced := func(n int) {
		t.Helper()
		waitFor(t, ctx, "an empty outbox", `document.querySelector('[data-test=pending]')?.dataset.count === '0'`, 20*time.Second)
		if got := countCheckIns(t, env.DB); got != n {
			t.Fatalf("server's check-ins: %d, want %d", got, n)
		}
	}
	ids := []string{traineeAit, traineeBenaissa, traineeByID, traineeArabic}
	checkInBySearch(t, ctx, "MTG-0001", ids[0])
	synced(1)
	backup := t.TempDir() + "/before.db"
	prodaysCmd(t, bin, "backup", "--out", backup, "--db", env.Proc.DB)
	for _, id := range ids[1:] {
		checkInBySearch(t, ctx, "MTG-0001", id)
	}
	synced(4)
	if n := eval[int](t, ctx, `import('/js/sentlog.js').then((s) => s.all()).then((l) => l.length)`); n != 4 {
		t.Fatalf("sent log: %d mutations, want 4", n)
	}

	// The disk is lost; the backup comes back.
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
	defer db.Close()
	if got := countCheckIns(t, db); got != 1 {
		t.Fatalf("check-ins in the restored database: %d, want 1 (the backup's)", got)
	}

	// No user action from here on.
	deadline := time.Now().Add(30 * time.Second)
	for countCheckIns(t, db) != 4 {
		if time.Now().After(deadline) {
			t.Fatalf("the server holds %d check-ins 30 s after the restore, want 4 (the phone re-sends what it lost)", countCheckIns(t, db))
		}
		time.Sleep(200 * time.Millisecond)
	}
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

// countCheckIns counts the check-in mutations a database holds.
func countCheckIns(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.Read.QueryRow(`SELECT count(*) FROM mutations WHERE type = 'attendance.check_in'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
