//! Recordings and publications repository.

use super::{Db, StorageError, fmt_time, parse_time};
use crate::domain::{Chapter, QuestionStatus, SessionId};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

#[derive(Debug, Clone, Serialize)]
pub struct RecordingRow {
    pub id: i64,
    pub session_id: SessionId,
    pub path: String,
    pub duration_ms: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Publication {
    pub session_id: SessionId,
    pub target: String,
    /// JSON manifest written by the publish target (paths/URLs of what was published).
    pub manifest: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl Db {
    pub async fn add_recording(&self, session: SessionId, path: &str, duration_ms: i64) -> Result<i64, StorageError> {
        let r = sqlx::query("INSERT INTO recordings (session_id, path, duration_ms, created_at) VALUES (?, ?, ?, ?)")
            .bind(session.0)
            .bind(path)
            .bind(duration_ms)
            .bind(fmt_time(Utc::now()))
            .execute(self.pool())
            .await?;
        Ok(r.last_insert_rowid())
    }

    pub async fn latest_recording(&self, session: SessionId) -> Result<Option<RecordingRow>, StorageError> {
        let row = sqlx::query(
            "SELECT id, session_id, path, duration_ms, created_at FROM recordings WHERE session_id = ? ORDER BY id DESC LIMIT 1",
        )
        .bind(session.0)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(RecordingRow {
                id: r.try_get("id")?,
                session_id: SessionId(r.try_get("session_id")?),
                path: r.try_get("path")?,
                duration_ms: r.try_get("duration_ms")?,
                created_at: parse_time("recordings", &r.try_get::<String, _>("created_at")?)?,
            })
        })
        .transpose()
    }

    /// The chapters of a session: its answered questions in order of their answer time.
    pub async fn chapters(&self, session: SessionId, headline_chars: usize) -> Result<Vec<Chapter>, StorageError> {
        let mut answered: Vec<_> = self
            .questions(session, Some(QuestionStatus::Answered))
            .await?
            .into_iter()
            .filter_map(|q| {
                q.answered_at_ms.map(|ms| Chapter {
                    question_id: q.id,
                    start_ms: ms,
                    title: q.text.headline(headline_chars),
                })
            })
            .collect();
        answered.sort_by_key(|c| c.start_ms);
        Ok(answered)
    }

    /// Records (or replaces) what was published to `target`.
    pub async fn upsert_publication(
        &self,
        session: SessionId,
        target: &str,
        manifest: &serde_json::Value,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO publications (session_id, target, manifest, created_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (session_id, target) DO UPDATE SET manifest = excluded.manifest, created_at = excluded.created_at",
        )
        .bind(session.0)
        .bind(target)
        .bind(manifest.to_string())
        .bind(fmt_time(Utc::now()))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn publication(&self, session: SessionId, target: &str) -> Result<Option<Publication>, StorageError> {
        let row = sqlx::query(
            "SELECT session_id, target, manifest, created_at FROM publications WHERE session_id = ? AND target = ?",
        )
        .bind(session.0)
        .bind(target)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            let manifest: String = r.try_get("manifest")?;
            Ok(Publication {
                session_id: SessionId(r.try_get("session_id")?),
                target: r.try_get("target")?,
                manifest: serde_json::from_str(&manifest)
                    .map_err(|e| StorageError::Corrupt { table: "publications", detail: e.to_string() })?,
                created_at: parse_time("publications", &r.try_get::<String, _>("created_at")?)?,
            })
        })
        .transpose()
    }
}

impl Db {
    /// Sets (or with `None` clears) the in/out points of the session's recording, in milliseconds.
    pub async fn set_trim(&self, session: SessionId, trim: Option<(i64, Option<i64>)>) -> Result<(), StorageError> {
        let (tin, tout) = match trim {
            Some((i, o)) => (Some(i), o),
            None => (None, None),
        };
        let r = sqlx::query("UPDATE sessions SET trim_in_ms = ?, trim_out_ms = ? WHERE id = ?")
            .bind(tin)
            .bind(tout)
            .bind(session.0)
            .execute(self.pool())
            .await?;
        if r.rows_affected() == 0 {
            return Err(StorageError::SessionNotFound(session.0.to_string()));
        }
        Ok(())
    }

    /// The session's in/out points, if staff set any.
    pub async fn trim(&self, session: SessionId) -> Result<Option<(i64, Option<i64>)>, StorageError> {
        let row = sqlx::query("SELECT trim_in_ms, trim_out_ms FROM sessions WHERE id = ?")
            .bind(session.0)
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Err(StorageError::SessionNotFound(session.0.to_string())) };
        let tin: Option<i64> = row.try_get("trim_in_ms")?;
        let tout: Option<i64> = row.try_get("trim_out_ms")?;
        Ok(tin.map(|i| (i, tout)).or(tout.map(|o| (0, Some(o)))))
    }
}

/// Whether an answer notice went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeState {
    /// Handed to SMTP, outcome unknown (the process stopped in between).
    Sending,
    Sent,
}

impl Db {
    /// Chooses the publish targets of one session (`None`: the configured default).
    pub async fn set_publish_targets(
        &self,
        session: SessionId,
        targets: Option<&[String]>,
    ) -> Result<(), StorageError> {
        let r = sqlx::query("UPDATE sessions SET publish_targets = ? WHERE id = ?")
            .bind(targets.map(|t| t.join(",")))
            .bind(session.0)
            .execute(self.pool())
            .await?;
        if r.rows_affected() == 0 {
            return Err(StorageError::SessionNotFound(session.0.to_string()));
        }
        Ok(())
    }

    /// The session's own publish targets, if staff chose any.
    pub async fn publish_targets(&self, session: SessionId) -> Result<Option<Vec<String>>, StorageError> {
        let row = sqlx::query("SELECT publish_targets FROM sessions WHERE id = ?")
            .bind(session.0)
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Err(StorageError::SessionNotFound(session.0.to_string())) };
        let t: Option<String> = row.try_get("publish_targets")?;
        Ok(t.map(|t| t.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect()))
    }

    pub async fn notice_state(&self, question: crate::domain::QuestionId) -> Result<Option<NoticeState>, StorageError> {
        let row = sqlx::query("SELECT state FROM notifications WHERE question_id = ?")
            .bind(question.0)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| if r.get::<String, _>("state") == "sent" { NoticeState::Sent } else { NoticeState::Sending }))
    }

    /// Notes a notice as being sent (before SMTP) or sent (after).
    pub async fn set_notice_state(
        &self,
        session: SessionId,
        question: crate::domain::QuestionId,
        state: NoticeState,
        message_id: &str,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO notifications (question_id, session_id, state, message_id, updated_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (question_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        )
        .bind(question.0)
        .bind(session.0)
        .bind(if state == NoticeState::Sent { "sent" } else { "sending" })
        .bind(message_id)
        .bind(fmt_time(Utc::now()))
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
