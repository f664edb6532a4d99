//! Web errors: each variant documents its status; messages are localized; 5xx details are logged, not shown.

use super::i18n::Lang;
use axum::http::StatusCode;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// 404: no session with this slug.
    #[error("unknown session")]
    UnknownSession,
    /// 409: the session's intake window is closed.
    #[error("intake closed")]
    IntakeClosed,
    /// 422: empty or whitespace-only question.
    #[error("empty question")]
    EmptyQuestion,
    /// 422: question longer than the limit.
    #[error("question too long")]
    QuestionTooLong { len: usize, max: usize },
    /// 422: consent to processing missing.
    #[error("consent missing")]
    ConsentMissing,
    /// 422: e-mail address malformed.
    #[error("invalid e-mail")]
    InvalidEmail,
    /// 422: name too long or malformed.
    #[error("invalid name")]
    InvalidName,
    /// 415: not JSON / not a form.
    #[error("unsupported content type")]
    WrongContentType { expected: &'static str },
    /// 413: body over the limit.
    #[error("body too large")]
    BodyTooLarge,
    /// 400: body not parseable.
    #[error("malformed body: {0}")]
    Malformed(String),
    /// 500: anything else; logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

#[derive(Serialize)]
pub struct ErrorBody {
    pub error: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        use WebError::*;
        match self {
            UnknownSession => StatusCode::NOT_FOUND,
            IntakeClosed => StatusCode::CONFLICT,
            EmptyQuestion | QuestionTooLong { .. } | ConsentMissing | InvalidEmail | InvalidName => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            WrongContentType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Malformed(_) => StatusCode::BAD_REQUEST,
            Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        use WebError::*;
        match self {
            UnknownSession => "unknown_session",
            IntakeClosed => "intake_closed",
            EmptyQuestion => "empty_question",
            QuestionTooLong { .. } => "question_too_long",
            ConsentMissing => "consent_missing",
            InvalidEmail => "invalid_email",
            InvalidName => "invalid_name",
            WrongContentType { .. } => "wrong_content_type",
            BodyTooLarge => "body_too_large",
            Malformed(_) => "malformed",
            Internal(_) => "internal",
        }
    }

    /// The form field the error belongs to (for `aria-describedby` and the JSON `field`).
    pub fn field(&self) -> Option<&'static str> {
        use WebError::*;
        match self {
            EmptyQuestion | QuestionTooLong { .. } => Some("text"),
            ConsentMissing => Some("consent"),
            InvalidEmail => Some("email"),
            InvalidName => Some("name"),
            _ => None,
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        use WebError::*;
        let de = lang == Lang::De;
        match self {
            UnknownSession => {
                if de { "Diese Sprechstunde gibt es nicht." } else { "This citizen hour does not exist." }.into()
            }
            IntakeClosed => if de {
                "Für diese Sprechstunde werden gerade keine Fragen angenommen."
            } else {
                "This citizen hour is not taking questions at the moment."
            }
            .into(),
            EmptyQuestion => if de { "Bitte geben Sie eine Frage ein." } else { "Please enter a question." }.into(),
            QuestionTooLong { len, max } => {
                if de {
                    format!("Ihre Frage hat {len} Zeichen; erlaubt sind höchstens {max}.")
                } else {
                    format!("Your question has {len} characters; at most {max} are allowed.")
                }
            }
            ConsentMissing => if de {
                "Bitte willigen Sie in die Verarbeitung Ihrer Angaben ein."
            } else {
                "Please consent to the processing of your details."
            }
            .into(),
            InvalidEmail => {
                if de { "Diese E-Mail-Adresse ist ungültig." } else { "This e-mail address is not valid." }.into()
            }
            InvalidName => if de {
                "Der Name darf höchstens 100 Zeichen lang sein."
            } else {
                "The name may be at most 100 characters long."
            }
            .into(),
            WrongContentType { expected } => {
                if de {
                    format!("Falscher Inhaltstyp: erwartet wird {expected}.")
                } else {
                    format!("Wrong content type: expected {expected}.")
                }
            }
            BodyTooLarge => if de { "Die Anfrage ist zu groß." } else { "The request is too large." }.into(),
            Malformed(_) => {
                if de { "Die Anfrage ist fehlerhaft aufgebaut." } else { "The request is malformed." }.into()
            }
            Internal(_) => if de {
                "Ein interner Fehler ist aufgetreten. Bitte versuchen Sie es später erneut."
            } else {
                "An internal error occurred. Please try again later."
            }
            .into(),
        }
    }

    pub fn body(&self, lang: Lang) -> ErrorBody {
        if let WebError::Internal(detail) = self {
            tracing::error!("internal error: {detail}");
        }
        ErrorBody { error: self.code(), message: self.message(lang), field: self.field() }
    }
}

impl From<crate::storage::StorageError> for WebError {
    fn from(e: crate::storage::StorageError) -> Self {
        match e {
            crate::storage::StorageError::SessionNotFound(_) => WebError::UnknownSession,
            other => WebError::Internal(other.to_string()),
        }
    }
}
