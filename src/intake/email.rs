//! E-mail → question: prefer text/plain, fall back to HTML converted to text, decode any charset,
//! strip quoted replies and signatures, ignore attachments but note them, and route by plus-address or
//! a `[slug]` code in the subject.

use crate::domain::{QuestionDraft, QuestionOrigin, QuestionText, QuestionTextError};
use mail_parser::{MessageParser, MimeHeaders};

/// Hard limit on a raw message we are willing to parse (a MIME bomb guard; attachments count).
pub const MAX_RAW_BYTES: usize = 40 * 1024 * 1024;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EmailError {
    #[error("not an e-mail message")]
    Unparseable,
    #[error("message of {0} bytes is larger than the limit")]
    TooLarge(usize),
    #[error("message has no text")]
    NoText,
    #[error("question text: {0}")]
    Text(#[from] QuestionTextError),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParsedEmail {
    pub from_name: Option<String>,
    pub from_address: Option<String>,
    pub subject: String,
    /// Clean plain text: quotes and signature removed.
    pub text: String,
    /// The session slug the mail is addressed to, if any.
    pub route: Option<String>,
    /// Names (and sizes) of attachments that were ignored.
    pub attachments: Vec<String>,
    /// "de" or "en" (a guess from common words; German by default).
    pub language: String,
    pub message_id: Option<String>,
    /// Sent by a machine (Auto-Submitted, Precedence bulk/list/junk, List-Id, a mailer daemon): never auto-replied.
    pub automated: bool,
}

/// Parses a raw RFC 5322 message. `mailbox_local_part` is the town mailbox's local part
/// (`buergersprechstunde` in `buergersprechstunde+<slug>@town.de`).
pub fn parse_email(raw: &[u8], mailbox_local_part: &str) -> Result<ParsedEmail, EmailError> {
    if raw.len() > MAX_RAW_BYTES {
        return Err(EmailError::TooLarge(raw.len()));
    }
    let msg = MessageParser::default().parse(raw).ok_or(EmailError::Unparseable)?;
    if msg.headers().is_empty() {
        return Err(EmailError::Unparseable);
    }
    let from = msg.from().and_then(|a| a.first());
    let subject = clean_line(msg.subject().unwrap_or_default());
    // body_text converts an HTML-only body to text; multiple text parts are joined.
    let mut text = String::new();
    let mut i = 0;
    while let Some(part) = msg.body_text(i) {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&part);
        i += 1;
        if i > 16 {
            break;
        }
    }
    let text = strip_quotes_and_signature(&text);
    let attachments = msg
        .attachments()
        .map(|a| format!("{} ({} bytes)", a.attachment_name().unwrap_or("unnamed"), a.len()))
        .collect();

    let mut route = None;
    for header in [msg.to(), msg.cc()].into_iter().flatten() {
        for addr in header.iter() {
            if let Some(slug) = addr.address().and_then(|a| plus_tag(a, mailbox_local_part)) {
                route = Some(slug);
                break;
            }
        }
    }
    if route.is_none() {
        route = subject_code(&subject);
    }
    let language = guess_language(&format!("{subject} {text}"));
    let header_text = |name: &str| msg.header(name).and_then(|h| h.as_text()).map(|t| t.trim().to_ascii_lowercase());
    let sender = from.and_then(|a| a.address()).unwrap_or_default().to_ascii_lowercase();
    let automated = header_text("Auto-Submitted").is_some_and(|v| v != "no")
        || header_text("Precedence").is_some_and(|v| ["bulk", "list", "junk"].contains(&v.as_str()))
        || msg.header("List-Id").is_some()
        || ["mailer-daemon@", "postmaster@", "noreply@", "no-reply@"].iter().any(|p| sender.starts_with(p));
    Ok(ParsedEmail {
        from_name: from.and_then(|a| a.name()).map(clean_line).filter(|s| !s.is_empty()),
        from_address: from.and_then(|a| a.address()).map(clean_line).filter(|s| s.contains('@')),
        subject,
        text,
        route,
        attachments,
        language,
        message_id: msg.message_id().map(clean_line).filter(|m| !m.is_empty() && m.len() <= 998),
        automated,
    })
}

impl ParsedEmail {
    /// What staff see about ignored attachments (names and sizes), if there were any.
    pub fn attachment_note(&self) -> Option<String> {
        (!self.attachments.is_empty())
            .then(|| format!("{} Anhang/Anhänge ignoriert: {}", self.attachments.len(), self.attachments.join(", ")))
    }

    /// The question draft: the body (or the subject if the body is empty) within `max_chars`.
    pub fn to_draft(&self, max_chars: usize) -> Result<QuestionDraft, EmailError> {
        let body = if self.text.trim().is_empty() { &self.subject } else { &self.text };
        if body.trim().is_empty() {
            return Err(EmailError::NoText);
        }
        Ok(QuestionDraft {
            text: QuestionText::parse(body, max_chars)?,
            author_name: self.from_name.clone(),
            email: self.from_address.clone(),
            show_name: false,
            origin: QuestionOrigin::Email,
            language: Some(self.language.clone()),
            intake_note: self.attachment_note(),
        })
    }
}

/// Removes CR/LF and control characters (header injection) and trims.
fn clean_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn plus_tag(address: &str, local: &str) -> Option<String> {
    let (user, _domain) = address.rsplit_once('@')?;
    let (base, tag) = user.split_once('+')?;
    (base.eq_ignore_ascii_case(local) && crate::domain::Slug::parse(&tag.to_lowercase()).is_ok())
        .then(|| tag.to_lowercase())
}

fn subject_code(subject: &str) -> Option<String> {
    let start = subject.find('[')?;
    let end = subject[start..].find(']')? + start;
    let code = subject[start + 1..end].trim().to_lowercase();
    crate::domain::Slug::parse(&code).ok().map(|s| s.to_string())
}

/// Drops quoted lines (`>`), everything after a reply header ("Am … schrieb …:", "On … wrote:",
/// "-----Original Message-----") and everything after the signature delimiter `-- `.
fn strip_quotes_and_signature(text: &str) -> String {
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim_end();
        if t == "--" || t == "-- " || line == "-- " {
            break;
        }
        let lower = t.trim().to_lowercase();
        let reply_header = (lower.starts_with("am ") && lower.contains(" schrieb") && lower.ends_with(':'))
            || (lower.starts_with("on ") && lower.contains(" wrote") && lower.ends_with(':'))
            || lower.starts_with("-----original message-----")
            || lower.starts_with("-----ursprüngliche nachricht-----");
        if reply_header {
            break;
        }
        if t.trim_start().starts_with('>') {
            continue;
        }
        out.push(t);
    }
    out.join("\n").trim().to_owned()
}

fn guess_language(text: &str) -> String {
    const EN: &[&str] = &["the", "and", "is", "are", "why", "what", "when", "will", "you", "please", "would", "how"];
    const DE: &[&str] = &["der", "die", "das", "und", "ist", "sind", "warum", "wann", "wird", "sie", "bitte", "wie"];
    let words: Vec<String> = text.split(|c: char| !c.is_alphabetic()).map(|w| w.to_lowercase()).collect();
    let en = words.iter().filter(|w| EN.contains(&w.as_str())).count();
    let de = words.iter().filter(|w| DE.contains(&w.as_str())).count();
    if en > de { "en".into() } else { "de".into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_signatures_are_stripped() {
        let t = "Meine Frage ist gut.\n\nAm 3.12.2026 um 10:00 schrieb Rathaus:\n> alt\n";
        assert_eq!(strip_quotes_and_signature(t), "Meine Frage ist gut.");
        assert_eq!(strip_quotes_and_signature("Frage\n> zitat\nmehr\n-- \nMax Muster\nTel 123"), "Frage\nmehr");
    }

    #[test]
    fn routing_by_plus_address_or_subject_code() {
        assert_eq!(
            plus_tag("Buergersprechstunde+Rathaus-2026@stadt.de", "buergersprechstunde"),
            Some("rathaus-2026".into())
        );
        assert_eq!(plus_tag("other+rathaus-2026@stadt.de", "buergersprechstunde"), None);
        assert_eq!(plus_tag("buergersprechstunde+../x@stadt.de", "buergersprechstunde"), None);
        assert_eq!(subject_code("Frage [rathaus-2026] Busse"), Some("rathaus-2026".into()));
        assert_eq!(subject_code("Frage [<script>]"), None);
    }

    #[test]
    fn garbage_is_not_an_email() {
        assert_eq!(parse_email(b"", "x"), Err(EmailError::Unparseable));
        assert!(parse_email(&vec![b'a'; MAX_RAW_BYTES + 1], "x").is_err());
    }
}
