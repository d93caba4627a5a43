package simulate_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"prodays/auth"
	"prodays/internal/dataset"
	"prodays/internal/shared"
	"prodays/internal/testenv"
	"prodays/simulate"
	"prodays/store"
)

// adminUser is the account that reads the bilan; its password is
// testenv.Password, like every account of the replay.
const adminUser = "sim-admin"

// seedEdition imports the shared edition name into db as seedFolder does,
// and returns the edition's folder and its replay plan.
func seedEdition(tb testing.TB, db *store.DB, name string) (string, *simulate.Plan) {
	tb.Helper()
	dir := dataset.Dir(tb, name)
	return dir, seedFolder(tb, db, dir)
}

// seedFolder imports the office's files of dir into db, gives every
// account of its checkins.jsonl the password testenv.Password, adds
// adminUser, and returns the replay plan.
func seedFolder(tb testing.TB, db *store.DB, dir string) *simulate.Plan {
	tb.Helper()
	dataset.ImportDir(tb, db, dir)
	plan := loadPlan(tb, dir)
	hash, err := auth.HashPassword(testenv.Password)
	if err != nil {
		tb.Fatal(err)
	}
	for _, u := range plan.Usernames() {
		if err := db.SetPassword(context.Background(), u, hash, "test"); err != nil {
			tb.Fatalf("password of %s: %v", u, err)
		}
	}
	testenv.CreateUser(tb, db, adminUser, "admin", "", "")
	return plan
}

// loadPlan reads the replay plan of dir's checkins.jsonl.
func loadPlan(tb testing.TB, dir string) *simulate.Plan {
	tb.Helper()
	plan, err := simulate.LoadFile(filepath.Join(dir, "checkins.jsonl"))
	if err != nil {
		tb.Fatal(err)
	}
	return plan
}

// checkBilan fetches the bilan from the server at base as adminUser and
// compares it with dir's expected.json.
func checkBilan(tb testing.TB, base, dir string) {
	tb.Helper()
	ctx := context.Background()
	c := simulate.NewClient(base, 1)
	s, err := c.Login(ctx, adminUser, testenv.Password, "sim-admin-device")
	if err != nil {
		tb.Fatal(err)
	}
	var bilan json.RawMessage
	if err := c.JSON(ctx, "GET", "/api/v1/reports/bilan", s.AccessToken, nil, &bilan); err != nil {
		tb.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		tb.Fatal(err)
	}
	diffs, err := simulate.CompareBilan(bilan, want)
	if err != nil {
		tb.Fatal(err)
	}
	for _, d := range diffs {
		tb.Error(d)
	}
}

// TestReplayMatchesExpected replays each dataset through a real HTTP
// server (testenv: the API on a real SQLite file) with duplicated batches
// and dropped answers, and checks that the bilan is expected.json.
func TestReplayMatchesExpected(t *testing.T) {
	shared.EachEdition(t, func(t *testing.T, dir string) {
		env := testenv.New(t, testenv.Options{})
		plan := seedFolder(t, env.DB, dir)
		sum, err := simulate.New(plan, env.URL, simulate.Options{Password: testenv.Password, Concurrency: 16,
			Duplicate: 0.1, DropResponses: 0.05, Seed: 1, Gzip: true, Timeout: 10 * time.Minute}).Run(context.Background())
		if sum != nil {
			sum.Print(testWriter{t})
		}
		if err != nil {
			t.Fatal(err)
		}
		if sum.DroppedResponses == 0 || sum.DuplicateBatches == 0 {
			t.Errorf("dropped %d answers and duplicated %d batches, want some of each", sum.DroppedResponses, sum.DuplicateBatches)
		}
		checkBilan(t, env.URL, dir)
	})
}

// testWriter writes to the test log, a line at a time.
type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
