package simulate_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"prodays/internal/dataset"
	"prodays/internal/testenv"
	"prodays/simulate"
	"prodays/store"
)

// DrillRestorer is how a restore drill (runRestoreDrill) gets an older
// state of the server's database back after losing it: the variable step
// of the drill, so that each way of restoring (a backup file, a replica)
// runs the same drill.
type DrillRestorer struct {
	// ServeArgs are added to `prodays serve` (e.g. --replicate URL).
	ServeArgs []string
	// Snapshot is called once 40 % of the batches are stored, the server
	// running: it marks the state to restore later (`prodays backup`, or
	// the moment to restore a replica at).
	Snapshot func(t *testing.T, bin string, env *testenv.Env)
	// Restore puts that state in place of env.Proc.DB (the server is
	// killed and the database files are deleted) with the real commands.
	Restore func(t *testing.T, bin string, env *testenv.Env)
}

// backupRestorer restores with `prodays backup` and `prodays restore FILE`.
func backupRestorer(t *testing.T) DrillRestorer {
	copyPath := filepath.Join(t.TempDir(), "drill-backup.db")
	return DrillRestorer{
		Snapshot: func(t *testing.T, bin string, env *testenv.Env) {
			runProdays(context.Background(), t, bin, "backup", "--out", copyPath, "--db", env.Proc.DB)
		},
		Restore: func(t *testing.T, bin string, env *testenv.Env) {
			runProdays(context.Background(), t, bin, "restore", copyPath, "--db", env.Proc.DB)
		},
	}
}

// TestRestoreDrillBackup is the restore drill (issue #14) with a backup
// file.
func TestRestoreDrillBackup(t *testing.T) {
	runRestoreDrill(t, backupRestorer(t))
}

// runRestoreDrill (issue #14, "Done when"), against real server
// processes: import small-nasty; replay 40 % of each phone's batches
// through simulate phones (duplicated batches, dropped answers); take the
// state to restore (how.Snapshot); replay 30 % more; pull once per phone;
// SIGKILL the server and delete its database files; restore (how.Restore);
// restart. The phones' next pull is answered 409 resync (their cursors are
// of the old history) and its device object makes them put back into
// their outboxes, from their sent logs, exactly what the server lost; a
// phone whose first login came after the snapshot (a phone of one or two
// batches: shares round down) gets 401 and logs in again with its device
// secret; they replay the rest, and the bilan is expected.json exactly.
func runRestoreDrill(t *testing.T, how DrillRestorer) {
	if testing.Short() {
		t.Skip("runs, kills and restores the real server: not with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	bin := testenv.Binary(t)
	var dir string
	var plan *simulate.Plan
	env := testenv.Process(t, testenv.ProcessOptions{Args: append([]string{"--insecure-cookies"}, how.ServeArgs...),
		Seed: func(tb testing.TB, db *store.DB) { dir, plan = seedEdition(tb, db, dataset.SmallNasty) }})
	r := simulate.New(plan, env.URL, simulate.Options{Password: testenv.Password, Concurrency: 16,
		Duplicate: 0.1, DropResponses: 0.05, Seed: 14, Gzip: true, MaxBackoff: time.Second, Timeout: 10 * time.Minute})
	step := func(what string, share float64) {
		t.Helper()
		sum, err := r.RunUntil(ctx, share)
		if err != nil {
			sum.Print(testWriter{t})
			t.Fatalf("%s: %v\nserver log:\n%s", what, err, env.Proc.Log)
		}
	}

	step("replay 40 %", 0.4)
	how.Snapshot(t, bin, env)
	step("replay 70 %", 0.7)
	if err := r.PullAll(ctx); err != nil {
		t.Fatalf("pull before the loss: %v", err)
	}
	if s := r.Stats(); s.Resent != 0 || r.Resyncs() != 0 {
		t.Fatalf("before any restore: %d mutations re-sent, %d resyncs, want none", s.Resent, r.Resyncs())
	}

	// The disk is lost.
	env.Proc.Kill()
	held := deviceSeqs(t, env.DB)
	devicesHeld := deviceIDs(t, env.DB)
	loginsBefore := r.Stats().Logins
	env.DB.Close()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(env.Proc.DB + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	how.Restore(t, bin, env)
	env.Proc.Restart(t)
	db, err := store.Open(ctx, env.Proc.DB, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	restored := deviceSeqs(t, db)
	lost := 0
	for k := range held {
		if !restored[k] {
			lost++
		}
	}
	devicesLost, devicesRestored := 0, deviceIDs(t, db)
	for id := range devicesHeld {
		if !devicesRestored[id] {
			devicesLost++
		}
	}
	t.Logf("the restore lost %d of %d stored mutations and %d of %d devices (first login after the backup)", lost, len(held), devicesLost, len(devicesHeld))
	if lost == 0 || devicesLost == 0 {
		t.Fatal("the restored state lost no mutation or no device: the drill proves less than it should")
	}

	// Every phone's next request: a pull from its old cursor.
	if err := r.PullAll(ctx); err != nil {
		t.Fatalf("pull after the restore: %v", err)
	}
	if got := r.Resyncs(); got != int64(len(plan.Devices)) {
		t.Errorf("%d pulls answered 409 resync after the restore, want one per phone (%d)", got, len(plan.Devices))
	}
	if got := r.Stats().Resent; got != int64(lost) {
		t.Errorf("the phones put back %d mutations into their outboxes, want exactly the %d the server lost", got, lost)
	}
	// A token of a device the restored server does not know is answered
	// 401, and the phone logs in again with its device secret.
	if got := r.Stats().Logins - loginsBefore; got != int64(devicesLost) {
		t.Errorf("%d logins after the restore, want one per device the server lost (%d)", got, devicesLost)
	}

	sum, err := r.RunUntil(ctx, 1)
	sum.Print(testWriter{t})
	if err != nil {
		t.Fatalf("replay the rest: %v\nserver log:\n%s", err, env.Proc.Log)
	}
	checkBilan(t, env.URL, dir)
	env.Proc.Stop()
	checkInvariants(t, db, plan)
}

// deviceIDs returns the ids of the devices db knows.
func deviceIDs(t *testing.T, db *store.DB) map[string]bool {
	t.Helper()
	ids, err := store.Query(context.Background(), db.Read, store.ScanOne[string], `SELECT id FROM devices`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, id := range ids {
		out[id] = true
	}
	return out
}

// deviceSeqs returns the (device, seq) of every mutation db holds.
func deviceSeqs(t *testing.T, db *store.DB) map[[2]any]bool {
	t.Helper()
	rows, err := db.Read.Query(`SELECT device_id, seq FROM mutations WHERE seq > 0`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[[2]any]bool{}
	for rows.Next() {
		var dev string
		var seq int64
		if err := rows.Scan(&dev, &seq); err != nil {
			t.Fatal(err)
		}
		out[[2]any{dev, seq}] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
