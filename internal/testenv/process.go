package testenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"prodays/store"
)

// ProcessOptions tune Process.
type ProcessOptions struct {
	// Seed, when set, fills the database before the server starts (users
	// with CreateUser, rosters with fixture or synctest).
	Seed func(tb testing.TB, db *store.DB)
	// Args are added to `prodays serve --addr … --db …`.
	Args []string
	// Env is added to the server's environment (KEY=VALUE).
	Env []string
}

// Proc is the prodays binary running as a process of its own.
type Proc struct {
	Cmd  *exec.Cmd
	Addr string // host:port it listens on
	DB   string // its database file
	Log  *LogBuffer
	args []string
	env  []string
	done chan struct{} // closed when the process has ended
}

// PID is the server's process id (for /proc/PID/status: VmHWM, VmRSS).
func (p *Proc) PID() int { return p.Cmd.Process.Pid }

// Kill sends SIGKILL and waits for the process to end.
func (p *Proc) Kill() {
	p.Cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop sends SIGTERM (a graceful shutdown) and waits for the end.
func (p *Proc) Stop() {
	p.Cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
}

// Restart starts the same server again on the same address and database
// after Kill or Stop.
func (p *Proc) Restart(tb testing.TB) {
	tb.Helper()
	p.start(tb)
}

// ProcessAdminPassword is the password of the `admin` account that a
// process server creates on its first start.
const ProcessAdminPassword = "process-admin-password-1"

// Process builds the prodays command (once per test binary), seeds a fresh
// database file with opt.Seed and starts `prodays serve` on a free
// loopback port. The Env's URL is the process's, its DB a connection of
// the test's own to the same file (SQLite WAL: both may read and write),
// and its Proc the process, which is killed at the end of the test. Logins
// and requests go through Env.Login and Env.Do as with New.
func Process(tb testing.TB, opt ProcessOptions) *Env {
	tb.Helper()
	bin := Binary(tb)
	path := filepath.Join(tb.TempDir(), "prodays.db")
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if opt.Seed != nil {
		opt.Seed(tb, db)
	}
	p := &Proc{Addr: FreeAddr(tb), DB: path, args: opt.Args,
		env: append([]string{"PRODAYS_ADMIN_PASSWORD=" + ProcessAdminPassword, "PRODAYS_JWT_KEY=" + string(TestKey), "PRODAYS_LOG_LEVEL=warn"}, opt.Env...)}
	p.Cmd = &exec.Cmd{Path: bin}
	p.start(tb)
	tb.Cleanup(p.Kill)
	return &Env{DB: db, URL: "http://" + p.Addr, Proc: p}
}

func (p *Proc) start(tb testing.TB) {
	tb.Helper()
	p.Log = &LogBuffer{}
	args := append([]string{"serve", "--addr", p.Addr, "--db", p.DB}, p.args...)
	p.Cmd = exec.Command(p.Cmd.Path, args...)
	p.Cmd.Env = append(os.Environ(), p.env...)
	p.Cmd.Stdout, p.Cmd.Stderr = p.Log, p.Log
	if err := p.Cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		cmd.Wait()
		close(done)
	}(p.Cmd, p.done)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			tb.Fatalf("prodays serve exited at start:\n%s", p.Log)
		default:
		}
		resp, err := http.Get("http://" + p.Addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("prodays serve did not answer /healthz in 60 s:\n%s", p.Log)
}

// FreeAddr returns a loopback host:port that was free a moment ago.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// Binary builds the prodays command once per test binary and returns its
// path. It is written to a fixed folder under the system's temporary
// directory, under a name of its source tree (replaced by a rename, so
// test binaries running at once each exec a whole file).
func Binary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		goBin, err := goCommand()
		if err != nil {
			buildErr = fmt.Errorf("build prodays: %w", err)
			return
		}
		dir := filepath.Join(os.TempDir(), "prodays-testbin")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			buildErr = err
			return
		}
		tmp := filepath.Join(dir, "prodays."+strconv.Itoa(os.Getpid()))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, goBin, "build", "-o", tmp, "prodays/server")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build prodays/server: %v\n%s", err, out)
			return
		}
		// One name per source tree: test binaries of other checkouts
		// (git worktrees) sharing the temporary directory never exec
		// this one's build, nor this one theirs.
		_, src, _, _ := runtime.Caller(0)
		sum := sha256.Sum256([]byte(src))
		buildPath = filepath.Join(dir, "prodays-"+hex.EncodeToString(sum[:6]))
		buildErr = os.Rename(tmp, buildPath)
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return buildPath
}
