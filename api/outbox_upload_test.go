package api_test

import (
	"testing"

	"prodays/internal/synctest"
)

// TestOutboxUpload: a supervisor uploads a phone's saved outbox file
// (multipart, then the same file as JSON): it applies on behalf of the
// phone's owner, a second upload is all duplicates, and it is audited.
func TestOutboxUpload(t *testing.T) {
	env := syncEnv(t)
	env.Login(t, "staff1", "dev-lost") // the phone logged in once, then stayed offline
	sup := env.Login(t, "sup1", "dev-sup")
	ph := synctest.NewPhone("dev-lost", eventNow)
	file := synctest.Body("dev-lost", eventNow, 1, ph.CheckIn("A1", "trainee", synctest.TraineesE1[0]))

	send := func(body []byte, ct string) (int, map[string]any) {
		a := env.Raw(t, "POST", "/api/v1/review/outbox-upload", sup.AccessToken, ct, body)
		return a.Status, answer(a).JSON()
	}
	st, out := send(multipartBody("prodays-outbox.json", file, nil))
	if st != 200 || out["username"] != "staff1" {
		t.Fatalf("multipart upload: %d %v", st, out)
	}
	if r := out["results"].([]any)[0].(map[string]any); r["status"] != "applied" {
		t.Fatalf("first upload: %v", r)
	}
	st, out = send(file, "application/json")
	if r := out["results"].([]any)[0].(map[string]any); st != 200 || r["status"] != "duplicate" {
		t.Fatalf("second upload: %d %v", st, out)
	}
	var n int
	env.DB.Read.QueryRow(`SELECT count(*) FROM attendance WHERE activity_id = 'A1' AND person_id = ? AND present = 1`, synctest.TraineesE1[0]).Scan(&n)
	if n != 1 {
		t.Errorf("attendance rows: %d, want 1", n)
	}
	env.DB.Read.QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'review.outbox_upload' AND username = 'sup1'`).Scan(&n)
	if n != 2 {
		t.Errorf("audit rows: %d, want 2", n)
	}
	if st, _ := send([]byte(`{"device_id":"never-seen","client_time":"2026-03-23T10:00:00Z","mutations":[]}`), "application/json"); st != 404 {
		t.Errorf("unknown device: %d, want 404", st)
	}
}
