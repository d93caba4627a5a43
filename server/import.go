package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"prodays"
	"prodays/importer"
	"prodays/store"
)

// runImport is `prodays import --dir DIR | [--kind K] FILE...`: it imports
// the office's files, prints a summary per file (counts, warnings) and the
// trainee fields changed on the server since the last import (kept, unless
// --overwrite-local-changes) on stdout and, when a file has errors, each error as FILE:LINE:COLUMN:
// message on stderr, imports nothing and exits 1.
func runImport(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	fs := newFlagSet("import", stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: prodays import [--db PATH] [--skip-invalid] [--overwrite-local-changes] --dir DIR\n       prodays import [--db PATH] [--skip-invalid] [--overwrite-local-changes] [--kind KIND] FILE...\n\nOptions:")
		fs.PrintDefaults()
	}
	bindDB(fs, &cfg)
	dir := fs.String("dir", "", "import every known file of this folder (regions, establishments, organizations, companies, trainees, speakers, activities, users; .csv or .xlsx)")
	kind := fs.String("kind", "", "kind of the FILEs (default: from each file's name, e.g. trainees.csv)")
	skip := fs.Bool("skip-invalid", false, "import the valid rows of files with errors, and list the bad ones")
	overwrite := fs.Bool("overwrite-local-changes", false, "take the file's value of a trainee field changed on the server since the last import (a phone's update, a decided conflict); by default the server's value is kept and listed")
	maxMB := fs.Int64("max-mb", importer.DefaultMaxBytes>>20, "largest file accepted, in MB")
	bindImportInflated(fs, &cfg)
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return errUsageShown
	}
	if (*dir == "") == (len(files) == 0) || (*dir != "" && *kind != "") || *maxMB <= 0 || cfg.ImportMaxInflatedMB <= 0 {
		fmt.Fprintln(stderr, "prodays import: give either --dir DIR or FILE... (--kind only with files)")
		fs.Usage()
		return errUsageShown
	}
	db, err := store.Open(ctx, cfg.DB, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	opts := importer.Options{SkipInvalid: *skip, OverwriteLocalChanges: *overwrite, MaxBytes: *maxMB << 20, MaxInflatedBytes: cfg.ImportMaxInflatedMB << 20, Username: "cli"}
	var rep *importer.Report
	if *dir != "" {
		rep, err = importer.ImportDir(ctx, db, *dir, opts)
	} else {
		rep, err = importer.ImportFiles(ctx, db, files, *kind, opts)
	}
	if rep != nil {
		printImportReport(stdout, stderr, rep)
	}
	switch prodays.ErrorCode(err) {
	case prodays.EImportInvalid:
		return &exitError{code: 1, err: errors.New("import refused: " + prodays.ErrorMessage(err))}
	case prodays.ETooLarge:
		return &exitError{code: 1, err: errors.New("import refused: " + prodays.ErrorMessage(err) +
			" Nothing was imported; if the file is genuine, raise --import-max-inflated-mb.")}
	}
	return plainError(err)
}

// printImportReport writes one summary line per file and its warnings on
// stdout, and every error on stderr.
func printImportReport(stdout, stderr io.Writer, rep *importer.Report) {
	warnings := map[string][]importer.Issue{}
	for _, w := range rep.Warnings {
		warnings[w.File] = append(warnings[w.File], w)
	}
	for _, f := range rep.Files {
		c := f.Counts
		if rep.Imported {
			fmt.Fprintf(stdout, "%s (%s): %d rows: %d inserted, %d updated, %d unchanged, %d skipped; %d warnings\n",
				f.File, f.Kind, f.Rows, c.Inserted, c.Updated, c.Unchanged, c.Skipped, f.Warnings)
		} else {
			fmt.Fprintf(stdout, "%s (%s): %d rows, %d errors, %d warnings: not imported\n", f.File, f.Kind, f.Rows, f.Errors, f.Warnings)
		}
		for _, w := range warnings[f.File] {
			fmt.Fprintf(stdout, "  warning: %s\n", w)
		}
	}
	for _, c := range rep.LocalChanges {
		what := "kept the server's value"
		if !c.Kept {
			what = "took the file's value"
		}
		fmt.Fprintf(stdout, "  changed on the server since the last import, %s: %s:%d: trainee %s %s: server %q, file %q\n",
			what, c.File, c.Line, c.TraineeID, c.Field, c.ServerValue, c.FileValue)
	}
	for _, e := range rep.Errors {
		fmt.Fprintln(stderr, e.String())
	}
}

// parseInterleaved parses flags that may come before, between or after
// the positional arguments (`user add NAME --role staff`), and returns the
// positional ones. "--" ends the flags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// plainError turns an *prodays.Error into its message alone, for the
// terminal; other errors pass unchanged.
func plainError(err error) error {
	var pe *prodays.Error
	if errors.As(err, &pe) {
		return errors.New(pe.Message)
	}
	return err
}
