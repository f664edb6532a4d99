//! Mail intake's memory: one receipt per message taken from the town mailbox (written in the same transaction as
//! what the message became) and the "unassigned" inbox of mails no session could be found for.

use super::questions::add_or_support;
use super::{Db, StorageError, fmt_time, parse_time};
use crate::domain::{Question, QuestionDraft, QuestionId, SessionId};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// Which message on which server: IMAP UIDs are only unique within (mailbox, UIDVALIDITY).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailKey {
    /// `user@host/folder`.
    pub mailbox: String,
    pub uidvalidity: u32,
    pub uid: u32,
    pub message_id: Option<String>,
}

/// What became of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailOutcome {
    /// A new question.
    Question,
    /// The sender was counted as a supporter of an existing question.
    Supported,
    /// Put in the unassigned inbox.
    Inbox,
    /// Not usable (too large, unparseable, no text …); the reason is in the receipt.
    Skipped,
    /// The same Message-ID was taken before.
    Duplicate,
}

impl MailOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            MailOutcome::Question => "question",
            MailOutcome::Supported => "supported",
            MailOutcome::Inbox => "inbox",
            MailOutcome::Skipped => "skipped",
            MailOutcome::Duplicate => "duplicate",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "question" => MailOutcome::Question,
            "supported" => MailOutcome::Supported,
            "inbox" => MailOutcome::Inbox,
            "skipped" => MailOutcome::Skipped,
            "duplicate" => MailOutcome::Duplicate,
            _ => return None,
        })
    }
    /// Whether the message is "handled" (moved to the handled folder) rather than "skipped".
    pub fn taken(self) -> bool {
        matches!(self, MailOutcome::Question | MailOutcome::Supported | MailOutcome::Inbox | MailOutcome::Duplicate)
    }
}

#[derive(Debug, Clone)]
pub struct MailReceipt {
    pub outcome: MailOutcome,
    pub detail: Option<String>,
    pub question_id: Option<QuestionId>,
    pub replied: bool,
}

/// A message that was stored now, or had been before.
#[derive(Debug)]
pub enum Taken<T> {
    New(T),
    Before(MailReceipt),
}

/// A mail in the unassigned inbox.
#[derive(Debug, Clone)]
pub struct InboxItem {
    pub id: i64,
    pub received_at: DateTime<Utc>,
    pub author_name: Option<String>,
    pub email: Option<String>,
    pub subject: String,
    pub text: String,
    pub language: Option<String>,
    pub intake_note: Option<String>,
    pub reason: String,
}

async fn insert_receipt(
    conn: &mut sqlx::SqliteConnection,
    key: &MailKey,
    outcome: MailOutcome,
    detail: Option<&str>,
    question: Option<i64>,
) -> Result<bool, StorageError> {
    let r = sqlx::query(
        "INSERT INTO mail_receipts (mailbox, uidvalidity, uid, message_id, outcome, detail, question_id, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (mailbox, uidvalidity, uid) DO NOTHING",
    )
    .bind(&key.mailbox)
    .bind(key.uidvalidity as i64)
    .bind(key.uid as i64)
    .bind(&key.message_id)
    .bind(outcome.as_str())
    .bind(detail)
    .bind(question)
    .bind(fmt_time(Utc::now()))
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

impl Db {
    /// The receipt of a message taken before: by its UID, or else by its Message-ID (a second delivery).
    pub async fn mail_receipt(&self, key: &MailKey) -> Result<Option<MailReceipt>, StorageError> {
        let row = sqlx::query(
            "SELECT outcome, detail, question_id, replied FROM mail_receipts
             WHERE (mailbox = ? AND uidvalidity = ? AND uid = ?) OR (? IS NOT NULL AND message_id = ?)
             ORDER BY (mailbox = ? AND uidvalidity = ? AND uid = ?) DESC LIMIT 1",
        )
        .bind(&key.mailbox)
        .bind(key.uidvalidity as i64)
        .bind(key.uid as i64)
        .bind(&key.message_id)
        .bind(&key.message_id)
        .bind(&key.mailbox)
        .bind(key.uidvalidity as i64)
        .bind(key.uid as i64)
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else { return Ok(None) };
        let outcome: String = r.try_get("outcome")?;
        Ok(Some(MailReceipt {
            outcome: MailOutcome::parse(&outcome).ok_or_else(|| StorageError::Corrupt {
                table: "mail_receipts",
                detail: format!("outcome {outcome:?}"),
            })?,
            detail: r.try_get("detail")?,
            question_id: r.try_get::<Option<i64>, _>("question_id")?.map(QuestionId),
            replied: r.try_get::<i64, _>("replied")? != 0,
        }))
    }

    /// Stores the mail's question (or counts its sender as a supporter) together with its receipt. `Before` when
    /// the message had been taken already (nothing stored).
    pub async fn take_mail_question(
        &self,
        key: &MailKey,
        session: SessionId,
        draft: &QuestionDraft,
        detail: Option<&str>,
    ) -> Result<Taken<(Question, Option<String>)>, StorageError> {
        let mut tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
        let (id, token) = add_or_support(&mut tx, session, draft).await?;
        let outcome = if token.is_some() { MailOutcome::Question } else { MailOutcome::Supported };
        if !insert_receipt(&mut tx, key, outcome, detail, Some(id)).await? {
            tx.rollback().await?;
            return self.taken_before(key).await;
        }
        tx.commit().await?;
        Ok(Taken::New((self.question(QuestionId(id)).await?, token)))
    }

    /// Puts the mail in the unassigned inbox together with its receipt.
    pub async fn take_mail_to_inbox(
        &self,
        key: &MailKey,
        item: &InboxItem,
        detail: Option<&str>,
    ) -> Result<Taken<i64>, StorageError> {
        let mut tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
        let id = sqlx::query(
            "INSERT INTO inbox_items (received_at, author_name, email, subject, text, language, intake_note, reason)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(fmt_time(item.received_at))
        .bind(&item.author_name)
        .bind(&item.email)
        .bind(&item.subject)
        .bind(&item.text)
        .bind(&item.language)
        .bind(&item.intake_note)
        .bind(&item.reason)
        .execute(&mut *tx)
        .await?
        .last_insert_rowid();
        if !insert_receipt(&mut tx, key, MailOutcome::Inbox, detail, None).await? {
            tx.rollback().await?;
            return self.taken_before(key).await;
        }
        tx.commit().await?;
        Ok(Taken::New(id))
    }

    /// Notes a message that was not taken (skipped or a duplicate delivery) and why.
    pub async fn note_mail(&self, key: &MailKey, outcome: MailOutcome, detail: &str) -> Result<(), StorageError> {
        let mut conn = self.pool().acquire().await?;
        insert_receipt(&mut conn, key, outcome, Some(detail), None).await?;
        Ok(())
    }

    async fn taken_before<T>(&self, key: &MailKey) -> Result<Taken<T>, StorageError> {
        let r = self.mail_receipt(key).await?.ok_or_else(|| StorageError::Corrupt {
            table: "mail_receipts",
            detail: format!("receipt for uid {} vanished", key.uid),
        })?;
        Ok(Taken::Before(r))
    }

    pub async fn mark_mail_replied(&self, key: &MailKey) -> Result<(), StorageError> {
        sqlx::query("UPDATE mail_receipts SET replied = 1 WHERE mailbox = ? AND uidvalidity = ? AND uid = ?")
            .bind(&key.mailbox)
            .bind(key.uidvalidity as i64)
            .bind(key.uid as i64)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Skipped messages with their reasons, newest first.
    pub async fn skipped_mails(&self, limit: i64) -> Result<Vec<(Option<String>, String)>, StorageError> {
        let rows = sqlx::query(
            "SELECT message_id, COALESCE(detail, '') AS detail FROM mail_receipts WHERE outcome = 'skipped'
             ORDER BY id DESC LIMIT ?",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok((r.try_get("message_id")?, r.try_get("detail")?))).collect()
    }
}

const INBOX_COLUMNS: &str = "id, received_at, author_name, email, subject, text, language, intake_note, reason";

fn row_to_item(r: &sqlx::sqlite::SqliteRow) -> Result<InboxItem, StorageError> {
    Ok(InboxItem {
        id: r.try_get("id")?,
        received_at: parse_time("inbox_items", &r.try_get::<String, _>("received_at")?)?,
        author_name: r.try_get("author_name")?,
        email: r.try_get("email")?,
        subject: r.try_get("subject")?,
        text: r.try_get("text")?,
        language: r.try_get("language")?,
        intake_note: r.try_get("intake_note")?,
        reason: r.try_get("reason")?,
    })
}

impl Db {
    /// The unassigned inbox, oldest first.
    pub async fn inbox_items(&self) -> Result<Vec<InboxItem>, StorageError> {
        let rows =
            sqlx::query(&format!("SELECT {INBOX_COLUMNS} FROM inbox_items ORDER BY id")).fetch_all(self.pool()).await?;
        rows.iter().map(row_to_item).collect()
    }

    pub async fn inbox_item(&self, id: i64) -> Result<Option<InboxItem>, StorageError> {
        let row = sqlx::query(&format!("SELECT {INBOX_COLUMNS} FROM inbox_items WHERE id = ?"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(row_to_item).transpose()
    }

    /// Moves an inbox item into a session as a question (or a supporter of one): one transaction, so the mail is
    /// never both in the inbox and a question, nor lost. `None` if the item is gone (assigned by someone else).
    pub async fn assign_inbox_item(
        &self,
        id: i64,
        session: SessionId,
        draft: &QuestionDraft,
    ) -> Result<Option<(Question, Option<String>)>, StorageError> {
        let mut tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
        let gone = sqlx::query("DELETE FROM inbox_items WHERE id = ?").bind(id).execute(&mut *tx).await?;
        if gone.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        let (qid, token) = add_or_support(&mut tx, session, draft).await?;
        tx.commit().await?;
        Ok(Some((self.question(QuestionId(qid)).await?, token)))
    }

    /// Deletes an inbox item with its personal data. `false` if it was gone already.
    pub async fn discard_inbox_item(&self, id: i64) -> Result<bool, StorageError> {
        let r = sqlx::query("DELETE FROM inbox_items WHERE id = ?").bind(id).execute(self.pool()).await?;
        Ok(r.rows_affected() == 1)
    }
}
