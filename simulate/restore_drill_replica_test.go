package simulate_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"prodays/internal/testenv"
	"prodays/replicate"
)

// replicaRestorer restores with `prodays serve --replicate URL` and
// `prodays restore --from URL --at TIME`: the snapshot is the moment the
// replica holds everything stored (lag 0 on /readyz), the restore the
// replica's state at that moment.
func replicaRestorer(url string) DrillRestorer {
	var at time.Time
	return DrillRestorer{
		ServeArgs: []string{"--replicate", url},
		Snapshot: func(t *testing.T, bin string, env *testenv.Env) {
			deadline := time.Now().Add(time.Minute)
			for {
				var ready struct {
					Replicas []replicate.Status `json:"replicas"`
				}
				if st := env.Do(t, "GET", "/readyz", "", nil, &ready); st == http.StatusOK && len(ready.Replicas) == 1 &&
					ready.Replicas[0].OK && !ready.Replicas[0].LastSuccess.IsZero() && ready.Replicas[0].LagSeconds == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the replica did not catch up in a minute")
				}
				time.Sleep(50 * time.Millisecond)
			}
			at = time.Now().UTC()
		},
		Restore: func(t *testing.T, bin string, env *testenv.Env) {
			runProdays(context.Background(), t, bin, "restore", "--from", url, "--at", at.Format(time.RFC3339Nano), "--db", env.Proc.DB)
		},
	}
}

// TestRestoreDrillReplica is the restore drill with a file replica and a
// point-in-time restore instead of a backup.
func TestRestoreDrillReplica(t *testing.T) {
	runRestoreDrill(t, replicaRestorer("file://"+filepath.Join(t.TempDir(), "replica")))
}

// TestRestoreDrillS3 is the restore drill with an S3-compatible replica:
// an in-process fake S3 (gofakes3) at a custom endpoint.
func TestRestoreDrillS3(t *testing.T) {
	backend := s3mem.New()
	if err := backend.CreateBucket("prodays"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "prodays-test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "prodays-test-secret")
	t.Setenv("AWS_CA_BUNDLE", "") // refused by Litestream's S3 client (docs/operations.md)
	runRestoreDrill(t, replicaRestorer("s3://prodays/drill?endpoint="+srv.URL+"&region=us-east-1"))
}
