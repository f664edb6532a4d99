//! Staff accounts, login sessions (only the SHA-256 of the cookie token is stored) and the audit log.

use super::{Db, StorageError, fmt_time, parse_time};
use crate::domain::{Role, StaffUser};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

pub fn token_digest(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub user: Option<String>,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub at: DateTime<Utc>,
}

fn user_from(r: &sqlx::sqlite::SqliteRow) -> Result<StaffUser, StorageError> {
    let role: String = r.try_get("role")?;
    Ok(StaffUser {
        id: r.try_get("id")?,
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        role: Role::parse(&role).map_err(|detail| StorageError::Corrupt { table: "staff_users", detail })?,
    })
}

impl Db {
    /// Adds an account; `None` when the e-mail address has one already.
    pub async fn add_staff_user(
        &self,
        email: &str,
        name: &str,
        role: Role,
        password_hash: &str,
    ) -> Result<Option<StaffUser>, StorageError> {
        let r = sqlx::query(
            "INSERT INTO staff_users (email, name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (email) DO NOTHING",
        )
        .bind(email)
        .bind(name)
        .bind(role.as_str())
        .bind(password_hash)
        .bind(fmt_time(Utc::now()))
        .execute(self.pool())
        .await?;
        if r.rows_affected() == 0 {
            return Ok(None);
        }
        Ok(Some(StaffUser { id: r.last_insert_rowid(), email: email.into(), name: name.into(), role }))
    }

    /// The account and its password hash, if it exists and is not disabled.
    pub async fn staff_login_data(&self, email: &str) -> Result<Option<(StaffUser, String)>, StorageError> {
        let row = sqlx::query(
            "SELECT id, email, name, role, password_hash FROM staff_users WHERE email = ? AND disabled = 0",
        )
        .bind(email)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| Ok((user_from(&r)?, r.try_get("password_hash")?))).transpose()
    }

    pub async fn count_staff_users(&self) -> Result<i64, StorageError> {
        Ok(sqlx::query("SELECT count(*) AS n FROM staff_users").fetch_one(self.pool()).await?.try_get("n")?)
    }

    /// Starts a login session for `token` (the cookie value) with its CSRF token.
    pub async fn open_staff_login(
        &self,
        user: i64,
        token: &str,
        csrf: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO staff_logins (token_sha256, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(token_digest(token))
        .bind(user)
        .bind(csrf)
        .bind(fmt_time(Utc::now()))
        .bind(fmt_time(expires_at))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The user and CSRF token of a live login session.
    pub async fn staff_login(&self, token: &str) -> Result<Option<(StaffUser, String)>, StorageError> {
        let row = sqlx::query(
            "SELECT u.id, u.email, u.name, u.role, l.csrf_token, l.expires_at FROM staff_logins l \
             JOIN staff_users u ON u.id = l.user_id WHERE l.token_sha256 = ? AND u.disabled = 0",
        )
        .bind(token_digest(token))
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else { return Ok(None) };
        let expires = parse_time("staff_logins", &r.try_get::<String, _>("expires_at")?)?;
        if expires <= Utc::now() {
            return Ok(None);
        }
        Ok(Some((user_from(&r)?, r.try_get("csrf_token")?)))
    }

    pub async fn close_staff_login(&self, token: &str) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM staff_logins WHERE token_sha256 = ? OR expires_at <= ?")
            .bind(token_digest(token))
            .bind(fmt_time(Utc::now()))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Notes who did what (`user` `None`: the system or a failed login).
    pub async fn audit(&self, user: Option<i64>, action: &str, target: &str, detail: &str) -> Result<(), StorageError> {
        sqlx::query("INSERT INTO audit_log (user_id, action, target, detail, at) VALUES (?, ?, ?, ?, ?)")
            .bind(user)
            .bind(action)
            .bind(target)
            .bind(detail)
            .bind(fmt_time(Utc::now()))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The newest `limit` audit entries, newest first.
    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>, StorageError> {
        let rows = sqlx::query(
            "SELECT u.email, a.action, a.target, a.detail, a.at FROM audit_log a LEFT JOIN staff_users u ON u.id = a.user_id \
             ORDER BY a.id DESC LIMIT ?",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    user: r.try_get("email")?,
                    action: r.try_get("action")?,
                    target: r.try_get("target")?,
                    detail: r.try_get("detail")?,
                    at: parse_time("audit_log", &r.try_get::<String, _>("at")?)?,
                })
            })
            .collect()
    }
}

impl Db {
    /// How many `action` entries about `target` were noted since `since` (e.g. failed logins for one address).
    pub async fn count_audit_since(
        &self,
        action: &str,
        target: &str,
        since: DateTime<Utc>,
    ) -> Result<i64, StorageError> {
        let r = sqlx::query("SELECT count(*) AS n FROM audit_log WHERE action = ? AND target = ? AND at >= ?")
            .bind(action)
            .bind(target)
            .bind(fmt_time(since))
            .fetch_one(self.pool())
            .await?;
        Ok(r.try_get("n")?)
    }
}
