package simulate

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"prodays/store"
)

// RawUpsertResult is the speed of bare SQLite upserts on a store.DB.
type RawUpsertResult struct {
	Rows, Transactions int
	Elapsed            time.Duration
}

// RowsPerSecond is the upsert limit the measure found.
func (r RawUpsertResult) RowsPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Rows) / r.Elapsed.Seconds()
}

// rawEpoch is the clock of the raw upsert's ids, a row a second.
var rawEpoch = time.Date(2026, 3, 21, 8, 0, 0, 0, time.UTC)

// RawUpsert measures the ceiling that SQLite puts under a push: rows
// upserted by one prepared statement into a scratch table keyed by a
// UUIDv7 text id (MutationID, like mutations), batchSize rows per write transaction
// (one commit, so one fsync with synchronous=FULL, per batch, like a
// push), on db's write connection with its production pragmas. Nothing of
// the engine runs: the push path's throughput divided by this is the share
// of the limit it reaches. The scratch table is dropped at the end.
func RawUpsert(ctx context.Context, db *store.DB, rows, batchSize int) (RawUpsertResult, error) {
	res := RawUpsertResult{Rows: rows}
	if rows < 1 || batchSize < 1 {
		return res, fmt.Errorf("raw upsert: rows %d and batch size %d must be positive", rows, batchSize)
	}
	if _, err := db.Write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS sim_raw_upsert (id TEXT PRIMARY KEY, device_id TEXT NOT NULL, seq INTEGER NOT NULL, n INTEGER NOT NULL) STRICT`); err != nil {
		return res, err
	}
	defer db.Write.ExecContext(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS sim_raw_upsert`)
	start := time.Now()
	for done := 0; done < rows; {
		n := min(batchSize, rows-done)
		err := db.WithTx(ctx, func(tx *sql.Tx) error {
			st, err := tx.PrepareContext(ctx, `INSERT INTO sim_raw_upsert (id, device_id, seq, n) VALUES (?, ?, ?, 1)
				ON CONFLICT (id) DO UPDATE SET n = n + 1`)
			if err != nil {
				return err
			}
			defer st.Close()
			for i := done; i < done+n; i++ {
				if _, err := st.ExecContext(ctx, MutationID("raw-upsert", int64(i), rawEpoch.Add(time.Duration(i)*time.Second)), "raw-upsert", i); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return res, fmt.Errorf("raw upsert: %w", err)
		}
		done += n
		res.Transactions++
	}
	res.Elapsed = time.Since(start)
	return res, nil
}
