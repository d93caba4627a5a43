-- +goose Up
-- An attendance row carries its own place in the change sequence (issue
-- #4: a check-in is the hottest write of the sync engine, and its
-- change-log row repeated the attendance key in three more b-trees).
--
-- attendance.seq is a value of the one server sequence (the changes
-- table's AUTOINCREMENT counter in sqlite_sequence, reserved by
-- store.NextSeqs): every write of an attendance row takes a new one, and a
-- pull reads the change log and the attendance rows above its cursor,
-- merged by seq. A deleted presence still leaves a 'delete' entry in
-- changes (its row is gone). Other entities are unchanged.
ALTER TABLE attendance ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;

-- The sequence's counter exists even if the log was never written.
INSERT INTO sqlite_sequence (name, seq)
SELECT 'changes', (SELECT COALESCE(max(seq), 0) FROM changes)
WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'changes');

-- Each row takes the seq of its change-log upsert, which it replaces.
UPDATE attendance SET seq = c.seq FROM changes c
WHERE c.entity = 'attendance' AND c.op = 'upsert'
  AND c.entity_id = attendance.activity_id || ':' || attendance.person_kind || ':' || attendance.person_id;

-- A presence whose entry names a former scope of its activity (an
-- activity moved by a re-import: its entries kept the keys they were
-- recorded under, so the new scope's phones never got them and the former
-- scope's kept them): the entry becomes a delete under those keys, and the
-- row takes a new seq, as store.RescopeAttendance does from now on.
UPDATE changes SET op = 'delete' WHERE entity = 'attendance' AND op = 'upsert' AND seq IN (
  SELECT a.seq FROM attendance a JOIN activities x ON x.id = a.activity_id JOIN changes c ON c.seq = a.seq
  WHERE a.seq > 0 AND (c.region_code IS NOT NULLIF(x.region_code, '') OR c.establishment_code IS NOT NULLIF(x.establishment_code, '')));
UPDATE attendance SET seq = (SELECT seq FROM sqlite_sequence WHERE name = 'changes') + r.n
FROM (SELECT a.rowid AS rid, row_number() OVER (ORDER BY a.seq) AS n FROM attendance a JOIN changes c ON c.seq = a.seq
      WHERE a.seq > 0 AND c.op = 'delete') r
WHERE attendance.rowid = r.rid;
UPDATE sqlite_sequence SET seq = max(seq, (SELECT COALESCE(max(seq), 0) FROM attendance)) WHERE name = 'changes';

-- The upserts now carried by their rows leave the log.
DELETE FROM changes WHERE entity = 'attendance' AND op = 'upsert' AND seq IN (SELECT seq FROM attendance WHERE seq > 0);

-- A row without an entry (written by hand, never by the engine) keeps
-- seq 0: pulls did not carry it and still do not.
CREATE INDEX attendance_seq ON attendance (seq);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
