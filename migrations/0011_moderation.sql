-- Moderation: staff edit a question's text (the citizen's original is kept), pin questions to the top of the
-- queue, and reject with a reason (optionally mailed to the asker).
ALTER TABLE questions ADD COLUMN original_text TEXT;
ALTER TABLE questions ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE questions ADD COLUMN rejection_reason TEXT;
-- Supporters (merged duplicates) get the answer notice too: 'sending' before SMTP, 'sent' after.
ALTER TABLE question_supporters ADD COLUMN notice_state TEXT;
