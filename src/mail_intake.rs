//! Mail intake: the town mailbox → questions. Each waiting message is fetched, parsed and routed (plus-address tag
//! or `[slug]` in the subject) to its session as a question — or counted as support for the same question — or,
//! when no open session fits, put in the unassigned inbox for staff. Unusable messages (too large, unparseable, no
//! text) are skipped with a logged reason. Then the message is marked handled on the server (moved or flagged) and,
//! with `[imap] auto_reply`, the sender gets a confirmation with their personal link.
//!
//! Crash safety: what a message became is stored with its receipt in one transaction, keyed by (mailbox,
//! UIDVALIDITY, UID) and checked by Message-ID as well; marking happens after. A crash in between leaves the
//! message waiting, and the next pass only marks it. Nothing is taken twice, nothing is lost.
//!
//! Runs inside `serve` when `[imap] host` is set, alone as `citizenhour mail run`, once as `citizenhour mail poll`.

use crate::app::AppError;
use crate::config::Config;
use crate::domain::{QuestionDraft, QuestionTextError, Session};
use crate::intake::imap::{ImapError, ImapMailbox, Waiting};
use crate::intake::{EmailError, ParsedEmail, parse_email};
use crate::publish::notify::{Mailer, Receipt, ReceiptKind, compose_receipt};
use crate::storage::{Db, InboxItem, MailKey, MailOutcome, StorageError, Taken};
use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;

/// Where a mail goes.
enum Destination {
    /// A question (or support) for this open session.
    Session(Box<(Session, QuestionDraft)>),
    /// The unassigned inbox, with the reason staff see.
    Inbox(String),
    /// Not usable; the reason is logged and kept in the receipt.
    Skip(String),
}

/// Longest text kept for an inbox item (a mail too long to be a question, kept for staff to shorten).
const MAX_INBOX_CHARS: usize = 20_000;

/// What one pass through the mailbox did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollReport {
    pub questions: usize,
    pub supported: usize,
    pub inbox: usize,
    pub skipped: usize,
    pub duplicates: usize,
    /// Messages that had been stored before (a crash before marking) and were only marked now.
    pub marked_again: usize,
    pub replies: usize,
}

impl PollReport {
    pub fn total(&self) -> usize {
        self.questions + self.supported + self.inbox + self.skipped + self.duplicates + self.marked_again
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    Imap(#[from] ImapError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<IntakeError> for AppError {
    fn from(e: IntakeError) -> Self {
        match e {
            IntakeError::Storage(s) => AppError::Storage(s),
            IntakeError::Imap(i) => AppError::Invalid(i.to_string()),
        }
    }
}

#[derive(Clone)]
pub struct MailIntake {
    db: Db,
    config: Arc<Config>,
    mailer: Option<Arc<Mailer>>,
}

impl MailIntake {
    pub fn new(db: Db, config: Arc<Config>) -> Result<MailIntake, AppError> {
        if !config.imap.enabled() {
            return Err(AppError::Invalid("mail intake is off: set [imap] host".into()));
        }
        let mailer = if config.imap.auto_reply { Mailer::from_config(&config.mail)?.map(Arc::new) } else { None };
        Ok(MailIntake { db, config, mailer })
    }

    /// One pass: connect, take every waiting message, log out.
    pub async fn poll_once(&self) -> Result<PollReport, IntakeError> {
        let mut mailbox = ImapMailbox::connect(&self.config.imap).await?;
        let mut report = PollReport::default();
        let result = self.take_waiting(&mut mailbox, &mut report).await;
        mailbox.logout().await;
        result.map(|_| report)
    }

    /// Takes mail until `shutdown` resolves: a pass, then IDLE (or a pause of `poll_seconds`), and again. A lost
    /// connection or an unreachable server is retried with a growing pause (5 s … 5 min).
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let poll = Duration::from_secs(self.config.imap.poll_seconds);
        let first_pause = Duration::from_secs(5);
        let mut pause = first_pause;
        loop {
            let mut connected = false;
            let session = async {
                let mut mailbox = ImapMailbox::connect(&self.config.imap).await?;
                connected = true;
                tracing::info!(mailbox = %mailbox.name, "mail intake connected");
                loop {
                    let mut report = PollReport::default();
                    self.take_waiting(&mut mailbox, &mut report).await?;
                    if report.total() > 0 {
                        tracing::info!(?report, "mail intake pass");
                    }
                    mailbox = mailbox.wait_for_mail(poll).await?;
                }
                #[allow(unreachable_code)]
                Ok::<(), IntakeError>(())
            };
            tokio::select! {
                _ = &mut shutdown => return,
                r = session => {
                    if let Err(e) = r {
                        // A connection that worked before starts again with the short pause.
                        if connected {
                            pause = first_pause;
                        }
                        tracing::error!("mail intake: {e}; again in {} s", pause.as_secs());
                    }
                }
            }
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(pause) => {}
            }
            pause = (pause * 2).min(Duration::from_secs(300));
        }
    }

    async fn take_waiting(&self, mailbox: &mut ImapMailbox, report: &mut PollReport) -> Result<(), IntakeError> {
        for waiting in mailbox.waiting().await? {
            self.take(mailbox, waiting, report).await?;
        }
        Ok(())
    }

    /// One message, from the server to the database and back to the server marked.
    async fn take(&self, mailbox: &mut ImapMailbox, w: Waiting, report: &mut PollReport) -> Result<(), IntakeError> {
        let mut key =
            MailKey { mailbox: mailbox.name.clone(), uidvalidity: mailbox.uidvalidity, uid: w.uid, message_id: None };
        if let Some(receipt) = self.db.mail_receipt(&key).await? {
            // Stored by an earlier pass that did not get to mark it.
            mailbox.mark(w.uid, receipt.outcome.taken()).await?;
            report.marked_again += 1;
            return Ok(());
        }
        let limit = self.config.imap.max_message_mib * 1024 * 1024;
        if u64::from(w.size) > limit {
            return self
                .skip(mailbox, &key, report, &format!("{} bytes, more than the limit of {limit}", w.size))
                .await;
        }
        let raw = mailbox.fetch(w.uid).await?;
        let parsed = match parse_email(&raw, &self.config.intake.mailbox_local_part) {
            Ok(p) => p,
            Err(e) => return self.skip(mailbox, &key, report, &e.to_string()).await,
        };
        key.message_id = parsed.message_id.clone();
        if self.db.mail_receipt(&key).await?.is_some() {
            tracing::info!(uid = w.uid, message_id = ?key.message_id, "mail intake: the same message again; not taken twice");
            self.db.note_mail(&key, MailOutcome::Duplicate, "same Message-ID as a message taken before").await?;
            mailbox.mark(w.uid, true).await?;
            report.duplicates += 1;
            return Ok(());
        }
        let note = parsed.attachment_note();
        let reason = match self.destination(&parsed).await? {
            Destination::Session(to) => {
                let (s, draft) = *to;
                let taken = self.db.take_mail_question(&key, s.id, &draft, note.as_deref()).await?;
                mailbox.mark(w.uid, true).await?;
                let Taken::New((question, token)) = taken else {
                    report.marked_again += 1;
                    return Ok(());
                };
                let (kind, what) = match token {
                    Some(_) => (ReceiptKind::Question, "question"),
                    None => (ReceiptKind::Supported, "support"),
                };
                if token.is_some() {
                    report.questions += 1
                } else {
                    report.supported += 1
                }
                tracing::info!(uid = w.uid, question = question.id.0, session = %s.slug, "mail intake: {what}");
                let manage = token.map(|t| format!("{}/q/{t}", self.config.public_url()));
                self.reply(&key, &parsed, kind, question.text.as_str(), Some(&s.title), manage.as_deref(), report)
                    .await;
                return Ok(());
            }
            Destination::Skip(why) => return self.skip(mailbox, &key, report, &why).await,
            Destination::Inbox(reason) => reason,
        };
        let text = inbox_text(&parsed);
        if text.trim().is_empty() {
            return self.skip(mailbox, &key, report, "message has no text").await;
        }
        let item = InboxItem {
            id: 0,
            received_at: Utc::now(),
            author_name: parsed.from_name.clone(),
            email: parsed.from_address.clone(),
            subject: parsed.subject.chars().take(998).collect(),
            text,
            language: Some(parsed.language.clone()),
            intake_note: note.clone(),
            reason,
        };
        let taken = self.db.take_mail_to_inbox(&key, &item, note.as_deref()).await?;
        mailbox.mark(w.uid, true).await?;
        if let Taken::New(id) = taken {
            report.inbox += 1;
            tracing::info!(uid = w.uid, inbox_item = id, reason = %item.reason, "mail intake: to the unassigned inbox");
            self.reply(&key, &parsed, ReceiptKind::Unassigned, &item.text, None, None, report).await;
        } else {
            report.marked_again += 1;
        }
        Ok(())
    }

    /// Where a parsed mail belongs: its open session (as a draft), the unassigned inbox (and why), or nowhere.
    async fn destination(&self, parsed: &ParsedEmail) -> Result<Destination, StorageError> {
        let Some(slug) = &parsed.route else {
            return Ok(Destination::Inbox(
                "Keine Sprechstunde angegeben (Plus-Adresse oder [Kürzel] im Betreff)".into(),
            ));
        };
        let session = match self.db.session_by_slug(slug).await {
            Ok(s) => s,
            Err(StorageError::SessionNotFound(_)) => {
                return Ok(Destination::Inbox(format!("Unbekannte Sprechstunde „{slug}“")));
            }
            Err(e) => return Err(e),
        };
        if !session.intake_open(Utc::now()) {
            return Ok(Destination::Inbox(format!("Fragenannahme für „{slug}“ ist geschlossen")));
        }
        Ok(match parsed.to_draft(self.config.intake.max_question_chars) {
            Ok(draft) => Destination::Session(Box::new((session, draft))),
            Err(EmailError::Text(QuestionTextError::TooLong { len, max })) => {
                Destination::Inbox(format!("Text mit {len} Zeichen ist länger als {max}: bitte kürzen"))
            }
            Err(e) => Destination::Skip(e.to_string()),
        })
    }

    async fn skip(
        &self,
        mailbox: &mut ImapMailbox,
        key: &MailKey,
        report: &mut PollReport,
        why: &str,
    ) -> Result<(), IntakeError> {
        tracing::warn!(uid = key.uid, "mail intake: skipped: {why}");
        self.db.note_mail(key, MailOutcome::Skipped, why).await?;
        mailbox.mark(key.uid, false).await?;
        report.skipped += 1;
        Ok(())
    }

    /// The confirmation (when configured; never to robots). A failure is logged, the question stays.
    #[allow(clippy::too_many_arguments)]
    async fn reply(
        &self,
        key: &MailKey,
        parsed: &ParsedEmail,
        kind: ReceiptKind,
        question: &str,
        session_title: Option<&str>,
        manage_url: Option<&str>,
        report: &mut PollReport,
    ) {
        let (Some(mailer), Some(to)) = (&self.mailer, parsed.from_address.as_deref()) else { return };
        if parsed.automated {
            tracing::info!(uid = key.uid, "mail intake: no confirmation to an automatic sender");
            return;
        }
        let receipt = Receipt {
            to,
            language: Some(&parsed.language),
            kind,
            question,
            session_title,
            town: &self.config.town.name,
            manage_url,
            in_reply_to: parsed.message_id.as_deref(),
        };
        let sent = match compose_receipt(&mailer.from, &receipt) {
            Ok(m) => mailer.send(m).await,
            Err(e) => Err(e),
        };
        match sent {
            Ok(()) => {
                report.replies += 1;
                if let Err(e) = self.db.mark_mail_replied(key).await {
                    tracing::error!("mail intake: noting the confirmation: {e}");
                }
            }
            Err(e) => tracing::warn!(uid = key.uid, "mail intake: confirmation not sent: {e}"),
        }
    }
}

/// The text kept for staff: the body (or subject), control characters removed, within [`MAX_INBOX_CHARS`].
fn inbox_text(p: &ParsedEmail) -> String {
    let body = if p.text.trim().is_empty() { &p.subject } else { &p.text };
    body.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .take(MAX_INBOX_CHARS)
        .collect::<String>()
        .trim()
        .to_owned()
}
