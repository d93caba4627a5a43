package engine_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"prodays/internal/synctest"
	"prodays/sync/engine"
	"prodays/sync/protocol"
)

// holdWriter takes the writer's one connection in a transaction until the
// returned func is called: pushes queue behind it.
func holdWriter(t *testing.T, e *engine.Engine) func() {
	t.Helper()
	tx, err := e.DB.Write.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release := func() { once.Do(func() { tx.Rollback() }) }
	t.Cleanup(release)
	return release
}

// waitGroup waits until the engine's queue holds queued pushes and its
// leader applies applying.
func waitGroup(t *testing.T, e *engine.Engine, queued, applying int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := e.GroupStats()
		if s.Queued == queued && s.Applying == applying {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("group stats %+v, want %d queued and %d applying", s, queued, applying)
		}
		time.Sleep(time.Millisecond)
	}
}

func count(t *testing.T, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestGroupCommitOneBatchFails groups, behind a held writer, two batches
// of one device whose mutation ids overlap, a batch of a second device
// and one of a third whose apply fails midway (a trigger refuses one of
// its check-ins after it already wrote a check-in and a walk-in): the
// group commits in one transaction, the failing batch alone is rolled
// back to its savepoint and answered with its error, the others are
// applied exactly once; the third device's retry alone is then applied.
func TestGroupCommitOneBatchFails(t *testing.T) {
	e := mustEngine(t)
	trainees, acts := benchRoster(t, e.DB)
	poison := trainees[len(trainees)-1]
	if _, err := e.DB.Write.Exec(fmt.Sprintf(`CREATE TRIGGER test_poison BEFORE INSERT ON checkins WHEN NEW.person_id = '%s'
		BEGIN SELECT RAISE(ABORT, 'injected failure'); END`, poison)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	type pushed struct {
		name string
		req  *protocol.PushRequest
		resp *protocol.PushResponse
		err  error
	}
	// Device A: two batches, mutations 5..9 in both.
	phA := synctest.NewPhone("dev-a", eventNow.Add(-time.Hour))
	var msA []protocol.Mutation
	for i := range 15 {
		msA = append(msA, phA.CheckIn(acts[0], "trainee", trainees[i]))
	}
	phB := synctest.NewPhone("dev-b", eventNow.Add(-time.Hour))
	var msB []protocol.Mutation
	for i := range 10 {
		msB = append(msB, phB.CheckIn(acts[1], "trainee", trainees[i]))
	}
	phC := synctest.NewPhone("dev-c", eventNow.Add(-time.Hour))
	walkIn := phC.Register("E1", "Nouveau", "Venu")
	msC := []protocol.Mutation{
		phC.CheckIn(acts[2], "trainee", trainees[0]),
		walkIn, // flushes the check-in before it: the batch has written when it fails
		phC.CheckIn(acts[2], "trainee", trainees[1]),
		phC.CheckIn(acts[2], "trainee", poison),
		phC.CheckIn(acts[2], "trainee", trainees[2]),
	}
	batches := []*pushed{
		{name: "a1", req: synctest.Request(t, "dev-a", eventNow, msA[:10]...)},
		{name: "a2", req: synctest.Request(t, "dev-a", eventNow, msA[5:]...)},
		{name: "b", req: synctest.Request(t, "dev-b", eventNow, msB...)},
		{name: "c", req: synctest.Request(t, "dev-c", eventNow, msC...)},
	}
	principal := map[string]string{"dev-a": "staff1", "dev-b": "staff1", "dev-c": "staff1"}

	release := holdWriter(t, e)
	// A first push is taken alone and waits for the writer; the four
	// others queue behind it and form the next group.
	phD := synctest.NewPhone("dev-d", eventNow.Add(-time.Hour))
	firstDone := make(chan error, 1)
	go func() {
		_, err := e.Push(ctx, synctest.Principal("staff1", "dev-d"), synctest.Request(t, "dev-d", eventNow, phD.CheckIn(acts[3], "trainee", trainees[0])))
		firstDone <- err
	}()
	waitGroup(t, e, 0, 1)
	var wg sync.WaitGroup
	for _, b := range batches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.resp, b.err = e.Push(ctx, synctest.Principal(principal[b.req.DeviceID], b.req.DeviceID), b.req)
		}()
	}
	waitGroup(t, e, len(batches), 1)
	release()
	wg.Wait()
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	s := e.GroupStats()
	if s.Groups != 2 || s.Batches != 5 || s.Largest != 4 || s.Failed != 1 || s.Retried != 0 {
		t.Fatalf("group stats %+v, want 2 groups (1 + 4 batches), 1 failed, none retried", s)
	}

	// The failing batch: an error, nothing of it stored.
	c := batches[3]
	if c.err == nil || c.resp != nil {
		t.Fatalf("batch c: %+v, %v; want its apply's error", c.resp, c.err)
	}
	if n := count(t, e.DB.Read, `SELECT count(*) FROM checkins WHERE device_id = 'dev-c'`); n != 0 {
		t.Errorf("%d check-ins of the failed batch stored", n)
	}
	if n := count(t, e.DB.Read, `SELECT count(*) FROM mutation_log WHERE device_id = 'dev-c'`); n != 0 {
		t.Errorf("%d mutations of the failed batch stored", n)
	}
	if n := count(t, e.DB.Read, `SELECT count(*) FROM trainees WHERE id = ?`, walkIn.Trainee.ID); n != 0 {
		t.Errorf("the failed batch's walk-in is stored")
	}
	if n := count(t, e.DB.Read, `SELECT count(*) FROM devices WHERE id = 'dev-c' AND max_seq > 0`); n != 0 {
		t.Errorf("the failed batch's device row was updated")
	}

	// The others: applied exactly once, the overlap of a1 and a2 once
	// applied and once a duplicate.
	for _, b := range batches[:3] {
		if b.err != nil {
			t.Fatalf("batch %s: %v", b.name, b.err)
		}
		if len(b.resp.Results) != len(b.req.Mutations) {
			t.Fatalf("batch %s: %d results for %d mutations", b.name, len(b.resp.Results), len(b.req.Mutations))
		}
	}
	byID := map[string][]string{}
	for _, b := range batches[:2] {
		for _, r := range b.resp.Results {
			byID[r.ID] = append(byID[r.ID], r.Status)
		}
	}
	for i, m := range msA {
		got := byID[m.ID]
		slices.Sort(got)
		want := []string{protocol.StatusApplied}
		if i >= 5 && i < 10 {
			want = []string{protocol.StatusApplied, protocol.StatusDuplicate}
		}
		if !slices.Equal(got, want) {
			t.Errorf("mutation %d of dev-a: %v, want %v", i, got, want)
		}
	}
	for _, r := range batches[2].resp.Results {
		if r.Status != protocol.StatusApplied {
			t.Errorf("dev-b: %+v", r)
		}
	}
	if n := count(t, e.DB.Read, `SELECT count(*) FROM checkins WHERE device_id = 'dev-a'`); n != 15 {
		t.Errorf("dev-a: %d check-ins stored, want 15", n)
	}
	for i := range 15 {
		if !attendance(t, e, acts[0], trainees[i]).present {
			t.Errorf("dev-a's check-in of %s: not present", trainees[i])
		}
	}
	for i := range 10 {
		if !attendance(t, e, acts[1], trainees[i]).present {
			t.Errorf("dev-b's check-in of %s: not present", trainees[i])
		}
	}
	if n := count(t, e.DB.Read, `SELECT max_seq FROM devices WHERE id = 'dev-a'`); n != 15 {
		t.Errorf("dev-a max_seq %d, want 15", n)
	}

	// The phone retries its batch; without the fault it is applied.
	if _, err := e.DB.Write.Exec(`DROP TRIGGER test_poison`); err != nil {
		t.Fatal(err)
	}
	res := push(t, e, synctest.Principal("staff1", "dev-c"), msC...)
	for i, r := range res {
		if r.Status != protocol.StatusApplied {
			t.Errorf("retry of dev-c, mutation %d: %+v", i, r)
		}
	}
	if !attendance(t, e, acts[2], poison).present || !attendance(t, e, acts[2], trainees[0]).present {
		t.Error("dev-c's retry: check-ins not present")
	}
	if n := count(t, e.DB.Read, `SELECT count(*) FROM trainees WHERE id = ?`, walkIn.Trainee.ID); n != 1 {
		t.Errorf("dev-c's retry: walk-in not stored")
	}
}

// TestGroupCommitLoneNotDelayed: with a long MaxWait, a lone push is
// applied in a group of one at once (the wait is only for groups that
// already have company).
func TestGroupCommitLoneNotDelayed(t *testing.T) {
	e := mustEngine(t)
	e.Group.MaxWait = time.Hour
	trainees, acts := benchRoster(t, e.DB)
	ph := synctest.NewPhone("dev-a", eventNow.Add(-time.Hour))
	done := make(chan struct{})
	go func() {
		defer close(done)
		push(t, e, synctest.Principal("staff1", "dev-a"), ph.CheckIn(acts[0], "trainee", trainees[0]))
	}()
	await(t, done, time.Minute, "a lone push waited for company")
	if s := e.GroupStats(); s.Groups != 1 || s.Batches != 1 {
		t.Fatalf("group stats %+v", s)
	}
}

// TestGroupCommitFailsWhole: when the group's commit itself fails (here a
// deferred foreign key that one batch breaks, checked only at COMMIT),
// nothing of the group is stored and each batch is applied again alone:
// the one that breaks it fails alone, the others are applied.
func TestGroupCommitFailsWhole(t *testing.T) {
	e := mustEngine(t)
	trainees, acts := benchRoster(t, e.DB)
	poison := trainees[len(trainees)-1]
	for _, q := range []string{
		`CREATE TABLE test_parent (id TEXT PRIMARY KEY)`,
		`CREATE TABLE test_child (id TEXT REFERENCES test_parent (id) DEFERRABLE INITIALLY DEFERRED)`,
		fmt.Sprintf(`CREATE TRIGGER test_poison AFTER INSERT ON checkins WHEN NEW.person_id = '%s'
			BEGIN INSERT INTO test_child VALUES ('missing'); END`, poison),
	} {
		if _, err := e.DB.Write.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	var reqs []*protocol.PushRequest
	for d := range 3 {
		dev := fmt.Sprintf("dev-%d", d)
		ph := synctest.NewPhone(dev, eventNow.Add(-time.Hour))
		var ms []protocol.Mutation
		for i := range 5 {
			ms = append(ms, ph.CheckIn(acts[d], "trainee", trainees[i]))
		}
		if d == 2 {
			ms = append(ms, ph.CheckIn(acts[d], "trainee", poison))
		}
		reqs = append(reqs, synctest.Request(t, dev, eventNow, ms...))
	}
	release := holdWriter(t, e)
	first := make(chan error, 1)
	phX := synctest.NewPhone("dev-x", eventNow.Add(-time.Hour))
	go func() {
		_, err := e.Push(ctx, synctest.Principal("staff1", "dev-x"), synctest.Request(t, "dev-x", eventNow, phX.CheckIn(acts[3], "trainee", trainees[0])))
		first <- err
	}()
	waitGroup(t, e, 0, 1)
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for i, req := range reqs {
		wg.Go(func() { _, errs[i] = e.Push(ctx, synctest.Principal("staff1", req.DeviceID), req) })
	}
	waitGroup(t, e, len(reqs), 1)
	release()
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if s := e.GroupStats(); s.Groups != 2 || s.Retried != 3 {
		t.Fatalf("group stats %+v, want the group of 3 retried alone", s)
	}
	if errs[0] != nil || errs[1] != nil || errs[2] == nil {
		t.Fatalf("errors %v, want only the third batch's", errs)
	}
	for d := range 2 {
		for i := range 5 {
			if !attendance(t, e, acts[d], trainees[i]).present {
				t.Errorf("dev-%d's check-in of %s not present", d, trainees[i])
			}
		}
	}
	if n := count(t, e.DB.Read, `SELECT count(*) FROM checkins WHERE device_id = 'dev-2'`); n != 0 {
		t.Errorf("%d check-ins of the failing batch stored", n)
	}
}

// TestGroupCommitMaxWait: a group that has company waits up to MaxWait
// for more pushes, and stops waiting once it holds MaxMutations.
func TestGroupCommitMaxWait(t *testing.T) {
	e := mustEngine(t)
	e.Group = engine.GroupOptions{MaxMutations: 3, MaxWait: time.Minute}
	trainees, acts := benchRoster(t, e.DB)
	ctx := context.Background()
	pushOne := func(dev string, i int) chan error {
		done := make(chan error, 1)
		ph := synctest.NewPhone(dev, eventNow.Add(-time.Hour))
		req := synctest.Request(t, dev, eventNow, ph.CheckIn(acts[0], "trainee", trainees[i]))
		go func() {
			_, err := e.Push(ctx, synctest.Principal("staff1", dev), req)
			done <- err
		}()
		return done
	}
	release := holdWriter(t, e)
	first := pushOne("dev-0", 0)
	waitGroup(t, e, 0, 1)
	a, b := pushOne("dev-1", 1), pushOne("dev-2", 2)
	waitGroup(t, e, 2, 1)
	release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	// The group of two waits for a third; it comes, the group is full.
	waitGroup(t, e, 0, 2)
	c := pushOne("dev-3", 3)
	for _, ch := range []chan error{a, b, c} {
		if err := await(t, ch, 30*time.Second, "a full group still waited"); err != nil {
			t.Fatal(err)
		}
	}
	if s := e.GroupStats(); s.Groups != 2 || s.Largest != 3 || s.Batches != 4 {
		t.Fatalf("group stats %+v, want groups of 1 and 3", s)
	}
	for i := range 4 {
		if !attendance(t, e, acts[0], trainees[i]).present {
			t.Errorf("check-in %d not present", i)
		}
	}
}

// await returns what ch yields (its zero value once closed), failing t
// with msg if it yields nothing within d.
func await[T any](t *testing.T, ch <-chan T, d time.Duration, msg string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatal(msg)
	}
	var zero T
	return zero
}
