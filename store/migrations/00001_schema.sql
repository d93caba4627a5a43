-- +goose Up
-- The whole domain schema of prodays v1. Text columns hold data exactly as
-- imported (trimmed, NFC). Times are RFC 3339 UTC strings with milliseconds
-- (strftime('%Y-%m-%dT%H:%M:%fZ')), so that they sort as text.

CREATE TABLE app_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE regions (
    code            TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    official_number INTEGER NOT NULL UNIQUE
) STRICT;

INSERT INTO regions (code, name, official_number) VALUES
    ('TTA', 'Tanger-Tétouan-Al Hoceïma', 1),
    ('ORI', 'L''Oriental', 2),
    ('FM', 'Fès-Meknès', 3),
    ('RSK', 'Rabat-Salé-Kénitra', 4),
    ('BMK', 'Béni Mellal-Khénifra', 5),
    ('CS', 'Casablanca-Settat', 6),
    ('MS', 'Marrakech-Safi', 7),
    ('DT', 'Drâa-Tafilalet', 8),
    ('SM', 'Souss-Massa', 9),
    ('GON', 'Guelmim-Oued Noun', 10),
    ('LSH', 'Laâyoune-Sakia El Hamra', 11),
    ('DOE', 'Dakhla-Oued Ed-Dahab', 12);

CREATE TABLE editions (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    theme      TEXT NOT NULL DEFAULT '',
    start_date TEXT NOT NULL,
    end_date   TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE establishments (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    city        TEXT NOT NULL DEFAULT '',
    region_code TEXT NOT NULL REFERENCES regions (code)
) STRICT;
CREATE INDEX establishments_region ON establishments (region_code);

-- trainees holds roster trainees (source 'roster', id = matricule) and
-- walk-ins registered on phones (source 'walk_in', id = the phone's UUID).
-- A merged walk-in keeps its row as a tombstone (deleted = 1, merged_into).
-- version counts accepted changes; it is the base_version of trainee.update.
CREATE TABLE trainees (
    id                 TEXT PRIMARY KEY,
    last_name          TEXT NOT NULL,
    first_name         TEXT NOT NULL,
    establishment_code TEXT NOT NULL REFERENCES establishments (code),
    program            TEXT NOT NULL DEFAULT '',
    group_name         TEXT NOT NULL DEFAULT '',
    gender             TEXT NOT NULL DEFAULT '' CHECK (gender IN ('', 'F', 'M')),
    source             TEXT NOT NULL DEFAULT 'roster' CHECK (source IN ('roster', 'walk_in')),
    version            INTEGER NOT NULL DEFAULT 1,
    deleted            INTEGER NOT NULL DEFAULT 0,
    merged_into        TEXT,
    registered_by      TEXT,            -- mutation id of a walk-in's trainee.register
    updated_at         TEXT NOT NULL
) STRICT;
CREATE INDEX trainees_establishment ON trainees (establishment_code);

-- trainee_field_stamps is the last-writer-wins register of each trainee
-- field changed by trainee.update (sync protocol, Trainee fields).
CREATE TABLE trainee_field_stamps (
    trainee_id   TEXT NOT NULL REFERENCES trainees (id),
    field        TEXT NOT NULL,
    value        TEXT NOT NULL,
    occurred_at  TEXT NOT NULL,
    device_id    TEXT NOT NULL,
    mutation_id  TEXT NOT NULL,
    base_version INTEGER NOT NULL,
    PRIMARY KEY (trainee_id, field)
) STRICT;

CREATE TABLE companies (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    sector      TEXT NOT NULL DEFAULT '',
    city        TEXT NOT NULL DEFAULT '',
    region_code TEXT NOT NULL REFERENCES regions (code)
) STRICT;

CREATE TABLE organizations (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    type TEXT NOT NULL DEFAULT 'other' CHECK (type IN ('company', 'association', 'public_body', 'school', 'other'))
) STRICT;

CREATE TABLE speakers (
    id              TEXT PRIMARY KEY,
    last_name       TEXT NOT NULL,
    first_name      TEXT NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    title           TEXT NOT NULL DEFAULT ''
) STRICT;

-- activities: status 'open' or 'closed' (the attendance sheet is signed off).
CREATE TABLE activities (
    id                 TEXT PRIMARY KEY,
    kind               TEXT NOT NULL CHECK (kind IN ('meeting', 'company_visit')),
    title              TEXT NOT NULL,
    date               TEXT NOT NULL,
    start_time         TEXT NOT NULL,
    end_time           TEXT NOT NULL,
    establishment_code TEXT NOT NULL REFERENCES establishments (code),
    company_id         TEXT REFERENCES companies (id),
    region_code        TEXT NOT NULL REFERENCES regions (code),
    capacity           INTEGER NOT NULL DEFAULT 0,
    edition_id         INTEGER REFERENCES editions (id),
    status             TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    closed_at          TEXT,
    closed_by          TEXT,
    close_reason       TEXT
) STRICT;
CREATE INDEX activities_establishment ON activities (establishment_code);
CREATE INDEX activities_region_date ON activities (region_code, date);

CREATE TABLE activity_speakers (
    activity_id TEXT NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    speaker_id  TEXT NOT NULL REFERENCES speakers (id),
    position    INTEGER NOT NULL,
    PRIMARY KEY (activity_id, speaker_id)
) STRICT;
CREATE INDEX activity_speakers_speaker ON activity_speakers (speaker_id);

-- users: staff have establishment_code (and the region of it), supervisors
-- region_code, admins neither. password_hash is NULL until a password is
-- set (imported accounts). scope_version grows whenever role or scope
-- changes; pull cursors carry it (409 resync).
CREATE TABLE users (
    username           TEXT PRIMARY KEY,
    full_name          TEXT NOT NULL DEFAULT '',
    role               TEXT NOT NULL CHECK (role IN ('staff', 'supervisor', 'admin')),
    establishment_code TEXT REFERENCES establishments (code),
    region_code        TEXT REFERENCES regions (code),
    password_hash      TEXT,
    disabled           INTEGER NOT NULL DEFAULT 0,
    scope_version      INTEGER NOT NULL DEFAULT 1,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    CHECK (role <> 'staff' OR establishment_code IS NOT NULL),
    CHECK (role <> 'supervisor' OR region_code IS NOT NULL)
) STRICT;

-- devices: one row per installation of the app (device_id from the phone).
CREATE TABLE devices (
    id              TEXT PRIMARY KEY,
    username        TEXT NOT NULL REFERENCES users (username),
    first_seen_at   TEXT NOT NULL,
    last_seen_at    TEXT NOT NULL,
    last_push_at    TEXT,
    app_version     TEXT NOT NULL DEFAULT '',
    clock_offset_ms INTEGER NOT NULL DEFAULT 0,
    clock_skewed    INTEGER NOT NULL DEFAULT 0,
    outbox_size     INTEGER NOT NULL DEFAULT 0,
    max_seq         INTEGER NOT NULL DEFAULT 0,
    user_agent      TEXT NOT NULL DEFAULT '',
    last_address    TEXT NOT NULL DEFAULT '',
    revoked_at      TEXT,
    revoked_by      TEXT
) STRICT;
CREATE INDEX devices_username ON devices (username);

-- refresh_tokens are stored as SHA-256 hashes. A family is one login; the
-- reuse of a spent token revokes the whole family.
CREATE TABLE refresh_tokens (
    id          TEXT PRIMARY KEY,
    family_id   TEXT NOT NULL,
    username    TEXT NOT NULL REFERENCES users (username),
    device_id   TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    revoked_at  TEXT,
    replaced_by TEXT
) STRICT;
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- mutations is the idempotency index of every mutation ever received (by
-- its id, the idempotency key) with its first outcome. Rejected ones are the
-- quarantine: payload keeps what the phone sent.
CREATE TABLE mutations (
    id          TEXT PRIMARY KEY,
    device_id   TEXT NOT NULL,
    username    TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    type        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('applied', 'flagged', 'rejected')),
    code        TEXT NOT NULL DEFAULT '',
    message     TEXT NOT NULL DEFAULT '',
    recorded_at TEXT NOT NULL DEFAULT '',
    occurred_at TEXT NOT NULL DEFAULT '',
    received_at TEXT NOT NULL,
    payload     TEXT NOT NULL
) STRICT;
CREATE INDEX mutations_device_seq ON mutations (device_id, seq);
CREATE INDEX mutations_status ON mutations (status) WHERE status <> 'applied';

-- checkins: every attendance.check_in received, by mutation id. status
-- 'applied' counts; 'flagged' waits for a supervisor; 'rejected' never
-- counts. person_id follows merges; original_person_id keeps what the
-- phone sent.
CREATE TABLE checkins (
    id                 TEXT PRIMARY KEY,
    activity_id        TEXT NOT NULL,
    person_kind        TEXT NOT NULL CHECK (person_kind IN ('trainee', 'speaker')),
    person_id          TEXT NOT NULL,
    original_person_id TEXT NOT NULL,
    device_id          TEXT NOT NULL,
    method             TEXT NOT NULL,
    recorded_at        TEXT NOT NULL,
    occurred_at        TEXT NOT NULL,
    received_at        TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('applied', 'flagged', 'rejected'))
) STRICT;
CREATE INDEX checkins_presence ON checkins (activity_id, person_kind, person_id);

-- undo_targets: the check-in ids named by each attendance.undo. The
-- check-in may not have arrived yet (observed-remove set: the undo still
-- cancels it when it does).
CREATE TABLE undo_targets (
    undo_id     TEXT NOT NULL,
    checkin_id  TEXT NOT NULL,
    activity_id TEXT NOT NULL,
    person_kind TEXT NOT NULL,
    person_id   TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('applied', 'flagged', 'rejected')),
    PRIMARY KEY (undo_id, checkin_id)
) STRICT;
CREATE INDEX undo_targets_checkin ON undo_targets (checkin_id);

-- attendance is the materialised presence of a person at an activity,
-- recomputed from checkins, undo_targets and the override whenever one of
-- them changes for that pair.
CREATE TABLE attendance (
    activity_id     TEXT NOT NULL REFERENCES activities (id),
    person_kind     TEXT NOT NULL CHECK (person_kind IN ('trainee', 'speaker')),
    person_id       TEXT NOT NULL,
    present         INTEGER NOT NULL,
    checked_in_at   TEXT,
    check_in_ids    TEXT NOT NULL DEFAULT '[]',
    override        TEXT CHECK (override IN ('present', 'absent')),
    override_reason TEXT,
    override_by     TEXT,
    override_at     TEXT,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (activity_id, person_kind, person_id)
) STRICT;
CREATE INDEX attendance_person ON attendance (person_kind, person_id);

-- flags: mutations stored but held for a supervisor (late after close,
-- outside the activity's date window), and marks such as clock skew.
CREATE TABLE flags (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    mutation_id TEXT,
    activity_id TEXT,
    device_id   TEXT,
    region_code TEXT,
    detail      TEXT NOT NULL DEFAULT '{}',
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'rejected')),
    created_at  TEXT NOT NULL,
    decided_by  TEXT,
    decided_at  TEXT,
    reason      TEXT
) STRICT;
CREATE INDEX flags_open ON flags (region_code, status);

-- conflicts: concurrent different values of one trainee field from the
-- same base_version. The winner is applied; a supervisor confirms or
-- reverses.
CREATE TABLE conflicts (
    id                 INTEGER PRIMARY KEY,
    trainee_id         TEXT NOT NULL,
    field              TEXT NOT NULL,
    base_version       INTEGER NOT NULL,
    winner_mutation_id TEXT NOT NULL,
    winner_value       TEXT NOT NULL,
    loser_mutation_id  TEXT NOT NULL,
    loser_value        TEXT NOT NULL,
    region_code        TEXT,
    status             TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'confirmed', 'reversed')),
    created_at         TEXT NOT NULL,
    decided_by         TEXT,
    decided_at         TEXT,
    reason             TEXT,
    UNIQUE (winner_mutation_id, loser_mutation_id, field)
) STRICT;

-- merge_proposals: a walk-in that looks like another trainee.
CREATE TABLE merge_proposals (
    id           INTEGER PRIMARY KEY,
    walk_in_id   TEXT NOT NULL,
    candidate_id TEXT NOT NULL,
    reason       TEXT NOT NULL,
    region_code  TEXT,
    status       TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'merged', 'dismissed')),
    created_at   TEXT NOT NULL,
    decided_by   TEXT,
    decided_at   TEXT,
    UNIQUE (walk_in_id, candidate_id)
) STRICT;

-- changes is the change log: one row per entity (the last change wins the
-- row), seq from ONE server sequence (AUTOINCREMENT never reuses a value).
-- INSERT OR REPLACE moves an entity to the end of the log, so a pull page
-- holds the net effect of its range. region_code / establishment_code are
-- the scope keys used to filter pulls.
CREATE TABLE changes (
    seq                INTEGER PRIMARY KEY AUTOINCREMENT,
    entity             TEXT NOT NULL,
    entity_id          TEXT NOT NULL,
    op                 TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
    region_code        TEXT,
    establishment_code TEXT,
    UNIQUE (entity, entity_id)
) STRICT;
CREATE INDEX changes_scope ON changes (region_code, seq);

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    username  TEXT NOT NULL DEFAULT '',
    device_id TEXT NOT NULL DEFAULT '',
    address   TEXT NOT NULL DEFAULT '',
    action    TEXT NOT NULL,
    target    TEXT NOT NULL DEFAULT '',
    detail    TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_user ON audit_log (username, at);
CREATE INDEX audit_log_action ON audit_log (action, at);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
