//! Server-rendered public pages (askama, escaped by default).

use super::AppState;
use super::error::WebError;
use super::html::render;
use super::i18n::{Lang, Texts};
use super::submit::{QuestionInput, submit};
use crate::domain::{QuestionOrigin, Session, SessionState};
use crate::publish::local::LocalManifest;
use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

#[derive(Debug, Deserialize, Default)]
pub struct PageQuery {
    pub lang: Option<String>,
}

fn when(s: &Session) -> String {
    s.scheduled_at.with_timezone(&chrono::Local).format("%d.%m.%Y, %H:%M").to_string()
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    lang: &'static str,
    town: &'a str,
    t: &'static Texts,
    heading: String,
    text: String,
    back: Option<String>,
    back_label: &'static str,
    /// A link to show prominently (the asker's personal page after handing in a question).
    link: Option<(String, String)>,
}

fn message(
    state: &AppState,
    lang: Lang,
    status: StatusCode,
    heading: String,
    text: String,
    back: Option<String>,
) -> Response {
    render(
        status,
        MessagePage {
            lang: lang.code(),
            town: &state.config.town.name,
            t: lang.texts(),
            heading,
            text,
            back,
            back_label: lang.texts().sessions,
            link: None,
        },
    )
}

fn error_page(state: &AppState, lang: Lang, e: WebError) -> Response {
    let status = e.status();
    let body = e.body(lang);
    message(
        state,
        lang,
        status,
        format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or("")),
        body.message,
        Some("/".into()),
    )
}

struct SessionItem {
    slug: String,
    title: String,
    when: String,
    state: &'static str,
    published: bool,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    lang: &'static str,
    town: &'a str,
    t: &'static Texts,
    sessions: Vec<SessionItem>,
}

pub async fn home(State(state): State<AppState>, Query(q): Query<PageQuery>, headers: HeaderMap) -> Response {
    let lang = Lang::from_request(q.lang.as_deref(), &headers);
    let sessions = match state.db.list_sessions().await {
        Ok(s) => s,
        Err(e) => return error_page(&state, lang, e.into()),
    };
    let items = sessions
        .iter()
        .map(|s| SessionItem {
            slug: s.slug.to_string(),
            title: s.title.clone(),
            when: when(s),
            state: if lang == Lang::De { s.state.label_de() } else { s.state.as_str() },
            published: s.state == SessionState::Published,
        })
        .collect();
    render(
        StatusCode::OK,
        HomePage { lang: lang.code(), town: &state.config.town.name, t: lang.texts(), sessions: items },
    )
}

#[derive(Default)]
struct FormValues {
    text: String,
    name: String,
    email: String,
    show_name: bool,
    consent: bool,
}

struct FieldError {
    field: &'static str,
    message: String,
}

#[derive(Template)]
#[template(path = "session.html")]
struct SessionPage<'a> {
    lang: &'static str,
    town: &'a str,
    t: &'static Texts,
    slug: String,
    title: String,
    host_name: String,
    host_title: String,
    when: String,
    published: bool,
    intake_open: bool,
    privacy_url: &'a str,
    max_chars: usize,
    form: FormValues,
    errors: Vec<FieldError>,
    error_for_text: Option<String>,
    error_for_name: Option<String>,
    error_for_email: Option<String>,
    error_for_consent: Option<String>,
}

fn session_page_for<'a>(
    state: &'a AppState,
    lang: Lang,
    s: &Session,
    form: FormValues,
    errors: Vec<FieldError>,
) -> SessionPage<'a> {
    let find = |f: &str| errors.iter().find(|e| e.field == f).map(|e| e.message.clone());
    SessionPage {
        lang: lang.code(),
        town: &state.config.town.name,
        t: lang.texts(),
        slug: s.slug.to_string(),
        title: s.title.clone(),
        host_name: s.host_name.clone(),
        host_title: s.host_title.clone(),
        when: when(s),
        published: s.state == SessionState::Published,
        intake_open: s.intake_open(chrono::Utc::now()),
        privacy_url: &state.config.town.privacy_url,
        max_chars: state.config.intake.max_question_chars,
        error_for_text: find("text"),
        error_for_name: find("name"),
        error_for_email: find("email"),
        error_for_consent: find("consent"),
        form,
        errors,
    }
}

pub async fn session_page(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::from_request(q.lang.as_deref(), &headers);
    match state.db.session_by_slug(&slug).await {
        Ok(s) => render(StatusCode::OK, session_page_for(&state, lang, &s, FormValues::default(), vec![])),
        Err(e) => error_page(&state, lang, e.into()),
    }
}

/// `POST /s/{slug}/fragen` — works without JavaScript: re-renders the form with errors tied to their fields.
#[tracing::instrument(skip(state, headers, body), fields(session = %slug))]
pub async fn submit_form(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
    body: Result<Form<QuestionInput>, FormRejection>,
) -> Response {
    let query_lang = q.lang.clone();
    let lang_of = |input_lang: Option<&str>| Lang::from_request(query_lang.as_deref().or(input_lang), &headers);
    let input = match body {
        Ok(Form(i)) => i,
        Err(r) => {
            let e = match r {
                FormRejection::InvalidFormContentType(_) => {
                    WebError::WrongContentType { expected: "application/x-www-form-urlencoded" }
                }
                FormRejection::BytesRejection(b) if b.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    WebError::BodyTooLarge
                }
                other => WebError::Malformed(other.body_text()),
            };
            return error_page(&state, lang_of(None), e);
        }
    };
    let lang = lang_of(input.lang.as_deref());
    if input.caught_in_honeypot() {
        // Answered like a success, so the bot learns nothing; nothing is stored.
        tracing::info!(session = %slug, "question form: honeypot filled, discarded");
        let t = lang.texts();
        return message(&state, lang, StatusCode::OK, t.thanks.into(), t.thanks_text.into(), None);
    }
    match submit(&state, &slug, &input, QuestionOrigin::Web).await {
        Ok(done) => {
            let t = lang.texts();
            let link = done.manage_token.map(|token| {
                let label = match lang {
                    Lang::De => "Ihre persönliche Seite: Frage ansehen, zurückziehen oder Ihre Daten löschen (bitte aufbewahren)",
                    Lang::En => "Your personal page: view or withdraw the question, delete your data (keep this link)",
                };
                (format!("/q/{token}"), label.to_owned())
            });
            render(
                StatusCode::OK,
                MessagePage {
                    lang: lang.code(),
                    town: &state.config.town.name,
                    t,
                    heading: t.thanks.into(),
                    text: t.thanks_text.into(),
                    back: Some(format!("/s/{slug}?lang={}", lang.code())),
                    back_label: t.sessions,
                    link,
                },
            )
        }
        Err(e) if e.field().is_some() => {
            let Ok(session) = state.db.session_by_slug(&slug).await else {
                return error_page(&state, lang, WebError::UnknownSession);
            };
            let form = FormValues {
                text: input.text.clone(),
                name: input.name.clone().unwrap_or_default(),
                email: input.email.clone().unwrap_or_default(),
                show_name: input.show_name,
                consent: input.consent,
            };
            let errors = vec![FieldError { field: e.field().unwrap(), message: e.message(lang) }];
            render(e.status(), session_page_for(&state, lang, &session, form, errors))
        }
        Err(e) => error_page(&state, lang, e),
    }
}

#[derive(Template)]
#[template(path = "recording.html")]
struct RecordingPage<'a> {
    lang: &'static str,
    town: &'a str,
    t: &'static Texts,
    title: String,
    host_name: String,
    host_title: String,
    when: String,
    m: LocalManifest,
    /// The live recording, shown until the rendered one is published.
    preliminary: bool,
}

pub async fn recording_page(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::from_request(q.lang.as_deref(), &headers);
    let session = match state.db.session_by_slug(&slug).await {
        Ok(s) => s,
        Err(e) => return error_page(&state, lang, e.into()),
    };
    // The rendered recording; until it is there, the live HLS as a preliminary recording.
    let mut preliminary = false;
    let manifest = match state.db.publication(session.id, "local").await {
        Ok(Some(p)) => serde_json::from_value::<LocalManifest>(p.manifest).ok(),
        Ok(None) => match state.db.publication(session.id, crate::workflow::LIVE_VOD).await {
            Ok(Some(p)) => {
                preliminary = true;
                serde_json::from_value::<LocalManifest>(p.manifest).ok()
            }
            Ok(None) => None,
            Err(e) => return error_page(&state, lang, e.into()),
        },
        Err(e) => return error_page(&state, lang, e.into()),
    };
    let Some(m) = manifest else {
        let t = lang.texts();
        return message(
            &state,
            lang,
            StatusCode::NOT_FOUND,
            session.title.clone(),
            t.no_recording.into(),
            Some(format!("/s/{slug}")),
        );
    };
    render(
        StatusCode::OK,
        RecordingPage {
            lang: lang.code(),
            town: &state.config.town.name,
            t: lang.texts(),
            title: session.title.clone(),
            host_name: session.host_name.clone(),
            host_title: session.host_title.clone(),
            when: when(&session),
            m,
            preliminary,
        },
    )
}
