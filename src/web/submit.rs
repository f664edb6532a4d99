//! Handing in a question — shared by the form and the JSON API.

use super::AppState;
use super::error::WebError;
use crate::domain::{Question, QuestionDraft, QuestionOrigin, QuestionText, QuestionTextError};
use serde::Deserialize;

/// What a citizen sends (form fields and JSON keys are the same).
#[derive(Debug, Default, Deserialize)]
pub struct QuestionInput {
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "flag")]
    pub show_name: bool,
    #[serde(default, deserialize_with = "flag")]
    pub consent: bool,
    #[serde(default)]
    pub lang: Option<String>,
    /// The form's honeypot: hidden from people (CSS, `aria-hidden`, no tab stop); bots fill it in.
    #[serde(default)]
    pub website: Option<String>,
}

impl QuestionInput {
    /// A bot filled in the field people never see.
    pub fn caught_in_honeypot(&self) -> bool {
        self.website.as_deref().is_some_and(|w| !w.trim().is_empty())
    }
}

/// Accepts JSON booleans and HTML checkbox values ("on", "true", "1").
fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum F {
        B(bool),
        S(String),
    }
    Ok(match F::deserialize(d)? {
        F::B(b) => b,
        F::S(s) => matches!(s.as_str(), "on" | "true" | "1" | "yes"),
    })
}

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_EMAIL_CHARS: usize = 254;

fn optional_field(v: Option<&str>) -> Option<String> {
    v.map(|s| s.chars().filter(|c| !c.is_control()).collect::<String>().trim().to_owned()).filter(|s| !s.is_empty())
}

/// A plausible mailbox: one `@`, a dotted domain, no spaces or control characters (no header injection).
pub fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else { return false };
    e.chars().count() <= MAX_EMAIL_CHARS
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !e.chars().any(|c| c.is_whitespace() || c.is_control() || "<>,;\"()[]\\".contains(c))
}

/// What became of a handed-in question.
pub struct Submitted {
    pub question: Question,
    /// The session had this question already; the asker was counted as a supporter.
    pub merged: bool,
    /// The asker's personal link token (`/q/{token}`: view, withdraw, delete, export); new questions only.
    pub manage_token: Option<String>,
}

/// Validates `input` and stores it as a pending question of the session `slug` — or, when the session has the
/// same question already (normalized text), counts the asker as a supporter of it.
pub async fn submit(
    state: &AppState,
    slug: &str,
    input: &QuestionInput,
    origin: QuestionOrigin,
) -> Result<Submitted, WebError> {
    let session = state.db.session_by_slug(slug).await?;
    if !session.intake_open(chrono::Utc::now()) {
        return Err(WebError::IntakeClosed);
    }
    // U+FFFD only appears when a client sent bytes that are not UTF-8 (form decoding replaces them): refuse the
    // submission instead of storing mojibake.
    let fields = [Some(input.text.as_str()), input.name.as_deref(), input.email.as_deref()];
    if fields.into_iter().flatten().any(|f| f.contains('\u{FFFD}')) {
        return Err(WebError::Malformed("text is not valid UTF-8 / Text ist kein gültiges UTF-8".into()));
    }
    let text = QuestionText::parse(&input.text, state.config.intake.max_question_chars).map_err(|e| match e {
        QuestionTextError::Empty => WebError::EmptyQuestion,
        QuestionTextError::TooLong { len, max } => WebError::QuestionTooLong { len, max },
    })?;
    // Raw email must not carry CR/LF even before cleaning: that is an injection attempt, not a typo.
    if input.email.as_deref().is_some_and(|e| e.contains(['\r', '\n'])) {
        return Err(WebError::InvalidEmail);
    }
    let name = optional_field(input.name.as_deref());
    if name.as_ref().is_some_and(|n| n.chars().count() > MAX_NAME_CHARS) {
        return Err(WebError::InvalidName);
    }
    let email = optional_field(input.email.as_deref());
    if email.as_deref().is_some_and(|e| !valid_email(e)) {
        return Err(WebError::InvalidEmail);
    }
    if !input.consent {
        return Err(WebError::ConsentMissing);
    }
    let draft = QuestionDraft {
        text,
        author_name: name,
        email,
        show_name: input.show_name,
        origin,
        language: input.lang.as_deref().filter(|l| matches!(*l, "de" | "en")).map(str::to_owned),
        intake_note: None,
    };
    let (question, manage_token) = state.db.add_or_support_question(session.id, &draft).await?;
    Ok(Submitted { question, merged: manage_token.is_none(), manage_token })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_addresses_are_checked_for_shape_and_injection() {
        assert!(valid_email("erika@example.org"));
        assert!(!valid_email("erika@example.org\r\nBcc: x@y.z"));
        assert!(!valid_email("erika example@x.org"));
        assert!(!valid_email("no-at.example.org"));
        assert!(!valid_email("a@b"));
        assert!(!valid_email("<a@b.de>"));
    }
}
