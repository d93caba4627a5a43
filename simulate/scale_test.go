package simulate_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"prodays/internal/shared"
	"prodays/internal/testenv"
	"prodays/simulate"
)

// TestScale triples small-nasty with simulate.Scale, imports the copy,
// replays its phones through a real server and checks that the bilan's
// participations and held activities are three times expected.json's.
func TestScale(t *testing.T) {
	src := shared.Dir(t, "datasets/small-nasty")
	dst := t.TempDir()
	const k = 3
	if err := simulate.Scale(src, dst, k); err != nil {
		t.Fatal(err)
	}
	env := testenv.New(t, testenv.Options{Quiet: true})
	plan := seedEdition(t, env.DB, dst)
	orig, err := simulate.LoadFile(filepath.Join(src, "checkins.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Devices) != k*len(orig.Devices) || plan.Mutations != k*orig.Mutations {
		t.Fatalf("scaled plan: %d devices, %d mutations; want %d × (%d, %d)", len(plan.Devices), plan.Mutations, k, len(orig.Devices), orig.Mutations)
	}
	if _, err := simulate.New(plan, env.URL, simulate.Options{Password: testenv.Password, Concurrency: 16, Seed: 1, Timeout: 10 * time.Minute}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := simulate.NewClient(env.URL, 1)
	s, err := c.Login(context.Background(), adminUser, testenv.Password, "sim-admin-device")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := c.JSON(context.Background(), "GET", "/api/v1/reports/bilan", s.AccessToken, nil, &got); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(src, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"meeting_participations", "visit_participations", "beneficiaries", "meetings_held", "visits_held", "speaker_participations"} {
		w, ok := want[key].(float64)
		if !ok {
			t.Fatalf("expected.json: no %s", key)
		}
		if g, _ := got[key].(float64); g != k*w {
			t.Errorf("%s: %v, want %d × %v", key, got[key], k, w)
		}
	}
}
