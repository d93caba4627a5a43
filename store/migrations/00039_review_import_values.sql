-- +goose Up
-- Issue #18. A flag a supervisor rejected left its mutation rejected
-- (flag_rejected) but undecided, so it came back in the refused actions to
-- review as a new item. The decision closes it: such mutations take the
-- flag's decision (acknowledged, with who, when and the reason), as
-- engine.DecideFlag now writes it.
UPDATE mutation_log SET review_decision = 'acknowledged', review_decided_by = f.decided_by,
    review_decided_at = f.decided_at, review_reason = COALESCE(f.reason, '')
FROM flags f
WHERE f.mutation_id = mutation_log.id AND f.status = 'rejected' AND f.decided_by IS NOT NULL
    AND mutation_log.status = 'rejected' AND mutation_log.code = 'flag_rejected' AND mutation_log.review_decision IS NULL;

-- Issue #18, finding 2: each trainee's values in the last import of the
-- trainees file (importer), so that a re-import tells a field changed on the
-- server since (a phone's update, a decided conflict: kept by default,
-- reported) from one the file changes. fields is a JSON object by the
-- file's field names (last_name, first_name, establishment_code, program,
-- group, gender): one row a trainee. A trainee imported before this
-- migration has none: a field with a trainee_field_stamps row then counts
-- as changed on the server.
CREATE TABLE trainee_import_values (
    trainee_id TEXT PRIMARY KEY,
    fields     TEXT NOT NULL
) STRICT;

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
