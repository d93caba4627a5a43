// Package crash_test checks the crash safety of push (sync protocol, Push:
// "a crash before the commit applies nothing, and the phone's retry of the
// same batch is safe"): the real server binary is SIGKILLed mid-push
// several times and restarted on the same database file while a phone
// retries its unacknowledged batches.
package crash_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"prodays"
	"prodays/internal/synctest"
	"prodays/internal/testenv"
	"prodays/store"
	"prodays/sync/engine"
	"prodays/sync/protocol"
)

func TestCrashMidPush(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the server binary")
	}
	// The roster: the seeded one plus 2,000 trainees of E1, and staff1's password.
	var trainees []string
	for i := 0; i < 2000; i++ {
		trainees = append(trainees, fmt.Sprintf("F2500019%05dZ", i))
	}
	env := testenv.Process(t, testenv.ProcessOptions{Seed: func(tb testing.TB, db *store.DB) {
		synctest.Seed(tb, db)
		insertTrainees(tb, db, trainees)
		testenv.CreateUser(tb, db, "staff1", "staff", "E1", "")
		// The server runs on the real clock: the activities take place today.
		today(tb, db)
	}})
	srv := env.Proc
	base := env.URL
	tok := env.Login(t, "staff1", "dev-crash").AccessToken

	// The phone's outbox: 24 batches of 400 mutations (check-ins, double
	// taps, undos), made once; every retry sends the same bytes.
	r := rand.New(rand.NewPCG(42, 1))
	ph := synctest.NewPhone("dev-crash", time.Now().Add(-2*time.Hour))
	var all []protocol.Mutation
	var batches [][]byte
	var seen []protocol.Mutation
	for b := 0; b < 24; b++ {
		var ms []protocol.Mutation
		for len(ms) < 400 {
			act := []string{"A1", "A2"}[r.IntN(2)]
			tr := trainees[r.IntN(len(trainees))]
			if r.IntN(10) == 0 && len(seen) > 0 {
				c := seen[r.IntN(len(seen))]
				ms = append(ms, ph.Undo(c.ActivityID, "trainee", c.Person.ID, c.ID))
				continue
			}
			m := ph.CheckIn(act, "trainee", tr)
			ms = append(ms, m)
			seen = append(seen, m)
		}
		all = append(all, ms...)
		batches = append(batches, synctest.Body("dev-crash", time.Now(), 0, ms...))
	}

	// Push each batch until acknowledged; a killer SIGKILLs the server at
	// random moments and restarts it on the same file.
	kills, acked, unanswered := 0, 0, 0
	for i, body := range batches {
		for attempt := 0; ; attempt++ {
			done := make(chan int, 1)
			go func() { done <- post(base, tok, body) }()
			killed := false
			if kills < 6 && r.IntN(3) == 0 {
				time.Sleep(time.Duration(5+r.IntN(60)) * time.Millisecond)
				srv.Kill()
				kills++
				killed = true
			}
			st := <-done
			if killed {
				if st != 200 {
					unanswered++
				}
				srv.Restart(t)
			}
			if st == 200 {
				acked++
				break
			}
			if attempt > 20 {
				t.Fatalf("batch %d never acknowledged (last status %d)\n%s", i, st, srv.Log)
			}
			time.Sleep(20 * time.Millisecond) // back off, then retry the same batch
		}
	}
	srv.Kill()
	t.Logf("%d batches of %d mutations acknowledged, %d kills of the server, %d of them before the answer", acked, len(all)/len(batches), kills, unanswered)
	if unanswered == 0 {
		t.Fatal("the server was never killed mid-push")
	}

	// Nothing lost, nothing counted twice: every mutation once, and the
	// attendance equals one clean, uninterrupted application of the outbox.
	db := env.DB
	var nMut, nCheckIns int
	db.Read.QueryRow(`SELECT count(*) FROM mutations WHERE device_id = 'dev-crash'`).Scan(&nMut)
	db.Read.QueryRow(`SELECT count(*) FROM checkins`).Scan(&nCheckIns)
	wantCheckIns := 0
	for _, m := range all {
		if m.Type == protocol.TypeCheckIn {
			wantCheckIns++
		}
	}
	if nMut != len(all) || nCheckIns != wantCheckIns {
		t.Fatalf("mutations %d (want %d), check-ins %d (want %d)", nMut, len(all), nCheckIns, wantCheckIns)
	}
	var bad int
	db.Read.QueryRow(`SELECT count(*) FROM mutations WHERE status <> 'applied'`).Scan(&bad)
	if bad != 0 {
		t.Fatalf("%d mutations not applied", bad)
	}
	got := attendanceDump(t, db)
	want := reference(t, trainees, all)
	if got != want {
		t.Fatalf("attendance after the crashes differs from a clean run (%d vs %d bytes)", len(got), len(want))
	}
}

// post sends one push and returns the status (0 when the connection broke).
func post(base, tok string, body []byte) int {
	req, _ := http.NewRequest("POST", base+"/api/v1/sync/push", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	cl := &http.Client{Timeout: 60 * time.Second}
	resp, err := cl.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var pr protocol.PushResponse
	if json.NewDecoder(resp.Body).Decode(&pr) != nil && resp.StatusCode == 200 {
		return 0
	}
	return resp.StatusCode
}

func attendanceDump(t *testing.T, db *store.DB) string {
	// checked_in_at is left out: it depends on the batch's clock offset,
	// that is on when the server received it.
	rows, err := db.Read.Query(`SELECT activity_id, person_id, present, check_in_ids FROM attendance ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var a, p, ids string
		var present int
		rows.Scan(&a, &p, &present, &ids)
		fmt.Fprintln(&b, a, p, present, ids)
	}
	return b.String()
}

// reference applies the outbox once, in process, on a fresh database.
func reference(t *testing.T, trainees []string, all []protocol.Mutation) string {
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "ref.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	synctest.Seed(t, db)
	today(t, db)
	insertTrainees(t, db, trainees)
	e, err := engine.New(db)
	if err != nil {
		t.Fatal(err)
	}
	p := synctest.Principal("staff1", "dev-crash")
	for i := 0; i < len(all); i += 400 {
		if _, err := e.Push(context.Background(), p, synctest.Request(t, "dev-crash", time.Now(), all[i:min(i+400, len(all))]...)); err != nil {
			t.Fatal(err)
		}
	}
	return attendanceDump(t, db)
}

// insertTrainees adds the trainees ids to establishment E1.
func insertTrainees(tb testing.TB, db *store.DB, ids []string) {
	tb.Helper()
	err := db.WithTx(context.Background(), func(tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := tx.Exec(`INSERT INTO trainees (id, last_name, first_name, establishment_code, updated_at) VALUES (?, 'N', 'P', 'E1', '2026-01-01T00:00:00.000Z')`, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// today moves every activity to today in Casablanca.
func today(t testing.TB, db *store.DB) {
	loc := prodays.Casablanca
	if _, err := db.Write.Exec(`UPDATE activities SET date = ?`, time.Now().In(loc).Format("2006-01-02")); err != nil {
		t.Fatal(err)
	}
}
