//! Jobs repository: durable, idempotent work items for the worker (see `crate::worker`).
//!
//! A job is unique per (session, kind), so enqueueing twice never duplicates work. The worker claims the oldest
//! due job atomically (`queued` → `running`); a process that dies leaves `running` rows, which
//! [`Db::requeue_interrupted`] returns to `queued` at the next start.

use super::{Db, StorageError, fmt_time, parse_time};
use crate::domain::SessionId;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }
    fn parse(s: &str) -> Result<JobState, StorageError> {
        Ok(match s {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "done" => JobState::Done,
            "failed" => JobState::Failed,
            other => return Err(StorageError::Corrupt { table: "jobs", detail: format!("state {other:?}") }),
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub id: i64,
    pub session_id: SessionId,
    pub kind: String,
    pub state: JobState,
    pub attempts: i64,
    pub max_attempts: i64,
    pub progress: f64,
    pub last_error: Option<String>,
    pub retry_at: DateTime<Utc>,
    pub checkpoint: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, session_id, kind, state, attempts, max_attempts, progress, last_error, retry_at, checkpoint, created_at, updated_at";

fn job_from(r: &sqlx::sqlite::SqliteRow) -> Result<Job, StorageError> {
    let checkpoint: String = r.try_get("checkpoint")?;
    Ok(Job {
        id: r.try_get("id")?,
        session_id: SessionId(r.try_get("session_id")?),
        kind: r.try_get("kind")?,
        state: JobState::parse(&r.try_get::<String, _>("state")?)?,
        attempts: r.try_get("attempts")?,
        max_attempts: r.try_get("max_attempts")?,
        progress: r.try_get("progress")?,
        last_error: r.try_get("last_error")?,
        retry_at: parse_time("jobs", &r.try_get::<String, _>("retry_at")?)?,
        checkpoint: serde_json::from_str(&checkpoint)
            .map_err(|e| StorageError::Corrupt { table: "jobs", detail: format!("checkpoint: {e}") })?,
        created_at: parse_time("jobs", &r.try_get::<String, _>("created_at")?)?,
        updated_at: parse_time("jobs", &r.try_get::<String, _>("updated_at")?)?,
    })
}

impl Db {
    /// Queues `kind` for the session unless it exists already (then it is returned unchanged: never twice).
    pub async fn enqueue_job(&self, session: SessionId, kind: &str, max_attempts: i64) -> Result<Job, StorageError> {
        let now = fmt_time(Utc::now());
        sqlx::query(
            "INSERT INTO jobs (session_id, kind, state, max_attempts, retry_at, created_at, updated_at) \
             VALUES (?, ?, 'queued', ?, ?, ?, ?) ON CONFLICT (session_id, kind) DO NOTHING",
        )
        .bind(session.0)
        .bind(kind)
        .bind(max_attempts)
        .bind(&now)
        .bind(&now)
        .bind(&now)
        .execute(self.pool())
        .await?;
        self.job_by_kind(session, kind).await?.ok_or(StorageError::Corrupt { table: "jobs", detail: "vanished".into() })
    }

    pub async fn job_by_kind(&self, session: SessionId, kind: &str) -> Result<Option<Job>, StorageError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM jobs WHERE session_id = ? AND kind = ?"))
            .bind(session.0)
            .bind(kind)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(job_from).transpose()
    }

    pub async fn job(&self, id: i64) -> Result<Option<Job>, StorageError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM jobs WHERE id = ?"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(job_from).transpose()
    }

    /// All jobs, newest first; only one session's when given.
    pub async fn jobs(&self, session: Option<SessionId>) -> Result<Vec<Job>, StorageError> {
        let rows = match session {
            Some(s) => {
                sqlx::query(&format!("SELECT {COLUMNS} FROM jobs WHERE session_id = ? ORDER BY id DESC"))
                    .bind(s.0)
                    .fetch_all(self.pool())
                    .await?
            }
            None => sqlx::query(&format!("SELECT {COLUMNS} FROM jobs ORDER BY id DESC")).fetch_all(self.pool()).await?,
        };
        rows.iter().map(job_from).collect()
    }

    /// Claims the oldest due queued job (→ `running`, one more attempt), atomically.
    pub async fn claim_job(&self) -> Result<Option<Job>, StorageError> {
        let now = fmt_time(Utc::now());
        let row = sqlx::query(&format!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, updated_at = ?1 \
             WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND retry_at <= ?1 ORDER BY retry_at, id LIMIT 1) \
             RETURNING {COLUMNS}"
        ))
        .bind(&now)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(job_from).transpose()
    }

    /// The earliest time a queued job becomes due (for the worker's sleep).
    pub async fn next_job_due(&self) -> Result<Option<DateTime<Utc>>, StorageError> {
        let t: Option<String> =
            sqlx::query_scalar("SELECT MIN(retry_at) FROM jobs WHERE state = 'queued'").fetch_one(self.pool()).await?;
        t.map(|t| parse_time("jobs", &t)).transpose()
    }

    pub async fn set_job_progress(&self, id: i64, progress: f64) -> Result<(), StorageError> {
        sqlx::query("UPDATE jobs SET progress = ?, updated_at = ? WHERE id = ?")
            .bind(progress.clamp(0.0, 1.0))
            .bind(fmt_time(Utc::now()))
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Saves a job's step state, so a restarted worker continues where it stopped.
    pub async fn set_job_checkpoint(&self, id: i64, checkpoint: &serde_json::Value) -> Result<(), StorageError> {
        sqlx::query("UPDATE jobs SET checkpoint = ?, updated_at = ? WHERE id = ?")
            .bind(checkpoint.to_string())
            .bind(fmt_time(Utc::now()))
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn finish_job(&self, id: i64) -> Result<(), StorageError> {
        sqlx::query("UPDATE jobs SET state = 'done', progress = 1, last_error = NULL, updated_at = ? WHERE id = ?")
            .bind(fmt_time(Utc::now()))
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Records a failure: back to `queued` at `retry_at`, or `failed` for good when `retry_at` is `None`.
    pub async fn fail_job(&self, id: i64, error: &str, retry_at: Option<DateTime<Utc>>) -> Result<(), StorageError> {
        let now = Utc::now();
        let (state, at) = match retry_at {
            Some(t) => ("queued", t),
            None => ("failed", now),
        };
        sqlx::query("UPDATE jobs SET state = ?, last_error = ?, retry_at = ?, updated_at = ? WHERE id = ?")
            .bind(state)
            .bind(error)
            .bind(fmt_time(at))
            .bind(fmt_time(now))
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The job must wait for something outside it (a daily quota): queued until `until`, and the attempt is
    /// not counted.
    pub async fn defer_job(&self, id: i64, reason: &str, until: DateTime<Utc>) -> Result<(), StorageError> {
        sqlx::query(
            "UPDATE jobs SET state = 'queued', last_error = ?, retry_at = ?, attempts = max(attempts - 1, 0), \
             updated_at = ? WHERE id = ?",
        )
        .bind(reason)
        .bind(fmt_time(until))
        .bind(fmt_time(Utc::now()))
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Staff asked for another try (or a re-publish): a failed, waiting or done job runs again now, with fresh
    /// attempts. The same row: never a second job.
    pub async fn retry_job(&self, id: i64) -> Result<Job, StorageError> {
        let now = fmt_time(Utc::now());
        sqlx::query(
            "UPDATE jobs SET state = 'queued', attempts = 0, retry_at = ?1, updated_at = ?1 \
             WHERE id = ?2 AND state IN ('failed', 'queued', 'done')",
        )
        .bind(&now)
        .bind(id)
        .execute(self.pool())
        .await?;
        self.job(id).await?.ok_or(StorageError::JobNotFound(id))
    }

    /// Jobs a dead process left `running` go back to `queued` (called once at start, before any worker runs).
    pub async fn requeue_interrupted(&self) -> Result<u64, StorageError> {
        let now = fmt_time(Utc::now());
        let r = sqlx::query("UPDATE jobs SET state = 'queued', retry_at = ?1, updated_at = ?1 WHERE state = 'running'")
            .bind(&now)
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected())
    }
}
