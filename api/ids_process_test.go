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

// The tests of this file (issue #13, the ids slice: findings 2, 3 and 4) run
// against the prodays binary as a process (testenv.Process) on idsSeed's
// roster (ids_reuse_process_test.go).

// TestLoginDeviceID (finding 2): login applies the push's device_id rule
// (one line, no control character, no white space around it, at most 100
// characters) and stores a UUID in its canonical lower-case form, so that
// one installation is one device whatever the case or braces.
func TestLoginDeviceID(t *testing.T) {
	env := testenv.Process(t, testenv.ProcessOptions{Seed: idsSeed})
	login := func(dev string) (int, string) {
		var out struct {
			Code string `json:"code"`
		}
		st := env.Do(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": "staff1", "password": testenv.Password,
			"device_id": dev, "token_delivery": "body"}, &out)
		return st, out.Code
	}
	for _, dev := range []string{"\u001b]0;pwn\u0007\u0000" + ptDevice, " " + ptDevice, ptDevice + "\n", ptDevice + " ", strings.Repeat("d", 101)} {
		if st, code := login(dev); st != http.StatusBadRequest || code != "invalid" {
			t.Errorf("login with device_id %q: status %d %s, want 400 invalid", dev, st, code)
		}
	}
	const lower = "0190d5a4-8f0c-7a11-9c3b-0000000000aa"
	for _, dev := range []string{strings.ToUpper(lower), "{" + lower + "}", strings.ReplaceAll(lower, "-", "")} {
		if st, code := login(dev); st != http.StatusOK && !(st == http.StatusForbidden && code == "device_taken") {
			t.Errorf("login with device_id %q: status %d %s, want 200 (or device_taken: the same device)", dev, st, code)
		}
	}
	rows, err := env.DB.Read.Query(`SELECT id FROM devices WHERE username = 'staff1'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	if len(ids) != 1 || ids[0] != lower {
		t.Errorf("staff1's devices: %q, want only %q", ids, lower)
	}
}

// TestPushIDsOneLine (finding 4): every id a mutation names is checked as
// sent by the id rule (one line, no white space around it): a person.id,
// activity_id or trainee_id with a line feed or a space around it is
// invalid_mutation, not an unknown person or activity.
func TestPushIDsOneLine(t *testing.T) {
	_, staff1 := ptProcess(t, idsSeed)
	ph := &ptPhone{}
	tr := synctest.TraineesE1
	ms := []map[string]any{
		ph.checkIn(1, tr[0]+"\n"),
		ph.checkIn(2, " "+tr[1]),
		ph.mutation(3, protocol.TypeCheckIn, map[string]any{"activity_id": ptActivity + "\n",
			"person": map[string]string{"kind": "trainee", "id": tr[2]}, "method": "manual"}),
		ph.mutation(4, protocol.TypeTraineeUpdate, map[string]any{"trainee_id": tr[3] + "\n", "base_version": 1,
			"fields": map[string]string{"group": "G2"}}),
		ph.mutation(5, protocol.TypeTraineeUpdate, map[string]any{"trainee_id": tr[4], "base_version": 1,
			"fields": map[string]string{"establishment_code": "E1\n"}}),
		ph.register(6, "0190d5a4-0000-7000-8000-00000000abcd", "Nom", "Prénom", "P"),
	}
	ms[5]["trainee"].(map[string]any)["establishment_code"] = " E1"
	status, resp, code := ptPush(t, staff1, int64(len(ms)), ms...)
	if status != http.StatusOK {
		t.Fatalf("push: status %d %s", status, code)
	}
	for i, r := range resp.Results {
		if r.Status != protocol.StatusRejected || r.Code != protocol.CodeInvalidMutation {
			t.Errorf("mutation %d: %s %s %q, want rejected invalid_mutation", i+1, r.Status, r.Code, r.Message)
		}
	}
}

// TestPushClockOverflow (finding 3): a client_time at the end of year 9999
// gives a bounded clock offset (the device is marked skewed), the check-in
// is flagged out_of_window as before, and its stored occurred_at parses
// as a time of years 0001 to 9999; a recorded_at outside them (UTC) is
// invalid_mutation.
func TestPushClockOverflow(t *testing.T) {
	env, staff1 := ptProcess(t, idsSeed)
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
