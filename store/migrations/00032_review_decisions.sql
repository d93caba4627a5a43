-- +goose Up
-- Server-side decisions of the review console (issue #6).

-- A quarantined (rejected) mutation a supervisor has handled: it stays
-- rejected (the quarantine keeps it), with the decision ('acknowledged' or
-- 'counted_present'), who, when and why. NULL: still to review.
ALTER TABLE mutations ADD COLUMN review_decision TEXT CHECK (review_decision IN ('acknowledged', 'counted_present'));
ALTER TABLE mutations ADD COLUMN review_decided_by TEXT;
ALTER TABLE mutations ADD COLUMN review_decided_at TEXT;
ALTER TABLE mutations ADD COLUMN review_reason TEXT;

-- A clock-skewed device a supervisor has acknowledged: it leaves the
-- review queue; the offset and the skew mark stay (Devices screen).
ALTER TABLE devices ADD COLUMN skew_acknowledged_at TEXT;
ALTER TABLE devices ADD COLUMN skew_acknowledged_by TEXT;
ALTER TABLE devices ADD COLUMN skew_reason TEXT;

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
