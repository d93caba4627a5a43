package main

import (
	"context"
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
	t1 := synctest.TraineesE1[0]
	writeFiles(t, dir, map[string]string{
		"checkins.jsonl": `{"device_id":"0b6f8a52-6c1e-4b7e-9d47-3f0c2a9e1d10","username":"staff1","batch":1,"seq":1,"activity_id":"A1","trainee_id":"` + t1 + `","action":"check_in","recorded_at":"2026-03-23T09:10:00.000Z","method":"qr"}
{"device_id":"0b6f8a52-6c1e-4b7e-9d47-3f0c2a9e1d10","username":"staff1","batch":2,"seq":2,"activity_id":"A1","trainee_id":"F00000000000X","action":"check_in","recorded_at":"2026-03-23T09:11:00.000Z","method":"qr"}
`,
		"pw": "replay-password-1\n",
	})
	file, pw := filepath.Join(dir, "checkins.jsonl"), filepath.Join(dir, "pw")

	code, stdout, stderr := runCLI(t, "", "simulate", "--url", env.URL, "--file", file, "--password-file", pw,
		"--quiet", "--duplicate", "1", "--drop-responses", "0.5")
	if code != 0 {
		t.Fatalf("simulate: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"1 devices, 1 users, 2 mutations", "applied ", "rejected:unknown_trainee", "duplicate batches 2", "p99"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}

	for _, args := range [][]string{
		{"simulate"},
		{"simulate", "--file", file, "--password", "x", "--duplicate", "2"},
		{"simulate", "--file", file},
	} {
		if code, _, _ := runCLI(t, "", args...); code == 0 {
			t.Errorf("%v: no error", args)
		}
	}
}
