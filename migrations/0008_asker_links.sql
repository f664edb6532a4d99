-- The asker's personal link (view, withdraw, delete, export): the link holds a random token, the database only
-- its SHA-256.
ALTER TABLE questions ADD COLUMN manage_sha256 TEXT;
CREATE UNIQUE INDEX questions_manage ON questions (manage_sha256) WHERE manage_sha256 IS NOT NULL;
