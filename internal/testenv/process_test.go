package testenv_test

import (
	"net/http"
	"testing"

	"prodays/internal/testenv"
	"prodays/store"
)

// TestProcess starts the real binary on a seeded database, logs in through
// it and restarts it.
func TestProcess(t *testing.T) {
	env := testenv.Process(t, testenv.ProcessOptions{Seed: func(tb testing.TB, db *store.DB) {
		testenv.CreateUser(tb, db, "boss", "admin", "", "")
	}})
	s := env.Login(t, "boss", "0190d5a4-8f0c-7a11-9c3b-2f4e5d6a7b8c")
	if got := s.Do(t, "GET", "/api/v1/admin/users", nil, nil); got != http.StatusOK {
		t.Fatalf("GET users: status %d, want 200", got)
	}
	env.Proc.Kill()
	env.Proc.Restart(t)
	if got := s.Do(t, "GET", "/api/v1/admin/users", nil, nil); got != http.StatusOK {
		t.Fatalf("after restart, GET users: status %d, want 200", got)
	}
}
