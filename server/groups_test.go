package main

import (
	"testing"
	"time"

	"prodays/internal/synctest"
	"prodays/internal/testenv"
)

// TestPushGroupMetrics: /metrics of prodays serve counts the group commit
// of pushes: two pushes of 3 and 2 check-ins, each alone, are two groups
// of one batch and 5 mutations in all, none retried.
func TestPushGroupMetrics(t *testing.T) {
	env := testenv.Process(t, testenv.ProcessOptions{Seed: repSeed, Env: []string{"PRODAYS_METRICS_TOKEN=" + repToken}})
	staff := env.Login(t, "staff1", repDevice)
	ph := synctest.NewPhone(repDevice, time.Now().Add(-time.Hour))
	tr := synctest.TraineesE1
	repPush(t, staff, ph, tr[0], tr[1], tr[2])
	repPush(t, staff, ph, tr[3], tr[4])
	for name, want := range map[string]string{
		"prodays_push_groups_total":                  "2",
		"prodays_push_group_batches_total":           "2",
		"prodays_push_group_mutations_total":         "5",
		"prodays_push_group_savepoint_retries_total": "0",
		"prodays_push_queued":                        "0",
	} {
		if l := metricLine(t, env, name+" "); l != name+" "+want {
			t.Errorf("metric %q, want %s", l, want)
		}
	}
}
