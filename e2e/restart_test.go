package e2e_test

import (
	"net/http"
	"testing"
)

// TestServerRestart checks the harness itself: a restart serves the same
// database file on the same address, and the server reads the new handle.
func TestServerRestart(t *testing.T) {
	f := newFixture(10)
	srv := newServer(t, serverOptions{})
	f.seed(t, srv.DB)
	url := srv.URL
	srv.restart()
	if srv.URL != url {
		t.Fatalf("address changed: %s → %s", url, srv.URL)
	}
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var n int
	if err := srv.DB.Read.QueryRow(`SELECT count(*) FROM trainees`).Scan(&n); err != nil || n != 10 {
		t.Fatalf("trainees after restart: %d %v", n, err)
	}
	if got := srv.presences(t); len(got) != 0 {
		t.Fatalf("presences: %v", got)
	}
}
