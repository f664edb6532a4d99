-- Durable publishing jobs: one per (session, kind), run by the worker, resumable after a restart.
CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id    INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    kind          TEXT    NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    max_attempts  INTEGER NOT NULL,
    progress      REAL    NOT NULL DEFAULT 0,
    last_error    TEXT,
    retry_at      TEXT    NOT NULL,
    -- Step state a job keeps across restarts (e.g. an upload id and the parts already sent).
    checkpoint    TEXT    NOT NULL DEFAULT '{}',
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    UNIQUE (session_id, kind)
);
CREATE INDEX jobs_due ON jobs (state, retry_at);
