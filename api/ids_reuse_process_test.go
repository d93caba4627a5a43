package api_test

import (
	"net/http"
	"strings"
	"testing"

	"prodays/internal/synctest"
	"prodays/internal/testenv"
	"prodays/store"
	"prodays/sync/protocol"
)

// The tests of the ids slice of issue #13 run against the prodays binary as
// a process (testenv.Process) on idsSeed's roster.

const idsDevice3 = "0190d5a4-8f0c-7a11-9c3b-000000000e03"

// idsSeed is ptSeed plus staff3 (E3, region CS) with a password.
func idsSeed(tb testing.TB, db *store.DB) {
	ptSeed(tb, db)
	testenv.CreateUser(tb, db, "staff3", "staff", "E3", "")
}

// TestMutationIDPerDevice (finding 1): a mutation id is an idempotency key
// of one device. Another device reusing it (as sent, or upper-cased) is
// refused as id_reused, never answered as a duplicate, so the first
// device's outcome is not revealed; a device that pre-claims an id does
// not make the owner's later mutation a silent duplicate: it is refused
// id_reused and kept in quarantine under the owner's device.
func TestMutationIDPerDevice(t *testing.T) {
	env, staff1 := ptProcess(t, idsSeed)
	staff3 := env.Login(t, "staff3", idsDevice3)
	boss := env.Login(t, "boss", "0190d5a4-8f0c-7a11-9c3b-000000000b05")
	ph1, ph3 := &ptPhone{}, &ptPhone{n: 100}

	// Oracle: staff1's check-in is applied; staff3 reuses its id.
	own := ph1.checkIn(1, synctest.TraineesE1[0])
	if _, resp, _ := ptPush(t, staff1, 1, own); len(resp.Results) != 1 || resp.Results[0].Status != protocol.StatusApplied {
		t.Fatalf("staff1's check-in: %+v, want applied", resp.Results)
	}
	x := own["id"].(string)
	for i, id := range []string{x, strings.ToUpper(x)} {
		m := ph3.checkIn(int64(i+1), synctest.TraineesE3[0])
		m["id"] = id
		status, resp, code := ptPush(t, staff3, 1, m)
		if status != http.StatusOK || len(resp.Results) != 1 {
			t.Fatalf("reuse %s: status %d %s %+v", id, status, code, resp.Results)
		}
		r := resp.Results[0]
		if r.Status != protocol.StatusRejected || r.Code != "id_reused" || r.Outcome != "" {
			t.Errorf("reuse of staff1's id %s by staff3: %s outcome=%q code=%s, want rejected id_reused without outcome", id, r.Status, r.Outcome, r.Code)
		}
	}
	// staff1's own retry is still its duplicate.
	if _, resp, _ := ptPush(t, staff1, 1, own); len(resp.Results) != 1 || resp.Results[0].Status != protocol.StatusDuplicate || resp.Results[0].Outcome != protocol.StatusApplied {
		t.Errorf("staff1's retry: %+v, want duplicate of applied", resp.Results)
	}

	// Pre-claim: staff3 pushes id y first (out of scope), then staff1 uses it.
	claim := ph3.checkIn(3, synctest.TraineesE1[1])
	if _, resp, _ := ptPush(t, staff3, 1, claim); len(resp.Results) != 1 || resp.Results[0].Code != protocol.CodeOutOfScope {
		t.Fatalf("staff3's claim: %+v, want rejected out_of_scope", resp.Results)
	}
	honest := ph1.checkIn(2, synctest.TraineesE1[1])
	honest["id"] = claim["id"]
	_, resp, _ := ptPush(t, staff1, 1, honest)
	if len(resp.Results) != 1 {
		t.Fatalf("staff1's honest check-in: %+v", resp.Results)
	}
	if r := resp.Results[0]; r.Status != protocol.StatusRejected || r.Code != "id_reused" || r.Outcome != "" {
		t.Errorf("staff1's check-in on a pre-claimed id: %s outcome=%q code=%s, want rejected id_reused", r.Status, r.Outcome, r.Code)
	}
	var q struct {
		Mutations []struct {
			ID       string `json:"id"`
			DeviceID string `json:"device_id"`
			Code     string `json:"code"`
			Username string `json:"username"`
		} `json:"mutations"`
	}
	if st := boss.Do(t, "GET", "/api/v1/review/quarantine", nil, &q); st != http.StatusOK {
		t.Fatalf("quarantine: status %d", st)
	}
	found := 0
	for _, m := range q.Mutations {
		if m.Code == "id_reused" && m.Username == "staff1" && m.DeviceID == ptDevice && m.ID != claim["id"] {
			found++
		}
	}
	if found != 1 {
		t.Errorf("quarantine holds %d id_reused mutations of staff1, want 1: %+v", found, q.Mutations)
	}
}
