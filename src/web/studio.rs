//! The studio: control API, event stream and the host's page. Every route needs the session's studio token, as
//! `Authorization: Bearer …` or the `studio` cookie the page sets (HttpOnly, SameSite=Strict) — or a staff login
//! with the host or admin role.

use super::AppState;
use crate::domain::{QuestionId, QuestionStatus, Session};
use crate::live::{LiveError, LiveEvent};
use crate::storage::credentials::tokens_match;
use axum::Json;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

/// A studio request whose token was checked against the session in the path.
pub struct StudioAuth(pub Session);

pub struct StudioError(pub StatusCode, pub &'static str, pub String);

impl IntoResponse for StudioError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({"error": self.1, "message": self.2}))).into_response()
    }
}

impl From<LiveError> for StudioError {
    fn from(e: LiveError) -> Self {
        use LiveError::*;
        let (status, code) = match &e {
            NotLive(_) => (StatusCode::CONFLICT, "not_live"),
            AlreadyLive(_) => (StatusCode::CONFLICT, "already_live"),
            WrongState(..) => (StatusCode::CONFLICT, "wrong_state"),
            QuestionNotApproved(_) => (StatusCode::UNPROCESSABLE_ENTITY, "question_not_approved"),
            UnknownLayout(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_layout"),
            SourceTaken(_) => (StatusCode::CONFLICT, "source_taken"),
            NoSuchSource(_) => (StatusCode::NOT_FOUND, "no_such_source"),
            Storage(crate::storage::StorageError::SessionNotFound(_)) => (StatusCode::NOT_FOUND, "unknown_session"),
            Storage(crate::storage::StorageError::QuestionNotFound(_)) => (StatusCode::NOT_FOUND, "unknown_question"),
            Storage(_) | Media(_) | Internal(_) => {
                tracing::error!("studio: {e}");
                return StudioError(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error".into());
            }
        };
        StudioError(status, code, e.to_string())
    }
}

/// A staff login with the host or admin role opens every studio (besides the per-session studio token).
async fn host_signed_in(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(token) = super::html::cookie(headers, super::staff::COOKIE) else { return false };
    matches!(
        state.db.staff_login(&token).await,
        Ok(Some((user, _))) if matches!(user.role, crate::domain::Role::Host | crate::domain::Role::Admin)
    )
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(|t| t.trim().to_owned())
}

impl FromRequestParts<AppState> for StudioAuth {
    type Rejection = StudioError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Path(params): Path<Vec<(String, String)>> = Path::from_request_parts(parts, state)
            .await
            .map_err(|_| StudioError(StatusCode::NOT_FOUND, "unknown_session", "no session in path".into()))?;
        let slug = params.iter().find(|(k, _)| k == "slug").map(|(_, v)| v.clone()).unwrap_or_default();
        let unauthorized = || {
            StudioError(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "studio token missing or wrong / Studio-Token fehlt oder falsch".into(),
            )
        };
        let session = state.db.session_by_slug(&slug).await.map_err(|_| unauthorized())?;
        // The studio token first (as the page does), then a host's staff login.
        if let Some(given) = bearer(&parts.headers).or_else(|| super::html::cookie(&parts.headers, "studio")) {
            let expected = state.db.studio_token(session.id).await.map_err(|_| unauthorized())?;
            if tokens_match(&expected, &given) {
                return Ok(StudioAuth(session));
            }
        }
        if host_signed_in(state, &parts.headers).await { Ok(StudioAuth(session)) } else { Err(unauthorized()) }
    }
}

#[derive(Serialize)]
pub struct QueueItem {
    pub id: i64,
    pub text: String,
    pub asker: Option<String>,
    pub status: &'static str,
    pub answered_at_ms: Option<i64>,
}

#[derive(Serialize)]
pub struct StudioState {
    pub slug: String,
    pub title: String,
    pub state: &'static str,
    pub live: crate::live::LiveStatus,
    pub layouts: Vec<String>,
    pub queue: Vec<QueueItem>,
    pub live_hls: String,
    /// Where the host's browser publishes, with its ingest token.
    pub whip: Option<WhipTarget>,
}

#[derive(Serialize)]
pub struct WhipTarget {
    pub url: String,
    pub token: String,
}

pub async fn state(State(st): State<AppState>, StudioAuth(s): StudioAuth) -> Result<Json<StudioState>, StudioError> {
    let questions = st.db.questions(s.id, None).await.map_err(LiveError::from)?;
    let queue = questions
        .into_iter()
        .filter(|q| matches!(q.status, QuestionStatus::Approved | QuestionStatus::Answered))
        .map(|q| QueueItem {
            id: q.id.0,
            text: q.text.as_str().to_owned(),
            asker: q.display_name().map(str::to_owned),
            status: q.status.as_str(),
            answered_at_ms: q.answered_at_ms,
        })
        .collect();
    let whip = st
        .db
        .source_credentials(s.id)
        .await
        .map_err(LiveError::from)?
        .into_iter()
        .find(|c| c.source_id == "host")
        .map(|c| WhipTarget { url: format!("/whip/{}/host", s.slug), token: c.token });
    Ok(Json(StudioState {
        whip,
        slug: s.slug.to_string(),
        title: s.title.clone(),
        state: s.state.as_str(),
        live: st.live.status(s.id),
        layouts: st.live.layouts().names().map(str::to_owned).collect(),
        queue,
        live_hls: crate::config::Config::live_hls_url(s.slug.as_str(), "index.m3u8"),
    }))
}

pub async fn start(State(st): State<AppState>, StudioAuth(s): StudioAuth) -> Result<StatusCode, StudioError> {
    st.live.start(s.slug.as_str(), vec![]).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
pub struct Ended {
    pub duration_ms: i64,
}

pub async fn end(State(st): State<AppState>, StudioAuth(s): StudioAuth) -> Result<Json<Ended>, StudioError> {
    let duration_ms = st.live.end(s.slug.as_str()).await?;
    Ok(Json(Ended { duration_ms }))
}

#[derive(Deserialize)]
pub struct AnswerBody {
    pub question_id: Option<i64>,
}

#[derive(Serialize)]
pub struct Answered {
    pub question_id: i64,
    pub at_ms: i64,
}

/// `{"question_id": N}` puts a question on air (chapter mark); `{"question_id": null}` clears the lower third.
pub async fn answer(
    State(st): State<AppState>,
    StudioAuth(s): StudioAuth,
    body: Result<Json<AnswerBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, StudioError> {
    let Json(body) = body.map_err(|r| StudioError(r.status(), "malformed", r.body_text()))?;
    match body.question_id {
        Some(id) => {
            let at_ms = st.live.answer(s.slug.as_str(), QuestionId(id)).await?;
            Ok(Json(Answered { question_id: id, at_ms }).into_response())
        }
        None => {
            st.live.clear_question(s.slug.as_str()).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
    }
}

#[derive(Deserialize)]
pub struct LayoutBody {
    pub layout: String,
}

pub async fn layout(
    State(st): State<AppState>,
    StudioAuth(s): StudioAuth,
    body: Result<Json<LayoutBody>, axum::extract::rejection::JsonRejection>,
) -> Result<StatusCode, StudioError> {
    let Json(body) = body.map_err(|r| StudioError(r.status(), "malformed", r.body_text()))?;
    st.live.set_layout(s.slug.as_str(), &body.layout).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Server-sent events: every [`LiveEvent`] of the session as JSON (`event: live`).
pub async fn events(
    State(st): State<AppState>,
    StudioAuth(s): StudioAuth,
) -> Sse<impl tokio_stream::Stream<Item = Result<Event, Infallible>>> {
    let rx = st.live.subscribe(s.id);
    let stream = BroadcastStream::new(rx).filter_map(|e: Result<LiveEvent, _>| {
        e.ok().map(|ev| Ok(Event::default().event("live").json_data(&ev).unwrap_or_default()))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[derive(Deserialize)]
pub struct TokenQuery {
    pub token: Option<String>,
}

/// `GET /studio/{slug}?token=…`: checks the token, stores it in an HttpOnly cookie and redirects to the
/// token-free URL (so it does not stay in the address bar or the history).
pub async fn page(
    State(st): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    let Ok(session) = st.db.session_by_slug(&slug).await else {
        return (StatusCode::NOT_FOUND, "unbekannte Sprechstunde / unknown session").into_response();
    };
    let Ok(expected) = st.db.studio_token(session.id).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Some(token) = q.token {
        if !tokens_match(&expected, &token) {
            return (StatusCode::UNAUTHORIZED, "Studio-Token falsch / wrong studio token").into_response();
        }
        let secure = if st.config.public_url().starts_with("https://") { "; Secure" } else { "" };
        let cookie = format!("studio={token}; Path=/; HttpOnly; SameSite=Strict{secure}");
        return (StatusCode::SEE_OTHER, [(header::SET_COOKIE, cookie), (header::LOCATION, format!("/studio/{slug}"))])
            .into_response();
    }
    match super::html::cookie(&headers, "studio") {
        Some(t) if tokens_match(&expected, &t) => {}
        _ if host_signed_in(&st, &headers).await => {}
        _ => return (StatusCode::UNAUTHORIZED, "Studio-Token fehlt / studio token missing").into_response(),
    }
    let html = super::assets::STUDIO_HTML.replace("{{slug}}", session.slug.as_str());
    ([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

/// One publishing job as the console shows it.
#[derive(Serialize)]
pub struct JobView {
    pub id: i64,
    pub kind: String,
    pub state: &'static str,
    pub attempts: i64,
    pub max_attempts: i64,
    pub progress: f64,
    pub last_error: Option<String>,
    pub retry_at: String,
}

impl From<crate::storage::Job> for JobView {
    fn from(j: crate::storage::Job) -> Self {
        JobView {
            id: j.id,
            kind: j.kind,
            state: j.state.as_str(),
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            progress: j.progress,
            last_error: j.last_error,
            retry_at: j.retry_at.to_rfc3339(),
        }
    }
}

#[derive(Serialize)]
pub struct Publishing {
    pub jobs: Vec<JobView>,
    /// Where the recording is published, by target (`local`, `s3`, `youtube`).
    pub published: serde_json::Map<String, serde_json::Value>,
    pub trim: Option<TrimPoints>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrimPoints {
    pub in_ms: i64,
    pub out_ms: Option<i64>,
}

fn storage_error(e: crate::storage::StorageError) -> StudioError {
    StudioError::from(LiveError::from(e))
}

/// `GET /api/studio/{slug}/jobs`: the session's publishing jobs, publications and trim points.
pub async fn jobs(State(st): State<AppState>, StudioAuth(s): StudioAuth) -> Result<Json<Publishing>, StudioError> {
    let jobs = st.db.jobs(Some(s.id)).await.map_err(storage_error)?.into_iter().map(JobView::from).collect();
    let mut published = serde_json::Map::new();
    for target in ["local", "s3", "youtube"] {
        if let Some(p) = st.db.publication(s.id, target).await.map_err(storage_error)? {
            let url = match target {
                "local" => serde_json::Value::String(format!("/r/{}", s.slug)),
                "s3" => p.manifest["index"].clone(),
                _ => p.manifest["watch_url"].clone(),
            };
            published.insert(target.into(), url);
        }
    }
    let trim = st.db.trim(s.id).await.map_err(storage_error)?.map(|(in_ms, out_ms)| TrimPoints { in_ms, out_ms });
    Ok(Json(Publishing { jobs, published, trim }))
}

/// `POST /api/studio/{slug}/jobs/{id}/retry`: runs a failed, waiting or finished job of this session again.
pub async fn retry_job(
    State(st): State<AppState>,
    StudioAuth(s): StudioAuth,
    Path((_, id)): Path<(String, i64)>,
) -> Result<Json<JobView>, StudioError> {
    let not_found = || StudioError(StatusCode::NOT_FOUND, "unknown_job", format!("no job {id} in this session"));
    let job = st.db.job(id).await.map_err(storage_error)?.ok_or_else(not_found)?;
    if job.session_id != s.id {
        return Err(not_found());
    }
    if job.state == crate::storage::JobState::Running {
        return Err(StudioError(StatusCode::CONFLICT, "job_running", "the job is running / läuft gerade".into()));
    }
    let job = st.db.retry_job(id).await.map_err(storage_error)?;
    st.worker.waker().notify_one();
    Ok(Json(job.into()))
}

/// `POST /api/studio/{slug}/trim` with `{"in_ms": 45000, "out_ms": 3480000}` (`out_ms` null: to the end) or
/// `null` to clear. A published recording is rendered and published again (the same jobs).
pub async fn trim(
    State(st): State<AppState>,
    StudioAuth(s): StudioAuth,
    Json(points): Json<Option<TrimPoints>>,
) -> Result<Json<Publishing>, StudioError> {
    let invalid = |m: &str| StudioError(StatusCode::UNPROCESSABLE_ENTITY, "invalid_trim", m.to_owned());
    if let Some(p) = &points {
        if p.in_ms < 0 || p.out_ms.is_some_and(|o| o <= p.in_ms) {
            return Err(invalid("Start muss vor dem Ende liegen / in must be before out (and not negative)"));
        }
        if let Some(rec) = st.db.latest_recording(s.id).await.map_err(storage_error)?
            && p.in_ms >= rec.duration_ms
        {
            return Err(invalid("Start liegt hinter dem Ende der Aufzeichnung / in is after the recording's end"));
        }
    }
    st.db.set_trim(s.id, points.map(|p| (p.in_ms, p.out_ms))).await.map_err(storage_error)?;
    if let Some(job) = st.db.job_by_kind(s.id, crate::worker::PUBLISH_LOCAL).await.map_err(storage_error)?
        && job.state != crate::storage::JobState::Running
    {
        st.db.retry_job(job.id).await.map_err(storage_error)?;
        st.worker.waker().notify_one();
    }
    jobs(State(st), StudioAuth(s)).await
}
