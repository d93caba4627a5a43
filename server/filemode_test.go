package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"prodays/internal/testenv"
)

// TestFileModes starts the real binary, under umask 022, on a database
// that does not exist yet and without PRODAYS_JWT_KEY, then takes a
// backup with `prodays backup`: the database, its -wal and -shm, the key
// file and the backup are all owner-only (0600). Issue #13.
func TestFileModes(t *testing.T) {
	bin := testenv.Binary(t)
	old := syscall.Umask(0o022) // inherited by the processes started below
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "data")
	db := filepath.Join(dir, "prodays.db")
	addr := testenv.FreeAddr(t)
	cmd := exec.Command(bin, "serve", "--addr", addr, "--db", db)
	cmd.Env = append(os.Environ(), "PRODAYS_JWT_KEY=", "PRODAYS_ADMIN_PASSWORD=file-modes-admin-1", "PRODAYS_LOG_LEVEL=warn")
	var log testenv.LogBuffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	up := false
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline) && !up; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			up = resp.StatusCode == http.StatusOK
		}
	}
	if !up {
		t.Fatalf("server did not start:\n%s", log.String())
	}
	backup := filepath.Join(t.TempDir(), "backups", "b.db")
	if out, err := exec.Command(bin, "backup", "--db", db, "--out", backup).CombinedOutput(); err != nil {
		t.Fatalf("prodays backup: %v\n%s", err, out)
	}
	testenv.WantMode(t, 0o600, db, db+"-wal", db+"-shm", filepath.Join(dir, "jwt.keys"), backup)
}
