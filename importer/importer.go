// Package importer reads the office's roster files (CSV or XLSX, one kind
// of entity per file, columns as in the office's formats README) and
// upserts them into the store: regions, establishments, organizations,
// companies, trainees, speakers, activities and users.
//
// An import run validates every row of every file first, against the
// database and the rows of the same run; a file with any error imports
// nothing (unless Options.SkipInvalid). Each file is then written in one
// transaction, by id: new rows are inserted, changed rows updated, and
// unchanged rows left alone, so re-importing the same files is a no-op
// (no write, no change-log entry). Text is stored as given after trimming
// outer white space and Unicode NFC normalisation; nothing else is
// altered.
package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"prodays"
	"prodays/importer/internal/sheet"
	"prodays/store"
)

// Kinds of import file, in dependency order: a kind only refers to kinds
// before it. A file's kind is its base name without extension
// ("trainees.csv", "trainees.xlsx").
const (
	KindRegions        = "regions"
	KindEstablishments = "establishments"
	KindOrganizations  = "organizations"
	KindCompanies      = "companies"
	KindTrainees       = "trainees"
	KindSpeakers       = "speakers"
	KindActivities     = "activities"
	KindUsers          = "users"
)

// Kinds lists every kind in the order ImportDir imports them.
var Kinds = []string{KindRegions, KindEstablishments, KindOrganizations, KindCompanies, KindTrainees, KindSpeakers, KindActivities, KindUsers}

// DefaultMaxBytes is the default cap on one file's size: 50 MB
// (prodays.DefaultImportMaxBytes).
const DefaultMaxBytes = prodays.DefaultImportMaxBytes

// DefaultMaxInflatedBytes is the default cap on what one XLSX workbook
// inflates to, all its zip entries together: 64 MiB (the biggest real
// file, trainees of the 2026 edition, inflates to 13.8 MB).
const DefaultMaxInflatedBytes = sheet.DefaultMaxInflatedBytes

// Options is prodays.ImportOptions.
type Options = prodays.ImportOptions

func withDefaults(o Options) Options {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxInflatedBytes <= 0 {
		o.MaxInflatedBytes = DefaultMaxInflatedBytes
	}
	if o.Username == "" {
		o.Username = "cli"
	}
	return o
}

// Issue is an error or a warning about an import file, with its file,
// line, column and message (see sheet.Issue).
type Issue = sheet.Issue

// Counts is prodays.ImportCounts.
type Counts = prodays.ImportCounts

// addCounts adds o to c.
func addCounts(c *Counts, o Counts) {
	c.Inserted += o.Inserted
	c.Updated += o.Updated
	c.Unchanged += o.Unchanged
	c.Skipped += o.Skipped
}

// FileReport is prodays.ImportFileReport.
type FileReport = prodays.ImportFileReport

// Report is prodays.ImportReport.
type Report = prodays.ImportReport

// input is one file to import: its name (as shown in issues), kind and a
// way to open it.
type input struct {
	file string
	kind string
	xlsx bool
	size int64 // -1 when unknown
	open func() (io.ReadCloser, error)
}

// KindOf returns the kind named by a file's base name ("trainees.csv" →
// "trainees"), and whether the name is an XLSX workbook. It returns an
// *prodays.Error (EInvalid) for an unknown name or extension.
func KindOf(name string) (kind string, xlsx bool, err error) {
	base := strings.ToLower(filepath.Base(name))
	ext := filepath.Ext(base)
	switch ext {
	case ".csv":
	case ".xlsx":
		xlsx = true
	default:
		return "", false, prodays.Errorf(prodays.EInvalid, "%s: not a .csv or .xlsx file", name)
	}
	kind = strings.TrimSuffix(base, ext)
	if !slices.Contains(Kinds, kind) {
		return "", false, prodays.Errorf(prodays.EInvalid, "%s: unknown kind %q: name the file after its kind (%s) or give the kind", name, kind, strings.Join(Kinds, ", "))
	}
	return kind, xlsx, nil
}

// checkKind returns an *prodays.Error for a kind that is not in Kinds.
func checkKind(kind string) error {
	if !slices.Contains(Kinds, kind) {
		return prodays.Errorf(prodays.EInvalid, "unknown kind %q: want one of %s", kind, strings.Join(Kinds, ", "))
	}
	return nil
}

// fileInput builds the input of a file on disk; kind "" takes it from the
// file name.
func fileInput(path, kind string) (input, error) {
	k, xlsx, err := KindOf(path)
	if kind != "" {
		if err := checkKind(kind); err != nil {
			return input{}, err
		}
		xlsx = strings.EqualFold(filepath.Ext(path), ".xlsx")
		k, err = kind, nil
	}
	if err != nil {
		return input{}, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return input{}, fmt.Errorf("import %s: %w", path, err)
	}
	if st.IsDir() {
		return input{}, prodays.Errorf(prodays.EInvalid, "%s is a folder: use ImportDir (--dir)", path)
	}
	return input{file: path, kind: k, xlsx: xlsx, size: st.Size(), open: func() (io.ReadCloser, error) { return os.Open(path) }}, nil
}

// ImportFiles imports the files at paths in one run, in dependency order.
// kind "" takes each file's kind from its name. It returns the report and,
// when the run was refused because of errors, an *prodays.Error with code
// prodays.EImportInvalid; any other error is an I/O or database failure.
func ImportFiles(ctx context.Context, db *store.DB, paths []string, kind string, opts Options) (*Report, error) {
	var ins []input
	for _, p := range paths {
		in, err := fileInput(p, kind)
		if err != nil {
			return nil, err
		}
		ins = append(ins, in)
	}
	slices.SortStableFunc(ins, func(a, b input) int {
		return slices.Index(Kinds, a.kind) - slices.Index(Kinds, b.kind)
	})
	return importInputs(ctx, db, ins, opts)
}

// ImportFile imports one file; kind "" takes it from the file's name. See
// ImportFiles for the results.
func ImportFile(ctx context.Context, db *store.DB, path, kind string, opts Options) (*Report, error) {
	return ImportFiles(ctx, db, []string{path}, kind, opts)
}

// Import imports one file read from r (an upload). name is the file's name
// as shown in issues; its extension tells CSV from XLSX (a name without
// either is sniffed). kind "" takes the kind from name. r is read up to
// Options.MaxBytes+1 bytes. See ImportFiles for the results.
func Import(ctx context.Context, db *store.DB, r io.Reader, name, kind string, opts Options) (*Report, error) {
	k, xlsx, err := KindOf(name)
	if kind != "" {
		if err := checkKind(kind); err != nil {
			return nil, err
		}
		k, err = kind, nil
		switch strings.ToLower(filepath.Ext(name)) {
		case ".xlsx":
			xlsx = true
		case ".csv":
			xlsx = false
		default:
			br := &peekReader{r: r}
			xlsx = br.hasPrefix("PK\x03\x04")
			r = br
		}
	}
	if err != nil {
		return nil, err
	}
	in := input{file: name, kind: k, xlsx: xlsx, size: -1, open: func() (io.ReadCloser, error) { return io.NopCloser(r), nil }}
	return importInputs(ctx, db, []input{in}, opts)
}

// ImportDir imports every known file of dir (regions, establishments,
// organizations, companies, trainees, speakers, activities, users; .csv or
// .xlsx) in that order, in one run. Other files are ignored. Both a .csv
// and an .xlsx of one kind is an error. See ImportFiles for the results.
func ImportDir(ctx context.Context, db *store.DB, dir string, opts Options) (*Report, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", dir, err)
	}
	found := map[string][]string{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		k, _, err := KindOf(e.Name())
		if err != nil {
			continue
		}
		found[k] = append(found[k], filepath.Join(dir, e.Name()))
	}
	var paths []string
	var issues []Issue
	for _, k := range Kinds {
		switch fs := found[k]; len(fs) {
		case 0:
		case 1:
			paths = append(paths, fs[0])
		default:
			issues = append(issues, Issue{File: dir, Message: fmt.Sprintf("several files of kind %s (%s): keep one", k, strings.Join(fs, ", "))})
		}
	}
	if len(issues) > 0 {
		rep := &Report{Counts: map[string]Counts{}, Errors: issues}
		return rep, invalid(rep)
	}
	if len(paths) == 0 {
		return nil, prodays.Errorf(prodays.EInvalid, "%s holds no import file (%s, as .csv or .xlsx)", dir, strings.Join(Kinds, ", "))
	}
	return ImportFiles(ctx, db, paths, "", opts)
}

// invalid is the error of a refused run.
func invalid(rep *Report) error {
	msg := fmt.Sprintf("%d errors; nothing was imported", len(rep.Errors))
	if len(rep.Errors) == 1 {
		msg = "1 error; nothing was imported"
	}
	return &prodays.Error{Code: prodays.EImportInvalid, Message: msg, Detail: map[string]any{"errors": rep.Errors, "warnings": rep.Warnings}}
}

// importInputs runs an import: read and validate every input (in order,
// each against the database and the inputs before it), then, unless that
// found errors that SkipInvalid does not cover, write each in its own
// transaction.
func importInputs(ctx context.Context, db *store.DB, ins []input, opts Options) (*Report, error) {
	opts = withDefaults(opts)
	rep := &Report{Counts: map[string]Counts{}, Errors: []Issue{}, Warnings: []Issue{}, LocalChanges: []LocalChange{}}
	rf, err := loadRefs(ctx, db)
	if err != nil {
		return nil, err
	}
	type planned struct {
		fr    *FileReport
		recs  []*record
		fatal bool // the whole file is refused
	}
	var plan []planned
	refuse := false
	for _, in := range ins {
		fr := &FileReport{File: in.file, Kind: in.kind}
		rep.Files = append(rep.Files, fr)
		sh, issues, err := readInput(in, opts)
		if err != nil {
			return nil, err
		}
		var res validation
		if sh != nil && len(issues) == 0 {
			res = validate(in.kind, sh, rf)
			fr.Rows = len(sh.Rows)
		} else {
			res.fatal = true
		}
		issues = append(issues, res.errors...)
		fr.Errors, fr.Warnings = len(issues), len(res.warnings)
		fr.Counts.Skipped = res.skipped
		rep.Errors = append(rep.Errors, issues...)
		rep.Warnings = append(rep.Warnings, res.warnings...)
		if len(issues) > 0 && (!opts.SkipInvalid || res.fatal) {
			refuse = true
		}
		plan = append(plan, planned{fr: fr, recs: res.records, fatal: res.fatal})
	}
	if refuse {
		for _, p := range plan {
			p.fr.Counts.Skipped = 0
		}
		return rep, invalid(rep)
	}
	for i, p := range plan {
		if err := write(ctx, db, ins[i].kind, p.recs, p.fr, opts, &rep.LocalChanges); err != nil {
			return rep, fmt.Errorf("import %s: %w", p.fr.File, err)
		}
	}
	for _, p := range plan {
		c := rep.Counts[p.fr.Kind]
		addCounts(&c, p.fr.Counts)
		rep.Counts[p.fr.Kind] = c
	}
	rep.Imported = true
	return rep, nil
}

// readInput opens and reads one input, refusing it by size first when the
// size is known. A workbook that would inflate past the limits is an
// *prodays.Error (ETooLarge) naming the file and the limit.
func readInput(in input, opts Options) (*sheet.Sheet, []Issue, error) {
	if in.size > opts.MaxBytes {
		return nil, []Issue{sheet.TooLarge(in.file, opts.MaxBytes)}, nil
	}
	rc, err := in.open()
	if err != nil {
		return nil, nil, fmt.Errorf("import %s: %w", in.file, err)
	}
	defer rc.Close()
	if !in.xlsx {
		return sheet.ReadCSV(in.file, rc, opts.MaxBytes)
	}
	sh, issues, err := sheet.ReadXLSX(in.file, rc, sheet.Limits{MaxBytes: opts.MaxBytes, MaxInflatedBytes: opts.MaxInflatedBytes})
	var ie *sheet.InflatedError
	if errors.As(err, &ie) {
		detail := map[string]any{"file": ie.File, "max_inflated_bytes": opts.MaxInflatedBytes}
		if ie.Entry != "" {
			detail["entry"], detail["max_entry_bytes"] = ie.Entry, ie.Limit
		}
		return nil, nil, &prodays.Error{Code: prodays.ETooLarge, Message: ie.Error() + ".", Detail: detail}
	}
	return sh, issues, err
}

// peekReader lets Import sniff the first bytes of an upload.
type peekReader struct {
	r    io.Reader
	head []byte
}

func (p *peekReader) hasPrefix(s string) bool {
	buf := make([]byte, len(s))
	n, _ := io.ReadFull(p.r, buf)
	p.head = buf[:n]
	return string(p.head) == s
}

func (p *peekReader) Read(b []byte) (int, error) {
	if len(p.head) > 0 {
		n := copy(b, p.head)
		p.head = p.head[n:]
		return n, nil
	}
	return p.r.Read(b)
}
