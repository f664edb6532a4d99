//! Questions repository.

use super::{Db, StorageError, fmt_time, parse_time};
use crate::domain::{Question, QuestionDraft, QuestionId, QuestionOrigin, QuestionStatus, QuestionText, SessionId};
use chrono::Utc;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

const COLUMNS: &str = "id, session_id, text, author_name, email, show_name, origin, status, position, language, intake_note, answered_at_ms, created_at, supporters, pinned, original_text, rejection_reason";

fn row_to_question(r: &SqliteRow) -> Result<Question, StorageError> {
    let corrupt = |detail: String| StorageError::Corrupt { table: "questions", detail };
    let text: String = r.try_get("text")?;
    let origin: String = r.try_get("origin")?;
    let status: String = r.try_get("status")?;
    Ok(Question {
        id: QuestionId(r.try_get("id")?),
        session_id: SessionId(r.try_get("session_id")?),
        // Stored texts were validated on the way in; re-parse with no practical limit to keep the type honest.
        text: QuestionText::parse(&text, usize::MAX).map_err(|e| corrupt(e.to_string()))?,
        author_name: r.try_get("author_name")?,
        email: r.try_get("email")?,
        show_name: r.try_get::<i64, _>("show_name")? != 0,
        origin: QuestionOrigin::parse(&origin).ok_or_else(|| corrupt(format!("origin {origin:?}")))?,
        status: QuestionStatus::parse(&status).ok_or_else(|| corrupt(format!("status {status:?}")))?,
        position: r.try_get("position")?,
        language: r.try_get("language")?,
        intake_note: r.try_get("intake_note")?,
        answered_at_ms: r.try_get("answered_at_ms")?,
        created_at: parse_time("questions", &r.try_get::<String, _>("created_at")?)?,
        supporters: r.try_get("supporters")?,
        pinned: r.try_get::<i64, _>("pinned")? != 0,
        original_text: r.try_get("original_text")?,
        rejection_reason: r.try_get("rejection_reason")?,
    })
}

async fn insert_question(
    conn: &mut sqlx::SqliteConnection,
    session: SessionId,
    q: &QuestionDraft,
    manage_sha256: Option<&str>,
) -> Result<i64, StorageError> {
    let res = sqlx::query(
        "INSERT INTO questions (session_id, text, normalized, author_name, email, show_name, origin, language, intake_note, position, created_at, manage_sha256)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,
                 (SELECT COALESCE(MAX(position), 0) + 1 FROM questions WHERE session_id = ?), ?, ?)",
    )
    .bind(session.0)
    .bind(q.text.as_str())
    .bind(q.text.normalized())
    .bind(&q.author_name)
    .bind(&q.email)
    .bind(q.show_name as i64)
    .bind(q.origin.as_str())
    .bind(&q.language)
    .bind(&q.intake_note)
    .bind(session.0)
    .bind(fmt_time(Utc::now()))
    .bind(manage_sha256)
    .execute(&mut *conn)
    .await?;
    Ok(res.last_insert_rowid())
}

/// Inside a write transaction: a new question with a personal link (id, token), or the asker counted as a
/// supporter of the session's question with the same normalized text that was not rejected (id, no token).
pub(crate) async fn add_or_support(
    conn: &mut sqlx::SqliteConnection,
    session: SessionId,
    q: &QuestionDraft,
) -> Result<(i64, Option<String>), StorageError> {
    let existing = sqlx::query(
        "SELECT id FROM questions WHERE session_id = ? AND normalized = ? AND status != 'rejected' ORDER BY id LIMIT 1",
    )
    .bind(session.0)
    .bind(q.text.normalized())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = existing else {
        let token = super::credentials::new_long_token();
        let id = insert_question(conn, session, q, Some(&super::staff::token_digest(&token))).await?;
        return Ok((id, Some(token)));
    };
    let id: i64 = row.try_get("id")?;
    sqlx::query(
        "INSERT INTO question_supporters (question_id, author_name, email, language, origin, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(&q.author_name)
    .bind(&q.email)
    .bind(&q.language)
    .bind(q.origin.as_str())
    .bind(fmt_time(Utc::now()))
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE questions SET supporters = supporters + 1 WHERE id = ?").bind(id).execute(&mut *conn).await?;
    Ok((id, None))
}

impl Db {
    pub async fn add_question(&self, session: SessionId, q: &QuestionDraft) -> Result<Question, StorageError> {
        let mut conn = self.pool().acquire().await?;
        let id = insert_question(&mut conn, session, q, None).await?;
        drop(conn);
        self.question(QuestionId(id)).await
    }

    /// Stores a question with a personal link for its asker (the token is returned, its digest stored in the same
    /// write), or — when the session already has one with the same normalized text that was not rejected —
    /// counts the asker as its supporter (their contact data kept with it; no token).
    /// Submissions are written by one task in batches (`storage::submissions`): identical questions arriving
    /// at once are merged, never both inserted.
    pub async fn add_or_support_question(
        &self,
        session: SessionId,
        q: &QuestionDraft,
    ) -> Result<(Question, Option<String>), StorageError> {
        let (id, token) = self.submissions.submit(session, q.clone()).await?;
        Ok((self.question(QuestionId(id)).await?, token))
    }

    pub async fn question(&self, id: QuestionId) -> Result<Question, StorageError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM questions WHERE id = ?"))
            .bind(id.0)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StorageError::QuestionNotFound(id.0))?;
        row_to_question(&row)
    }

    /// Questions of a session in queue order, optionally only those with `status`.
    pub async fn questions(
        &self,
        session: SessionId,
        status: Option<QuestionStatus>,
    ) -> Result<Vec<Question>, StorageError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM questions WHERE session_id = ? AND (? IS NULL OR status = ?) ORDER BY pinned DESC, position, id"
        ))
        .bind(session.0)
        .bind(status.map(|s| s.as_str()))
        .bind(status.map(|s| s.as_str()))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(row_to_question).collect()
    }

    pub async fn set_question_status(&self, id: QuestionId, status: QuestionStatus) -> Result<(), StorageError> {
        let r = sqlx::query("UPDATE questions SET status = ? WHERE id = ?")
            .bind(status.as_str())
            .bind(id.0)
            .execute(self.pool())
            .await?;
        if r.rows_affected() == 0 {
            return Err(StorageError::QuestionNotFound(id.0));
        }
        Ok(())
    }

    /// Marks a question answered at `at_ms` into the recording (a chapter).
    pub async fn mark_answered(&self, id: QuestionId, at_ms: i64) -> Result<(), StorageError> {
        let r = sqlx::query("UPDATE questions SET status = 'answered', answered_at_ms = ? WHERE id = ?")
            .bind(at_ms)
            .bind(id.0)
            .execute(self.pool())
            .await?;
        if r.rows_affected() == 0 {
            return Err(StorageError::QuestionNotFound(id.0));
        }
        Ok(())
    }

    pub async fn count_questions(&self, session: SessionId) -> Result<i64, StorageError> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM questions WHERE session_id = ?")
            .bind(session.0)
            .fetch_one(self.pool())
            .await?
            .try_get("n")?)
    }
}

impl Db {
    /// The question a personal link belongs to.
    pub async fn question_by_manage_token(&self, token: &str) -> Result<Option<Question>, StorageError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM questions WHERE manage_sha256 = ?"))
            .bind(super::staff::token_digest(token))
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(row_to_question).transpose()
    }

    /// Removes a question with everything attached to it (supporters, notices).
    pub async fn delete_question(&self, id: QuestionId) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM questions WHERE id = ?").bind(id.0).execute(self.pool()).await?;
        Ok(())
    }

    /// Erases the asker's personal data (name, e-mail, on-screen consent, the personal link); the text stays.
    pub async fn erase_asker_data(&self, id: QuestionId) -> Result<(), StorageError> {
        sqlx::query(
            "UPDATE questions SET author_name = NULL, email = NULL, show_name = 0, manage_sha256 = NULL WHERE id = ?",
        )
        .bind(id.0)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

/// What one retention run deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Questions (and supporters) whose names and e-mail addresses were erased.
    pub erased: u64,
    /// Rejected questions and unassigned inbox mails deleted.
    pub deleted: u64,
}

impl Db {
    /// Erases askers' personal data of sessions published before `published_before`, and deletes rejected
    /// questions handed in before `rejected_before`.
    pub async fn enforce_retention(
        &self,
        published_before: Option<chrono::DateTime<Utc>>,
        rejected_before: Option<chrono::DateTime<Utc>>,
    ) -> Result<RetentionReport, StorageError> {
        let mut report = RetentionReport::default();
        if let Some(t) = published_before {
            let sessions = "SELECT session_id FROM publications WHERE target = 'local' AND created_at < ?";
            let r = sqlx::query(&format!(
                "UPDATE questions SET author_name = NULL, email = NULL, show_name = 0, manage_sha256 = NULL \
                 WHERE session_id IN ({sessions}) AND (author_name IS NOT NULL OR email IS NOT NULL)"
            ))
            .bind(fmt_time(t))
            .execute(self.pool())
            .await?;
            let s = sqlx::query(&format!(
                "UPDATE question_supporters SET author_name = NULL, email = NULL WHERE (author_name IS NOT NULL OR \
                 email IS NOT NULL) AND question_id IN (SELECT id FROM questions WHERE session_id IN ({sessions}))"
            ))
            .bind(fmt_time(t))
            .execute(self.pool())
            .await?;
            report.erased = r.rows_affected() + s.rows_affected();
        }
        if let Some(t) = rejected_before {
            let r = sqlx::query("DELETE FROM questions WHERE status = 'rejected' AND created_at < ?")
                .bind(fmt_time(t))
                .execute(self.pool())
                .await?;
            // Mails nobody assigned to a session are treated like rejected questions.
            let i = sqlx::query("DELETE FROM inbox_items WHERE received_at < ?")
                .bind(fmt_time(t))
                .execute(self.pool())
                .await?;
            report.deleted = r.rows_affected() + i.rows_affected();
            // Mail receipts keep only what dedupes (mailbox, UID, Message-ID); their notes (attachment names) go.
            sqlx::query("UPDATE mail_receipts SET detail = NULL WHERE detail IS NOT NULL AND received_at < ?")
                .bind(fmt_time(t))
                .execute(self.pool())
                .await?;
        }
        Ok(report)
    }
}
