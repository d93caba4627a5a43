-- +goose Up
-- Device binding (sync protocol 1.1, issue #13): a device id belongs to the
-- installation that first logged in with it, which proves it with its
-- device_secret. The column holds the hex SHA-256 of that secret (a random
-- value of at least 128 bits: a fast hash is enough, there is nothing to
-- guess from it). A device registered before this migration has none: its
-- next login gives it one (auth.Service.Login).
ALTER TABLE devices ADD COLUMN secret_hash TEXT;
