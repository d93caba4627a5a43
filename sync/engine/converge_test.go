package engine_test

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"iter"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"prodays/internal/dbtest"
	"prodays/internal/synctest"
	"prodays/store"
	"prodays/sync/engine"
	"prodays/sync/protocol"
)

var (
	histories = flag.Int("histories", 1000, "random histories of the convergence property test")
	orders    = flag.Int("orders", 3, "delivery orders per history")
	seedFlag  = flag.Uint64("seed", 0, "run only the history of this seed")
)

// device is one phone of a history: its user and its batches.
type device struct {
	id      string
	user    string
	batches [][]protocol.Mutation
}

// history is what the phones recorded: ≥5 devices and their batches.
type history struct {
	devices []*device
}

// genHistory builds a random history: check-ins, double taps, undos
// (naming the phone's own check-ins and sometimes other phones' ones, as
// pulled), undos sent before their check-ins (a later batch delivered
// first), walk-ins and check-ins of them on several phones, refused
// walk-ins, mistyped matricules, trainee updates from the same base
// version, and check-ins outside the date window.
func genHistory(r *rand.Rand) *history {
	h := &history{}
	users := []string{"staff1", "staff1", "staff1", "staff2", "sup1"}
	if r.IntN(2) == 0 {
		users = append(users, "staff1")
	}
	start := time.Date(2026, 3, 23, 8, 0, 0, 0, time.UTC)
	type ci struct {
		act, kind, person, id string
	}
	var all []ci
	var walkIns []string
	names := [][2]string{{"Aït Brahim", "Noura"}, {"AIT BRAHIM", "noura"}, {"El Fassi", "Omar"}}
	for di, u := range users {
		d := &device{id: fmt.Sprintf("dev-%d", di), user: u}
		ph := synctest.NewPhone(d.id, start.Add(time.Duration(r.IntN(60))*time.Minute))
		acts := []string{"A1", "A2"}
		est := "E1"
		if u == "staff2" {
			acts, est = []string{"A3"}, "E2"
		}
		var ms []protocol.Mutation
		n := 4 + r.IntN(10)
		for len(ms) < n {
			act := acts[r.IntN(len(acts))]
			switch k := r.IntN(20); {
			case k < 8: // check-in, sometimes a double tap
				var kind, person string
				switch x := r.IntN(10); {
				case x == 0:
					kind, person = "speaker", []string{"S1", "S2"}[r.IntN(2)]
				case x == 1 && len(walkIns) > 0:
					kind, person = "trainee", walkIns[r.IntN(len(walkIns))]
				default:
					pool := append(append([]string{}, synctest.TraineesE1[:4]...), synctest.TraineesE2[0], synctest.TraineesE3[0])
					kind, person = "trainee", pool[r.IntN(len(pool))]
				}
				m := ph.CheckIn(act, kind, person)
				ms = append(ms, m)
				all = append(all, ci{act, kind, person, m.ID})
				if r.IntN(5) == 0 {
					m2 := ph.CheckIn(act, kind, person)
					ms = append(ms, m2)
					all = append(all, ci{act, kind, person, m2.ID})
				}
			case k < 12 && len(all) > 0: // undo of a person seen here or on another phone
				c := all[r.IntN(len(all))]
				var ids []string
				for _, o := range all {
					if o.act == c.act && o.person == c.person && (strings.HasPrefix(o.id, "") && r.IntN(4) != 0) {
						ids = append(ids, o.id)
					}
				}
				if c.act == act || r.IntN(2) == 0 {
					ms = append(ms, ph.Undo(c.act, c.kind, c.person, ids...))
				}
			case k < 14: // walk-in and its check-in
				nm := names[r.IntN(len(names))]
				regEst := est
				if r.IntN(8) == 0 {
					regEst = "E3" // refused: outside the scope
				}
				reg := ph.Register(regEst, nm[0], nm[1])
				c := ph.CheckIn(act, "trainee", reg.Trainee.ID)
				// Sometimes the check-in is recorded in the same batch
				// before the registration reaches the server (later batch).
				ms = append(ms, reg, c)
				all = append(all, ci{act, "trainee", reg.Trainee.ID, c.ID})
				walkIns = append(walkIns, reg.Trainee.ID)
			case k < 16: // trainee update from base version 1 or 2 (sometimes of a walk-in)
				tr := synctest.TraineesE1[r.IntN(2)]
				if len(walkIns) > 0 && r.IntN(3) == 0 {
					tr = walkIns[r.IntN(len(walkIns))]
				}
				field := []string{"last_name", "group", "program"}[r.IntN(3)]
				ms = append(ms, ph.Update(tr, 1+int64(r.IntN(2)), map[string]string{field: []string{"Alpha", "Beta", "Gamma"}[r.IntN(3)]}))
			case k < 17: // a mistyped matricule
				ms = append(ms, ph.CheckIn(act, "trainee", "F25000100099Z"))
			case k < 18: // recorded two days after the activity (out of window)
				saved := ph.Clock
				ph.Clock = ph.Clock.Add(50 * time.Hour)
				m := ph.CheckIn(act, "trainee", synctest.TraineesE1[4+r.IntN(3)])
				ph.Clock = saved
				ms = append(ms, m)
			default:
				m := ph.CheckIn(act, "trainee", synctest.TraineesE1[r.IntN(len(synctest.TraineesE1))])
				ms = append(ms, m)
				all = append(all, ci{act, "trainee", m.Person.ID, m.ID})
			}
		}
		for len(ms) > 0 {
			k := min(len(ms), 1+r.IntN(4))
			d.batches = append(d.batches, ms[:k])
			ms = ms[k:]
		}
		h.devices = append(h.devices, d)
	}
	return h
}

// delivery is one push reaching the server, or the supervisor's close.
type delivery struct {
	dev   *device
	ms    []protocol.Mutation
	close bool
}

// genOrder delivers every batch of h in a random interleaving: batches of
// one device sometimes out of order, duplicated, split in two, or lost and
// retried later; the supervisor closes A1 at position closeAt (a fixed
// point: the same for every order of one history).
func genOrder(r *rand.Rand, h *history, closeAt float64) []delivery {
	var queues [][]delivery
	for _, d := range h.devices {
		var q []delivery
		for _, b := range d.batches {
			switch x := r.IntN(10); {
			case x == 0 && len(b) > 1: // split
				k := 1 + r.IntN(len(b)-1)
				q = append(q, delivery{dev: d, ms: b[:k]}, delivery{dev: d, ms: b[k:]})
			case x == 1: // delivered twice (the answer was lost)
				q = append(q, delivery{dev: d, ms: b}, delivery{dev: d, ms: b})
			default:
				q = append(q, delivery{dev: d, ms: b})
			}
		}
		// A later batch first (an upload failed and was retried later).
		for i := 0; i+1 < len(q); i++ {
			if r.IntN(4) == 0 {
				q[i], q[i+1] = q[i+1], q[i]
			}
		}
		queues = append(queues, q)
	}
	var out []delivery
	for {
		var live []int
		for i, q := range queues {
			if len(q) > 0 {
				live = append(live, i)
			}
		}
		if len(live) == 0 {
			break
		}
		i := live[r.IntN(len(live))]
		out = append(out, queues[i][0])
		queues[i] = queues[i][1:]
	}
	pos := int(closeAt * float64(len(out)))
	return slices.Insert(out, pos, delivery{close: true})
}

// convergenceDB opens one seeded database for every run of the property
// test: one connection for writes and reads, journal in memory, no fsync
// (durability is TestCrash's business). Each run starts from reset.
func convergenceDB(tb testing.TB) *engine.Engine {
	dir, err := os.MkdirTemp(shm(), "prodays-converge-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "converge.db")
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	synctest.Seed(tb, db)
	db.Close()
	conn, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(MEMORY)&_pragma=synchronous(OFF)&_pragma=foreign_keys(1)&_txlock=immediate")
	if err != nil {
		tb.Fatal(err)
	}
	conn.SetMaxOpenConns(1)
	tb.Cleanup(func() { conn.Close() })
	if _, err := conn.Exec(`CREATE TABLE trainees_seed AS SELECT * FROM trainees`); err != nil {
		tb.Fatal(err)
	}
	e, err := engine.New(&store.DB{Path: path, Write: conn, Read: conn, Now: func() time.Time { return eventNow }})
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// resetSQL brings the database back to the seeded roster.
var resetSQL = []string{
	`DELETE FROM mutation_log`, `DELETE FROM checkins`, `DELETE FROM undo_targets`, `DELETE FROM attendance`, `DELETE FROM flags`,
	`DELETE FROM conflicts`, `DELETE FROM merge_proposals`, `DELETE FROM changes`, `DELETE FROM trainee_field_writes`,
	`DELETE FROM trainee_field_stamps`, `DELETE FROM refused_registrations`, `DELETE FROM audit_log`, `DELETE FROM devices`,
	`DELETE FROM trainees`, `INSERT INTO trainees SELECT * FROM trainees_seed`,
	`UPDATE activities SET status = 'open', closed_at = NULL, closed_by = NULL, close_reason = NULL`,
}

// shm is a memory-backed folder when there is one.
func shm() string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		return "/dev/shm"
	}
	return ""
}

// run delivers order into the reset database, accepts every late flag at
// the end, and returns the canonical dump. A non-nil r delivers grouped:
// runs of 2 to 8 consecutive pushes (between supervisor's closes) sent at
// once behind a held writer, so that the engine applies them as group
// commits, in the order they reach it.
func run(tb testing.TB, e *engine.Engine, order []delivery, r ...*rand.Rand) string {
	for _, q := range resetSQL {
		if _, err := e.DB.Write.Exec(q); err != nil {
			tb.Fatal(err)
		}
	}
	db := e.DB
	ctx := context.Background()
	sup := synctest.Principal("sup1", "dev-sup")
	for i := 0; i < len(order); {
		d := order[i]
		if d.close {
			if err := e.Close(ctx, sup, "A1", "signed off"); err != nil {
				tb.Fatal(err)
			}
			i++
			continue
		}
		n := 1
		if len(r) > 0 {
			for n < 2+r[0].IntN(7) && i+n < len(order) && !order[i+n].close {
				n++
			}
		}
		deliverGrouped(tb, e, order[i:i+n])
		i += n
	}
	// The supervisor accepts every late flag (then the state no longer
	// depends on which mutations arrived before the close).
	for {
		fs, err := e.ListFlags(ctx, synctest.Principal("admin", "x"), "open")
		if err != nil {
			tb.Fatal(err)
		}
		n := 0
		for _, f := range fs {
			if f.Kind == protocol.FlagLate {
				n++
				if err := e.DecideFlag(ctx, synctest.Principal("admin", "x"), f.ID, true, "accepted"); err != nil {
					tb.Fatal(err)
				}
			}
		}
		if n == 0 {
			break
		}
	}
	return dump(tb, db.Read)
}

// deliverGrouped pushes ds at once: with more than one, behind the writer
// held until all are queued or being applied.
func deliverGrouped(tb testing.TB, e *engine.Engine, ds []delivery) {
	ctx := context.Background()
	var hold *sql.Tx
	if len(ds) > 1 {
		var err error
		if hold, err = e.DB.Write.BeginTx(ctx, nil); err != nil {
			tb.Fatal(err)
		}
	}
	errs := make([]error, len(ds))
	var wg sync.WaitGroup
	for i, d := range ds {
		req := synctest.Request(tb, d.dev.id, eventNow, d.ms...)
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := e.Push(ctx, synctest.Principal(d.dev.user, d.dev.id), req)
			if err == nil && len(resp.Results) != len(d.ms) {
				err = fmt.Errorf("%d results for %d mutations", len(resp.Results), len(d.ms))
			}
			errs[i] = err
		}()
	}
	if hold != nil {
		for s := e.GroupStats(); s.Queued+s.Applying < len(ds); s = e.GroupStats() {
			time.Sleep(50 * time.Microsecond)
		}
		hold.Rollback()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		tb.Fatal(err)
	}
}

// dumpQueries is the canonical state compared across delivery orders:
// attendance, the flags by mutation (but late flags, which record when a
// mutation arrived relative to the close, and awaiting_registration flags,
// which record whether a check-in beat its walk-in's registration),
// surviving check-ins and undo targets, trainees, conflicts, merge
// proposals, and the figures.
var dumpQueries = []string{
	`SELECT activity_id, person_kind, person_id, present, COALESCE(checked_in_at, ''), check_in_ids, COALESCE(override, '') FROM attendance ORDER BY 1, 2, 3`,
	`SELECT mutation_id, kind, status FROM flags WHERE kind NOT IN ('late', 'awaiting_registration') ORDER BY 1, 2, 3`,
	`SELECT mutation_id FROM flags WHERE kind = 'awaiting_registration' AND status = 'open' ORDER BY 1`,
	`SELECT id, activity_id, person_id, status FROM checkins WHERE status <> 'rejected' ORDER BY 1`,
	`SELECT undo_id, checkin_id, status FROM undo_targets ORDER BY 1, 2`,
	`SELECT id, last_name, first_name, establishment_code, program, group_name, gender, source, version, deleted, COALESCE(merged_into, ''), COALESCE(registered_by, '') FROM trainees ORDER BY 1`,
	`SELECT trainee_id, field, base_version, winner_mutation_id, winner_value, loser_mutation_id, loser_value, status FROM conflicts ORDER BY 1, 2, 3, 4, 6`,
	`SELECT walk_in_id, candidate_id, reason, status FROM merge_proposals ORDER BY 1, 2`,
	`SELECT activity_id, person_kind, count(*) FROM attendance WHERE present = 1 GROUP BY 1, 2 ORDER BY 1, 2`,
	`SELECT status, count(*) FROM activities GROUP BY 1 ORDER BY 1`,
}

func dump(tb testing.TB, q *sql.DB) string {
	var b strings.Builder
	for _, s := range dumpQueries {
		fmt.Fprintf(&b, "# %s\n", s[:40])
		dbtest.EachRow(tb, q, s, func(vals []any) { fmt.Fprintln(&b, vals...) })
	}
	return b.String()
}

// TestConvergence is the property test of guarantees 1 and 2: random
// histories delivered in random orders, with batches duplicated, split,
// late, and a supervisor's close as a fixed point, end in the same state
// once the late flags are accepted. A failure prints its seed; rerun it
// with -seed=N.
func TestConvergence(t *testing.T) {
	n := *histories
	if testing.Short() {
		n = 100
	}
	e := convergenceDB(t)
	for seed := range seeds(n) {
		r := rand.New(rand.NewPCG(seed, 7))
		h := genHistory(r)
		closeAt := r.Float64()
		var want string
		for o := 0; o < *orders; o++ {
			var grouped []*rand.Rand
			if o > 0 && o == *orders-1 {
				grouped = append(grouped, r) // the last order as group commits
			}
			got := run(t, e, genOrder(r, h, closeAt), grouped...)
			if o == 0 {
				want = got
				continue
			}
			if got != want {
				t.Fatalf("seed %d: order %d ends in another state:\n%s", seed, o, diff(want, got))
			}
		}
	}
}

// seeds yields the seeds of a property test: 1 to n, or only the one
// -seed=N names.
func seeds(n int) iter.Seq[uint64] {
	return func(yield func(uint64) bool) {
		if *seedFlag != 0 {
			yield(*seedFlag)
			return
		}
		for s := uint64(1); s <= uint64(n); s++ {
			if !yield(s) {
				return
			}
		}
	}
}

func diff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for _, l := range al {
		if !slices.Contains(bl, l) {
			out = append(out, "- "+l)
		}
	}
	for _, l := range bl {
		if !slices.Contains(al, l) {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}
