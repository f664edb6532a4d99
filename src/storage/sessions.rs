//! Sessions repository.

use super::{Db, StorageError, fmt_time, parse_time};
use crate::domain::{Session, SessionId, SessionState, Slug};
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

#[derive(Debug, Clone)]
pub struct NewSession {
    pub slug: Slug,
    pub title: String,
    pub host_name: String,
    pub host_title: String,
    pub scheduled_at: DateTime<Utc>,
    pub intake_opens_at: Option<DateTime<Utc>>,
    pub intake_closes_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str =
    "id, slug, title, host_name, host_title, scheduled_at, intake_opens_at, intake_closes_at, state, created_at";

fn row_to_session(r: &SqliteRow) -> Result<Session, StorageError> {
    let corrupt = |detail: String| StorageError::Corrupt { table: "sessions", detail };
    let opt_time = |col: &str| -> Result<Option<DateTime<Utc>>, StorageError> {
        r.try_get::<Option<String>, _>(col)?.map(|s| parse_time("sessions", &s)).transpose()
    };
    let state: String = r.try_get("state")?;
    let slug: String = r.try_get("slug")?;
    Ok(Session {
        id: SessionId(r.try_get("id")?),
        slug: Slug::parse(&slug).map_err(|e| corrupt(e.to_string()))?,
        title: r.try_get("title")?,
        host_name: r.try_get("host_name")?,
        host_title: r.try_get("host_title")?,
        scheduled_at: parse_time("sessions", &r.try_get::<String, _>("scheduled_at")?)?,
        intake_opens_at: opt_time("intake_opens_at")?,
        intake_closes_at: opt_time("intake_closes_at")?,
        state: SessionState::parse(&state).ok_or_else(|| corrupt(format!("state {state:?}")))?,
        created_at: parse_time("sessions", &r.try_get::<String, _>("created_at")?)?,
    })
}

impl Db {
    pub async fn create_session(&self, s: &NewSession) -> Result<Session, StorageError> {
        let res = sqlx::query(
            "INSERT INTO sessions (slug, title, host_name, host_title, scheduled_at, intake_opens_at, intake_closes_at, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(s.slug.as_str())
        .bind(&s.title)
        .bind(&s.host_name)
        .bind(&s.host_title)
        .bind(fmt_time(s.scheduled_at))
        .bind(s.intake_opens_at.map(fmt_time))
        .bind(s.intake_closes_at.map(fmt_time))
        .bind(fmt_time(Utc::now()))
        .execute(self.pool())
        .await;
        match res {
            Ok(r) => {
                let id = SessionId(r.last_insert_rowid());
                self.ensure_credentials(id).await?;
                self.session_by_id(id).await
            }
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(StorageError::SlugTaken(s.slug.to_string()))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn session_by_id(&self, id: SessionId) -> Result<Session, StorageError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM sessions WHERE id = ?"))
            .bind(id.0)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StorageError::SessionNotFound(id.to_string()))?;
        row_to_session(&row)
    }

    /// Looks a session up by its slug; takes a raw string so callers at the edge need not pre-validate.
    pub async fn session_by_slug(&self, slug: &str) -> Result<Session, StorageError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM sessions WHERE slug = ?"))
            .bind(slug)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StorageError::SessionNotFound(slug.to_owned()))?;
        row_to_session(&row)
    }

    /// All sessions, newest schedule first.
    pub async fn list_sessions(&self) -> Result<Vec<Session>, StorageError> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM sessions ORDER BY scheduled_at DESC, id DESC"))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(row_to_session).collect()
    }

    /// Moves a session to `next` if the state machine allows it.
    pub async fn set_session_state(&self, id: SessionId, next: SessionState) -> Result<Session, StorageError> {
        let current = self.session_by_id(id).await?;
        if !current.state.can_become(next) {
            return Err(StorageError::InvalidTransition { from: current.state.as_str(), to: next.as_str() });
        }
        sqlx::query("UPDATE sessions SET state = ? WHERE id = ? AND state = ?")
            .bind(next.as_str())
            .bind(id.0)
            .bind(current.state.as_str())
            .execute(self.pool())
            .await?;
        self.session_by_id(id).await
    }
}
