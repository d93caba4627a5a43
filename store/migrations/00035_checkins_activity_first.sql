-- +goose Up
-- The check-ins index that every check-in writes is keyed by activity
-- first (issue #4): a batch from a phone names one activity, so its
-- entries land side by side in the index instead of at each person's
-- place across the whole index (a batch of 500 touched about a page per
-- entry there, each written to the WAL at commit). It serves the presence
-- recompute (activity, kind, person, status = 'applied').
DROP INDEX checkins_pair;
CREATE INDEX checkins_pair ON checkins (activity_id, person_kind, person_id, status);

-- The searches by person (a walk-in's check-ins: held until its
-- registration arrives, moved by a merge) only ever name a walk-in. A
-- check-in that names a trainee registered on a phone (or an unknown UUID,
-- held) is marked walk_in, and only those are in the by-person index: a
-- roster trainee's check-in does not write it.
ALTER TABLE checkins ADD COLUMN walk_in INTEGER NOT NULL DEFAULT 0;
UPDATE checkins SET walk_in = 1 WHERE person_kind = 'trainee' AND NOT EXISTS (
  SELECT 1 FROM trainees t WHERE t.id = checkins.person_id AND t.source <> 'walk_in');
CREATE INDEX checkins_walk_in ON checkins (person_kind, person_id) WHERE walk_in = 1;

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
