//! The JSON API.

use super::AppState;
use super::error::WebError;
use super::i18n::Lang;
use super::submit::{QuestionInput, submit};
use crate::domain::{QuestionOrigin, Session};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, Default)]
pub struct LangQuery {
    pub lang: Option<String>,
}

/// A JSON error in the request's language.
pub struct ApiError(pub WebError, pub Lang);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0.status(), Json(self.0.body(self.1))).into_response()
    }
}

#[derive(Serialize)]
pub struct SessionView {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub host_name: String,
    pub host_title: String,
    pub scheduled_at: String,
    pub state: &'static str,
    pub page_url: String,
    pub recording_url: String,
}

impl SessionView {
    pub fn new(s: &Session, base: &str) -> SessionView {
        SessionView {
            id: s.id.0,
            slug: s.slug.to_string(),
            title: s.title.clone(),
            host_name: s.host_name.clone(),
            host_title: s.host_title.clone(),
            scheduled_at: s.scheduled_at.to_rfc3339(),
            state: s.state.as_str(),
            page_url: format!("{base}/s/{}", s.slug),
            recording_url: format!("{base}/r/{}", s.slug),
        }
    }
}

pub async fn list_sessions(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<SessionView>>, ApiError> {
    let lang = Lang::from_request(None, &headers);
    let base = state.config.public_url();
    let sessions = state.db.list_sessions().await.map_err(|e| ApiError(e.into(), lang))?;
    Ok(Json(sessions.iter().map(|s| SessionView::new(s, &base)).collect()))
}

pub async fn get_session(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Result<Json<SessionView>, ApiError> {
    let lang = Lang::from_request(q.lang.as_deref(), &headers);
    let s = state.db.session_by_slug(&slug).await.map_err(|e| ApiError(e.into(), lang))?;
    Ok(Json(SessionView::new(&s, &state.config.public_url())))
}

#[derive(Serialize)]
pub struct Accepted {
    pub id: i64,
    pub status: &'static str,
    pub message: String,
    /// The same question was there already: this asker now supports it (200 instead of 201).
    pub merged: bool,
    pub supporters: i64,
    /// The asker's personal page: view, withdraw, delete, export (new questions; keep it private).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manage_url: Option<String>,
}

/// `POST /api/sessions/{slug}/questions` — 201 with the new question's id; 4xx with `{error, message, field}`.
#[tracing::instrument(skip(state, headers, body), fields(session = %slug))]
pub async fn submit_question(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    body: Result<Json<QuestionInput>, JsonRejection>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let lang = Lang::from_request(q.lang.as_deref(), &headers);
    let Json(input) = body.map_err(|r| ApiError(json_rejection(r), lang))?;
    let done = submit(&state, &slug, &input, QuestionOrigin::Api).await.map_err(|e| ApiError(e, lang))?;
    let (question, merged) = (done.question, done.merged);
    let manage_url = done.manage_token.map(|t| format!("{}/q/{t}", state.config.public_url()));
    let message = match (lang, merged) {
        (Lang::De, false) => "Ihre Frage ist eingegangen.",
        (Lang::En, false) => "Your question has arrived.",
        (Lang::De, true) => "Diese Frage wurde schon gestellt; Ihre Stimme zählt dazu.",
        (Lang::En, true) => "This question was asked already; your voice is counted with it.",
    };
    Ok((
        if merged { StatusCode::OK } else { StatusCode::CREATED },
        Json(Accepted {
            id: question.id.0,
            status: question.status.as_str(),
            message: message.into(),
            merged,
            supporters: question.supporters,
            manage_url,
        }),
    ))
}

pub(crate) fn json_rejection(r: JsonRejection) -> WebError {
    match r {
        JsonRejection::MissingJsonContentType(_) => WebError::WrongContentType { expected: "application/json" },
        JsonRejection::BytesRejection(b) if b.status() == StatusCode::PAYLOAD_TOO_LARGE => WebError::BodyTooLarge,
        other => WebError::Malformed(other.body_text()),
    }
}

pub async fn chapters(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = Lang::from_request(None, &headers);
    let s = state.db.session_by_slug(&slug).await.map_err(|e| ApiError(e.into(), lang))?;
    let publication = state.db.publication(s.id, "local").await.map_err(|e| ApiError(e.into(), lang))?;
    match publication {
        Some(p) => Ok(Json(p.manifest["chapters"].clone()).into_response()),
        None => Ok(Json(serde_json::json!([])).into_response()),
    }
}

/// The OpenAPI 3.1 description of this API (`assets/openapi.json`; a test keeps it in step with the routes and
/// the error codes).
pub const OPENAPI_JSON: &str = include_str!("../../assets/openapi.json");

/// `GET /api/openapi.json`
pub async fn openapi() -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_the_api_can_return_is_in_the_openapi_document() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).expect("valid JSON");
        let documented = doc["components"]["schemas"]["Error"]["properties"]["error"]["enum"].as_array().unwrap();
        let all = [
            WebError::UnknownSession,
            WebError::IntakeClosed,
            WebError::EmptyQuestion,
            WebError::QuestionTooLong { len: 2, max: 1 },
            WebError::ConsentMissing,
            WebError::InvalidEmail,
            WebError::InvalidName,
            WebError::WrongContentType { expected: "application/json" },
            WebError::BodyTooLarge,
            WebError::Malformed(String::new()),
            WebError::Internal(String::new()),
        ];
        for e in all {
            assert!(documented.iter().any(|d| d == e.code()), "{} missing", e.code());
            let status = e.status().as_u16().to_string();
            let post = &doc["paths"]["/api/sessions/{slug}/questions"]["post"]["responses"];
            assert!(post.get(&status).is_some() || status == "500", "status {status} of {} undocumented", e.code());
        }
    }
}
