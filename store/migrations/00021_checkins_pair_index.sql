-- +goose Up
-- One index on checkins for both ways it is searched, instead of two (a
-- check-in is the hottest write of the sync engine, issue #4):
--   - a pair's check-ins (presence recompute: person_kind, person_id,
--     activity_id, status = 'applied'), was checkins_presence;
--   - a person's check-ins (held walk-in check-ins: person_kind,
--     person_id, status = 'flagged'; merges: person_kind, person_id), was
--     checkins_person. A person has at most a few check-ins per activity,
--     so status is filtered in the index after the (kind, person) prefix.
-- Every other query of checkins goes by id (primary key).
CREATE INDEX checkins_pair ON checkins (person_kind, person_id, activity_id, status);
DROP INDEX checkins_presence;
DROP INDEX checkins_person;

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
