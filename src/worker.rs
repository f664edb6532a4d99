//! The publishing worker: runs the durable jobs in the database (`storage::jobs`), one at a time.
//!
//! - A job is unique per (session, kind): enqueueing it again never duplicates the work.
//! - Transient failures (I/O, a stalled render, the database) go back to `queued` with exponential backoff and
//!   jitter (30 s · 2ⁿ, at most 1 h) until `max_attempts`; permanent ones (a corrupt recording, no recording,
//!   invalid settings) end as `failed` at once with a readable reason. Staff retry from the CLI
//!   (`citizenhour jobs retry ID`).
//! - A process that dies mid-job leaves it `running`; the next start puts it back in the queue
//!   ([`Worker::start`] calls `requeue_interrupted`). Every step is idempotent: rendering goes to a fresh
//!   staging directory and is swapped in atomically, so a re-run never publishes half.
//!
//! Runs inside `serve` (unless `[publish] worker = false`) and alone as `citizenhour worker`.

use crate::app::AppError;
use crate::config::Config;
use crate::domain::SessionId;
use crate::storage::{Db, Job};
use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Render the recording (ladder, MP4, thumbnail, chapters) and publish it on the local site.
pub const PUBLISH_LOCAL: &str = "publish_local";
/// Copy the local publication to S3-compatible storage (after `publish_local`, when the session's targets say so).
pub const PUBLISH_S3: &str = "publish_s3";
/// Upload the MP4 to YouTube with chapters, thumbnail and captions.
pub const PUBLISH_YOUTUBE: &str = "publish_youtube";
/// Mail each asker whose question was answered a link to the minute (after the publications).
pub const NOTIFY_ASKERS: &str = "notify_askers";

/// The job that publishes to a target named in `[publish] targets`.
pub fn job_for_target(target: &str) -> Option<&'static str> {
    match target {
        "s3" => Some(PUBLISH_S3),
        "youtube" => Some(PUBLISH_YOUTUBE),
        _ => None,
    }
}
/// Attempts before a job with transient failures is given up.
pub const DEFAULT_MAX_ATTEMPTS: i64 = 5;

/// What became of a job, for whoever listens (the studio's event stream).
#[derive(Debug, Clone)]
pub enum JobOutcome {
    /// `published`: the page where the result is (for `publish_local`, the recording page).
    Done {
        kind: String,
        published: Option<String>,
    },
    Retrying {
        kind: String,
        error: String,
        in_seconds: i64,
    },
    Failed {
        kind: String,
        error: String,
    },
}

pub type JobListener = Arc<dyn Fn(SessionId, JobOutcome) + Send + Sync>;

#[derive(Clone)]
pub struct Worker {
    db: Db,
    config: Arc<Config>,
    wake: Arc<Notify>,
    listener: Option<JobListener>,
}

impl Worker {
    /// A worker; jobs left `running` by a dead process go back to the queue.
    pub async fn start(db: Db, config: Arc<Config>) -> Result<Worker, AppError> {
        let n = db.requeue_interrupted().await?;
        if n > 0 {
            tracing::warn!(jobs = n, "resuming jobs interrupted by the last stop");
        }
        Ok(Worker { db, config, wake: Arc::new(Notify::new()), listener: None })
    }

    pub fn with_listener(mut self, listener: JobListener) -> Worker {
        self.listener = Some(listener);
        self
    }

    /// Wakes the loop (after enqueueing).
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Queues a job (idempotent) and wakes the loop.
    pub async fn enqueue(&self, session: SessionId, kind: &str) -> Result<Job, AppError> {
        let job = self.db.enqueue_job(session, kind, DEFAULT_MAX_ATTEMPTS).await?;
        self.wake.notify_one();
        Ok(job)
    }

    /// Deletes personal data past the `[privacy]` retention periods; audited when anything was deleted.
    pub async fn enforce_retention(&self) -> Result<crate::storage::RetentionReport, AppError> {
        let p = &self.config.privacy;
        let days = |d: u32| (d > 0).then(|| Utc::now() - chrono::Duration::days(d as i64));
        let report = self
            .db
            .enforce_retention(days(p.delete_personal_data_after_days), days(p.delete_rejected_after_days))
            .await?;
        if report != crate::storage::RetentionReport::default() {
            let detail = format!("{} erased, {} rejected deleted", report.erased, report.deleted);
            tracing::info!("retention: {detail}");
            self.db.audit(None, "retention", "", &detail).await?;
        }
        Ok(report)
    }

    /// Runs jobs until `shutdown` resolves; a job in progress is finished first. Retention is enforced at start
    /// and hourly.
    pub async fn run_until(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut retention_due = std::time::Instant::now();
        loop {
            if std::time::Instant::now() >= retention_due {
                if let Err(e) = self.enforce_retention().await {
                    tracing::error!("retention: {e}");
                }
                retention_due = std::time::Instant::now() + Duration::from_secs(3600);
            }
            match self.run_one().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::error!("worker: {e}"),
            }
            let nap = match self.db.next_job_due().await {
                Ok(Some(t)) => (t - Utc::now()).to_std().unwrap_or(Duration::ZERO).min(Duration::from_secs(60)),
                _ => Duration::from_secs(60),
            };
            tokio::select! {
                _ = &mut shutdown => return,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(nap) => {}
            }
        }
    }

    /// Runs every due job, then returns (for `citizenhour publish` and tests).
    pub async fn run_until_idle(&self) -> Result<(), AppError> {
        while self.run_one().await? {}
        Ok(())
    }

    /// Claims and runs one due job; `false` when none is due.
    pub async fn run_one(&self) -> Result<bool, AppError> {
        let Some(job) = self.db.claim_job().await? else { return Ok(false) };
        tracing::info!(job = job.id, kind = %job.kind, attempt = job.attempts, "job started");
        let result = self.execute(&job).await;
        match result {
            Ok(published) => {
                self.db.finish_job(job.id).await?;
                tracing::info!(job = job.id, kind = %job.kind, "job done");
                self.tell(job.session_id, JobOutcome::Done { kind: job.kind.clone(), published });
                self.follow_up(&job, true).await?;
            }
            Err(AppError::Publish(crate::publish::PublishError::Quota { target, detail, retry_at })) => {
                let error = format!("{target}: {detail}");
                self.db.defer_job(job.id, &error, retry_at).await?;
                tracing::warn!(job = job.id, kind = %job.kind, %retry_at, "job waits for a quota: {error}");
                let in_seconds = (retry_at - Utc::now()).num_seconds();
                self.tell(job.session_id, JobOutcome::Retrying { kind: job.kind.clone(), error, in_seconds });
            }
            Err(e) => {
                let error = e.to_string();
                let permanent = is_permanent(&e);
                if permanent || job.attempts >= job.max_attempts {
                    self.db.fail_job(job.id, &error, None).await?;
                    tracing::error!(job = job.id, kind = %job.kind, "job failed: {error}");
                    self.tell(job.session_id, JobOutcome::Failed { kind: job.kind.clone(), error });
                    self.follow_up(&job, false).await?;
                } else {
                    let wait = backoff(job.attempts, job.id);
                    self.db.fail_job(job.id, &error, Some(Utc::now() + wait)).await?;
                    tracing::warn!(job = job.id, kind = %job.kind, "job failed, retrying in {}: {error}", wait);
                    self.tell(
                        job.session_id,
                        JobOutcome::Retrying { kind: job.kind.clone(), error, in_seconds: wait.num_seconds() },
                    );
                }
            }
        }
        Ok(true)
    }

    /// Queues what comes after a finished (`done`) or given-up job:
    /// - `publish_local` done → one job per further target (run again if they ran for an older render); and,
    ///   without YouTube, the notices;
    /// - `publish_youtube` done or given up → the notices (the town site link is enough when YouTube fails).
    ///
    /// Notices are queued once per session and never re-run by a re-render: askers get one mail.
    async fn follow_up(&self, job: &Job, done: bool) -> Result<(), AppError> {
        let session = job.session_id;
        match job.kind.as_str() {
            PUBLISH_LOCAL if done => {
                let targets = crate::workflow::publish_targets(&self.db, &self.config, session).await?;
                for kind in targets.iter().filter_map(|t| job_for_target(t)) {
                    match self.db.job_by_kind(session, kind).await? {
                        Some(j) if j.state != crate::storage::JobState::Running => {
                            self.db.retry_job(j.id).await?;
                        }
                        Some(_) => {}
                        None => {
                            self.db.enqueue_job(session, kind, DEFAULT_MAX_ATTEMPTS).await?;
                        }
                    }
                }
                if !targets.iter().any(|t| t == "youtube") {
                    self.db.enqueue_job(session, NOTIFY_ASKERS, DEFAULT_MAX_ATTEMPTS).await?;
                }
            }
            PUBLISH_YOUTUBE => {
                self.db.enqueue_job(session, NOTIFY_ASKERS, DEFAULT_MAX_ATTEMPTS).await?;
            }
            _ => {}
        }
        self.wake.notify_one();
        Ok(())
    }

    /// Runs the job's work; returns the URL of what it published, if anything.
    async fn execute(&self, job: &Job) -> Result<Option<String>, AppError> {
        match job.kind.as_str() {
            PUBLISH_LOCAL => {
                let db = self.db.clone();
                let id = job.id;
                let last = Arc::new(std::sync::Mutex::new(0.0f64));
                let handle = tokio::runtime::Handle::current();
                let progress: Arc<dyn Fn(f64) + Send + Sync> = Arc::new(move |f: f64| {
                    // At most every 2 %: progress is for people, not a write per frame.
                    let mut l = last.lock().unwrap();
                    if f - *l >= 0.02 || f >= 1.0 {
                        *l = f;
                        let db = db.clone();
                        handle.spawn(async move {
                            let _ = db.set_job_progress(id, f).await;
                        });
                    }
                });
                let m = crate::workflow::publish_session(&self.db, &self.config, job.session_id, progress).await?;
                Ok(Some(format!("{}/r/{}", self.config.public_url(), m.slug)))
            }
            PUBLISH_S3 => {
                let url = crate::workflow::publish_s3(&self.db, &self.config, job, &|step| {
                    tracing::debug!(job = job.id, ?step, "s3");
                })
                .await?;
                Ok(Some(url))
            }
            PUBLISH_YOUTUBE => Ok(Some(crate::workflow::publish_youtube(&self.db, &self.config, job).await?)),
            NOTIFY_ASKERS => {
                let (sent, skipped) = crate::workflow::notify_askers(&self.db, &self.config, job.session_id).await?;
                tracing::info!(job = job.id, sent, skipped, "answer notices");
                Ok(None)
            }
            other => Err(AppError::Invalid(format!("unknown job kind {other:?}"))),
        }
    }

    fn tell(&self, session: SessionId, outcome: JobOutcome) {
        if let Some(l) = &self.listener {
            l(session, outcome);
        }
    }
}

/// Errors that another attempt cannot fix.
pub fn is_permanent(e: &AppError) -> bool {
    use crate::media::MediaError;
    match e {
        AppError::Invalid(_) | AppError::Config(_) => true,
        AppError::Publish(crate::publish::PublishError::Remote { permanent, .. }) => *permanent,
        AppError::Notify(n) => matches!(n, crate::publish::notify::NotifyError::Config(_)),
        AppError::Media(m) => {
            matches!(
                m,
                MediaError::Unreadable { .. }
                    | MediaError::Runtime { .. }
                    | MediaError::MissingElement { .. }
                    | MediaError::Invalid(_)
            )
        }
        _ => false,
    }
}

/// 30 s · 2^(attempt−1), at most 1 h, with ±20 % jitter (derived from the job id and the clock).
pub fn backoff(attempt: i64, job_id: i64) -> chrono::Duration {
    let base = 30i64.saturating_mul(1i64 << (attempt.clamp(1, 8) - 1)).min(3600);
    let seed = (Utc::now().timestamp_subsec_nanos() as i64) ^ (job_id.wrapping_mul(0x9E37_79B9));
    let jitter = (seed.rem_euclid(41) - 20) as f64 / 100.0;
    chrono::Duration::milliseconds(((base as f64) * (1.0 + jitter) * 1000.0) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jitter_and_stops_at_an_hour() {
        for (attempt, base) in [(1, 30.0), (2, 60.0), (3, 120.0), (7, 1920.0), (8, 3600.0), (20, 3600.0)] {
            for id in 0..20 {
                let s = backoff(attempt, id).num_milliseconds() as f64 / 1000.0;
                assert!(s >= base * 0.8 - 0.001 && s <= base * 1.2 + 0.001, "attempt {attempt}: {s} s");
            }
        }
    }

    #[test]
    fn corrupt_media_is_permanent_and_io_is_not() {
        let corrupt = AppError::Media(crate::media::MediaError::Unreadable { path: "x".into(), detail: "y".into() });
        assert!(is_permanent(&corrupt));
        let io = AppError::Io { path: "x".into(), source: std::io::Error::other("disk") };
        assert!(!is_permanent(&io));
        let frozen = AppError::Media(crate::media::MediaError::Frozen {
            pipeline: "p".into(),
            seconds: 1,
            unfinished: "x".into(),
        });
        assert!(!is_permanent(&frozen));
    }
}
