-- Publish targets chosen for one session (comma list of "s3", "youtube"); NULL: the configured default.
ALTER TABLE sessions ADD COLUMN publish_targets TEXT;

-- Answer notices to askers: one row per question, written before the mail is handed to SMTP ('sending') and
-- marked 'sent' after, so a restart never mails an asker twice for a notice that was accepted.
CREATE TABLE notifications (
    question_id  INTEGER PRIMARY KEY REFERENCES questions(id) ON DELETE CASCADE,
    session_id   INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    state        TEXT    NOT NULL CHECK (state IN ('sending', 'sent')),
    message_id   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL
);
