package simulate_test

import (
	"context"
	"testing"

	"prodays/importer"
	"prodays/internal/testenv"
	"prodays/sync/protocol"
)

// TestFirstSyncSmallLastPage: firstSync (TestPullAtSize) reads a first
// sync whose last page is under the server's gzip threshold (1,400 bytes),
// which the server sends uncompressed even to a client that accepts gzip.
func TestFirstSyncSmallLastPage(t *testing.T) {
	env := testenv.New(t, testenv.Options{Quiet: true})
	gen := t.TempDir()
	staff := writeBigEstablishment(t, gen, "EFP9999", "CS", 10)
	if _, err := importer.ImportDir(context.Background(), env.DB, gen, importer.Options{}); err != nil {
		t.Fatal(err)
	}
	testenv.CreateUser(t, env.DB, staff, "staff", "EFP9999", "")
	s := env.Login(t, staff, "small-last-page")
	var all protocol.PullResponse
	if st := s.Do(t, "GET", "/api/v1/sync/pull?limit=5000", nil, &all); st != 200 || all.HasMore {
		t.Fatalf("pull: %d, has_more %v", st, all.HasMore)
	}
	n := len(all.Changes)
	st := firstSync(t, env.URL, s.AccessToken, n-1) // the last page holds one change
	if st.pages != 2 || st.changes != n {
		t.Errorf("%d changes in %d pages, want %d in 2", st.changes, st.pages, n)
	}
}
