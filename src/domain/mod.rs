//! The domain: sessions, questions, chapters. No I/O of any kind.

pub mod chapter;
pub mod ids;
pub mod question;
pub mod session;
pub mod staff;

pub use chapter::Chapter;
pub use ids::{QuestionId, SessionId, Slug, SlugError};
pub use question::{Question, QuestionDraft, QuestionOrigin, QuestionStatus, QuestionText, QuestionTextError};
pub use session::{Session, SessionState};
pub use staff::{Role, StaffUser};
