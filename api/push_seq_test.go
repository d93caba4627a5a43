package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"prodays/internal/synctest"
	"prodays/sync/protocol"
)

// TestPushSeqBounds (issue #13, finding 8): a seq outside 1..2^53−1 (what
// a phone's JavaScript counts exactly) is rejected alone as
// invalid_mutation and leaves the device's max_seq alone; 2^53−1 is
// applied; the supervisors' devices view then shows max_seq 2^53−1 and
// the one gap below it, with non-negative bounds. outbox_size and
// base_version are bounded the same way.
func TestPushSeqBounds(t *testing.T) {
	env, staff := ptProcess(t, ptSeed)
	sup := env.Login(t, "sup1", "0190d5a4-8f0c-7a11-9c3b-000000000505")
	ph := &ptPhone{}
	const maxSafe = 1<<53 - 1
	tr := synctest.TraineesE1
	ms := []map[string]any{
		ph.checkIn(1, tr[0]),
		ph.checkIn(2, tr[1]),
		ph.checkIn(1<<63-1, tr[2]),
		ph.checkIn(1<<53, tr[3]),
		ph.checkIn(maxSafe, tr[4]),
		ph.mutation(3, protocol.TypeTraineeUpdate, map[string]any{"trainee_id": tr[5], "base_version": int64(1<<63 - 1),
			"fields": map[string]string{"group": "G2"}}),
		// Without an id (quarantined under a derived key), its seq still
		// must not count.
		{"seq": int64(1<<63 - 1), "type": protocol.TypeCheckIn},
	}
	wants := []string{protocol.StatusApplied, protocol.StatusApplied, protocol.StatusRejected, protocol.StatusRejected, protocol.StatusApplied,
		protocol.StatusRejected, protocol.StatusRejected}
	status, resp, code := ptPush(t, staff, int64(len(ms)), ms...)
	if status != http.StatusOK {
		t.Fatalf("push: status %d %s, want 200", status, code)
	}
	for i, r := range resp.Results {
		if r.Status != wants[i] || (wants[i] == protocol.StatusRejected && r.Code != protocol.CodeInvalidMutation) {
			t.Errorf("mutation %d (seq %v): got %s %s %q, want %s", i+1, ms[i]["seq"], r.Status, r.Code, r.Message, wants[i])
		}
	}
	if status, _, code := ptPush(t, staff, 1<<63-1); status != http.StatusBadRequest || code != "invalid" {
		t.Errorf("outbox_size 2^63-1: status %d %s, want 400 invalid", status, code)
	}

	var devices struct {
		Devices []struct {
			ID         string     `json:"device_id"`
			OutboxSize int64      `json:"outbox_size"`
			MaxSeq     int64      `json:"max_seq"`
			SeqGaps    [][2]int64 `json:"seq_gaps"`
		} `json:"devices"`
	}
	if st := sup.Do(t, "GET", "/api/v1/review/devices", nil, &devices); st != http.StatusOK {
		t.Fatalf("devices: status %d", st)
	}
	found := false
	for _, d := range devices.Devices {
		if d.ID != ptDevice {
			continue
		}
		found = true
		for _, g := range d.SeqGaps {
			if g[0] < 1 || g[1] < g[0] || g[1] > d.MaxSeq {
				t.Errorf("gap %v out of 1..max_seq %d", g, d.MaxSeq)
			}
		}
		if want := [][2]int64{{4, maxSafe - 1}}; d.MaxSeq != maxSafe || fmt.Sprint(d.SeqGaps) != fmt.Sprint(want) {
			t.Errorf("device: max_seq %d gaps %v, want %d %v", d.MaxSeq, d.SeqGaps, int64(maxSafe), want)
		}
		if d.OutboxSize != 0 { // the push's outbox_size was its batch: nothing remains
			t.Errorf("device: outbox_size %d, want 0", d.OutboxSize)
		}
	}
	if !found {
		t.Fatalf("device %s not in the devices view: %+v", ptDevice, devices)
	}
}
