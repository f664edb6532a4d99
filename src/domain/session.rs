//! A citizen hour and its life cycle.

use super::{SessionId, Slug};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    Scheduled,
    Live,
    Ended,
    Published,
}

impl SessionState {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Scheduled => "scheduled",
            SessionState::Live => "live",
            SessionState::Ended => "ended",
            SessionState::Published => "published",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "scheduled" => SessionState::Scheduled,
            "live" => SessionState::Live,
            "ended" => SessionState::Ended,
            "published" => SessionState::Published,
            _ => return None,
        })
    }

    /// The allowed transitions: scheduled → live → ended → published (re-publishing stays published).
    pub fn can_become(self, next: SessionState) -> bool {
        use SessionState::*;
        matches!((self, next), (Scheduled, Live) | (Live, Ended) | (Ended, Published) | (Published, Published))
    }

    pub fn label_de(self) -> &'static str {
        match self {
            SessionState::Scheduled => "geplant",
            SessionState::Live => "live",
            SessionState::Ended => "beendet",
            SessionState::Published => "veröffentlicht",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub id: SessionId,
    pub slug: Slug,
    pub title: String,
    pub host_name: String,
    pub host_title: String,
    pub scheduled_at: DateTime<Utc>,
    pub intake_opens_at: Option<DateTime<Utc>>,
    pub intake_closes_at: Option<DateTime<Utc>>,
    pub state: SessionState,
    pub created_at: DateTime<Utc>,
}

impl Session {
    /// Whether citizens may hand in questions at `now`.
    pub fn intake_open(&self, now: DateTime<Utc>) -> bool {
        let after_open = self.intake_opens_at.is_none_or(|t| now >= t);
        let before_close = self.intake_closes_at.is_none_or(|t| now < t);
        after_open && before_close && matches!(self.state, SessionState::Scheduled | SessionState::Live)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn session() -> Session {
        Session {
            id: SessionId(1),
            slug: Slug::parse("test-session").unwrap(),
            title: "t".into(),
            host_name: "h".into(),
            host_title: "".into(),
            scheduled_at: Utc::now(),
            intake_opens_at: None,
            intake_closes_at: None,
            state: SessionState::Scheduled,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn intake_respects_its_window_and_the_session_state() {
        let now = Utc::now();
        let mut s = session();
        assert!(s.intake_open(now));
        s.intake_closes_at = Some(now - Duration::minutes(1));
        assert!(!s.intake_open(now));
        s.intake_closes_at = None;
        s.intake_opens_at = Some(now + Duration::minutes(1));
        assert!(!s.intake_open(now));
        s.intake_opens_at = None;
        s.state = SessionState::Ended;
        assert!(!s.intake_open(now));
    }

    #[test]
    fn sessions_move_forward_only() {
        use SessionState::*;
        assert!(Scheduled.can_become(Live));
        assert!(Live.can_become(Ended));
        assert!(!Ended.can_become(Live));
        assert!(!Scheduled.can_become(Published));
    }
}
