-- +goose Up
-- A check-in applied when received is its own idempotency record (issue
-- #4: a check-in is the hottest write of the sync engine, and its row in
-- mutations repeated the checkins row, with the payload, in two more
-- b-trees). The stored table of mutations becomes mutation_log: every
-- mutation but the check-ins applied on receipt (quarantine = its rejected
-- rows, flagged ones, undos, trainee mutations). The view mutations is
-- what the table was: mutation_log, and one row per check-in without a
-- row there, whose first outcome was applied (payload rebuilt from the
-- checkins row: the fields of a check-in, recorded_at as stored).
ALTER TABLE mutations RENAME TO mutation_log;

-- What a mutations row held that checkins did not: the device's seq (seq
-- reuse, gaps) and the user who pushed it.
ALTER TABLE checkins ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE checkins ADD COLUMN username TEXT NOT NULL DEFAULT '';
UPDATE checkins SET seq = m.seq, username = m.username FROM mutation_log m WHERE m.id = checkins.id;
CREATE INDEX checkins_device_seq ON checkins (device_id, seq);
-- The engine looks a batch's seqs up only up to the device's max_seq:
-- make sure it covers every stored seq.
UPDATE devices SET max_seq = max(max_seq, COALESCE((SELECT max(seq) FROM mutation_log m WHERE m.device_id = devices.id), 0));

CREATE VIEW mutations AS
SELECT id, device_id, username, seq, type, status, code, message, recorded_at, occurred_at, received_at, payload, occurred_capped,
       review_decision, review_decided_by, review_decided_at, review_reason
FROM mutation_log
UNION ALL
SELECT c.id, c.device_id, c.username, c.seq, 'attendance.check_in', 'applied', '', '', c.recorded_at, c.occurred_at, c.received_at,
       json_object('id', c.id, 'seq', c.seq, 'type', 'attendance.check_in', 'recorded_at', c.recorded_at, 'activity_id', c.activity_id,
                   'person', json_object('kind', c.person_kind, 'id', c.original_person_id), 'method', c.method),
       c.occurred_capped, NULL, NULL, NULL, NULL
FROM checkins c WHERE NOT EXISTS (SELECT 1 FROM mutation_log m WHERE m.id = c.id);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
