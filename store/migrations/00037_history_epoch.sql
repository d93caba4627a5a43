-- +goose Up
-- History epoch (sync protocol 1.1, History; issue #14): an opaque random
-- id of this database's history, made here (at creation, or on the first
-- open of an older database) and made anew by every restore
-- (store.FinalizeRestore). Pull cursors carry it: a cursor of another
-- epoch is answered 409 resync, because a restored server's sequence may
-- have gone back.
INSERT INTO app_meta (key, value) VALUES ('history_epoch', lower(hex(randomblob(16))))
    ON CONFLICT (key) DO NOTHING;

-- The device's gaps (sync protocol 1.1, Push: the device object) as a JSON
-- array of [first, last] ranges, kept up to date by every push so that an
-- answer needs no scan of the device's seqs. NULL: not computed yet (a
-- device of an older database); the next push computes it from the stored
-- seqs once.
ALTER TABLE devices ADD COLUMN seq_gaps TEXT;

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
