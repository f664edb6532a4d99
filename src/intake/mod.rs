//! Intake: turning what citizens send by e-mail into question drafts — the IMAP mailbox (`imap`) and the parser
//! (`email`). No HTTP, no storage here: `crate::mail_intake` joins them to the database.

pub mod email;
pub mod imap;

pub use email::{EmailError, ParsedEmail, parse_email};
