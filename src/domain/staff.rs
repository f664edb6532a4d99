//! Staff accounts: roles and password hashing (argon2id). No I/O.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::Serialize;

/// What a staff member may do: admins everything (accounts too), moderators the questions, hosts their studio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Moderator,
    Host,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Moderator => "moderator",
            Role::Host => "host",
        }
    }

    pub fn parse(s: &str) -> Result<Role, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "admin" => Ok(Role::Admin),
            "moderator" => Ok(Role::Moderator),
            "host" => Ok(Role::Host),
            other => Err(format!("unknown role {other:?} (admin, moderator, host)")),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StaffUser {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
}

pub const MIN_PASSWORD_CHARS: usize = 12;

/// argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane).
fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(19 * 1024, 2, 1, None).expect("valid params"))
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) for a password that meets the policy.
pub fn hash_password(password: &str) -> Result<String, String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!("the password needs at least {MIN_PASSWORD_CHARS} characters"));
    }
    if password.len() > 1024 {
        return Err("the password is longer than 1024 bytes".into());
    }
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let salt = SaltString::encode_b64(&bytes).map_err(|e| e.to_string())?;
    hasher().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// Checks a password against a stored PHC string; a malformed hash never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    if password.len() > 1024 {
        return false;
    }
    PasswordHash::new(phc).is_ok_and(|h| hasher().verify_password(password.as_bytes(), &h).is_ok())
}

/// An e-mail address as a login name: trimmed, lower-case, one `@`, no spaces or control characters.
pub fn normalize_email(s: &str) -> Result<String, String> {
    let e = s.trim().to_lowercase();
    let ok = e.len() <= 254
        && e.matches('@').count() == 1
        && !e.starts_with('@')
        && !e.ends_with('@')
        && !e.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok { Ok(e) } else { Err(format!("{s:?} is not an e-mail address")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_argon2id_and_only_the_right_one_matches() {
        let h = hash_password("korrekt-Pferd-Batterie").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("korrekt-Pferd-Batterie", &h));
        assert!(!verify_password("korrekt-Pferd-Batteri", &h));
        assert!(!verify_password("korrekt-Pferd-Batterie", "not a hash"));
        assert_ne!(h, hash_password("korrekt-Pferd-Batterie").unwrap(), "salted");
        assert!(hash_password("kurz").is_err());
        assert!(!verify_password(&"x".repeat(2000), &h));
    }

    #[test]
    fn roles_and_logins_are_parsed_strictly() {
        assert_eq!(Role::parse(" Admin ").unwrap(), Role::Admin);
        assert!(Role::parse("root").is_err());
        assert_eq!(normalize_email(" Anna@Musterstadt.DE ").unwrap(), "anna@musterstadt.de");
        for bad in ["anna", "a@b@c", "@x", "a b@c", "a@b\r\nBcc: x"] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }
}
