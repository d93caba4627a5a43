package simulate_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"prodays/internal/testenv"
)

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// TestMain removes the server binary built for the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// serverBinary builds the real prodays binary once per test process
// (go build -o … ./server) into a temporary folder that TestMain removes.
func serverBinary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "prodays-sim-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binDir, binPath = dir, filepath.Join(dir, "prodays")
		out, err := exec.Command("go", "build", "-o", binPath, "prodays/server").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return binPath
}

// freeAddr returns a free loopback address (127.0.0.1:port).
func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serverProc is the real server running as a separate process.
type serverProc struct {
	tb    testing.TB
	bin   string
	db    string
	addr  string
	log   *os.File
	extra []string
	cmd   *exec.Cmd
	done  chan struct{}
}

// startServer runs `prodays serve` on db at addr (extra flags appended),
// logging to log, and waits until /healthz answers.
func startServer(tb testing.TB, bin, db, addr string, log *os.File, extra ...string) *serverProc {
	tb.Helper()
	p := &serverProc{tb: tb, bin: bin, db: db, addr: addr, log: log, extra: extra}
	p.start()
	tb.Cleanup(func() { p.kill() })
	return p
}

func (p *serverProc) URL() string { return "http://" + p.addr }

func (p *serverProc) Pid() int { return p.cmd.Process.Pid }

func (p *serverProc) start() {
	p.tb.Helper()
	args := append([]string{"serve", "--addr", p.addr, "--db", p.db, "--insecure-cookies"}, p.extra...)
	cmd := exec.Command(p.bin, args...)
	cmd.Env = append(os.Environ(), "PRODAYS_JWT_KEY="+string(testenv.TestKey))
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		p.tb.Fatal(err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(p.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(p.URL() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-p.done:
			p.tb.Fatalf("server exited at start (see %s)", p.log.Name())
		case <-time.After(50 * time.Millisecond):
		}
	}
	p.tb.Fatalf("server did not answer /healthz within 60 s")
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *serverProc) kill() {
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p.cmd = nil
}

// stop sends SIGTERM (graceful shutdown) and waits up to 30 s.
func (p *serverProc) stop() {
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.tb.Errorf("server did not stop within 30 s of SIGTERM")
		p.kill()
	}
	p.cmd = nil
}

// waitCtx sleeps d or until ctx ends.
func waitCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
