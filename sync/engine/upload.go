package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"prodays"
	"prodays/internal/derrors"
	"prodays/sync/protocol"
	"prodays/sync/review"
)

// UploadOutbox applies an outbox file saved on a phone and uploaded by a
// supervisor, on behalf of the device's owner p, like Push but for the
// clock: a file carries no clock reference at upload (its client_time is
// when it was saved, not now), so the device's last known offset (from
// its pushes) corrects its recorded_at times, or none when it never
// pushed; never the upload time (sync protocol, Time). The device's
// offset, skew mark, last push and outbox size are left as its own last
// push set them. Errors: as Push.
func (e *Engine) UploadOutbox(ctx context.Context, p *prodays.Principal, req *protocol.PushRequest) (_ *protocol.PushResponse, _ UploadClock, err error) {
	defer derrors.Wrap(&err, "engine.UploadOutbox(%s)", req.DeviceID)
	if p == nil || req.DeviceID == "" {
		return nil, UploadClock{}, prodays.Errorf(protocol.ECodeDeviceMismatch, "The file names no device of this user.")
	}
	return e.push(ctx, p, req, true)
}

// lastKnownClock is the clock offset of the device's last push, or none.
func (t *txc) lastKnownClock(deviceID string) (UploadClock, error) {
	var off int64
	var pushed bool
	err := t.QueryRowContext(t.ctx, `SELECT clock_offset_ms, last_push_at IS NOT NULL FROM devices WHERE id = ?`, deviceID).Scan(&off, &pushed)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !pushed) {
		return UploadClock{Source: review.ClockNone}, nil
	}
	if err != nil {
		return UploadClock{}, fmt.Errorf("device clock: %w", err)
	}
	return UploadClock{Source: review.ClockLastKnownOffset, OffsetMS: off}, nil
}
