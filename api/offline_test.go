package api_test

import (
	"net/http"
	"testing"
	"time"

	"prodays/auth"
	"prodays/internal/testenv"
)

// TestSessionOutlivesADayOffline: a staff member logs in in the morning,
// goes offline, records check-ins after the access token has expired (the
// phone keeps them in its outbox), comes back a day later, refreshes with
// the refresh token and pushes: every mutation is applied.
func TestSessionOutlivesADayOffline(t *testing.T) {
	c := newClock()
	env := testenv.New(t, testenv.Options{Now: c.Now})
	dataFixture(t, env)
	testenv.CreateUser(t, env.DB, "k.staff", "staff", "EFP-CS-1", "")
	s := env.Login(t, "k.staff", "phone-offline")

	// Offline: the access token expires while check-ins are recorded.
	c.Advance(auth.DefaultAccessTTL + auth.DefaultLeeway + time.Minute)
	recorded := c.Now()
	outbox := []map[string]any{
		{"id": "0b6c1c39-5d2e-4c54-9a43-1f7c1b7f0a01", "seq": 1, "type": "attendance.check_in", "recorded_at": recorded,
			"activity_id": "ACT-CS-1", "person": map[string]string{"kind": "trainee", "id": "TR-CS-1"}, "method": "qr"},
		{"id": "0b6c1c39-5d2e-4c54-9a43-1f7c1b7f0a02", "seq": 2, "type": "attendance.check_in", "recorded_at": recorded.Add(time.Minute),
			"activity_id": "ACT-CS-1", "person": map[string]string{"kind": "trainee", "id": "TR-CS-2"}, "method": "search"},
	}
	push := func(token string) answer {
		return send(t, env, "POST", "/api/v1/sync/push", token, map[string]any{
			"device_id": "phone-offline", "client_time": c.Now(), "app_version": "test", "outbox_size": len(outbox), "mutations": outbox})
	}
	wantProblem(t, "push with the expired access token", push(s.AccessToken), http.StatusUnauthorized, "unauthorized")

	// A day later, back online: refresh, then push the outbox.
	c.Advance(24 * time.Hour)
	var ref struct {
		AccessToken string `json:"access_token"`
	}
	if st := env.Do(t, "POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": s.RefreshToken}, &ref); st != http.StatusOK {
		t.Fatalf("refresh after a day offline: %d", st)
	}
	a := push(ref.AccessToken)
	if a.Status != http.StatusOK {
		t.Fatalf("push: %d %s", a.Status, a.Body)
	}
	results, _ := a.JSON()["results"].([]any)
	if len(results) != len(outbox) {
		t.Fatalf("push results: %s", a.Body)
	}
	for i, r := range results {
		if st := r.(map[string]any)["status"]; st != "applied" {
			t.Errorf("mutation %d: status %v, want applied (%v)", i+1, st, r)
		}
	}
	var present int
	if err := env.DB.Read.QueryRow(`SELECT count(*) FROM attendance WHERE activity_id = 'ACT-CS-1' AND present = 1`).Scan(&present); err != nil {
		t.Fatal(err)
	}
	if present != 2 {
		t.Fatalf("present at ACT-CS-1: %d, want 2", present)
	}
}
