-- Duplicate detection: questions with the same normalized text in one session are merged; later askers become
-- supporters (their contact data kept for the answer notice and for deletion requests).
ALTER TABLE questions ADD COLUMN normalized TEXT NOT NULL DEFAULT '';
ALTER TABLE questions ADD COLUMN supporters INTEGER NOT NULL DEFAULT 1;
CREATE INDEX questions_normalized ON questions (session_id, normalized);

CREATE TABLE question_supporters (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    question_id  INTEGER NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
    author_name  TEXT,
    email        TEXT,
    language     TEXT,
    origin       TEXT    NOT NULL,
    created_at   TEXT    NOT NULL
);
