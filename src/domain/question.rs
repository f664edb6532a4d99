//! A citizen's question and the rules for its text.

use super::{QuestionId, SessionId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionStatus {
    Pending,
    Approved,
    Rejected,
    Answered,
}

impl QuestionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionStatus::Pending => "pending",
            QuestionStatus::Approved => "approved",
            QuestionStatus::Rejected => "rejected",
            QuestionStatus::Answered => "answered",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => QuestionStatus::Pending,
            "approved" => QuestionStatus::Approved,
            "rejected" => QuestionStatus::Rejected,
            "answered" => QuestionStatus::Answered,
            _ => return None,
        })
    }
}

/// Where a question came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionOrigin {
    Web,
    Api,
    Email,
    Import,
}

impl QuestionOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionOrigin::Web => "web",
            QuestionOrigin::Api => "api",
            QuestionOrigin::Email => "email",
            QuestionOrigin::Import => "import",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "web" => QuestionOrigin::Web,
            "api" => QuestionOrigin::Api,
            "email" => QuestionOrigin::Email,
            "import" => QuestionOrigin::Import,
            _ => return None,
        })
    }
}

/// The text of a question: trimmed, whitespace-collapsed, control characters removed, non-empty, within a limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionText(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QuestionTextError {
    #[error("the question is empty")]
    Empty,
    #[error("the question has {len} characters; at most {max} are allowed")]
    TooLong { len: usize, max: usize },
}

impl QuestionText {
    pub fn parse(raw: &str, max_chars: usize) -> Result<Self, QuestionTextError> {
        let mut out = String::with_capacity(raw.len());
        for line in raw.lines() {
            let cleaned: String = line
                .chars()
                .filter(|c| !c.is_control())
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            if cleaned.is_empty() {
                if !out.is_empty() && !out.ends_with("\n\n") {
                    out.push('\n');
                }
                continue;
            }
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&cleaned);
        }
        let text = out.trim().to_owned();
        if text.is_empty() {
            return Err(QuestionTextError::Empty);
        }
        let len = text.chars().count();
        if len > max_chars {
            return Err(QuestionTextError::TooLong { len, max: max_chars });
        }
        Ok(QuestionText(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form duplicates are found by: Unicode-compatibility-normalized (NFKC), lower case, letters and digits
    /// only, single spaces. "Wann kommt der Radweg?!" and "wann  kommt der RADWEG" are the same question.
    pub fn normalized(&self) -> String {
        use unicode_normalization::UnicodeNormalization;
        let folded: String =
            self.0.nfkc().flat_map(char::to_lowercase).map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
        folded.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// A one-line form for the lower third and chapter titles, cut at `max` characters with an ellipsis.
    pub fn headline(&self, max: usize) -> String {
        let one_line = self.0.split_whitespace().collect::<Vec<_>>().join(" ");
        if one_line.chars().count() <= max {
            one_line
        } else {
            let cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
            format!("{}…", cut.trim_end())
        }
    }
}

/// A question as handed in, before it is stored.
#[derive(Debug, Clone)]
pub struct QuestionDraft {
    pub text: QuestionText,
    pub author_name: Option<String>,
    pub email: Option<String>,
    pub show_name: bool,
    pub origin: QuestionOrigin,
    pub language: Option<String>,
    /// Free-form notes from intake (e.g. "2 attachments ignored: a.pdf, b.jpg").
    pub intake_note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Question {
    pub id: QuestionId,
    pub session_id: SessionId,
    pub text: QuestionText,
    pub author_name: Option<String>,
    #[serde(skip_serializing)]
    pub email: Option<String>,
    pub show_name: bool,
    pub origin: QuestionOrigin,
    pub status: QuestionStatus,
    pub position: i64,
    pub language: Option<String>,
    pub intake_note: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Milliseconds into the recording where the question was answered.
    pub answered_at_ms: Option<i64>,
    /// How many citizens asked this (1 + merged duplicates).
    pub supporters: i64,
    /// Shown first in the moderation queue and the live queue.
    pub pinned: bool,
    /// The citizen's own words, when staff edited the text (kept for the record and the asker's export).
    #[serde(skip_serializing)]
    pub original_text: Option<String>,
    /// Why staff rejected it (staff only; mailed to the asker when they chose so).
    #[serde(skip_serializing)]
    pub rejection_reason: Option<String>,
}

impl Question {
    /// The name shown on screen: only with the asker's opt-in.
    pub fn display_name(&self) -> Option<&str> {
        if self.show_name { self.author_name.as_deref().filter(|n| !n.trim().is_empty()) } else { None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_text_is_cleaned_and_bounded() {
        assert_eq!(QuestionText::parse("   \n\t ", 100), Err(QuestionTextError::Empty));
        assert_eq!(QuestionText::parse("  Wann   kommt\u{7} der Bus? ", 100).unwrap().as_str(), "Wann kommt der Bus?");
        assert_eq!(QuestionText::parse("Zeile 1\r\n\r\n\r\n\r\nZeile 2", 100).unwrap().as_str(), "Zeile 1\n\nZeile 2");
        assert!(matches!(
            QuestionText::parse(&"ä".repeat(101), 100),
            Err(QuestionTextError::TooLong { len: 101, max: 100 })
        ));
        assert!(QuestionText::parse(&"ä".repeat(100), 100).is_ok());
    }

    #[test]
    fn headlines_are_cut_on_characters_not_bytes() {
        let t = QuestionText::parse("Warum ist die Straße über die Brücke gesperrt?", 500).unwrap();
        assert_eq!(t.headline(200), "Warum ist die Straße über die Brücke gesperrt?");
        assert_eq!(t.headline(12), "Warum ist d…");
    }
}
