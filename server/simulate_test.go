package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"prodays/auth"
	"prodays/internal/synctest"
	"prodays/internal/testenv"
)

func TestSimulateCommand(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	synctest.Seed(t, env.DB)
	hash, err := auth.HashPassword("replay-password-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.DB.SetPassword(context.Background(), "staff1", hash, "test"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "checkins.jsonl")
	t1 := synctest.TraineesE1[0]
	lines := `{"device_id":"0b6f8a52-6c1e-4b7e-9d47-3f0c2a9e1d10","username":"staff1","batch":1,"seq":1,"activity_id":"A1","trainee_id":"` + t1 + `","action":"check_in","recorded_at":"2026-03-23T09:10:00.000Z","method":"qr"}
{"device_id":"0b6f8a52-6c1e-4b7e-9d47-3f0c2a9e1d10","username":"staff1","batch":2,"seq":2,"activity_id":"A1","trainee_id":"F00000000000X","action":"check_in","recorded_at":"2026-03-23T09:11:00.000Z","method":"qr"}
`
	pw := filepath.Join(dir, "pw")
	os.WriteFile(file, []byte(lines), 0o600)
	os.WriteFile(pw, []byte("replay-password-1\n"), 0o600)

	var out, errb bytes.Buffer
	err = run(context.Background(), []string{"simulate", "--url", env.URL, "--file", file, "--password-file", pw,
		"--quiet", "--duplicate", "1", "--drop-responses", "0.5"}, nil, &out, &errb)
	if err != nil {
		t.Fatalf("simulate: %v\n%s%s", err, out.String(), errb.String())
	}
	for _, want := range []string{"1 devices, 1 users, 2 mutations", "applied ", "rejected:unknown_trainee", "duplicate batches 2", "p99"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	for _, args := range [][]string{
		{"simulate"},
		{"simulate", "--file", file, "--password", "x", "--duplicate", "2"},
		{"simulate", "--file", file},
	} {
		out.Reset()
		errb.Reset()
		if err := run(context.Background(), args, nil, &out, &errb); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
