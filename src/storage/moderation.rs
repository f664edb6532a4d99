//! What staff do to questions in the console: edit (the original kept), pin, reorder, merge, reject with a reason.

use super::{Db, StorageError, fmt_time};
use crate::domain::{QuestionId, QuestionText};
use chrono::Utc;
use sqlx::Row;

/// Why a moderation step was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ModerationError {
    #[error("question {0} not found")]
    NotFound(i64),
    #[error("questions of different sessions cannot be merged")]
    OtherSession,
    #[error("a question cannot be merged into itself")]
    SameQuestion,
    #[error("an answered question cannot be changed")]
    Answered,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

/// Where a question stands (what reordering and merging look at).
struct Stored {
    session: i64,
    status: String,
    position: i64,
    pinned: i64,
}

async fn load(conn: &mut sqlx::SqliteConnection, id: QuestionId) -> Result<Option<Stored>, StorageError> {
    let r = sqlx::query("SELECT session_id, status, position, pinned FROM questions WHERE id = ?")
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?;
    r.map(|r| {
        Ok(Stored {
            session: r.try_get("session_id")?,
            status: r.try_get("status")?,
            position: r.try_get("position")?,
            pinned: r.try_get("pinned")?,
        })
    })
    .transpose()
}

impl Db {
    /// Replaces the text; the citizen's first wording is kept in `original_text` (only the first edit saves it).
    pub async fn edit_question(
        &self,
        id: QuestionId,
        text: &QuestionText,
    ) -> Result<Result<(), ModerationError>, StorageError> {
        let r = sqlx::query(
            "UPDATE questions SET original_text = COALESCE(original_text, text), text = ?, normalized = ?
             WHERE id = ? AND status != 'answered'",
        )
        .bind(text.as_str())
        .bind(text.normalized())
        .bind(id.0)
        .execute(self.pool())
        .await?;
        Ok(if r.rows_affected() == 1 { Ok(()) } else { Err(self.why_unchanged(id).await?) })
    }

    async fn why_unchanged(&self, id: QuestionId) -> Result<ModerationError, StorageError> {
        let mut conn = self.pool().acquire().await?;
        Ok(match load(&mut conn, id).await? {
            None => ModerationError::NotFound(id.0),
            Some(_) => ModerationError::Answered,
        })
    }

    pub async fn set_pinned(&self, id: QuestionId, pinned: bool) -> Result<bool, StorageError> {
        let r = sqlx::query("UPDATE questions SET pinned = ? WHERE id = ?")
            .bind(pinned as i64)
            .bind(id.0)
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Rejects with a reason shown to staff (and mailed to the asker if staff choose so).
    pub async fn reject_question(&self, id: QuestionId, reason: Option<&str>) -> Result<bool, StorageError> {
        let r = sqlx::query(
            "UPDATE questions SET status = 'rejected', rejection_reason = ? WHERE id = ? AND status != 'answered'",
        )
        .bind(reason)
        .bind(id.0)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Swaps the question with its neighbour above or below among the session's questions of the same status and
    /// pin state. `false` when it is already first/last.
    pub async fn move_question(
        &self,
        id: QuestionId,
        dir: Direction,
    ) -> Result<Result<bool, ModerationError>, StorageError> {
        let mut tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
        let Some(q) = load(&mut tx, id).await? else { return Ok(Err(ModerationError::NotFound(id.0))) };
        let (cmp, order) = match dir {
            Direction::Up => ("<", "DESC"),
            Direction::Down => (">", "ASC"),
        };
        let neighbour = sqlx::query(&format!(
            "SELECT id, position FROM questions WHERE session_id = ? AND status = ? AND pinned = ?
             AND (position {cmp} ? OR (position = ? AND id {cmp} ?)) ORDER BY position {order}, id {order} LIMIT 1"
        ))
        .bind(q.session)
        .bind(&q.status)
        .bind(q.pinned)
        .bind(q.position)
        .bind(q.position)
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(n) = neighbour else { return Ok(Ok(false)) };
        let (nid, npos): (i64, i64) = (n.try_get("id")?, n.try_get("position")?);
        // Equal positions (old data) are separated so the swap always moves something.
        let (mine, theirs) = if npos == q.position {
            match dir {
                Direction::Up => (npos, npos + 1),
                Direction::Down => (npos + 1, npos),
            }
        } else {
            (npos, q.position)
        };
        sqlx::query("UPDATE questions SET position = ? WHERE id = ?").bind(mine).bind(id.0).execute(&mut *tx).await?;
        sqlx::query("UPDATE questions SET position = ? WHERE id = ?").bind(theirs).bind(nid).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(Ok(true))
    }

    /// Merges `source` into `target` (same session, neither answered): the source's asker and supporters become
    /// the target's supporters (their contact data kept for the answer notice), the source is removed.
    pub async fn merge_questions(
        &self,
        source: QuestionId,
        target: QuestionId,
    ) -> Result<Result<(), ModerationError>, StorageError> {
        if source == target {
            return Ok(Err(ModerationError::SameQuestion));
        }
        let mut tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
        let (Some(s), Some(t)) = (load(&mut tx, source).await?, load(&mut tx, target).await?) else {
            return Ok(Err(ModerationError::NotFound(source.0)));
        };
        if s.session != t.session {
            return Ok(Err(ModerationError::OtherSession));
        }
        if s.status == "answered" || t.status == "answered" {
            return Ok(Err(ModerationError::Answered));
        }
        sqlx::query(
            "INSERT INTO question_supporters (question_id, author_name, email, language, origin, created_at)
             SELECT ?, author_name, email, language, origin, ? FROM questions WHERE id = ?",
        )
        .bind(target.0)
        .bind(fmt_time(Utc::now()))
        .bind(source.0)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE question_supporters SET question_id = ? WHERE question_id = ?")
            .bind(target.0)
            .bind(source.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE questions SET supporters = supporters + (SELECT supporters FROM questions WHERE id = ?) WHERE id = ?",
        )
        .bind(source.0)
        .bind(target.0)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM questions WHERE id = ?").bind(source.0).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }
}

/// A supporter of a question with an address for the answer notice.
#[derive(Debug, Clone)]
pub struct Supporter {
    pub id: i64,
    pub author_name: Option<String>,
    pub email: String,
    pub language: Option<String>,
    pub notice: Option<super::NoticeState>,
}

impl Db {
    /// The question's supporters who left an e-mail address.
    pub async fn supporters_with_email(&self, question: QuestionId) -> Result<Vec<Supporter>, StorageError> {
        let rows = sqlx::query(
            "SELECT id, author_name, email, language, notice_state FROM question_supporters
             WHERE question_id = ? AND email IS NOT NULL AND TRIM(email) != '' ORDER BY id",
        )
        .bind(question.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let state: Option<String> = r.try_get("notice_state")?;
                Ok(Supporter {
                    id: r.try_get("id")?,
                    author_name: r.try_get("author_name")?,
                    email: r.try_get("email")?,
                    language: r.try_get("language")?,
                    notice: state
                        .map(|s| if s == "sent" { super::NoticeState::Sent } else { super::NoticeState::Sending }),
                })
            })
            .collect()
    }

    pub async fn set_supporter_notice(&self, supporter: i64, state: super::NoticeState) -> Result<(), StorageError> {
        sqlx::query("UPDATE question_supporters SET notice_state = ? WHERE id = ?")
            .bind(if state == super::NoticeState::Sent { "sent" } else { "sending" })
            .bind(supporter)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
