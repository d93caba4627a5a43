package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"prodays/internal/derrors"
)

// MetaHistoryEpoch is the app_meta key of the database's history epoch
// (sync protocol 1.1, History): 32 lowercase hex digits (128 random
// bits), made by migration 00037 and anew by every restore.
const MetaHistoryEpoch = "history_epoch"

// Epoch returns the database's history epoch (MetaHistoryEpoch). Errors:
// a database without one (not migrated) or a failed read.
func Epoch(ctx context.Context, q Execer) (string, error) {
	var v string
	err := q.QueryRowContext(ctx, `SELECT value FROM app_meta WHERE key = ?`, MetaHistoryEpoch).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errors.New("the database has no history epoch (not migrated)")
	}
	return v, err
}

// RenewEpoch gives the database a new random history epoch and returns it
// (sync protocol 1.1, History: a restored database starts a new history,
// so that the cursors issued before the restore are answered resync).
// Restores call it through FinalizeRestore.
func RenewEpoch(ctx context.Context, q Execer) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	epoch := hex.EncodeToString(b[:])
	_, err := q.ExecContext(ctx, `INSERT INTO app_meta (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, MetaHistoryEpoch, epoch)
	if err != nil {
		return "", fmt.Errorf("renew the history epoch: %w", err)
	}
	return epoch, nil
}

// FinalizeRestore is the one step every restore (a backup file: Restore;
// a replica: restore --from) runs on the restored copy at path after
// copying it and before putting it in place, while no server has it open:
// it renews the copy's history epoch (RenewEpoch) and closes the file
// with its WAL checkpointed and removed, so that path alone is the
// database. It returns the new epoch. The copy must be a prodays database
// (CheckIntegrity); one written before migration 00037 gets its epoch from
// the migration when the server opens it, which is new too.
func FinalizeRestore(ctx context.Context, path string) (epoch string, err error) {
	defer derrors.Wrap(&err, "store.FinalizeRestore(%s)", path)
	if _, err := os.Stat(path); err != nil {
		return "", err
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return "", err
	}
	db.SetMaxOpenConns(1)
	var migrated int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM app_meta WHERE key = ?`, MetaHistoryEpoch).Scan(&migrated); err != nil {
		db.Close()
		return "", err
	}
	if migrated == 1 {
		epoch, err = RenewEpoch(ctx, db)
		if err != nil {
			db.Close()
			return "", err
		}
	}
	// The last connection's close checkpoints the WAL into the file and
	// removes it.
	if err := db.Close(); err != nil {
		return "", err
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(path + suffix); err == nil {
			return "", fmt.Errorf("%s%s is still there after closing the database", path, suffix)
		}
	}
	return epoch, nil
}
