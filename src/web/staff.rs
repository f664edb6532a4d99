//! The staff area: login (argon2id passwords, an HttpOnly session cookie, CSRF tokens on every form), logout and
//! the overview of sessions and publishing jobs. Accounts come from `citizenhour user add`.

use super::AppState;
use super::html::{cookie, esc, page};
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

fn login_form(csrf: &str, email: &str, error: Option<&str>) -> String {
    let err = error
        .map(|e| format!("<p id=\"login-error\" class=\"error\" role=\"alert\">{}</p>", esc(e)))
        .unwrap_or_default();
    let described = if error.is_some() { " aria-describedby=\"login-error\" aria-invalid=\"true\"" } else { "" };
    page(
        "Anmeldung",
        &format!(
            "<h1>Anmeldung für Mitarbeitende <span lang=\"en\">/ staff sign-in</span></h1>\n{err}\
             <form method=\"post\" action=\"/staff/login\">\n\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\n\
             <p><label for=\"email\">E-Mail-Adresse <span lang=\"en\">/ e-mail</span></label><br>\
             <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required value=\"{}\"{described}></p>\n\
             <p><label for=\"password\">Passwort <span lang=\"en\">/ password</span></label><br>\
             <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required{described}></p>\n\
             <p><button type=\"submit\">Anmelden <span lang=\"en\">/ sign in</span></button></p>\n</form>",
            esc(csrf),
            esc(email)
        ),
    )
}

/// `GET /staff/login`: the form, with a login CSRF token in a cookie and the form (double submit).
pub async fn login_page(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let csrf = cookie(&headers, LOGIN_CSRF_COOKIE).filter(|c| c.len() == 32).unwrap_or_else(new_token);
    let set = format!("{LOGIN_CSRF_COOKIE}={csrf}; Path=/staff; HttpOnly; SameSite=Strict{}", secure(&st));
    ([(header::SET_COOKIE, set), (header::CACHE_CONTROL, "no-store".into())], Html(login_form(&csrf, "", None)))
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
        (status, [(header::CACHE_CONTROL, "no-store")], Html(login_form(&expected, email, Some(msg)))).into_response()
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

/// `GET /staff`: sessions with their publishing jobs; the audit log for admins.
pub async fn home(State(st): State<AppState>, auth: StaffAuth) -> Response {
    let sessions = match st.db.list_sessions().await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("staff home: {e}");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let mut rows = String::new();
    for s in &sessions {
        let jobs = st.db.jobs(Some(s.id)).await.unwrap_or_default();
        let jobs = jobs
            .iter()
            .map(|j| format!("{} {} {:.0} %", esc(&j.kind), j.state.as_str(), j.progress * 100.0))
            .collect::<Vec<_>>()
            .join("<br>");
        let studio = if matches!(auth.user.role, Role::Host | Role::Admin) {
            format!(" · <a href=\"/studio/{}\">Studio</a>", esc(s.slug.as_str()))
        } else {
            String::new()
        };
        let title = if matches!(auth.user.role, Role::Admin | Role::Moderator) {
            format!("<a href=\"/staff/s/{}\">{}</a>", esc(s.slug.as_str()), esc(&s.title))
        } else {
            esc(&s.title)
        };
        rows.push_str(&format!(
            "<tr><th scope=\"row\">{title}{studio}</th><td>{state}</td><td>{jobs}</td></tr>\n",
            state = s.state.as_str(),
        ));
    }
    let mut audit = String::new();
    if auth.user.role == Role::Admin {
        audit.push_str("<h2>Protokoll <span lang=\"en\">/ audit log</span></h2>\n<ol class=\"audit\">\n");
        for e in st.db.audit_log(50).await.unwrap_or_default() {
            audit.push_str(&format!(
                "<li><time datetime=\"{at}\">{at}</time> {who}: {action} {target}</li>\n",
                at = e.at.to_rfc3339(),
                who = esc(e.user.as_deref().unwrap_or("–")),
                action = esc(&e.action),
                target = esc(&e.target),
            ));
        }
        audit.push_str("</ol>\n");
    }
    let body = format!(
        "<h1>Übersicht <span lang=\"en\">/ overview</span></h1>\n\
         <p>Angemeldet als <span lang=\"en\">/ signed in as</span> <strong>{name}</strong> ({role})</p>\n\
         <form method=\"post\" action=\"/staff/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\">Abmelden <span lang=\"en\">/ sign out</span></button></form>\n\
         <p><a href=\"/staff/inbox\">Nicht zugeordnete E-Mails <span lang=\"en\">/ unassigned mail</span> ({inbox})</a></p>\n\
         <table><caption>Sprechstunden <span lang=\"en\">/ sessions</span></caption>\n\
         <thead><tr><th scope=\"col\">Titel</th><th scope=\"col\">Stand</th><th scope=\"col\">Aufträge <span lang=\"en\">/ jobs</span></th></tr></thead>\n\
         <tbody>\n{rows}</tbody></table>\n{audit}",
        name = esc(&auth.user.name),
        inbox = st.db.inbox_items().await.map(|i| i.len()).unwrap_or(0),
        role = auth.user.role.as_str(),
        csrf = esc(&auth.csrf),
    );
    ([(header::CACHE_CONTROL, "no-store")], Html(page("Übersicht", &body))).into_response()
}
