package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"prodays/internal/testenv"
	"strings"
	"testing"
	"time"
)

// startServe runs `prodays serve` in-process on a free port and returns its
// base URL, its log and a stop function that waits for a clean exit.
func startServe(t *testing.T, dbPath string, env map[string]string) (string, *testenv.LogBuffer, func() error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	logs := &testenv.LogBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", dbPath}, nil, pw, logs)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("serve did not start: %v; log:\n%s", err, logs.String())
	}
	go io.Copy(io.Discard, pr)
	addr := strings.TrimSpace(strings.TrimPrefix(line, "prodays listening on "))
	return "http://" + addr, logs, func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			t.Fatal("serve did not stop within 20 s")
			return nil
		}
	}
}

func TestServeLifecycle(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "new", "folder", "prodays.db")
	url, logs, stop := startServe(t, dbPath, map[string]string{"PRODAYS_ADMIN_PASSWORD": "", "PRODAYS_JWT_KEY": ""})
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("serve returned %v", err)
	}
	log := logs.String()
	if !strings.Contains(log, `"msg":"created the first admin account; change its password"`) || !strings.Contains(log, `"password":"`) {
		t.Fatalf("first start did not print the admin password once:\n%s", log)
	}
	if !strings.Contains(log, "database closed") {
		t.Fatalf("no clean close in the log:\n%s", log)
	}
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(dbPath), "jwt.keys")); len(matches) != 1 {
		t.Fatal("signing key file not created beside the database")
	}

	// Second start: the admin exists, no password is printed again.
	_, logs2, stop2 := startServe(t, dbPath, nil)
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs2.String(), `"password":"`) {
		t.Fatalf("second start printed a password:\n%s", logs2.String())
	}
}

func TestServeAdminPasswordFromEnv(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "prodays.db")
	url, logs, stop := startServe(t, dbPath, map[string]string{"PRODAYS_ADMIN_PASSWORD": "a-long-admin-password", "PRODAYS_JWT_KEY": ""})
	defer stop()
	body := `{"username":"admin","password":"a-long-admin-password","device_id":"cli-test"}`
	resp, err := http.Post(url+"/api/v1/auth/login", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login with PRODAYS_ADMIN_PASSWORD: %d\n%s", resp.StatusCode, logs.String())
	}
	if strings.Contains(logs.String(), "a-long-admin-password") {
		t.Fatal("the password from the environment was logged")
	}
}

func TestUnknownCommand(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"frobnicate"}, nil, &out, &errb)
	if exitCode(err) != 2 || !strings.Contains(errb.String(), `unknown command "frobnicate"`) {
		t.Fatalf("got exit %d, stderr %q", exitCode(err), errb.String())
	}
}

// TestServeRefusesBadNumberInEnv: a number or duration option whose
// PRODAYS_ variable does not parse stops serve with exit 2 and a message
// naming the variable (it used to start on the default, silently); the
// command line still wins over a good value.
func TestServeRefusesBadNumberInEnv(t *testing.T) {
	for env, val := range map[string]string{"PRODAYS_WRITE_WAIT": "abc", "PRODAYS_MAX_CONNECTIONS": "many", "PRODAYS_MEMORY_LIMIT_MB": "1e3"} {
		t.Setenv(env, val)
		var out, errb bytes.Buffer
		err := run(context.Background(), []string{"serve", "--db", filepath.Join(t.TempDir(), "p.db"), "--addr", "127.0.0.1:0"}, nil, &out, &errb)
		if exitCode(err) != 2 || !strings.Contains(errb.String(), env+`="`+val+`"`) {
			t.Errorf("%s=%s: exit %d, stderr %q", env, val, exitCode(err), errb.String())
		}
		os.Unsetenv(env)
	}
	fs := newFlagSet("serve", io.Discard)
	n := fs.Int("write-queue", 512, "")
	t.Setenv("PRODAYS_WRITE_QUEUE", "900")
	if err := checkEnvNumbers(fs); err != nil || *n != 900 {
		t.Fatalf("PRODAYS_WRITE_QUEUE=900: %d, %v", *n, err)
	}
	if err := fs.Parse([]string{"--write-queue", "7"}); err != nil || *n != 7 {
		t.Fatalf("--write-queue 7 after the environment: %d, %v", *n, err)
	}
}
