package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"prodays"
	"prodays/auth"
	"prodays/store"
)

// maxPasswordLength bounds what --password-stdin reads, in bytes.
const maxPasswordLength = 1024

// runUser is `prodays user add|passwd|list|disable …`: account management
// from the command line, audited as "cli".
func runUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	usage := func() {
		fmt.Fprintln(stderr, `Usage:
  prodays user add USERNAME --role staff|supervisor|admin [--establishment CODE | --region CODE] [--full-name NAME] [--password-stdin]
  prodays user passwd USERNAME --password-stdin
  prodays user list
  prodays user disable USERNAME
Every subcommand takes --db PATH. The password is the first line of stdin.`)
	}
	if len(args) == 0 {
		usage()
		return errUsageShown
	}
	sub, args := args[0], args[1:]
	cfg := DefaultConfig()
	fs := newFlagSet("user "+sub, stderr)
	fs.Usage = usage
	bindDB(fs, &cfg)
	var u prodays.User
	var pwStdin bool
	switch sub {
	case "add":
		fs.StringVar(&u.Role, "role", "", "staff, supervisor or admin")
		fs.StringVar(&u.EstablishmentCode, "establishment", "", "establishment code (staff)")
		fs.StringVar(&u.RegionCode, "region", "", "region code (supervisor)")
		fs.StringVar(&u.FullName, "full-name", "", "full name")
		fs.BoolVar(&pwStdin, "password-stdin", false, "read the password from the first line of stdin (without it the account has no usable password)")
	case "passwd":
		fs.BoolVar(&pwStdin, "password-stdin", false, "read the password from the first line of stdin (required)")
	case "list", "disable":
	default:
		fmt.Fprintf(stderr, "prodays user: unknown subcommand %q\n", sub)
		usage()
		return errUsageShown
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return errUsageShown
	}
	wantArgs := 1
	if sub == "list" {
		wantArgs = 0
	}
	if len(pos) != wantArgs || (sub == "passwd" && !pwStdin) {
		usage()
		return errUsageShown
	}
	var hash string
	if pwStdin {
		pw, err := readPassword(stdin)
		if err != nil {
			return err
		}
		if hash, err = auth.HashPassword(pw); err != nil {
			return err
		}
	}
	db, err := store.Open(ctx, cfg.DB, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "add":
		u.Username = pos[0]
		nu, err := db.CreateUser(ctx, u, hash, "cli")
		if err != nil {
			return plainError(err)
		}
		fmt.Fprintf(stdout, "user %s created (%s)\n", nu.Username, describeScope(nu))
		if hash == "" {
			fmt.Fprintf(stdout, "no password yet: set one with `prodays user passwd %s --password-stdin`\n", nu.Username)
		}
	case "passwd":
		if err := db.SetPassword(ctx, pos[0], hash, "cli"); err != nil {
			return plainError(err)
		}
		fmt.Fprintf(stdout, "password of %s changed\n", pos[0])
	case "disable":
		if err := db.DisableUser(ctx, pos[0], "cli"); err != nil {
			return plainError(err)
		}
		fmt.Fprintf(stdout, "user %s disabled\n", pos[0])
	case "list":
		users, err := db.ListUsers(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USERNAME\tROLE\tESTABLISHMENT\tREGION\tPASSWORD\tDISABLED\tFULL NAME")
		for _, u := range users {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Username, u.Role, dash(u.EstablishmentCode), dash(u.RegionCode),
				yesNo(u.HasPassword), yesNo(u.Disabled), strings.ReplaceAll(u.FullName, "\n", " "))
		}
		return tw.Flush()
	}
	return nil
}

// readPassword reads the first line of r (without its line ending) and
// checks the length policy.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReaderSize(io.LimitReader(r, maxPasswordLength+2), maxPasswordLength+2).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	switch {
	case len(pw) > maxPasswordLength:
		return "", fmt.Errorf("password longer than %d bytes", maxPasswordLength)
	case !utf8.ValidString(pw):
		return "", errors.New("password is not UTF-8 text")
	}
	if err := auth.ValidatePassword(pw); err != nil {
		return "", errors.New(prodays.ErrorMessage(err))
	}
	return pw, nil
}

func describeScope(u *prodays.User) string {
	switch {
	case u.EstablishmentCode != "":
		return fmt.Sprintf("%s of %s, region %s", u.Role, u.EstablishmentCode, u.RegionCode)
	case u.RegionCode != "":
		return fmt.Sprintf("%s of region %s", u.Role, u.RegionCode)
	}
	return u.Role
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
