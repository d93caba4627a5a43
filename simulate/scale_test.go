package simulate_test

import (
	"context"
	"testing"
	"time"

	"prodays/internal/dataset"
	"prodays/internal/testenv"
	"prodays/simulate"
)

// TestScale triples small-nasty with simulate.Scale, imports the copy,
// replays its phones through a real server and checks that the bilan's
// participations and held activities are three times expected.json's.
func TestScale(t *testing.T) {
	var want map[string]any
	src := dataset.Expected(t, dataset.SmallNasty, &want)
	dst := t.TempDir()
	const k = 3
	if err := simulate.Scale(src, dst, k); err != nil {
		t.Fatal(err)
	}
	env := testenv.New(t, testenv.Options{Quiet: true})
	plan := seedFolder(t, env.DB, dst)
	orig := loadPlan(t, src)
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
