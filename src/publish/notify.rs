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
