//! The asker's personal page `/q/{token}` (DSGVO Art. 15–17): see the question and its state, withdraw it,
//! delete the personal data, export everything as JSON. The random token in the link is the only credential
//! (the database keeps its SHA-256); a cross-site form cannot be forged without knowing it.

use super::AppState;
use super::html::{esc, page};
use crate::domain::{Question, QuestionStatus};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

fn gone() -> Response {
    let body = "<h1>Link ungültig <span lang=\"en\">/ link not valid</span></h1>\
                <p>Diese Frage gibt es nicht mehr, oder der Link ist falsch. \
                <span lang=\"en\">This question no longer exists, or the link is wrong.</span></p>";
    (StatusCode::NOT_FOUND, [(header::CACHE_CONTROL, "no-store")], Html(page("Link ungültig", body))).into_response()
}

async fn find(st: &AppState, token: &str) -> Result<Question, Response> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(gone());
    }
    match st.db.question_by_manage_token(token).await {
        Ok(Some(q)) => Ok(q),
        Ok(None) => Err(gone()),
        Err(e) => {
            tracing::error!("asker page: {e}");
            Err(StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
    }
}

fn status_text(s: QuestionStatus) -> &'static str {
    match s {
        QuestionStatus::Pending => "wird geprüft <span lang=\"en\">/ being reviewed</span>",
        QuestionStatus::Approved => "angenommen <span lang=\"en\">/ accepted</span>",
        QuestionStatus::Rejected => "nicht angenommen <span lang=\"en\">/ not accepted</span>",
        QuestionStatus::Answered => "beantwortet <span lang=\"en\">/ answered</span>",
    }
}

/// `GET /q/{token}`
pub async fn show(State(st): State<AppState>, Path(token): Path<String>) -> Response {
    let q = match find(&st, &token).await {
        Ok(q) => q,
        Err(r) => return r,
    };
    let withdraw = if q.status == QuestionStatus::Answered {
        "<p>Die Frage wurde in der Sendung beantwortet und bleibt als Kapitel der Aufzeichnung sichtbar; Ihre Daten \
         können Sie löschen. <span lang=\"en\">The question was answered on air and stays a chapter of the recording; \
         you can delete your data.</span></p>"
            .to_owned()
    } else {
        format!(
            "<form method=\"post\" action=\"/q/{t}/withdraw\"><button type=\"submit\">Frage zurückziehen und löschen \
             <span lang=\"en\">/ withdraw and delete the question</span></button></form>",
            t = esc(&token)
        )
    };
    let body = format!(
        "<h1>Ihre Frage <span lang=\"en\">/ your question</span></h1>\n<blockquote><p>{text}</p></blockquote>\n\
         <dl><dt>Stand <span lang=\"en\">/ state</span></dt><dd>{state}</dd>\
         <dt>Name</dt><dd>{name}</dd><dt>E-Mail</dt><dd>{email}</dd>\
         <dt>Name in der Sendung <span lang=\"en\">/ name on screen</span></dt><dd>{show}</dd></dl>\n\
         {withdraw}\n\
         <form method=\"post\" action=\"/q/{t}/erase\"><button type=\"submit\">Nur meine Daten löschen \
         <span lang=\"en\">/ delete only my personal data</span></button></form>\n\
         <p><a href=\"/q/{t}/export\" download>Meine Daten als JSON <span lang=\"en\">/ my data as JSON</span></a></p>",
        text = esc(q.text.as_str()),
        state = status_text(q.status),
        name = q.author_name.as_deref().map(esc).unwrap_or_else(|| "–".into()),
        email = q.email.as_deref().map(esc).unwrap_or_else(|| "–".into()),
        show = if q.show_name { "ja / yes" } else { "nein / no" },
        t = esc(&token),
    );
    ([(header::CACHE_CONTROL, "no-store"), (header::REFERRER_POLICY, "no-referrer")], Html(page("Ihre Frage", &body)))
        .into_response()
}

fn done(text: &str) -> Response {
    let body = format!(
        "<h1>Erledigt <span lang=\"en\">/ done</span></h1><p role=\"status\">{text}</p><p><a href=\"/\">Startseite / home</a></p>"
    );
    ([(header::CACHE_CONTROL, "no-store")], Html(page("Erledigt", &body))).into_response()
}

/// `POST /q/{token}/withdraw`: deletes a question that was not answered yet, with everything attached.
pub async fn withdraw(State(st): State<AppState>, Path(token): Path<String>) -> Response {
    let q = match find(&st, &token).await {
        Ok(q) => q,
        Err(r) => return r,
    };
    if q.status == QuestionStatus::Answered {
        return Redirect::to(&format!("/q/{token}")).into_response();
    }
    if let Err(e) = st.db.delete_question(q.id).await {
        tracing::error!("withdraw: {e}");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let _ = st.db.audit(None, "question_withdrawn", &q.id.0.to_string(), "by the asker").await;
    done("Ihre Frage und Ihre Daten sind gelöscht. <span lang=\"en\">Your question and your data are deleted.</span>")
}

/// `POST /q/{token}/erase`: removes name, e-mail address and the link; the text stays (anonymous).
pub async fn erase(State(st): State<AppState>, Path(token): Path<String>) -> Response {
    let q = match find(&st, &token).await {
        Ok(q) => q,
        Err(r) => return r,
    };
    if let Err(e) = st.db.erase_asker_data(q.id).await {
        tracing::error!("erase: {e}");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let _ = st.db.audit(None, "asker_data_erased", &q.id.0.to_string(), "by the asker").await;
    done(
        "Ihr Name und Ihre E-Mail-Adresse sind gelöscht; die Frage bleibt ohne Namen. Dieser Link gilt nicht mehr. \
         <span lang=\"en\">Your name and e-mail address are deleted; the question stays without a name. This link no \
         longer works.</span>",
    )
}

/// `GET /q/{token}/export`: everything stored about this asker's question, as JSON.
pub async fn export(State(st): State<AppState>, Path(token): Path<String>) -> Response {
    let q = match find(&st, &token).await {
        Ok(q) => q,
        Err(r) => return r,
    };
    let session = st.db.session_by_id(q.session_id).await.ok();
    let v = serde_json::json!({
        "question": q.text.as_str(),
        // The asker's own words when staff shortened or corrected the question.
        "original_question": q.original_text,
        "rejection_reason": q.rejection_reason,
        "name": q.author_name,
        "email": q.email,
        "show_name_on_screen": q.show_name,
        "language": q.language,
        "status": q.status.as_str(),
        "handed_in_via": q.origin.as_str(),
        "handed_in_at": q.created_at.to_rfc3339(),
        "answered_at_ms_in_recording": q.answered_at_ms,
        "supporters": q.supporters,
        "session": session.map(|s| serde_json::json!({"slug": s.slug.to_string(), "title": s.title})),
    });
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"meine-frage.json\""),
            (header::CACHE_CONTROL, "no-store"),
        ],
        serde_json::to_string_pretty(&v).expect("serializes"),
    )
        .into_response()
}
