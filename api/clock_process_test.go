package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"prodays/internal/synctest"
	"prodays/internal/testenv"
	"prodays/store"
	"prodays/sync/protocol"
)

// TestPushClockOverflow (finding 3): a client_time at the end of year 9999
// gives a bounded clock offset (the device is marked skewed), the check-in
// is flagged out_of_window as before, and its stored occurred_at parses
// as a time of years 0001 to 9999; a recorded_at outside them (UTC) is
// invalid_mutation.
func TestPushClockOverflow(t *testing.T) {
	env := testenv.Process(t, testenv.ProcessOptions{Seed: idsSeed})
	staff1 := env.Login(t, "staff1", ptDevice)
	ph := &ptPhone{}
	m := ph.checkIn(1, synctest.TraineesE1[0])
	body := map[string]any{"device_id": ptDevice, "client_time": "9999-12-31T23:59:59Z", "app_version": "1.0.0", "outbox_size": 1,
		"mutations": []any{m}}
	var resp protocol.PushResponse
	if st := staff1.Do(t, "POST", "/api/v1/sync/push", body, &resp); st != http.StatusOK {
		t.Fatalf("push: status %d", st)
	}
	const bound = int64(10 * 366 * 24 * time.Hour / time.Millisecond)
	if resp.ClockOffsetMS < -bound || resp.ClockOffsetMS > bound {
		t.Errorf("clock_offset_ms %d, want within ±10 years", resp.ClockOffsetMS)
	}
	if len(resp.Results) != 1 || resp.Results[0].Status != protocol.StatusFlagged || resp.Results[0].Code != protocol.FlagOutOfWindow {
		t.Errorf("results %+v, want flagged out_of_window", resp.Results)
	}
	var occ string
	var skewed bool
	if err := env.DB.Read.QueryRow(`SELECT occurred_at FROM mutation_log WHERE id = ?`, m["id"]).Scan(&occ); err != nil {
		t.Fatal(err)
	}
	tm, err := time.Parse(store.TimeFormat, occ)
	if err != nil || tm.Year() < 1 || tm.Year() > 9999 || strings.HasPrefix(occ, "-") {
		t.Errorf("stored occurred_at %q: %v (year %d), want a time of years 0001-9999", occ, err, tm.Year())
	}
	if err := env.DB.Read.QueryRow(`SELECT clock_skewed FROM devices WHERE id = ?`, ptDevice).Scan(&skewed); err != nil || !skewed {
		t.Errorf("device clock_skewed %v (%v), want true", skewed, err)
	}

	// A recorded_at whose UTC year is outside 0001..9999 cannot be stored:
	// invalid_mutation.
	var ms []map[string]any
	for i, rec := range []string{"0001-01-01T00:00:00+01:00", "9999-12-31T23:30:00-01:00"} {
		m := ph.checkIn(int64(i+2), synctest.TraineesE1[i+1])
		m["recorded_at"] = rec
		ms = append(ms, m)
	}
	if _, resp, _ := ptPush(t, staff1, 2, ms...); len(resp.Results) != 2 ||
		resp.Results[0].Code != protocol.CodeInvalidMutation || resp.Results[1].Code != protocol.CodeInvalidMutation {
		t.Errorf("recorded_at outside years 0001-9999 (UTC): %+v, want invalid_mutation", resp.Results)
	}
}
