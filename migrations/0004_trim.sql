-- Staff's in/out points for a session's recording (milliseconds into the recording); NULL: untrimmed.
ALTER TABLE sessions ADD COLUMN trim_in_ms INTEGER;
ALTER TABLE sessions ADD COLUMN trim_out_ms INTEGER;
