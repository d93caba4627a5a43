package engine_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"prodays/internal/synctest"
	"prodays/internal/testenv"
	"prodays/replicate"
	"prodays/store"
	"prodays/sync/protocol"
)

// benchBatch is the size of a push in the benchmarks.
const benchBatch = 500

// benchRoster adds 4,000 trainees of E1 and 40 activities of E1 (160,000
// distinct (activity, trainee) pairs: check-ins mostly create presences,
// as during the event).
func benchRoster(tb testing.TB, db *store.DB) (trainees, acts []string) {
	tb.Helper()
	err := db.WithTx(context.Background(), func(tx *sql.Tx) error {
		for i := 0; i < 4000; i++ {
			id := fmt.Sprintf("F2500018%05dZ", i)
			trainees = append(trainees, id)
			if _, err := tx.Exec(`INSERT INTO trainees (id, last_name, first_name, establishment_code, updated_at) VALUES (?, 'N', 'P', 'E1', '2026-01-01T00:00:00.000Z')`, id); err != nil {
				return err
			}
		}
		for i := 0; i < 40; i++ {
			id := fmt.Sprintf("BM-%03d", i)
			acts = append(acts, id)
			if _, err := tx.Exec(`INSERT INTO activities (id, kind, title, date, start_time, end_time, establishment_code, region_code) VALUES (?, 'meeting', 'B', '2026-03-23', '09:00', '10:00', 'E1', 'RSK')`, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return trainees, acts
}

// pairs yields distinct (activity, trainee) pairs.
func pair(trainees, acts []string, i int) (string, string) {
	return acts[(i/len(trainees))%len(acts)], trainees[i%len(trainees)]
}

// reportRate reports the rate, and the process CPU time (user + system,
// all goroutines: less sensitive than the rate to a machine shared with
// other work) per mutation since cpu0 (cpuTime after ResetTimer).
func reportRate(b *testing.B, n int, cpu0 time.Duration) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "mutations/s")
	b.ReportMetric(float64((testenv.CPUTime()-cpu0).Nanoseconds())/float64(n), "cpu-ns/mutation")
}

// BenchmarkRawUpsert is the limit: raw SQLite upserts of attendance rows,
// batches of 500 in one transaction through one prepared statement, on
// the same database settings as the engine (WAL, synchronous FULL).
func BenchmarkRawUpsert(b *testing.B) {
	e := mustEngine(b)
	trainees, acts := benchRoster(b, e.DB)
	ctx := context.Background()
	now := store.FormatTime(time.Now())
	b.ResetTimer()
	cpu0 := testenv.CPUTime()
	n := 0
	for i := 0; i < b.N; i++ {
		err := e.DB.WithTx(ctx, func(tx *sql.Tx) error {
			st, err := tx.PrepareContext(ctx, `INSERT INTO attendance (activity_id, person_kind, person_id, present, checked_in_at, check_in_ids, updated_at)
				VALUES (?, 'trainee', ?, 1, ?, ?, ?) ON CONFLICT (activity_id, person_kind, person_id) DO UPDATE SET
				present = excluded.present, checked_in_at = min(attendance.checked_in_at, excluded.checked_in_at), check_in_ids = excluded.check_in_ids, updated_at = excluded.updated_at`)
			if err != nil {
				return err
			}
			defer st.Close()
			for j := 0; j < benchBatch; j++ {
				a, t := pair(trainees, acts, n)
				n++
				if _, err := st.ExecContext(ctx, a, t, now, `["x"]`, now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, n, cpu0)
}

// checkInMutations prepares count batches of 500 check-ins of the phone
// dev-bench, spread over the pairs of trainees and acts.
func checkInMutations(trainees, acts []string, count int) [][]protocol.Mutation {
	ph := synctest.NewPhone("dev-bench", eventNow.Add(-time.Hour))
	out := make([][]protocol.Mutation, count)
	k := 0
	for i := range out {
		out[i] = make([]protocol.Mutation, benchBatch)
		for j := range out[i] {
			a, t := pair(trainees, acts, k)
			k++
			out[i][j] = ph.CheckIn(a, "trainee", t)
		}
	}
	return out
}

// checkInBatches prepares count push requests of 500 check-ins (decoded
// as the server would, outside the timer).
func checkInBatches(b *testing.B, trainees, acts []string, count int) []*protocol.PushRequest {
	out := make([]*protocol.PushRequest, count)
	for i, ms := range checkInMutations(trainees, acts, count) {
		out[i] = synctest.Request(b, "dev-bench", eventNow, ms...)
	}
	return out
}

// BenchmarkApply is the engine's apply of batches of 500 check-ins: the
// idempotency index, the check-ins, the presences and the change log.
func BenchmarkApply(b *testing.B) {
	e := mustEngine(b)
	trainees, acts := benchRoster(b, e.DB)
	reqs := checkInBatches(b, trainees, acts, b.N)
	p := synctest.Principal("staff1", "dev-bench")
	ctx := context.Background()
	b.ResetTimer()
	cpu0 := testenv.CPUTime()
	for i := 0; i < b.N; i++ {
		resp, err := e.Push(ctx, p, reqs[i])
		if err != nil {
			b.Fatal(err)
		}
		if resp.Results[0].Status != protocol.StatusApplied {
			b.Fatalf("%+v", resp.Results[0])
		}
	}
	reportRate(b, b.N*benchBatch, cpu0)
}

// BenchmarkHTTPPush is the end-to-end push: HTTP, JSON decoding,
// authentication, apply, commit, answer.
func BenchmarkHTTPPush(b *testing.B) { benchHTTPPush(b, false) }

// BenchmarkHTTPPushReplicated is BenchmarkHTTPPush while Litestream
// replicates the database to a file replica (serve --replicate
// file://DIR: the writer's autocheckpoint off, Litestream's monitor
// reading the WAL every 250 ms); the ratio of the two, measured in one
// run, is the cost of replication (target ≥ 0.9).
func BenchmarkHTTPPushReplicated(b *testing.B) { benchHTTPPush(b, true) }

func benchHTTPPush(b *testing.B, replicated bool) {
	env := testenv.New(b, testenv.Options{Quiet: true})
	synctest.Seed(b, env.DB)
	testenv.CreateUser(b, env.DB, "staff1", "staff", "E1", "")
	env.DB.Now = func() time.Time { return eventNow }
	trainees, acts := benchRoster(b, env.DB)
	if replicated {
		if _, err := env.DB.Write.Exec(`PRAGMA wal_autocheckpoint = 0`); err != nil {
			b.Fatal(err)
		}
		rep, err := replicate.Open(context.Background(), env.DB.Path, []string{"file://" + b.TempDir()}, slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { rep.Close(context.Background()) })
		// Time the steady state, not the first snapshot of the roster.
		for st := rep.Status()[0]; st.LastSuccess.IsZero() || st.Lag > 0; st = rep.Status()[0] {
			time.Sleep(10 * time.Millisecond)
		}
	}
	s := env.Login(b, "staff1", "dev-bench")
	bodies := make([][]byte, b.N)
	for i, ms := range checkInMutations(trainees, acts, b.N) {
		bodies[i] = synctest.Body("dev-bench", eventNow, benchBatch, ms...)
	}
	b.ResetTimer()
	cpu0 := testenv.CPUTime()
	for i := 0; i < b.N; i++ {
		if a := env.Raw(b, "POST", "/api/v1/sync/push", s.AccessToken, "application/json", bodies[i]); a.Status != 200 {
			b.Fatalf("status %d", a.Status)
		}
	}
	reportRate(b, b.N*benchBatch, cpu0)
}

// BenchmarkDayEnd is the day's end in the engine: 64 phones push batches
// of 15 check-ins at the same moment (the edition's mean batch), each
// round all at once; grouped (the default group commit) against one
// transaction a push (Group.MaxMutations 0), in the same run.
func BenchmarkDayEnd(b *testing.B) {
	const phones, perBatch = 64, 15
	for _, grouped := range []bool{true, false} {
		name := "grouped"
		if !grouped {
			name = "single"
		}
		b.Run(name, func(b *testing.B) {
			e := mustEngine(b)
			if !grouped {
				e.Group.MaxMutations = 0
			}
			trainees, acts := benchRoster(b, e.DB)
			reqs := make([][]*protocol.PushRequest, phones)
			k := 0
			for d := range reqs {
				dev := fmt.Sprintf("dev-bench-%02d", d)
				ph := synctest.NewPhone(dev, eventNow.Add(-time.Hour))
				reqs[d] = make([]*protocol.PushRequest, b.N)
				for i := range reqs[d] {
					ms := make([]protocol.Mutation, perBatch)
					for j := range ms {
						a, t := pair(trainees, acts, k)
						k++
						ms[j] = ph.CheckIn(a, "trainee", t)
					}
					reqs[d][i] = synctest.Request(b, dev, eventNow, ms...)
				}
			}
			ctx := context.Background()
			b.ResetTimer()
			cpu0 := testenv.CPUTime()
			var wg sync.WaitGroup
			errs := make(chan error, phones)
			for d := range phones {
				p := synctest.Principal("staff1", fmt.Sprintf("dev-bench-%02d", d))
				wg.Go(func() {
					for i := range b.N {
						resp, err := e.Push(ctx, p, reqs[d][i])
						if err == nil && resp.Results[0].Status != protocol.StatusApplied {
							err = fmt.Errorf("%+v", resp.Results[0])
						}
						if err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
			reportRate(b, b.N*phones*perBatch, cpu0)
			if grouped {
				s := e.GroupStats()
				b.ReportMetric(float64(s.Batches)/float64(max(s.Groups, 1)), "batches/commit")
			}
		})
	}
}
