package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"prodays/store"
	"prodays/sync/protocol"
)

// remaining is what the phone still holds after the batch: the push's
// outbox_size counts the batch (sync protocol, Push), so a phone that sent
// everything has 0 pending (issue #18, finding 7); never below 0.
func remaining(req *protocol.PushRequest) int {
	return max(req.OutboxSize-len(req.Mutations), 0)
}

// deviceAfter is the device object of the push answer (sync protocol 1.1,
// Push) once the batch's rows are written: the epoch, max_seq (the
// highest of before and of the batch) and the gaps, from the gaps before
// and the seqs the batch stored (protocol.AddSeqs: no scan of the device's
// history).
func (b *batch) deviceAfter(batchMax int64, stored []int64) (protocol.DeviceState, error) {
	epoch, err := b.st.historyEpoch(b.t)
	if err != nil {
		return protocol.DeviceState{}, err
	}
	d := protocol.DeviceState{Epoch: epoch, MaxSeq: max(b.oldMax, batchMax)}
	d.Gaps = protocol.AddSeqs(b.oldGaps, b.oldMax, d.MaxSeq, stored)
	return d, nil
}

// deviceGaps computes a device's gaps from every seq it has stored (the
// mutations view), up to maxSeq.
func deviceGaps(ctx context.Context, q store.Querier, device string, maxSeq int64) ([][2]int64, error) {
	seqs, err := store.Query(ctx, q, store.ScanOne[int64], `SELECT DISTINCT seq FROM mutations WHERE device_id = ? AND seq > 0 AND seq <= ? ORDER BY seq`, device, maxSeq)
	if err != nil {
		return nil, fmt.Errorf("device gaps: %w", err)
	}
	return protocol.SeqGaps(seqs, maxSeq), nil
}

// deviceState reads the device object of a pull answer: the stored
// max_seq and gaps of the device (computed from its seqs when a database
// from before migration 00037 has not stored them yet), and epoch.
func deviceState(ctx context.Context, q store.Querier, device, epoch string) (protocol.DeviceState, error) {
	d := protocol.DeviceState{Epoch: epoch, Gaps: [][2]int64{}}
	var gaps sql.NullString
	err := q.QueryRowContext(ctx, `SELECT max_seq, seq_gaps FROM devices WHERE id = ?`, device).Scan(&d.MaxSeq, &gaps)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return d, nil
	case err != nil:
		return d, fmt.Errorf("device state: %w", err)
	case gaps.Valid && json.Unmarshal([]byte(gaps.String), &d.Gaps) == nil:
		if d.Gaps == nil {
			d.Gaps = [][2]int64{}
		}
		return d, nil
	}
	d.Gaps, err = deviceGaps(ctx, q, device, d.MaxSeq)
	return d, err
}
