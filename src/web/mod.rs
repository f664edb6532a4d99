//! The web: axum router, public pages, the JSON API and static assets. Handlers are thin: they parse,
//! call storage/domain, and render. They never build pipelines.

pub mod api;
pub mod asker;
pub mod assets;
pub mod error;
pub mod html;
pub mod i18n;
pub mod limits;
pub mod moderation;
pub mod pages;
pub mod staff;
pub mod studio;
pub mod submit;
pub mod whip;

use crate::config::Config;
use crate::storage::Db;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use std::sync::Arc;
use tower_http::services::ServeDir;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub live: Arc<crate::live::LiveSessions>,
    pub worker: crate::worker::Worker,
}

pub fn router(state: AppState) -> Router {
    let limit = state.config.intake.max_body_bytes;
    let site = ServeDir::new(state.config.site_dir());
    // Question submissions, behind the per-address and global rate limits.
    let submissions = limits::limit_submissions(
        Router::new()
            .route("/s/{slug}/fragen", post(pages::submit_form))
            .route("/api/sessions/{slug}/questions", post(api::submit_question)),
        &state.config.intake,
    );
    Router::new()
        .merge(submissions)
        .route("/", get(pages::home))
        .route("/s/{slug}", get(pages::session_page))
        .route("/r/{slug}", get(pages::recording_page))
        .route("/q/{token}", get(asker::show))
        .route("/q/{token}/withdraw", post(asker::withdraw))
        .route("/q/{token}/erase", post(asker::erase))
        .route("/q/{token}/export", get(asker::export))
        .route("/api/openapi.json", get(api::openapi))
        .route("/api/sessions", get(api::list_sessions))
        .route("/api/sessions/{slug}", get(api::get_session))
        .route("/api/sessions/{slug}/chapters", get(api::chapters))
        .route("/studio/{slug}", get(studio::page))
        .route("/api/studio/{slug}", get(studio::state))
        .route("/api/studio/{slug}/start", post(studio::start))
        .route("/api/studio/{slug}/end", post(studio::end))
        .route("/api/studio/{slug}/answer", post(studio::answer))
        .route("/api/studio/{slug}/layout", post(studio::layout))
        .route("/api/studio/{slug}/events", get(studio::events))
        .route("/staff", get(staff::home))
        .route("/staff/login", get(staff::login_page).post(staff::login))
        .route("/staff/logout", post(staff::logout))
        .route("/staff/s/{slug}", get(moderation::queue))
        .route("/staff/s/{slug}/questions/{id}/{action}", post(moderation::act))
        .route("/staff/inbox", get(moderation::inbox))
        .route("/staff/inbox/{id}/{action}", post(moderation::inbox_act))
        .route("/api/studio/{slug}/jobs", get(studio::jobs))
        .route("/api/studio/{slug}/jobs/{id}/retry", post(studio::retry_job))
        .route("/api/studio/{slug}/trim", post(studio::trim))
        .route("/whip/{slug}/{source}", post(whip::publish).options(whip::other))
        .route("/whip/{slug}/{source}/{resource}", delete(whip::delete).options(whip::other).patch(whip::other))
        .route("/assets/{file}", get(assets::serve))
        .route("/healthz", get(|| async { "ok" }))
        .nest_service("/media", site)
        .layer(DefaultBodyLimit::max(limit))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}
