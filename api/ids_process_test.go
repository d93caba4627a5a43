package api_test

import (
	"net/http"
	"strings"
	"testing"

	"prodays/internal/synctest"
	"prodays/internal/testenv"
	"prodays/sync/protocol"
)

// The tests of this file (issue #13, the ids slice: findings 2 and 4) run
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
	env := testenv.Process(t, testenv.ProcessOptions{Seed: idsSeed})
	staff1 := env.Login(t, "staff1", ptDevice)
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
