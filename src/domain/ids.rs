//! Identifiers, parsed once at the edge.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(transparent)]
pub struct SessionId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(transparent)]
pub struct QuestionId(pub i64);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
impl fmt::Display for QuestionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A URL-safe session name: lowercase ASCII letters, digits and single dashes, 3–64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SlugError {
    #[error("slug must be 3–64 characters, got {0}")]
    Length(usize),
    #[error("slug may contain only a–z, 0–9 and single dashes: {0:?}")]
    Characters(String),
}

impl Slug {
    pub fn parse(s: &str) -> Result<Self, SlugError> {
        let len = s.chars().count();
        if !(3..=64).contains(&len) {
            return Err(SlugError::Length(len));
        }
        let ok = s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !s.starts_with('-')
            && !s.ends_with('-')
            && !s.contains("--");
        if !ok {
            return Err(SlugError::Characters(s.to_owned()));
        }
        Ok(Slug(s.to_owned()))
    }

    /// Derives a slug from a title: German umlauts transliterated, everything else folded to dashes.
    pub fn from_title(title: &str) -> Self {
        let mut out = String::new();
        for c in title.to_lowercase().chars() {
            match c {
                'ä' => out.push_str("ae"),
                'ö' => out.push_str("oe"),
                'ü' => out.push_str("ue"),
                'ß' => out.push_str("ss"),
                c if c.is_ascii_alphanumeric() => out.push(c),
                _ => {
                    if !out.ends_with('-') && !out.is_empty() {
                        out.push('-')
                    }
                }
            }
        }
        let mut s: String = out.trim_matches('-').chars().take(64).collect();
        s = s.trim_end_matches('-').to_owned();
        while s.len() < 3 {
            s.push('x');
        }
        Slug(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = SlugError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Slug::parse(&s)
    }
}
impl From<Slug> for String {
    fn from(s: Slug) -> String {
        s.0
    }
}
impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_with_umlauts_becomes_a_readable_slug() {
        assert_eq!(
            Slug::from_title("Bürgersprechstunde mit Jörg Maßmann").as_str(),
            "buergersprechstunde-mit-joerg-massmann"
        );
    }

    #[test]
    fn hostile_slugs_are_refused() {
        assert!(matches!(Slug::parse("../etc"), Err(SlugError::Characters(_))));
        assert!(matches!(Slug::parse("ab"), Err(SlugError::Length(2))));
        assert!(Slug::parse("a--b").is_err());
        assert!(Slug::parse("-abc").is_err());
        assert!(Slug::parse("Abc").is_err());
        assert!(Slug::parse("sprechstunde-2026").is_ok());
    }
}
