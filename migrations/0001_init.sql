-- citizenhour schema, version 1.
CREATE TABLE sessions (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    slug             TEXT    NOT NULL UNIQUE,
    title            TEXT    NOT NULL,
    host_name        TEXT    NOT NULL,
    host_title       TEXT    NOT NULL DEFAULT '',
    scheduled_at     TEXT    NOT NULL,
    intake_opens_at  TEXT,
    intake_closes_at TEXT,
    state            TEXT    NOT NULL DEFAULT 'scheduled'
                     CHECK (state IN ('scheduled', 'live', 'ended', 'published')),
    created_at       TEXT    NOT NULL
);

CREATE TABLE questions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id     INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    text           TEXT    NOT NULL CHECK (length(text) > 0),
    author_name    TEXT,
    email          TEXT,
    show_name      INTEGER NOT NULL DEFAULT 0,
    origin         TEXT    NOT NULL CHECK (origin IN ('web', 'api', 'email', 'import')),
    status         TEXT    NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'approved', 'rejected', 'answered')),
    position       INTEGER NOT NULL DEFAULT 0,
    language       TEXT,
    intake_note    TEXT,
    answered_at_ms INTEGER,
    created_at     TEXT    NOT NULL
);
CREATE INDEX questions_by_session ON questions(session_id, status, position);

-- One row per finished recording of a session (the live program).
CREATE TABLE recordings (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    path        TEXT    NOT NULL,
    duration_ms INTEGER NOT NULL,
    created_at  TEXT    NOT NULL
);

-- What is published where; the local site first.
CREATE TABLE publications (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    target      TEXT    NOT NULL,
    manifest    TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    UNIQUE (session_id, target)
);
