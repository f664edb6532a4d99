//! Answer notices: one mail per asker whose question was answered, with a link to the exact minute on the
//! town site (and on YouTube, `t=`), in German — or English when the asker wrote in English.
//!
//! Composition ([`compose`]) is pure; [`Mailer`] hands messages to SMTP (lettre). Exactly-once bookkeeping is the
//! caller's (`workflow::notify_askers`): a notice is noted as `sending` before SMTP and `sent` after.

use crate::config::MailConfig;
use lettre::message::{Mailbox, Message, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::ExposeSecret;

/// What a notice says.
#[derive(Debug, Clone)]
pub struct Notice<'a> {
    pub to: &'a str,
    pub name: Option<&'a str>,
    /// `en` for English; anything else is German.
    pub language: Option<&'a str>,
    pub question: &'a str,
    pub session_title: &'a str,
    pub town: &'a str,
    /// Where the answer starts in the published recording.
    pub at_ms: i64,
    /// Town site page (`…/r/slug`), without the time.
    pub page_url: &'a str,
    /// YouTube watch URL, if the video is there.
    pub youtube_url: Option<&'a str>,
    /// Stable per question, so a notice sent again after a crash can be recognized as the same.
    pub message_id: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("the asker's address {0:?} is not usable")]
    BadAddress(String),
    #[error("mail settings: {0}")]
    Config(String),
    #[error("SMTP: {detail}")]
    Smtp { detail: String, permanent: bool },
}

fn clock(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// Subject and plain-text body.
pub fn text(n: &Notice<'_>) -> (String, String) {
    let secs = n.at_ms.max(0) / 1000;
    let page = format!("{}?t={secs}", n.page_url);
    let youtube = n.youtube_url.map(|u| format!("{u}{}t={secs}s", if u.contains('?') { '&' } else { '?' }));
    let english = n.language.is_some_and(|l| l.to_ascii_lowercase().starts_with("en"));
    let name = n.name.map(|x| x.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>());
    let name = name.as_deref().map(str::trim).filter(|x| !x.is_empty());
    if english {
        let hello = name.map(|x| format!("Hello {x},")).unwrap_or_else(|| "Hello,".into());
        let mut body = format!(
            "{hello}\n\nyour question in \"{title}\" has been answered:\n\n  \"{q}\"\n\n\
             Watch the answer from {at} on:\n{page}\n",
            title = n.session_title,
            q = n.question,
            at = clock(n.at_ms),
        );
        if let Some(y) = youtube {
            body.push_str(&format!("\nAlso on YouTube:\n{y}\n"));
        }
        body.push_str(&format!(
            "\nYou receive this message once because you left your e-mail address with your question.\n\n{}\n",
            n.town
        ));
        (format!("Your question has been answered – {}", n.session_title), body)
    } else {
        let hello = name.map(|x| format!("Guten Tag {x},")).unwrap_or_else(|| "Guten Tag,".into());
        let mut body = format!(
            "{hello}\n\nIhre Frage in der Sendung „{title}“ wurde beantwortet:\n\n  „{q}“\n\n\
             Die Antwort sehen Sie ab {at} hier:\n{page}\n",
            title = n.session_title,
            q = n.question,
            at = clock(n.at_ms),
        );
        if let Some(y) = youtube {
            body.push_str(&format!("\nAuch auf YouTube:\n{y}\n"));
        }
        body.push_str(&format!(
            "\nSie erhalten diese Nachricht einmalig, weil Sie zu Ihrer Frage Ihre E-Mail-Adresse angegeben haben.\n\n{}\n",
            n.town
        ));
        (format!("Ihre Frage wurde beantwortet – {}", n.session_title), body)
    }
}

/// The complete message. Header values are encoded by lettre; line breaks in names or titles cannot inject
/// headers (they are folded into the encoded word or rejected as an address).
pub fn compose(from: &Mailbox, n: &Notice<'_>) -> Result<Message, NotifyError> {
    let to: Mailbox = n.to.trim().parse().map_err(|_| NotifyError::BadAddress(n.to.to_owned()))?;
    let (subject, body) = text(n);
    let one_line = |s: String| s.replace(['\r', '\n'], " ");
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(one_line(subject))
        .message_id(Some(n.message_id.to_owned()))
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| NotifyError::BadAddress(format!("{}: {e}", n.to)))
}

/// What became of a mailed question, for the confirmation sent back (`[imap] auto_reply`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptKind {
    /// A new question; the personal link lets the asker view, withdraw or delete it.
    Question,
    /// The same question was asked before; the sender counts as its supporter.
    Supported,
    /// No session could be found for it; staff will assign it.
    Unassigned,
}

/// A confirmation for a question that came by e-mail.
#[derive(Debug, Clone)]
pub struct Receipt<'a> {
    pub to: &'a str,
    pub language: Option<&'a str>,
    pub kind: ReceiptKind,
    pub question: &'a str,
    pub session_title: Option<&'a str>,
    pub town: &'a str,
    pub manage_url: Option<&'a str>,
    /// The Message-ID of the citizen's mail (threading; `In-Reply-To`).
    pub in_reply_to: Option<&'a str>,
}

/// `Auto-Submitted: auto-replied` (RFC 3834): other robots must not answer it (no mail loops).
#[derive(Clone)]
struct AutoSubmitted;

impl lettre::message::header::Header for AutoSubmitted {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }
    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), "auto-replied".into())
    }
}

/// Subject and body of a confirmation.
pub fn receipt_text(r: &Receipt<'_>) -> (String, String) {
    let english = r.language.is_some_and(|l| l.to_ascii_lowercase().starts_with("en"));
    let quoted: String = r.question.lines().map(|l| format!("> {l}\n")).collect();
    let title = r.session_title.unwrap_or_default();
    let (subject, what, link) = if english {
        (
            format!("Your question has arrived – {}", r.town),
            match r.kind {
                ReceiptKind::Question => {
                    format!("Thank you! Your question for \"{title}\" has arrived and will be reviewed by our staff.")
                }
                ReceiptKind::Supported => format!(
                    "Thank you! This question for \"{title}\" has been asked before; we counted you as one of its supporters."
                ),
                ReceiptKind::Unassigned => {
                    "Thank you! We could not tell which citizen hour your question is for; our staff will assign it."
                        .to_owned()
                }
            },
            r.manage_url.map(|u| format!("\nView, withdraw or delete your question and your data:\n{u}\n")),
        )
    } else {
        (
            format!("Ihre Frage ist angekommen – {}", r.town),
            match r.kind {
                ReceiptKind::Question => {
                    format!("Vielen Dank! Ihre Frage für „{title}“ ist angekommen und wird von unserem Team geprüft.")
                }
                ReceiptKind::Supported => format!(
                    "Vielen Dank! Diese Frage für „{title}“ wurde bereits gestellt; wir haben Sie als Unterstützer/in gezählt."
                ),
                ReceiptKind::Unassigned => {
                    "Vielen Dank! Wir konnten Ihre Frage keiner Sprechstunde zuordnen; unser Team ordnet sie zu."
                        .to_owned()
                }
            },
            r.manage_url.map(|u| format!("\nIhre Frage und Ihre Daten ansehen, zurückziehen oder löschen:\n{u}\n")),
        )
    };
    let body = format!("{what}\n\n{quoted}{}\n-- \n{}\n", link.unwrap_or_default(), r.town);
    (subject, body)
}

/// The confirmation as a message: a reply in the citizen's thread, marked as automatic.
pub fn compose_receipt(from: &Mailbox, r: &Receipt<'_>) -> Result<Message, NotifyError> {
    let to: Mailbox = r.to.trim().parse().map_err(|_| NotifyError::BadAddress(r.to.to_owned()))?;
    let (subject, body) = receipt_text(r);
    let mut b = Message::builder().from(from.clone()).to(to).subject(subject.replace(['\r', '\n'], " "));
    if let Some(id) = r.in_reply_to.filter(|id| !id.contains(['\r', '\n', '<', '>'])) {
        b = b.in_reply_to(format!("<{id}>")).references(format!("<{id}>"));
    }
    b.header(AutoSubmitted)
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| NotifyError::BadAddress(format!("{}: {e}", r.to)))
}

/// A rejection, when staff choose to tell the asker (with the reason they gave).
#[derive(Debug, Clone)]
pub struct Rejection<'a> {
    pub to: &'a str,
    pub language: Option<&'a str>,
    pub question: &'a str,
    pub reason: Option<&'a str>,
    pub session_title: &'a str,
    pub town: &'a str,
}

pub fn rejection_text(r: &Rejection<'_>) -> (String, String) {
    let english = r.language.is_some_and(|l| l.to_ascii_lowercase().starts_with("en"));
    let quoted: String = r.question.lines().map(|l| format!("> {l}\n")).collect();
    let reason = r.reason.map(str::trim).filter(|x| !x.is_empty());
    if english {
        let why = reason.map(|x| format!("Reason: {x}\n\n")).unwrap_or_default();
        (
            format!("Your question for \"{}\"", r.session_title),
            format!(
                "Thank you for your question. Unfortunately it cannot be taken up in \"{}\".\n\n{quoted}\n{why}-- \n{}\n",
                r.session_title, r.town
            ),
        )
    } else {
        let why = reason.map(|x| format!("Begründung: {x}\n\n")).unwrap_or_default();
        (
            format!("Ihre Frage für „{}“", r.session_title),
            format!(
                "Vielen Dank für Ihre Frage. Leider können wir sie in „{}“ nicht aufgreifen.\n\n{quoted}\n{why}-- \n{}\n",
                r.session_title, r.town
            ),
        )
    }
}

pub fn compose_rejection(from: &Mailbox, r: &Rejection<'_>) -> Result<Message, NotifyError> {
    let to: Mailbox = r.to.trim().parse().map_err(|_| NotifyError::BadAddress(r.to.to_owned()))?;
    let (subject, body) = rejection_text(r);
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject.replace(['\r', '\n'], " "))
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| NotifyError::BadAddress(format!("{}: {e}", r.to)))
}

/// SMTP delivery through the configured relay.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    pub from: Mailbox,
}

impl Mailer {
    /// `None` when mail is off (no `smtp_host`).
    pub fn from_config(c: &MailConfig) -> Result<Option<Mailer>, NotifyError> {
        if c.smtp_host.trim().is_empty() {
            return Ok(None);
        }
        let from: Mailbox = c.from.parse().map_err(|e| NotifyError::Config(format!("mail.from: {e}")))?;
        let host = c.smtp_host.trim();
        let mut b = match c.smtp_tls.as_str() {
            "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(host),
            "none" => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)),
            _ => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host),
        }
        .map_err(|e| NotifyError::Config(format!("SMTP relay {host}: {e}")))?
        .port(c.smtp_port)
        .timeout(Some(std::time::Duration::from_secs(30)));
        if !c.username.is_empty() {
            let pw = c.password.as_ref().map(|p| p.expose_secret().to_owned()).unwrap_or_default();
            b = b.credentials(Credentials::new(c.username.clone(), pw));
        }
        Ok(Some(Mailer { transport: b.build(), from }))
    }

    pub async fn send(&self, m: Message) -> Result<(), NotifyError> {
        self.transport
            .send(m)
            .await
            .map(|_| ())
            .map_err(|e| NotifyError::Smtp { permanent: e.is_permanent(), detail: e.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice<'a>(language: Option<&'a str>, name: Option<&'a str>) -> Notice<'a> {
        Notice {
            to: "erika@example.org",
            name,
            language,
            question: "Wann kommt der Radweg?",
            session_title: "Bürgersprechstunde Dezember",
            town: "Stadt Musterstadt",
            at_ms: 754_300,
            page_url: "https://buergerstunde.musterstadt.example/r/dezember",
            youtube_url: Some("https://www.youtube.com/watch?v=abc123"),
            message_id: "<q1.s1@citizenhour>",
        }
    }

    #[test]
    fn german_by_default_english_for_english_askers_with_links_to_the_minute() {
        let (subject, body) = text(&notice(None, Some("Erika")));
        assert_eq!(subject, "Ihre Frage wurde beantwortet – Bürgersprechstunde Dezember");
        assert!(body.starts_with("Guten Tag Erika,"));
        assert!(body.contains("ab 12:34 hier:\nhttps://buergerstunde.musterstadt.example/r/dezember?t=754\n"));
        assert!(body.contains("https://www.youtube.com/watch?v=abc123&t=754s"));
        let (subject, body) = text(&notice(Some("en"), None));
        assert!(subject.starts_with("Your question has been answered"));
        assert!(body.starts_with("Hello,"));
        assert!(body.contains("from 12:34 on:"));
    }

    #[test]
    fn hostile_addresses_and_names_cannot_inject_headers() {
        let from: Mailbox = "Stadt <buergerstunde@musterstadt.example>".parse().unwrap();
        let mut n = notice(None, Some("Erika\r\nBcc: victim@example.org"));
        let m = compose(&from, &n).unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        let headers = raw.split("\r\n\r\n").next().unwrap();
        assert!(!headers.contains("Bcc:") && !raw.contains("\nBcc:"), "{raw}");
        n.to = "erika@example.org\r\nBcc: victim@example.org";
        assert!(matches!(compose(&from, &n), Err(NotifyError::BadAddress(_))));
        n.to = "not an address";
        assert!(matches!(compose(&from, &n), Err(NotifyError::BadAddress(_))));
    }
}
