//! The staff area: login (argon2id passwords, an HttpOnly session cookie, CSRF tokens on every form), logout and
//! the overview of sessions and publishing jobs. Accounts come from `citizenhour user add`.

use super::AppState;
use super::html::{cookie, page, render, render_private};
use crate::domain::staff::{normalize_email, verify_password};
use crate::domain::{Role, StaffUser};
use crate::storage::credentials::{new_long_token, new_token, tokens_match};
use axum::Form;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

pub const COOKIE: &str = "staff";
const LOGIN_CSRF_COOKIE: &str = "staff_login_csrf";
/// A login lasts a working day.
const LOGIN_HOURS: i64 = 12;
/// Failed logins per address in 15 minutes before further tries are refused.
const MAX_FAILED_LOGINS: i64 = 10;

fn secure(state: &AppState) -> &'static str {
    if state.config.public_url().starts_with("https://") { "; Secure" } else { "" }
}

/// A logged-in staff member and the CSRF token of their login.
pub struct StaffAuth {
    pub user: StaffUser,
    pub csrf: String,
    token: String,
}

/// 403 for a staff member whose role does not allow the page or action.
pub fn not_allowed() -> Response {
    (StatusCode::FORBIDDEN, Html(page("Keine Berechtigung", "<h1>Keine Berechtigung / not allowed</h1>")))
        .into_response()
}

impl StaffAuth {
    /// Refuses a form whose CSRF token is not this login's.
    pub fn check_csrf(&self, sent: &str) -> Result<(), FormExpired> {
        if tokens_match(&self.csrf, sent) { Ok(()) } else { Err(FormExpired) }
    }
}

/// A staff form sent without this login's CSRF token (forged, or from an expired page).
pub struct FormExpired;

impl IntoResponse for FormExpired {
    fn into_response(self) -> Response {
        let body = "<h1>Formular abgelaufen / form expired</h1><p>Bitte die Seite neu laden. \
                    <span lang=\"en\">Please reload the page.</span></p>";
        (StatusCode::FORBIDDEN, Html(page("Abgelehnt", body))).into_response()
    }
}

impl FromRequestParts<AppState> for StaffAuth {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let to_login = || Redirect::to("/staff/login").into_response();
        let Some(token) = cookie(&parts.headers, COOKIE) else { return Err(to_login()) };
        match state.db.staff_login(&token).await {
            Ok(Some((user, csrf))) => Ok(StaffAuth { user, csrf, token }),
            Ok(None) => Err(to_login()),
            Err(e) => {
                tracing::error!("staff login lookup: {e}");
                Err(StatusCode::INTERNAL_SERVER_ERROR.into_response())
            }
        }
    }
}

#[derive(askama::Template)]
#[template(path = "staff_login.html")]
struct LoginPage<'a> {
    csrf: &'a str,
    email: &'a str,
    /// Empty: no error.
    error: &'a str,
}

fn login_form(csrf: &str, email: &str, error: Option<&str>) -> Response {
    render(StatusCode::OK, LoginPage { csrf, email, error: error.unwrap_or_default() })
}

/// `GET /staff/login`: the form, with a login CSRF token in a cookie and the form (double submit).
pub async fn login_page(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let csrf = cookie(&headers, LOGIN_CSRF_COOKIE).filter(|c| c.len() == 32).unwrap_or_else(new_token);
    let set = format!("{LOGIN_CSRF_COOKIE}={csrf}; Path=/staff; HttpOnly; SameSite=Strict{}", secure(&st));
    ([(header::SET_COOKIE, set), (header::CACHE_CONTROL, "no-store".into())], login_form(&csrf, "", None))
        .into_response()
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub csrf: String,
}

/// A hash to verify against when the address is unknown, so both cases take the same time.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    crate::domain::staff::hash_password("not-a-real-password-at-all").expect("valid password")
});

/// `POST /staff/login`
pub async fn login(State(st): State<AppState>, headers: HeaderMap, Form(f): Form<LoginForm>) -> Response {
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if !tokens_match(&expected, &f.csrf) {
        return (
            StatusCode::FORBIDDEN,
            Html(page(
                "Abgelehnt",
                "<h1>Formular abgelaufen / form expired</h1><p><a href=\"/staff/login\">Neu laden / reload</a></p>",
            )),
        )
            .into_response();
    }
    let refuse = |status: StatusCode, msg: &str, email: &str| {
        (status, [(header::CACHE_CONTROL, "no-store")], login_form(&expected, email, Some(msg))).into_response()
    };
    let wrong = "E-Mail-Adresse oder Passwort falsch. / Wrong e-mail address or password.";
    let Ok(email) = normalize_email(&f.email) else {
        return refuse(StatusCode::UNAUTHORIZED, wrong, "");
    };
    let since = chrono::Utc::now() - chrono::Duration::minutes(15);
    match st.db.count_audit_since("login_failed", &email, since).await {
        Ok(n) if n >= MAX_FAILED_LOGINS => {
            return refuse(
                StatusCode::TOO_MANY_REQUESTS,
                "Zu viele Fehlversuche, bitte 15 Minuten warten. / Too many failed attempts; wait 15 minutes.",
                &email,
            );
        }
        Ok(_) => {}
        Err(e) => {
            tracing::error!("login: {e}");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    }
    let found = st.db.staff_login_data(&email).await.ok().flatten();
    let password = f.password.clone();
    let hash = found.as_ref().map(|(_, h)| h.clone()).unwrap_or_else(|| DUMMY_HASH.clone());
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.unwrap_or(false);
    let Some((user, _)) = found.filter(|_| ok) else {
        let _ = st.db.audit(None, "login_failed", &email, "").await;
        tracing::warn!(email = %email, "staff login failed");
        return refuse(StatusCode::UNAUTHORIZED, wrong, &email);
    };
    let (token, csrf) = (new_long_token(), new_token());
    let expires = chrono::Utc::now() + chrono::Duration::hours(LOGIN_HOURS);
    if let Err(e) = st.db.open_staff_login(user.id, &token, &csrf, expires).await {
        tracing::error!("login: {e}");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let _ = st.db.audit(Some(user.id), "login", &email, "").await;
    let set =
        format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}", LOGIN_HOURS * 3600, secure(&st));
    (StatusCode::SEE_OTHER, [(header::SET_COOKIE, set), (header::LOCATION, "/staff".into())]).into_response()
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// `POST /staff/logout`
pub async fn logout(State(st): State<AppState>, auth: StaffAuth, Form(f): Form<CsrfForm>) -> Response {
    if let Err(r) = auth.check_csrf(&f.csrf) {
        return r.into_response();
    }
    let _ = st.db.close_staff_login(&auth.token).await;
    let _ = st.db.audit(Some(auth.user.id), "logout", &auth.user.email, "").await;
    let clear = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}", secure(&st));
    (StatusCode::SEE_OTHER, [(header::SET_COOKIE, clear), (header::LOCATION, "/staff/login".into())]).into_response()
}

struct SessionRow {
    slug: String,
    title: String,
    state: &'static str,
    jobs: Vec<String>,
}

#[derive(askama::Template)]
#[template(path = "staff_home.html")]
struct HomePage<'a> {
    name: &'a str,
    role: &'static str,
    csrf: &'a str,
    moderator: bool,
    studio: bool,
    inbox: usize,
    sessions: Vec<SessionRow>,
    /// (time, who, action, target), for admins.
    audit: Vec<(String, String, String, String)>,
}

/// `GET /staff`: sessions with their publishing jobs (moderators link the queue, hosts the studio); the audit
/// log for admins.
pub async fn home(State(st): State<AppState>, auth: StaffAuth) -> Response {
    let sessions = match st.db.list_sessions().await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("staff home: {e}");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let mut rows = Vec::with_capacity(sessions.len());
    for s in &sessions {
        let jobs = st.db.jobs(Some(s.id)).await.unwrap_or_default();
        rows.push(SessionRow {
            slug: s.slug.as_str().to_owned(),
            title: s.title.clone(),
            state: s.state.as_str(),
            jobs: jobs.iter().map(|j| format!("{} {} {:.0} %", j.kind, j.state.as_str(), j.progress * 100.0)).collect(),
        });
    }
    let audit = if auth.user.role == Role::Admin {
        let log = st.db.audit_log(50).await.unwrap_or_default();
        log.into_iter().map(|e| (e.at.to_rfc3339(), e.user.unwrap_or_else(|| "–".into()), e.action, e.target)).collect()
    } else {
        Vec::new()
    };
    let page = HomePage {
        name: &auth.user.name,
        role: auth.user.role.as_str(),
        csrf: &auth.csrf,
        moderator: matches!(auth.user.role, Role::Admin | Role::Moderator),
        studio: matches!(auth.user.role, Role::Host | Role::Admin),
        inbox: st.db.inbox_items().await.map(|i| i.len()).unwrap_or(0),
        sessions: rows,
        audit,
    };
    render_private(page)
}
