package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"prodays/simulate"
)

// runSimulate is `prodays simulate`: it replays a checkins.jsonl against a
// running server through the real login and push API (package simulate).
func runSimulate(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("simulate", stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: prodays simulate --file checkins.jsonl [--url http://127.0.0.1:8080] (--password-file F | --password P) [options]

Replays what the phones recorded as concurrent virtual phones, with the sync
protocol's retry rules. Every account of the file must have the same
password: set it first with --set-passwords (an admin session and
PUT /api/v1/admin/users/{username}/password, when the server has that route)
or on the server with `+"`prodays user passwd USERNAME --password-stdin`"+`.

Options:`)
		fs.PrintDefaults()
	}
	var (
		base, file, password, passwordFile string
		setPasswords                       bool
		adminUser, adminPasswordFile       string
		serverPID                          int
		opt                                simulate.Options
		seed                               uint64
		quiet                              bool
	)
	fs.StringVar(&base, "url", envString("PRODAYS_URL", "http://127.0.0.1:8080"), "base URL of the server (env PRODAYS_URL)")
	fs.StringVar(&file, "file", "", "checkins.jsonl to replay (required)")
	fs.StringVar(&password, "password", "", "password of every account (visible to ps: prefer --password-file or PRODAYS_SIM_PASSWORD)")
	fs.StringVar(&passwordFile, "password-file", "", "file whose first line is the password of every account")
	fs.BoolVar(&setPasswords, "set-passwords", false, "first set the password of every account of the file through an admin session")
	fs.StringVar(&adminUser, "admin-user", "admin", "admin account for --set-passwords")
	fs.StringVar(&adminPasswordFile, "admin-password-file", "", "file holding the admin's password for --set-passwords (or PRODAYS_ADMIN_PASSWORD)")
	fs.IntVar(&opt.Concurrency, "concurrency", 0, "phones pushing at the same time (default: every device of the file)")
	fs.Float64Var(&opt.Duplicate, "duplicate", 0, "share of batches sent twice (0 to 1)")
	fs.Float64Var(&opt.DropResponses, "drop-responses", 0, "share of push answers thrown away after the server answered, forcing a retry (0 to 1)")
	fs.BoolVar(&opt.AllAtOnce, "all-at-once", false, "log every phone in, then have them all push at the same moment (day's end)")
	fs.Uint64Var(&seed, "seed", 1, "seed of the random choices (duplicates, drops, jitter)")
	fs.BoolVar(&opt.Gzip, "gzip", false, "gzip the push bodies")
	fs.DurationVar(&opt.Timeout, "timeout", 30*time.Minute, "give up after this long")
	fs.IntVar(&serverPID, "server-pid", 0, "PID of a server on this machine: report its peak RSS and CPU time (Linux /proc)")
	fs.BoolVar(&quiet, "quiet", false, "no progress lines")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || file == "" {
		if err == nil {
			fs.Usage()
		}
		return errUsageShown
	}
	opt.Seed = seed
	for name, v := range map[string]float64{"duplicate": opt.Duplicate, "drop-responses": opt.DropResponses} {
		if v < 0 || v > 1 {
			return fmt.Errorf("--%s %v: want a share from 0 to 1", name, v)
		}
	}
	pw, err := secret(password, passwordFile, "PRODAYS_SIM_PASSWORD")
	if err != nil {
		return err
	}
	if pw == "" {
		return errors.New("no password: give --password-file, PRODAYS_SIM_PASSWORD or --password")
	}
	opt.Password = pw
	plan, err := simulate.LoadFile(file)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d devices, %d users, %d mutations\n", file, len(plan.Devices), len(plan.Usernames()), plan.Mutations)
	if setPasswords {
		apw, err := secret("", adminPasswordFile, "PRODAYS_ADMIN_PASSWORD")
		if err != nil {
			return err
		}
		c := simulate.NewClient(base, 4)
		// A device id of its own per run: each run is a new installation
		// (sync protocol 1.1, Device binding), with no secret to prove an
		// earlier run's id.
		admin, err := c.Login(ctx, adminUser, apw, "simulate-admin-"+uuid.NewString())
		if err != nil {
			return fmt.Errorf("admin login: %w", err)
		}
		if err := c.SetPasswords(ctx, admin, plan.Usernames(), pw); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password set for %d accounts\n", len(plan.Usernames()))
	}
	if !quiet {
		opt.Progress = stdout
	}
	var before simulate.ProcStat
	if serverPID > 0 {
		if before, err = simulate.ReadProc(serverPID); err != nil {
			return fmt.Errorf("--server-pid: %w", err)
		}
	}
	sum, runErr := simulate.New(plan, base, opt).Run(ctx)
	sum.Print(stdout)
	if serverPID > 0 {
		after, err := simulate.ReadProc(serverPID)
		if err != nil {
			return fmt.Errorf("--server-pid: %w", err)
		}
		fmt.Fprintf(stdout, "server pid %d: peak RSS %.1f MB, CPU %s during the replay (%.0f%% of one core)\n", serverPID,
			float64(after.PeakRSSBytes)/1e6, (after.CPU - before.CPU).Round(10*time.Millisecond),
			100*(after.CPU-before.CPU).Seconds()/max(sum.Elapsed.Seconds()+sum.LoginElapsed.Seconds(), 1e-9))
	}
	return runErr
}

// secret returns value, else the first line of file, else the environment
// variable env.
func secret(value, file, env string) (string, error) {
	if value != "" {
		return value, nil
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		line, _, _ := strings.Cut(string(b), "\n")
		return strings.TrimSuffix(line, "\r"), nil
	}
	return os.Getenv(env), nil
}
