-- E-mail intake. Every message taken from the town mailbox leaves a receipt, written in the same transaction as
-- the question (or inbox item) it became, so a message is never taken twice — not after a crash between storing
-- and marking it handled on the server, and not when it arrives a second time with the same Message-ID.
CREATE TABLE mail_receipts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    mailbox      TEXT    NOT NULL,           -- user@host/folder
    uidvalidity  INTEGER NOT NULL,
    uid          INTEGER NOT NULL,
    message_id   TEXT,
    outcome      TEXT    NOT NULL,           -- question | supported | inbox | skipped | duplicate
    detail       TEXT,                       -- why a message was skipped; attachments noted
    question_id  INTEGER REFERENCES questions(id) ON DELETE SET NULL,
    replied      INTEGER NOT NULL DEFAULT 0, -- an auto-reply went out
    received_at  TEXT    NOT NULL,
    UNIQUE (mailbox, uidvalidity, uid)
);
CREATE INDEX mail_receipts_message_id ON mail_receipts (message_id) WHERE message_id IS NOT NULL;

-- Mails that could not be routed to a session (no plus-address or subject code, an unknown session, intake
-- closed): staff assign them to a session (they become questions) or discard them.
CREATE TABLE inbox_items (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at  TEXT    NOT NULL,
    author_name  TEXT,
    email        TEXT,
    subject      TEXT    NOT NULL,
    text         TEXT    NOT NULL,
    language     TEXT,
    intake_note  TEXT,
    reason       TEXT    NOT NULL            -- why it is here (shown to staff)
);
