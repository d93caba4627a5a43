package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"prodays/api"
	"prodays/auth"
	"prodays/internal/testenv"
)

// TestLoginStormBounded: while the password checks are all busy and their
// queue is full, a login is answered 503 unavailable with Retry-After
// (problem+json), and succeeds once a check is free.
func TestLoginStormBounded(t *testing.T) {
	gate := &auth.HashGate{Concurrent: 1, Queue: 1, MaxWait: time.Hour}
	env := testenv.New(t, testenv.Options{Configure: func(s *api.Server) { s.Auth.(*auth.Service).Gate = gate }})
	testenv.CreateUser(t, env.DB, "a.staff", "admin", "", "")
	ctx := context.Background()
	hold := make(chan struct{})
	running := make(chan struct{})
	done := make(chan error, 2)
	go func() { done <- gate.Do(ctx, func() { close(running); <-hold }) }()
	<-running
	go func() { done <- gate.Do(ctx, func() {}) }()
	for deadline := time.Now().Add(10 * time.Second); gate.Waiting() != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the queued check never queued")
		}
	}
	a := env.Send(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": "a.staff", "password": testenv.Password, "device_id": "dev-1", "token_delivery": "body"})
	var p struct {
		Code string `json:"code"`
	}
	json.Unmarshal(a.Body, &p)
	secs, _ := strconv.Atoi(a.Header.Get("Retry-After"))
	if a.Status != http.StatusServiceUnavailable || p.Code != "unavailable" || secs < 1 || a.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("login in a full storm: %d %q Retry-After %q %s", a.Status, a.Header.Get("Content-Type"), a.Header.Get("Retry-After"), a.Body)
	}
	close(hold)
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	env.Login(t, "a.staff", "dev-1")
}
