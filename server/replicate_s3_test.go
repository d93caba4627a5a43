package main

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"prodays/internal/synctest"
	"prodays/internal/testenv"
	"prodays/store"
)

// fakeS3 starts an in-process S3-compatible server (gofakes3) with one
// bucket and returns the replica URL of path in it (custom endpoint).
func fakeS3(t *testing.T, bucket, path string) (url string, srv *httptest.Server) {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	srv = httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "prodays-test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "prodays-test-secret")
	// Litestream's S3 client sets its own HTTP client, with which the AWS
	// SDK refuses AWS_CA_BUNDLE (docs/operations.md).
	t.Setenv("AWS_CA_BUNDLE", "")
	return "s3://" + bucket + "/" + path + "?endpoint=" + srv.URL + "&region=us-east-1", srv
}

// TestReplicateS3: the same kill, delete and restore with an
// S3-compatible replica at a custom endpoint; once the store stops, the
// server keeps taking check-ins and says the replica is failing.
func TestReplicateS3(t *testing.T) {
	ctx := context.Background()
	url, s3srv := fakeS3(t, "prodays", "rabat/prodays")
	env := testenv.Process(t, testenv.ProcessOptions{Seed: repSeed, Args: []string{"--replicate", url},
		Env: []string{"AWS_ACCESS_KEY_ID=prodays-test", "AWS_SECRET_ACCESS_KEY=prodays-test-secret", "AWS_CA_BUNDLE="}})
	env.DB.Close()
	staff := env.Login(t, "staff1", repDevice)
	ph := synctest.NewPhone(repDevice, time.Now().Add(-time.Hour))
	tr := synctest.TraineesE1

	repPush(t, staff, ph, tr[0:4]...)
	waitReplica(t, url, 4)
	env.Proc.Kill()
	removeDBFiles(t, env.Proc.DB)
	var out, errb bytes.Buffer
	if err := run(ctx, []string{"restore", "--from", url, "--db", env.Proc.DB}, nil, &out, &errb); err != nil {
		t.Fatalf("restore --from s3: %v %s", err, errb.String())
	}
	if got := checkins(t, env.Proc.DB); got != 4 {
		t.Fatalf("restored from S3: %d check-ins, want 4", got)
	}
	if strings.Contains(out.String(), "prodays-test") {
		t.Errorf("restore output shows credentials: %q", out.String())
	}

	env.Proc.Restart(t)
	waitReplication(t, env, "ok")
	s3srv.Close()
	repPush(t, staff, ph, tr[4])
	waitReplication(t, env, "failing")
	repPush(t, staff, ph, tr[5])
	env.Proc.Stop()
	if got := checkins(t, env.Proc.DB); got != 6 {
		t.Fatalf("with the S3 store down: %d check-ins, want 6", got)
	}
}

// TestRestoreFromErrors: restore --from answers a bad URL, a replica
// with nothing in it, an unreachable store, a bad --at, a time before the
// replica's first state and a database in use with a clear message and a
// non-zero exit, and changes nothing.
func TestRestoreFromErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	target := filepath.Join(dir, "data", "prodays.db")
	db, err := store.Open(ctx, target, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	setMeta(t, db, "marker", "live")

	// A replica holding one state of another database.
	url := "file://" + filepath.Join(dir, "replica")
	testenv.Process(t, testenv.ProcessOptions{Seed: repSeed, Args: []string{"--replicate", url}})
	waitReplica(t, url, 0)

	cases := []struct {
		name string
		args []string
		want string
		is   error
	}{
		{"not a URL", []string{"--from", "backups/prodays.db"}, "not a URL", errUsageShown},
		{"unknown scheme", []string{"--from", "ftp://host/path"}, `unsupported replica URL scheme: "ftp"`, errUsageShown},
		{"file with --from", []string{"--from", url, "one.db"}, "no FILE with --from", errUsageShown},
		{"--at without --from", []string{"--at", "2026-03-23T10:00:00Z"}, "usage: prodays restore --from URL", errUsageShown},
		{"bad --at", []string{"--from", url, "--at", "yesterday"}, "not an RFC 3339 time", errUsageShown},
		{"empty replica", []string{"--from", "file://" + filepath.Join(dir, "empty")}, "holds no database", nil},
		{"unreachable store", []string{"--from", "s3://prodays/x?endpoint=http://127.0.0.1:1&region=us-east-1"}, "cannot be read", nil},
		{"before the first state", []string{"--from", url, "--at", "2020-01-01T00:00:00Z"}, "has no state at 2020-01-01T00:00:00Z", nil},
		{"database in use", []string{"--from", url}, "in use", store.ErrInUse},
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "x")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "y")
	t.Setenv("AWS_CA_BUNDLE", "")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(ctx, append([]string{"restore", "--db", target}, c.args...), nil, &out, &errb)
			if err == nil {
				t.Fatalf("no error; out %q", out.String())
			}
			msg := err.Error() + " " + errb.String()
			if !strings.Contains(msg, c.want) {
				t.Errorf("got %q, want it to say %q", msg, c.want)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("got %v, want %v", err, c.is)
			}
		})
	}
	if got := meta(t, db, "marker"); got != "live" {
		t.Fatalf("a refused restore changed the database: marker %q", got)
	}
	db.Close()
}
