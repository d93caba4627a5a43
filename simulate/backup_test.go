package simulate_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"prodays"
	"prodays/internal/dataset"
	"prodays/internal/testenv"
	"prodays/report"
	"prodays/simulate"
	"prodays/store"
)

// TestBackupDuringReplay (issue #8): `prodays backup` taken while the
// day's-end replay pushes gives a copy that `prodays restore` accepts and
// whose figures are consistent for the moment it was taken.
//
// The backup and the restore are the real commands: the binary is built
// into a temporary folder and run as separate processes against the file
// the test server is writing.
//
// Consistency of the copy (variant (b), the simpler one): its attendance
// table is recomputed from its own checkins and undo_targets with the
// presence rule (applied check-ins not named by an applied undo survive;
// an override wins) and compared row by row, so the copy's attendance is
// exactly what its own mutations imply, with no half-applied batch.
func TestBackupDuringReplay(t *testing.T) {
	dir := dataset.Dir(t, dataset.SmallNasty)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	bin := testenv.Binary(t)

	env := testenv.New(t, testenv.Options{})
	plan := seedFolder(t, env.DB, dir)
	total := countLines(t, filepath.Join(dir, "checkins.jsonl"))

	// The replay goes through a wrapper of the real handler that, once the
	// threshold is reached and until the backup is done, delays each push
	// a little: the replay keeps writing during the backup, but cannot
	// finish before it on a fast machine.
	var slow atomic.Bool
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if slow.Load() && r.URL.Path == "/api/v1/sync/push" {
			time.Sleep(40 * time.Millisecond)
		}
		env.Echo.ServeHTTP(w, r)
	}))
	defer ts.Close()

	type result struct {
		sum *simulate.Summary
		err error
	}
	done := make(chan result, 1)
	go func() {
		sum, err := simulate.New(plan, ts.URL, simulate.Options{Password: testenv.Password, Concurrency: 16,
			Duplicate: 0.1, DropResponses: 0.05, Seed: 1, Gzip: true, Timeout: 2 * time.Minute}).Run(ctx)
		done <- result{sum, err}
	}()

	// Wait (bounded) until more than 30% of the file's mutations are stored.
	threshold := total * 3 / 10
	deadline := time.Now().Add(90 * time.Second)
	for {
		n := count(ctx, t, env.DB.Read, `SELECT count(*) FROM mutations`)
		if n > threshold {
			slow.Store(true)
			t.Logf("backup starts with %d of %d mutations stored", n, total)
			break
		}
		select {
		case r := <-done:
			t.Fatalf("the replay ended (err %v) before %d mutations were stored (%d)", r.err, threshold, n)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d mutations stored after 90 s", n, total)
		}
		time.Sleep(10 * time.Millisecond)
	}

	tmp := t.TempDir()
	copyPath := filepath.Join(tmp, "copy.db")
	started := time.Now()
	runProdays(ctx, t, bin, "backup", "--out", copyPath, "--db", env.DB.Path)
	t.Logf("backup took %s", time.Since(started).Round(time.Millisecond))
	slow.Store(false)

	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		t.Fatal("the replay did not end in time")
	}
	if r.sum != nil {
		r.sum.Print(testWriter{t})
	}
	if r.err != nil {
		t.Fatal(r.err)
	}

	// (c) the final database is expected.json, backup or not.
	checkBilan(t, ts.URL, dir)

	// The real restore, into a new database path.
	restored := filepath.Join(tmp, "restored", "prodays.db")
	runProdays(ctx, t, bin, "restore", copyPath, "--db", restored)
	db, err := store.Open(ctx, restored, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	var integrity string
	if err := db.Read.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check of the restored copy: %q, %v", integrity, err)
	}

	// (a) the copy is a moment strictly inside the replay.
	const appliedQ = `SELECT count(*) FROM mutations WHERE status = 'applied'`
	inCopy, atEnd := count(ctx, t, db.Read, appliedQ), count(ctx, t, env.DB.Read, appliedQ)
	t.Logf("applied mutations: %d in the copy, %d at the end", inCopy, atEnd)
	if !(0 < inCopy && inCopy < atEnd) {
		t.Errorf("applied mutations in the copy = %d, want strictly between 0 and %d", inCopy, atEnd)
	}

	// (b) the copy's attendance is what its own check-ins and undos imply.
	want := recomputedAttendance(ctx, t, db.Read)
	got := attendanceRows(ctx, t, db.Read)
	t.Logf("attendance of the copy: %d rows, %d implied by its check-ins and undos", len(got), len(want))
	if len(want) == 0 {
		t.Error("the copy implies no attendance at all")
	}
	diffs := 0
	for k, w := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("attendance %s: missing in the copy, its mutations imply %s", k, w)
			diffs++
		} else if g != w {
			t.Errorf("attendance %s: copy has %s, its mutations imply %s", k, g, w)
			diffs++
		}
		if diffs > 10 {
			t.FailNow()
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("attendance %s: in the copy (%s) but implied by none of its mutations", k, g)
		}
	}

	// The copy's bilan reads (on the restored file, through the report
	// package) and counts no more participations than its attendance rows.
	b, err := report.Bilan(ctx, db, report.Filter{Scope: prodays.AdminScope()})
	if err != nil {
		t.Fatal(err)
	}
	present := 0
	for _, row := range got {
		if strings.HasPrefix(row, "present=1") {
			present++
		}
	}
	if n := b.MeetingParticipations + b.VisitParticipations; n == 0 || n > present {
		t.Errorf("copy's bilan: %d participations, want between 1 and its %d present rows", n, present)
	}
}

// recomputedAttendance applies the presence rule (protocol.Presence, as
// the engine's recompute does) to the check-ins and undos of q's database:
// key "activity/kind/person" to the row's summary.
func recomputedAttendance(ctx context.Context, t *testing.T, q *sql.DB) map[string]string {
	t.Helper()
	rows, err := q.QueryContext(ctx, `
		WITH surviving AS (
			SELECT c.activity_id, c.person_kind, c.person_id, c.id, c.occurred_at FROM checkins c
			WHERE c.status = 'applied' AND NOT EXISTS (SELECT 1 FROM undo_targets u
				WHERE u.checkin_id = c.id AND u.activity_id = c.activity_id AND u.status = 'applied')),
		pairs AS (
			SELECT activity_id, person_kind, person_id FROM surviving
			UNION SELECT activity_id, person_kind, person_id FROM attendance WHERE override IS NOT NULL)
		SELECT p.activity_id, p.person_kind, p.person_id,
			CASE a.override WHEN 'present' THEN 1 WHEN 'absent' THEN 0 ELSE count(s.id) > 0 END,
			coalesce(min(s.occurred_at), ''),
			coalesce(json_group_array(s.id ORDER BY s.occurred_at, s.id) FILTER (WHERE s.id IS NOT NULL), '[]')
		FROM pairs p
		LEFT JOIN surviving s USING (activity_id, person_kind, person_id)
		LEFT JOIN attendance a USING (activity_id, person_kind, person_id)
		GROUP BY p.activity_id, p.person_kind, p.person_id`)
	if err != nil {
		t.Fatal(err)
	}
	return scanAttendance(t, rows)
}

// attendanceRows reads q's attendance table like recomputedAttendance.
func attendanceRows(ctx context.Context, t *testing.T, q *sql.DB) map[string]string {
	t.Helper()
	rows, err := q.QueryContext(ctx, `SELECT activity_id, person_kind, person_id, present,
		coalesce(checked_in_at, ''), check_in_ids FROM attendance`)
	if err != nil {
		t.Fatal(err)
	}
	return scanAttendance(t, rows)
}

func scanAttendance(t *testing.T, rows *sql.Rows) map[string]string {
	t.Helper()
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var act, kind, person, at, ids string
		var present int
		if err := rows.Scan(&act, &kind, &person, &present, &at, &ids); err != nil {
			t.Fatal(err)
		}
		out[act+"/"+kind+"/"+person] = fmt.Sprintf("present=%d checked_in_at=%s ids=%s", present, at, ids)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func count(ctx context.Context, t *testing.T, q *sql.DB, query string) int {
	t.Helper()
	var n int
	if err := q.QueryRowContext(ctx, query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func countLines(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			n++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// runProdays runs the built command (bounded) and fails on an error.
func runProdays(ctx context.Context, t *testing.T, bin string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("prodays %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	t.Logf("prodays %s: %s", args[0], strings.TrimSpace(out.String()))
}
