// Command prodays is the Pro'Days attendance server and its admin tools.
//
//	prodays [serve] [--addr :8080] [--db ./data/prodays.db]   serve the API and the PWA
//	prodays import --dir DIR | FILE...                       import the office's files
//	prodays user add|passwd|list|disable …                   manage accounts
//	prodays simulate --file checkins.jsonl [--url URL] …      replay phones' check-ins
//
// Run `prodays help` for every command and option.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errUsageShown) {
			fmt.Fprintln(os.Stderr, "prodays:", err)
		}
		os.Exit(exitCode(err))
	}
}

// errUsageShown means the command already printed what was wrong.
var errUsageShown = errors.New("usage shown")

// exitError carries a specific exit status.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, errUsageShown) {
		return 2
	}
	return 1
}

// command is one subcommand of prodays.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error
}

// commands lists every subcommand; each lives in its own file of this
// package.
func commands() []command {
	return []command{
		{"serve", "serve the API and the PWA (the default)", runServe},
		{"healthcheck", "exit 0 when a running server answers /healthz", runHealthcheck},
		{"import", "import the office's files (--dir DIR or FILE...)", runImport},
		{"user", "manage accounts (add, passwd, list, disable)", runUser},
		{"simulate", "replay a checkins.jsonl against a running server as many phones", runSimulate},
		{"backup", "copy the live database (once with --out, or --every 15m --dir)", runBackup},
		{"restore", "put a backup, or a replica's state (--from URL [--at TIME]), in place of a stopped server's database", runRestore},
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	name := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		name, args = args[0], args[1:]
	}
	if name == "help" || name == "-h" || name == "--help" {
		usage(stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, args, stdin, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "prodays: unknown command %q\n\n", name)
	usage(stderr)
	return errUsageShown
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: prodays [command] [options]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun `prodays COMMAND -h` for a command's options.")
}
