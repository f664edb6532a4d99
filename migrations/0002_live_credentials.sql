-- Live production credentials: one studio token per session (host/press office controls),
-- one ingest token per source (WHIP bearer token, SRT passphrase).
ALTER TABLE sessions ADD COLUMN studio_token TEXT NOT NULL DEFAULT '';

CREATE TABLE source_credentials (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    source_id  TEXT    NOT NULL CHECK (length(source_id) BETWEEN 1 AND 32),
    token      TEXT    NOT NULL,
    PRIMARY KEY (session_id, source_id)
);
