//! Live credentials: the studio token of a session and the ingest token of each of its sources.
//! Tokens are random 128-bit values in hex, compared in constant time.

use super::{Db, StorageError};
use crate::domain::SessionId;
use serde::Serialize;
use sqlx::Row;

/// The sources every session gets credentials for: the host, up to three citizens on air (WHIP) and a
/// press office encoder (`obs`: WHIP or SRT).
pub const DEFAULT_SOURCES: &[&str] = &["host", "guest1", "guest2", "guest3", "obs"];

#[derive(Debug, Clone, Serialize)]
pub struct SourceCredential {
    pub source_id: String,
    pub token: String,
}

pub fn new_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A 256-bit token in hex, for secrets that live in cookies and links (staff logins, askers' personal links).
pub fn new_long_token() -> String {
    format!("{}{}", new_token(), new_token())
}

/// Compares two secrets without an early exit on the first difference.
pub fn tokens_match(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() || a.is_empty() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Db {
    /// Creates the studio token and the default sources' tokens (idempotent: existing ones are kept).
    pub async fn ensure_credentials(&self, session: SessionId) -> Result<(), StorageError> {
        sqlx::query("UPDATE sessions SET studio_token = ? WHERE id = ? AND studio_token = ''")
            .bind(new_token())
            .bind(session.0)
            .execute(self.pool())
            .await?;
        for source in DEFAULT_SOURCES {
            sqlx::query("INSERT OR IGNORE INTO source_credentials (session_id, source_id, token) VALUES (?, ?, ?)")
                .bind(session.0)
                .bind(source)
                .bind(new_token())
                .execute(self.pool())
                .await?;
        }
        Ok(())
    }

    pub async fn studio_token(&self, session: SessionId) -> Result<String, StorageError> {
        Ok(sqlx::query("SELECT studio_token FROM sessions WHERE id = ?")
            .bind(session.0)
            .fetch_one(self.pool())
            .await?
            .try_get("studio_token")?)
    }

    pub async fn source_credentials(&self, session: SessionId) -> Result<Vec<SourceCredential>, StorageError> {
        let rows = sqlx::query("SELECT source_id, token FROM source_credentials WHERE session_id = ? ORDER BY rowid")
            .bind(session.0)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Ok(SourceCredential { source_id: r.try_get("source_id")?, token: r.try_get("token")? }))
            .collect()
    }

    /// Whether `token` is the ingest token of `source` in `session`.
    pub async fn check_source_token(
        &self,
        session: SessionId,
        source: &str,
        token: &str,
    ) -> Result<bool, StorageError> {
        let row = sqlx::query("SELECT token FROM source_credentials WHERE session_id = ? AND source_id = ?")
            .bind(session.0)
            .bind(source)
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(r) => tokens_match(&r.try_get::<String, _>("token")?, token),
            None => false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex_and_compared_exactly() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(tokens_match(&a, &a.clone()));
        assert!(!tokens_match(&a, &b));
        assert!(!tokens_match(&a, &a[..31]));
        assert!(!tokens_match("", ""));
    }
}
