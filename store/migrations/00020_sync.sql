-- +goose Up
-- What the sync engine (sync/engine) needs beyond 00001.

-- The occurred_at of a mutation later than its receipt is capped at the
-- receipt and marked (sync protocol, Time).
ALTER TABLE mutations ADD COLUMN occurred_capped INTEGER NOT NULL DEFAULT 0;
ALTER TABLE checkins ADD COLUMN occurred_capped INTEGER NOT NULL DEFAULT 0;

-- Check-ins of a person (held walk-in check-ins, merges).
CREATE INDEX checkins_person ON checkins (person_kind, person_id, status);
CREATE INDEX undo_targets_person ON undo_targets (person_kind, person_id);
-- Flags of a mutation (decisions, convergence checks) and of an activity
-- (close refuses while flags are open).
CREATE INDEX flags_mutation ON flags (mutation_id);
CREATE INDEX flags_activity ON flags (activity_id, status);
CREATE INDEX merge_proposals_status ON merge_proposals (region_code, status);
CREATE INDEX conflicts_status ON conflicts (region_code, status);

-- trainee_field_writes keeps every accepted write of a trainee field, so
-- that conflicts (different values from the same base_version) are found
-- whatever the arrival order; trainee_field_stamps holds the winner.
CREATE TABLE trainee_field_writes (
    trainee_id   TEXT NOT NULL,
    field        TEXT NOT NULL,
    value        TEXT NOT NULL,
    occurred_at  TEXT NOT NULL,
    device_id    TEXT NOT NULL,
    mutation_id  TEXT NOT NULL,
    base_version INTEGER NOT NULL,
    PRIMARY KEY (trainee_id, field, mutation_id)
) STRICT;
CREATE INDEX trainee_field_writes_base ON trainee_field_writes (trainee_id, field, base_version);

-- refused_registrations remembers a refused trainee.register, so that a
-- check-in of that walk-in arriving later is refused with the same reason
-- instead of waiting forever.
CREATE TABLE refused_registrations (
    trainee_id  TEXT PRIMARY KEY,
    mutation_id TEXT NOT NULL,
    code        TEXT NOT NULL,
    message     TEXT NOT NULL
) STRICT;

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
