//! One writer for question submissions. Under load, every submission as its own write transaction queues on
//! SQLite's single write lock, and the busy handler's sleeps make latency jump (p99 ≈ 200 ms at 1,500/s). Here
//! submissions go through a channel to one task that writes whatever has arrived in one transaction (at most
//! [`MAX_BATCH`]) and answers each caller. Each submission has its own savepoint: one that cannot be stored is
//! rolled back and answered with its error, the others are stored. Only if the transaction itself fails are the
//! submissions written one by one.

use super::StorageError;
use super::questions::add_or_support;
use crate::domain::{QuestionDraft, SessionId};
use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

/// Most submissions written in one transaction.
pub const MAX_BATCH: usize = 256;

type Reply = oneshot::Sender<Result<(i64, Option<String>), StorageError>>;

struct Submission {
    session: SessionId,
    draft: QuestionDraft,
    reply: Reply,
}

/// The sending side; cheap to clone. The writer task ends when the last sender is dropped.
#[derive(Clone, Debug)]
pub struct SubmissionWriter {
    tx: mpsc::Sender<Submission>,
}

impl SubmissionWriter {
    pub fn spawn(pool: SqlitePool) -> SubmissionWriter {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(write_loop(pool, rx));
        SubmissionWriter { tx }
    }

    /// Stores the submission (or counts it as support): (question id, personal-link token if new).
    pub async fn submit(
        &self,
        session: SessionId,
        draft: QuestionDraft,
    ) -> Result<(i64, Option<String>), StorageError> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(Submission { session, draft, reply }).await.map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

fn closed() -> StorageError {
    StorageError::Db(sqlx::Error::PoolClosed)
}

async fn write_loop(pool: SqlitePool, mut rx: mpsc::Receiver<Submission>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        match write_batch(&pool, &batch).await {
            Ok(results) => {
                for (s, r) in batch.drain(..).zip(results) {
                    let _ = s.reply.send(r);
                }
            }
            // The transaction itself failed (BEGIN or COMMIT): each submission on its own, for its own answer.
            Err(e) => {
                tracing::warn!("a batch of {} submissions failed ({e}); writing them one by one", batch.len());
                for s in batch.drain(..) {
                    let r = match write_batch(&pool, std::slice::from_ref(&s)).await {
                        Ok(mut v) => v.remove(0),
                        Err(e) => Err(e),
                    };
                    let _ = s.reply.send(r);
                }
            }
        }
    }
}

/// One transaction for the batch, a savepoint per submission: one that fails is rolled back alone and answered
/// with its error; the others are stored.
async fn write_batch(
    pool: &SqlitePool,
    batch: &[Submission],
) -> Result<Vec<Result<(i64, Option<String>), StorageError>>, StorageError> {
    use sqlx::Acquire;
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let mut out = Vec::with_capacity(batch.len());
    for s in batch {
        let mut savepoint = tx.begin().await?;
        match add_or_support(&mut savepoint, s.session, &s.draft).await {
            Ok(r) => {
                savepoint.commit().await?;
                out.push(Ok(r));
            }
            Err(e) => {
                savepoint.rollback().await?;
                out.push(Err(e));
            }
        }
    }
    tx.commit().await?;
    Ok(out)
}
