-- Staff accounts, their login sessions and the audit log of what they did.
CREATE TABLE staff_users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    email          TEXT    NOT NULL UNIQUE,
    name           TEXT    NOT NULL,
    role           TEXT    NOT NULL CHECK (role IN ('admin', 'moderator', 'host')),
    password_hash  TEXT    NOT NULL,
    disabled       INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT    NOT NULL
);

-- The cookie holds a random token; only its SHA-256 is stored.
CREATE TABLE staff_logins (
    token_sha256  TEXT    PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES staff_users(id) ON DELETE CASCADE,
    csrf_token    TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    expires_at    TEXT    NOT NULL
);

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id   INTEGER REFERENCES staff_users(id) ON DELETE SET NULL,
    action    TEXT    NOT NULL,
    target    TEXT    NOT NULL DEFAULT '',
    detail    TEXT    NOT NULL DEFAULT '',
    at        TEXT    NOT NULL
);
CREATE INDEX audit_by_time ON audit_log (at);
