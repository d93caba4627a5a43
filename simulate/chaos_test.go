package simulate_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"prodays/internal/testenv"
	"prodays/simulate"
	"prodays/store"
)

// TestChaosKill replays a dataset against the real binary while the server
// process is SIGKILLed at seeded random moments and restarted on the same
// database file and port. The bilan must still be expected.json and no
// table may hold a duplicate.
//
// In CI it is the short form: small-nasty, 5 kills. PRODAYS_CHAOS=long runs
// the full edition with PRODAYS_CHAOS_KILLS kills (default 12) and
// PRODAYS_CHAOS_SEED (default: the clock, logged).
func TestChaosKill(t *testing.T) { runChaos(t, 0) }

// TestChaosKillReplica is TestChaosKill with the server replicating to a
// file replica (serve --replicate), in which every second kill is a lost
// disk: the database files are deleted and `prodays restore --from` puts
// the replica's newest state back before the restart. The phones re-send
// from their sent logs what the replica had not received yet; the final
// figures are exact.
func TestChaosKillReplica(t *testing.T) { runChaos(t, 2) }

// runChaos is the chaos test; with restoreEvery > 0 the server replicates
// and every restoreEvery-th kill is followed by a restore from the replica.
func runChaos(t *testing.T, restoreEvery int) {
	if testing.Short() {
		t.Skip("builds and kills the real server: not with -short")
	}
	name, kills, seed := "small-nasty", 5, uint64(1)
	if os.Getenv("PRODAYS_CHAOS") == "long" {
		name, kills, seed = "prodays-2026", 12, uint64(time.Now().UnixNano())
		if n, err := strconv.Atoi(os.Getenv("PRODAYS_CHAOS_KILLS")); err == nil && n > 0 {
			kills = n
		}
	}
	if s, err := strconv.ParseUint(os.Getenv("PRODAYS_CHAOS_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("chaos: %s, %d kills, seed %d", name, kills, seed)
	var dir string
	var plan *simulate.Plan
	args := []string{"--insecure-cookies"}
	replica := "file://" + filepath.Join(t.TempDir(), "replica")
	if restoreEvery > 0 {
		args = append(args, "--replicate", replica)
	}
	env := testenv.Process(t, testenv.ProcessOptions{Args: args,
		Seed: func(tb testing.TB, db *store.DB) { dir, plan = seedEdition(tb, db, name) }})
	srv := env.Proc
	if restoreEvery > 0 {
		env.DB.Close() // a restore refuses a database in use; reopened at the end
	}
	restores := 0

	rng := rand.New(rand.NewPCG(seed, 0xc4a05))
	// Kill points: seeded shares of the mutations acknowledged, between 5%
	// and 90%, so that every kill falls while phones are pushing.
	points := make([]int64, kills)
	for i := range points {
		points[i] = int64(float64(plan.Mutations) * (0.05 + 0.85*rng.Float64()))
	}
	slices.Sort(points)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	r := simulate.New(plan, env.URL, simulate.Options{Password: testenv.Password, Concurrency: 16,
		Duplicate: 0.1, DropResponses: 0.05, Seed: seed, Gzip: true, MaxBackoff: time.Second, Timeout: 15 * time.Minute})
	type result struct {
		sum *simulate.Summary
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := r.Run(ctx)
		done <- result{s, err}
	}()

	var retriedAt, lostAt []int64 // RetriedMutations, LostMutations at each kill
	var res result
	finished := false
	for i := 0; i < len(points) && !finished; {
		select {
		case res = <-done:
			finished = true
			continue
		case <-time.After(10 * time.Millisecond):
		}
		if ctx.Err() != nil {
			t.Fatal("chaos loop: timeout")
		}
		st := r.Stats()
		if st.Acked < points[i] {
			continue
		}
		// A random moment inside the next pushes, then the kill.
		waitCtx(ctx, time.Duration(rng.IntN(50))*time.Millisecond)
		st = r.Stats()
		srv.Kill()
		retriedAt = append(retriedAt, st.RetriedMutations)
		lostAt = append(lostAt, st.LostMutations)
		t.Logf("kill %d: SIGKILL at %d/%d mutations acknowledged, %d pushes sent", i+1, st.Acked, plan.Mutations, st.Pushes)
		waitCtx(ctx, time.Duration(rng.IntN(300))*time.Millisecond)
		if restoreEvery > 0 && (i+1)%restoreEvery == 0 {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				if err := os.Remove(srv.DB + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
					t.Fatal(err)
				}
			}
			runProdays(ctx, t, testenv.Binary(t), "restore", "--from", replica, "--db", srv.DB)
			restores++
			t.Logf("kill %d: database deleted and restored from the replica", i+1)
		}
		srv.Restart(t)
		i++
	}
	if !finished {
		res = <-done
	}
	if res.sum != nil {
		res.sum.Print(testWriter{t})
	}
	if res.err != nil {
		t.Fatalf("replay: %v\nserver log:\n%s", res.err, srv.Log)
	}
	if len(retriedAt) < kills {
		t.Errorf("only %d kills of %d: the replay ended first", len(retriedAt), kills)
	}
	end := r.Stats()
	retriedAt, lostAt = append(retriedAt, end.RetriedMutations), append(lostAt, end.LostMutations)
	for i := 0; i+1 < len(retriedAt); i++ {
		t.Logf("kill %d: %d mutations sent again after it, %d of them after no answer at all (in flight at the kill or refused during the restart; the rest: dropped answers)",
			i+1, retriedAt[i+1]-retriedAt[i], lostAt[i+1]-lostAt[i])
	}
	if restoreEvery > 0 {
		// A phone that had pushed all its batches before a restore learns
		// of it at its next sync, as a phone in the field does: one pull
		// each, then they push what they put back from their sent logs.
		if err := r.PullAll(ctx); err != nil {
			t.Fatalf("pull after the replay: %v", err)
		}
		if sum, err := r.RunUntil(ctx, 1); err != nil {
			sum.Print(testWriter{t})
			t.Fatalf("re-send after the replay: %v", err)
		}
	}
	checkBilan(t, env.URL, dir)
	srv.Stop()

	db := env.DB
	if restoreEvery > 0 {
		if want := kills / restoreEvery; restores < want {
			t.Errorf("%d restores from the replica, want %d", restores, want)
		}
		if s := r.Stats(); restores > 0 {
			t.Logf("%d restores from the replica; %d mutations re-sent from the phones' sent logs", restores, s.Resent)
		}
		var err error
		if db, err = store.Open(ctx, srv.DB, store.Options{}); err != nil {
			t.Fatal(err)
		}
		defer db.Close()
	}
	checkInvariants(t, db, plan)
}

// checkInvariants checks with SQL that no table holds a duplicate after a
// replay of plan: one mutations row per mutation id and per (device, seq),
// check-in ids unique and each a received mutation, one attendance row per
// (activity, person), one flag per (mutation, kind), one change-log row per
// entity, one device row per device, and SQLite's integrity check.
func checkInvariants(tb testing.TB, db *store.DB, plan *simulate.Plan) {
	tb.Helper()
	checks := []struct {
		name  string
		query string
		want  int64
	}{
		{"mutations rows", `SELECT count(*) FROM mutations`, int64(plan.Mutations)},
		{"distinct mutation ids", `SELECT count(DISTINCT id) FROM mutations`, int64(plan.Mutations)},
		{"(device, seq) with two mutations", `SELECT count(*) FROM (SELECT 1 FROM mutations GROUP BY device_id, seq HAVING count(*) > 1)`, 0},
		{"check-in ids repeated", `SELECT count(*) - count(DISTINCT id) FROM checkins`, 0},
		{"check-ins without a mutation", `SELECT count(*) FROM checkins c WHERE NOT EXISTS (SELECT 1 FROM mutations m WHERE m.id = c.id AND m.type = 'attendance.check_in')`, 0},
		{"check-ins not from a check-in line", `SELECT count(*) FROM checkins WHERE id NOT IN (SELECT id FROM mutations WHERE type = 'attendance.check_in')`, 0},
		{"attendance pairs repeated", `SELECT count(*) FROM (SELECT 1 FROM attendance GROUP BY activity_id, person_kind, person_id HAVING count(*) > 1)`, 0},
		{"undo targets repeated", `SELECT count(*) FROM (SELECT 1 FROM undo_targets GROUP BY undo_id, checkin_id HAVING count(*) > 1)`, 0},
		{"flags repeated", `SELECT count(*) FROM (SELECT 1 FROM flags WHERE mutation_id IS NOT NULL GROUP BY mutation_id, kind HAVING count(*) > 1)`, 0},
		{"change-log entities repeated", `SELECT count(*) FROM (SELECT 1 FROM changes GROUP BY entity, entity_id HAVING count(*) > 1)`, 0},
		{"devices repeated", `SELECT count(*) - count(DISTINCT id) FROM devices`, 0},
		{"devices that pushed", `SELECT count(*) FROM devices WHERE last_push_at IS NOT NULL AND last_push_at <> ''`, int64(len(plan.Devices))},
	}
	err := db.WithTx(context.Background(), func(tx *sql.Tx) error {
		for _, c := range checks {
			var got int64
			if err := tx.QueryRow(c.query).Scan(&got); err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			if got != c.want {
				tb.Errorf("%s: got %d, want %d", c.name, got, c.want)
			}
		}
		var ok string
		if err := tx.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil {
			return err
		}
		if ok != "ok" {
			tb.Errorf("integrity_check: %s", ok)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// waitCtx sleeps d or until ctx ends.
func waitCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
