//! Persistence: the sqlx pool, migrations, and one repository file per aggregate.
//! Business rules live in `domain`; this module stores and loads.

pub mod credentials;
mod jobs;
mod mail;
mod moderation;
pub use mail::{InboxItem, MailKey, MailOutcome, MailReceipt, Taken};
pub use moderation::{Direction, ModerationError, Supporter};
mod questions;
pub use questions::RetentionReport;
mod recordings;
mod sessions;
pub mod staff;
mod submissions;

pub use jobs::{Job, JobState};
pub use recordings::{NoticeState, Publication, RecordingRow};
pub use sessions::NewSession;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("session {0:?} not found")]
    SessionNotFound(String),
    #[error("job {0} not found")]
    JobNotFound(i64),
    #[error("question {0} not found")]
    QuestionNotFound(i64),
    #[error("a session with slug {0:?} exists already")]
    SlugTaken(String),
    #[error("corrupt row in {table}: {detail}")]
    Corrupt { table: &'static str, detail: String },
    #[error("invalid session state change {from} → {to}")]
    InvalidTransition { from: &'static str, to: &'static str },
}

/// The database handle; cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pool: SqlitePool,
    submissions: submissions::SubmissionWriter,
}

impl Db {
    /// Opens (creating if needed) the database at `url`, in WAL mode, and runs the migrations.
    pub async fn connect(url: &str) -> Result<Db, StorageError> {
        if let Some(path) = url.strip_prefix("sqlite://")
            && let Some(parent) = std::path::Path::new(path).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| StorageError::Db(sqlx::Error::Io(e)))?;
        }
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(opts).await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        let submissions = submissions::SubmissionWriter::spawn(pool.clone());
        Ok(Db { pool, submissions })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

pub(crate) fn parse_time(table: &'static str, s: &str) -> Result<chrono::DateTime<chrono::Utc>, StorageError> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| StorageError::Corrupt { table, detail: format!("time {s:?}: {e}") })
}

pub(crate) fn fmt_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
