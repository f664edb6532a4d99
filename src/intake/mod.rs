//! Intake: turning what citizens send (today: e-mail) into question drafts. No HTTP here.

pub mod email;

pub use email::{EmailError, ParsedEmail, parse_email};
