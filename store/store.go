// Package store is the SQLite adapter of prodays (modernc.org/sqlite, pure
// Go). It opens the database with one writer connection and a pool of
// readers, applies the embedded migrations at start, and gives the other
// adapters transactions and the shared bookkeeping: the change log (one
// server sequence) and the audit log. It holds the accounts, devices and
// editions with their rules (users.go, devices.go, editions.go) and the
// export and erasure of a trainee's personal data (personal.go, erase.go).
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"prodays"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"prodays/internal/derrors"
	"prodays/sync/protocol"
)

//go:embed migrations/*.sql
var migrations embed.FS

// TimeFormat is how every time is stored: RFC 3339 in UTC with
// milliseconds, so that stored times sort as text.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// FormatTime renders t as stored (UTC, milliseconds).
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// ParseTime parses a stored time (FormatTime's, or any RFC 3339 time, as
// phones send them); "" (a time not recorded) is the zero time. The error
// quotes the text: a stored time that does not parse is a corrupt row,
// never a zero time.
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t, nil
}

// DB is an open prodays database: Write has exactly one connection (SQLite
// has one writer; serialising in the pool avoids SQLITE_BUSY), Read is a
// pool of read-only connections that WAL lets run beside the writer.
type DB struct {
	Path  string
	Write *sql.DB
	Read  *sql.DB
	// Now is the clock; tests pin it.
	Now func() time.Time

	busy time.Duration // busy timeout of the connections (Options)
	ckpt *checkpointer // Options.BackgroundCheckpoint, else nil
}

// Options tune Open. The zero value is the production setting.
type Options struct {
	// Readers is the size of the read pool (default: 2 × GOMAXPROCS, at least 4).
	Readers int
	// BusyTimeout is how long a connection waits for a lock (default 10 s).
	BusyTimeout time.Duration
	// NoAutoCheckpoint turns SQLite's automatic checkpoints off on the
	// writer (PRAGMA wal_autocheckpoint=0): set it when Litestream
	// replicates the database (package replicate), which checkpoints
	// itself after copying the WAL.
	NoAutoCheckpoint bool
	// BackgroundCheckpoint moves the WAL's checkpoints off the writer's
	// commits: SQLite's automatic checkpoint is off on the writer, and a
	// connection of the DB's own checkpoints (PASSIVE) every
	// CheckpointEvery until Close. Ignored with NoAutoCheckpoint
	// (Litestream checkpoints then). prodays serve sets it.
	BackgroundCheckpoint bool
	// CheckpointEvery is the background checkpoint's period (default
	// DefaultCheckpointEvery).
	CheckpointEvery time.Duration
}

// dsn builds a modernc DSN: busy_timeout first (so that it applies while
// the other pragmas take their locks), then WAL, foreign keys and FULL
// synchronous (a committed batch survives power loss: nothing recorded on a
// phone may be lost).
func dsn(path string, busy time.Duration, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		// The writer keeps its statement journals (multi-row statements
		// of a write transaction) in memory: they only roll back a
		// failed statement inside a transaction, never durability.
		q.Add("_pragma", "temp_store(MEMORY)")
		// A page cache of 16 MiB (SQLite's default is 2 MiB) keeps the
		// day's end's working set (trainee lookups, the check-in and
		// presence indexes) off pread and cache spills (issue #17).
		q.Add("_pragma", "cache_size(-16384)")
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// Open opens (creating it and its folder when missing) the database at
// path (a new database is created owner-only, mode 0600, and SQLite gives
// its -wal and -shm the database's mode), applies pending migrations and returns it. It refuses a database
// written by a newer prodays (one whose schema version is above the
// highest embedded migration), with an error that says so.
func Open(ctx context.Context, path string, opt Options) (*DB, error) {
	if opt.BusyTimeout == 0 {
		opt.BusyTimeout = 10 * time.Second
	}
	if opt.Readers == 0 {
		opt.Readers = max(4, 2*runtime.GOMAXPROCS(0))
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create database folder: %w", err)
		}
	}
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	wdsn := dsn(path, opt.BusyTimeout, false)
	if opt.NoAutoCheckpoint || opt.BackgroundCheckpoint {
		wdsn += "&_pragma=wal_autocheckpoint%280%29"
	}
	w, err := sql.Open("sqlite", wdsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	oneConnection(w)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn(path, opt.BusyTimeout, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(opt.Readers)
	r.SetMaxIdleConns(opt.Readers)
	db := &DB{Path: path, Write: w, Read: r, Now: time.Now, busy: opt.BusyTimeout}
	if opt.BackgroundCheckpoint && !opt.NoAutoCheckpoint {
		if opt.CheckpointEvery <= 0 {
			opt.CheckpointEvery = DefaultCheckpointEvery
		}
		if db.ckpt, err = startCheckpointer(path, opt.BusyTimeout, opt.CheckpointEvery); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

// oneConnection makes db a pool of one connection kept open for good
// (the writer, the checkpointer): its pragmas are set once.
func oneConnection(db *sql.DB) {
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
}

// Close stops the background checkpoints and closes the pools; the last
// close checkpoints the WAL.
func (db *DB) Close() error {
	var errs []error
	if db.ckpt != nil {
		errs = append(errs, db.ckpt.close())
	}
	return errors.Join(append(errs, db.Read.Close(), db.Write.Close())...)
}

// ErrNewerSchema is returned by Open for a database written by a newer
// version of prodays.
var ErrNewerSchema = errors.New("database schema is newer than this prodays")

func migrationsFS() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err)
	}
	return sub
}

func migrate(ctx context.Context, db *sql.DB) error {
	p, err := goose.NewProvider(goose.DialectSQLite3, db, migrationsFS())
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("migrations: read schema version: %w", err)
	}
	sources := p.ListSources()
	latest := sources[len(sources)-1].Version
	if current > latest {
		return fmt.Errorf("%w: the database is at schema version %d, this binary knows up to %d; run the newer prodays or restore a backup", ErrNewerSchema, current, latest)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	return nil
}

// SchemaVersion reports the applied schema version and the highest one this
// binary embeds; /readyz compares them.
func (db *DB) SchemaVersion(ctx context.Context) (current, latest int64, err error) {
	defer derrors.Wrap(&err, "store.SchemaVersion")
	p, err := goose.NewProvider(goose.DialectSQLite3, db.Read, migrationsFS())
	if err != nil {
		return 0, 0, err
	}
	current, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, 0, err
	}
	s := p.ListSources()
	return current, s[len(s)-1].Version, nil
}

// WithTx runs fn in one write transaction (BEGIN IMMEDIATE through the
// single writer connection) and commits when fn returns nil; it rolls back
// otherwise and returns fn's error.
func (db *DB) WithTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Execer is what a *sql.Tx, *sql.DB and *sql.Conn have in common.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Change is one entry of the change log (sync protocol, Pull): the entity
// kind ("trainee", "activity", "attendance", …), its id, the op ("upsert"
// or "delete") and the scope keys used to filter pulls.
type Change struct {
	Entity            string
	ID                string
	Op                string
	RegionCode        string
	EstablishmentCode string
}

// RecordChange appends c to the change log with the next server sequence,
// replacing the entity's previous entry (a page holds the net effect). An
// attendance upsert is not a log entry but the row's own seq (migration
// 00034): it is refused here, record it with TouchAttendance.
func RecordChange(ctx context.Context, tx Execer, c Change) error {
	if c.Entity == "attendance" && c.Op == "upsert" {
		return fmt.Errorf("record change: attendance upsert %s goes through TouchAttendance", c.ID)
	}
	_, err := tx.ExecContext(ctx,
		`INSERT OR REPLACE INTO changes (entity, entity_id, op, region_code, establishment_code) VALUES (?, ?, ?, ?, ?)`,
		c.Entity, c.ID, c.Op, nullable(c.RegionCode), nullable(c.EstablishmentCode))
	if err != nil {
		return fmt.Errorf("record change %s %s: %w", c.Entity, c.ID, err)
	}
	return nil
}

// NextSeqs reserves n (≥ 1) consecutive values of the server sequence
// that orders the change log (sync protocol, Pull: "every server-side
// change takes the next value of one server sequence") and returns the
// first. The counter is the changes table's AUTOINCREMENT entry in
// sqlite_sequence, so the log's own inserts never take a reserved value.
// Attendance rows take their seq from here (migration 00034).
func NextSeqs(ctx context.Context, tx Execer, n int) (int64, error) {
	if n < 1 {
		return 0, fmt.Errorf("reserve %d sequence values", n)
	}
	var top int64
	err := tx.QueryRowContext(ctx, `UPDATE sqlite_sequence SET seq = max(seq, (SELECT COALESCE(max(seq), 0) FROM changes)) + ?
		WHERE name = 'changes' RETURNING seq`, n).Scan(&top)
	if errors.Is(err, sql.ErrNoRows) {
		// Only if the counter's row was removed by hand.
		err = tx.QueryRowContext(ctx, `INSERT INTO sqlite_sequence (name, seq) SELECT 'changes', max(
			(SELECT COALESCE(max(seq), 0) FROM changes), (SELECT COALESCE(max(seq), 0) FROM attendance)) + ? RETURNING seq`, n).Scan(&top)
	}
	if err != nil {
		return 0, fmt.Errorf("reserve sequence values: %w", err)
	}
	return top - int64(n) + 1, nil
}

// TouchAttendance records a change of the presence (activityID, kind,
// personID), whose pull id and scope keys c gives: the row takes the next
// server sequence value, and the entity's entry in changes (a delete
// recorded before the row came back) is dropped. A row that no longer
// exists is recorded as a delete in changes instead. (The parts are given,
// not parsed from c.ID: an activity id may contain the separator.)
func TouchAttendance(ctx context.Context, tx Execer, c Change, activityID, kind, personID string) error {
	seq, err := NextSeqs(ctx, tx, 1)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE attendance SET seq = ? WHERE activity_id = ? AND person_kind = ? AND person_id = ?`, seq, activityID, kind, personID)
	if err != nil {
		return fmt.Errorf("record change attendance %s: %w", c.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		c.Op = "delete"
		return RecordChange(ctx, tx, c)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM changes WHERE entity = 'attendance' AND entity_id = ?`, c.ID); err != nil {
		return fmt.Errorf("record change attendance %s: %w", c.ID, err)
	}
	return nil
}

// RescopeAttendance records that the presences of activityID moved to
// another scope (an import changed the activity's establishment or
// region; oldRegion and oldEstablishment are the former keys): a delete
// of each under the former keys, so that the phones of the former scope
// drop it, then each row takes a new seq, so that the phones of the new
// scope pull it (pulls scope a presence by its activity's current keys).
func RescopeAttendance(ctx context.Context, tx Execer, activityID, oldRegion, oldEstablishment string) error {
	ids, err := Query(ctx, tx, func(s Scanner) (string, error) {
		var kind, person string
		err := s.Scan(&kind, &person)
		return protocol.AttendanceID(activityID, kind, person), err
	}, `SELECT person_kind, person_id FROM attendance WHERE activity_id = ? ORDER BY seq`, activityID)
	if err != nil {
		return fmt.Errorf("rescope attendance of %s: %w", activityID, err)
	}
	if len(ids) == 0 {
		return nil
	}
	for _, id := range ids {
		if err := RecordChange(ctx, tx, Change{Entity: "attendance", ID: id, Op: "delete", RegionCode: oldRegion, EstablishmentCode: oldEstablishment}); err != nil {
			return err
		}
	}
	first, err := NextSeqs(ctx, tx, len(ids))
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE attendance SET seq = ?1 + r.n - 1
		FROM (SELECT rowid AS rid, row_number() OVER (ORDER BY seq) AS n FROM attendance WHERE activity_id = ?2) r
		WHERE attendance.rowid = r.rid`, first, activityID); err != nil {
		return fmt.Errorf("rescope attendance of %s: %w", activityID, err)
	}
	return nil
}

// AuditEntry is prodays.AuditEntry.
type AuditEntry = prodays.AuditEntry

// nullable maps "" to SQL NULL.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// createPrivate creates the file at path, empty and mode 0600 whatever the
// umask, when it does not exist. SQLite would create it 0644 (less the
// umask) and give its -wal and -shm the same mode; it takes an empty file
// for a new database. An existing file is left as it is.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("create database %s: %w", path, err)
	}
	// The umask can only take bits away from 0600; Chmod makes it exact.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("create database %s: %w", path, err)
	}
	return f.Close()
}
