-- New questions take MAX(position) + 1 of their session: an index makes that a lookup, not a scan (measured with
-- benches/wrk/submit.sh).
CREATE INDEX questions_position ON questions (session_id, position);
