//! The moderation console (admins and moderators, signed in): a session's queue with filters and search, and the
//! steps staff take on a question — approve, reject (with a reason, optionally mailed to the asker), edit (the
//! original kept), pin, move up/down, merge into another question — plus the unassigned mail inbox. Every step
//! needs the login's CSRF token and lands in the audit log.

use super::AppState;
use super::html::{page, render_private};
use super::staff::{StaffAuth, not_allowed};
use crate::domain::{Question, QuestionDraft, QuestionId, QuestionOrigin, QuestionStatus, QuestionText, Role, Session};
use crate::storage::{Direction, ModerationError};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

fn problem(status: StatusCode, de: &str, en: &str) -> Response {
    let body = format!(
        "<h1>{}</h1><p lang=\"en\">{}</p><p><a href=\"javascript:history.back()\">Zurück / back</a></p>",
        super::html::esc(de),
        super::html::esc(en)
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(page(de, &body))).into_response()
}

fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!("moderation: {e}");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

fn moderator(auth: &StaffAuth) -> bool {
    matches!(auth.user.role, Role::Admin | Role::Moderator)
}

/// Why a moderation form is refused, if it is: not this login's CSRF token (403 "form expired"), or the role
/// (403 "not allowed").
fn refuse_form(auth: &StaffAuth, csrf: &str) -> Option<Response> {
    if let Err(expired) = auth.check_csrf(csrf) {
        return Some(expired.into_response());
    }
    (!moderator(auth)).then(not_allowed)
}

/// The fixed confirmation texts a redirect may ask for (`?done=`): nothing from the request is echoed.
fn flash(done: &str) -> &'static str {
    match done {
        "approve" => "Freigegeben. / Approved.",
        "reject" => "Abgelehnt. / Rejected.",
        "reject-mailed" => "Abgelehnt, die fragende Person wurde informiert. / Rejected; the asker was told.",
        "reject-mail-failed" => {
            "Abgelehnt — die E-Mail konnte nicht gesendet werden. / Rejected; the mail could not be sent."
        }
        "edit" => "Gespeichert, der ursprüngliche Text bleibt erhalten. / Saved; the original text is kept.",
        "pin" => "Angeheftet. / Pinned.",
        "unpin" => "Gelöst. / Unpinned.",
        "up" | "down" => "Verschoben. / Moved.",
        "merge" => "Zusammengeführt. / Merged.",
        "assign" => "Zugeordnet. / Assigned.",
        "discard" => "Verworfen. / Discarded.",
        _ => "",
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct QueueQuery {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub done: String,
}

struct Item {
    id: i64,
    text: String,
    headline: String,
    original: String,
    who: String,
    has_email: bool,
    origin: &'static str,
    supporters: i64,
    pinned: bool,
    note: String,
    reason: String,
    open: bool,
    can_approve: bool,
    can_reject: bool,
}

struct Group {
    key: &'static str,
    heading: &'static str,
    heading_en: &'static str,
    items: Vec<Item>,
}

#[derive(Template)]
#[template(path = "staff_session.html")]
struct QueuePage<'a> {
    title: &'a str,
    slug: &'a str,
    csrf: &'a str,
    flash: &'static str,
    statuses: Vec<(&'static str, &'static str)>,
    filter_status: &'a str,
    search: &'a str,
    groups: Vec<Group>,
    merge_targets: Vec<(i64, String)>,
    can_mail: bool,
    max_chars: usize,
}

const GROUPS: [(QuestionStatus, &str, &str, &str); 4] = [
    (QuestionStatus::Pending, "pending", "Neu", "pending"),
    (QuestionStatus::Approved, "approved", "Freigegeben", "approved"),
    (QuestionStatus::Answered, "answered", "Beantwortet", "answered"),
    (QuestionStatus::Rejected, "rejected", "Abgelehnt", "rejected"),
];

fn matches_search(q: &Question, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    let n = needle.to_lowercase();
    [Some(q.text.as_str()), q.author_name.as_deref(), q.original_text.as_deref(), q.email.as_deref()]
        .into_iter()
        .flatten()
        .any(|h| h.to_lowercase().contains(&n))
}

/// `GET /staff/s/{slug}?status=&q=`: the session's queue, grouped by status (pinned first, then in order).
pub async fn queue(
    State(st): State<AppState>,
    auth: StaffAuth,
    Path(slug): Path<String>,
    Query(query): Query<QueueQuery>,
) -> Response {
    if !moderator(&auth) {
        return not_allowed();
    }
    let Ok(session) = st.db.session_by_slug(&slug).await else {
        return problem(StatusCode::NOT_FOUND, "Unbekannte Sprechstunde", "unknown session");
    };
    let questions = match st.db.questions(session.id, None).await {
        Ok(q) => q,
        Err(e) => return internal(e),
    };
    let search: String = query.q.chars().take(200).collect();
    let search = search.trim();
    let filter = GROUPS.iter().find(|g| g.1 == query.status).map(|g| g.0);
    let groups = GROUPS
        .iter()
        .filter(|(status, ..)| filter.is_none_or(|f| f == *status))
        .map(|(status, key, heading, heading_en)| Group {
            key,
            heading,
            heading_en,
            items: questions
                .iter()
                .filter(|q| q.status == *status && matches_search(q, search))
                .map(|q| Item {
                    id: q.id.0,
                    text: q.text.as_str().to_owned(),
                    headline: q.text.headline(60),
                    original: q.original_text.clone().unwrap_or_default(),
                    who: q.author_name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| "–".into()),
                    has_email: q.email.is_some(),
                    origin: q.origin.as_str(),
                    supporters: q.supporters,
                    pinned: q.pinned,
                    note: q.intake_note.clone().unwrap_or_default(),
                    reason: q.rejection_reason.clone().unwrap_or_default(),
                    open: q.status != QuestionStatus::Answered,
                    can_approve: matches!(q.status, QuestionStatus::Pending | QuestionStatus::Rejected),
                    can_reject: matches!(q.status, QuestionStatus::Pending | QuestionStatus::Approved),
                })
                .collect(),
        })
        .collect();
    let merge_targets = questions
        .iter()
        .filter(|q| matches!(q.status, QuestionStatus::Pending | QuestionStatus::Approved))
        .map(|q| (q.id.0, q.text.headline(60)))
        .collect();
    let mut statuses = vec![("", "Alle / all")];
    statuses.extend(GROUPS.iter().map(|g| (g.1, g.2)));
    render_private(QueuePage {
        title: &session.title,
        slug: session.slug.as_str(),
        csrf: &auth.csrf,
        flash: flash(&query.done),
        statuses,
        filter_status: filter.map(|f| f.as_str()).unwrap_or(""),
        search,
        groups,
        merge_targets,
        can_mail: !st.config.mail.smtp_host.is_empty(),
        max_chars: st.config.intake.max_question_chars,
    })
}

#[derive(Debug, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub notify: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub target: String,
}

async fn session_question(st: &AppState, slug: &str, id: i64) -> Result<(Session, Question), Response> {
    let not_found = || problem(StatusCode::NOT_FOUND, "Unbekannte Frage", "unknown question");
    let session = st.db.session_by_slug(slug).await.map_err(|_| not_found())?;
    match st.db.question(QuestionId(id)).await {
        Ok(q) if q.session_id == session.id => Ok((session, q)),
        _ => Err(not_found()),
    }
}

/// `POST /staff/s/{slug}/questions/{id}/{approve|reject|edit|pin|unpin|up|down|merge}`.
pub async fn act(
    State(st): State<AppState>,
    auth: StaffAuth,
    Path((slug, id, action)): Path<(String, i64, String)>,
    Form(f): Form<ActionForm>,
) -> Response {
    if let Some(refused) = refuse_form(&auth, &f.csrf) {
        return refused;
    }
    let (session, question) = match session_question(&st, &slug, id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if question.status == QuestionStatus::Answered {
        return problem(StatusCode::CONFLICT, "Schon beantwortet", "already answered");
    }
    let mut done = action.clone();
    let mut detail = String::new();
    let result: Result<(), Response> = async {
        match action.as_str() {
            "approve" => st.db.set_question_status(question.id, QuestionStatus::Approved).await.map_err(internal),
            "reject" => {
                let reason: String = f.reason.chars().filter(|c| !c.is_control()).take(500).collect();
                let reason = reason.trim();
                st.db.reject_question(question.id, (!reason.is_empty()).then_some(reason)).await.map_err(internal)?;
                detail = reason.to_owned();
                if f.notify == "1" {
                    done = match reject_mail(&st, &session, &question, reason).await {
                        Ok(()) => "reject-mailed".into(),
                        Err(e) => {
                            tracing::warn!(question = id, "rejection mail not sent: {e}");
                            "reject-mail-failed".into()
                        }
                    };
                }
                Ok(())
            }
            "edit" => {
                let text = QuestionText::parse(&f.text, st.config.intake.max_question_chars).map_err(|e| {
                    problem(StatusCode::UNPROCESSABLE_ENTITY, &format!("Text nicht gespeichert: {e}"), &e.to_string())
                })?;
                if text == question.text {
                    return Ok(());
                }
                match st.db.edit_question(question.id, &text).await.map_err(internal)? {
                    Ok(()) => Ok(()),
                    Err(e) => Err(moderation_problem(e)),
                }
            }
            "pin" | "unpin" => st.db.set_pinned(question.id, action == "pin").await.map(|_| ()).map_err(internal),
            "up" | "down" => {
                let dir = if action == "up" { Direction::Up } else { Direction::Down };
                match st.db.move_question(question.id, dir).await.map_err(internal)? {
                    Ok(_) => Ok(()),
                    Err(e) => Err(moderation_problem(e)),
                }
            }
            "merge" => {
                let Ok(target) = f.target.trim().parse::<i64>() else {
                    return Err(problem(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "Keine Zielfrage gewählt",
                        "no target chosen",
                    ));
                };
                let (_, t) = session_question(&st, &slug, target).await?;
                match st.db.merge_questions(question.id, t.id).await.map_err(internal)? {
                    Ok(()) => {
                        detail = format!("into #{target}");
                        Ok(())
                    }
                    Err(e) => Err(moderation_problem(e)),
                }
            }
            _ => Err(StatusCode::NOT_FOUND.into_response()),
        }
    }
    .await;
    if let Err(r) = result {
        return r;
    }
    let _ = st.db.audit(Some(auth.user.id), &format!("question_{action}"), &format!("{slug}#{id}"), &detail).await;
    let anchor = if action == "merge" { f.target.trim().to_owned() } else { id.to_string() };
    Redirect::to(&format!("/staff/s/{}?done={done}#q{anchor}", session.slug)).into_response()
}

fn moderation_problem(e: ModerationError) -> Response {
    let (status, de) = match e {
        ModerationError::NotFound(_) => (StatusCode::NOT_FOUND, "Unbekannte Frage"),
        ModerationError::OtherSession => (StatusCode::UNPROCESSABLE_ENTITY, "Fragen anderer Sprechstunden"),
        ModerationError::SameQuestion => (StatusCode::UNPROCESSABLE_ENTITY, "Eine Frage kann nicht in sich selbst"),
        ModerationError::Answered => (StatusCode::CONFLICT, "Schon beantwortet"),
    };
    problem(status, de, &e.to_string())
}

async fn reject_mail(st: &AppState, session: &Session, q: &Question, reason: &str) -> Result<(), String> {
    use crate::publish::notify::{Mailer, Rejection, compose_rejection};
    let Some(to) = q.email.as_deref() else { return Err("the asker left no address".into()) };
    let mailer = Mailer::from_config(&st.config.mail).map_err(|e| e.to_string())?.ok_or("mail is off")?;
    let m = compose_rejection(
        &mailer.from,
        &Rejection {
            to,
            language: q.language.as_deref(),
            question: q.text.as_str(),
            reason: (!reason.is_empty()).then_some(reason),
            session_title: &session.title,
            town: &st.config.town.name,
        },
    )
    .map_err(|e| e.to_string())?;
    mailer.send(m).await.map_err(|e| e.to_string())
}

struct InboxRow {
    id: i64,
    subject: String,
    who: String,
    received: String,
    reason: String,
    note: String,
    text: String,
}

#[derive(Template)]
#[template(path = "staff_inbox.html")]
struct InboxPage<'a> {
    csrf: &'a str,
    flash: &'static str,
    items: Vec<InboxRow>,
    /// Sessions taking questions now: (slug, title).
    sessions: Vec<(String, String)>,
}

/// `GET /staff/inbox`: mails no session could be found for.
pub async fn inbox(State(st): State<AppState>, auth: StaffAuth, Query(query): Query<QueueQuery>) -> Response {
    if !moderator(&auth) {
        return not_allowed();
    }
    let (items, sessions) = match (st.db.inbox_items().await, st.db.list_sessions().await) {
        (Ok(i), Ok(s)) => (i, s),
        (Err(e), _) | (_, Err(e)) => return internal(e),
    };
    let now = chrono::Utc::now();
    render_private(InboxPage {
        csrf: &auth.csrf,
        flash: flash(&query.done),
        items: items
            .into_iter()
            .map(|i| InboxRow {
                id: i.id,
                subject: if i.subject.trim().is_empty() { "(ohne Betreff / no subject)".into() } else { i.subject },
                who: match (i.author_name, i.email) {
                    (Some(n), Some(e)) => format!("{n} <{e}>"),
                    (None, Some(e)) => e,
                    (Some(n), None) => n,
                    (None, None) => "–".into(),
                },
                received: i.received_at.with_timezone(&chrono::Local).format("%d.%m.%Y %H:%M").to_string(),
                reason: i.reason,
                note: i.intake_note.unwrap_or_default(),
                text: i.text,
            })
            .collect(),
        sessions: sessions
            .into_iter()
            .filter(|s| s.intake_open(now))
            .map(|s| (s.slug.as_str().to_owned(), s.title))
            .collect(),
    })
}

#[derive(Debug, Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub session: String,
}

/// `POST /staff/inbox/{id}/{assign|discard}`.
pub async fn inbox_act(
    State(st): State<AppState>,
    auth: StaffAuth,
    Path((id, action)): Path<(i64, String)>,
    Form(f): Form<AssignForm>,
) -> Response {
    if let Some(refused) = refuse_form(&auth, &f.csrf) {
        return refused;
    }
    let gone = || problem(StatusCode::NOT_FOUND, "Diese E-Mail ist nicht mehr da", "this mail is gone");
    match action.as_str() {
        "discard" => match st.db.discard_inbox_item(id).await {
            Ok(true) => {
                let _ = st.db.audit(Some(auth.user.id), "inbox_discard", &format!("inbox#{id}"), "").await;
                Redirect::to("/staff/inbox?done=discard").into_response()
            }
            Ok(false) => gone(),
            Err(e) => internal(e),
        },
        "assign" => {
            let item = match st.db.inbox_item(id).await {
                Ok(Some(i)) => i,
                Ok(None) => return gone(),
                Err(e) => return internal(e),
            };
            let Ok(session) = st.db.session_by_slug(&f.session).await else {
                return problem(StatusCode::UNPROCESSABLE_ENTITY, "Unbekannte Sprechstunde", "unknown session");
            };
            let text = match QuestionText::parse(&f.text, st.config.intake.max_question_chars) {
                Ok(t) => t,
                Err(e) => {
                    return problem(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        &format!("Nicht zugeordnet: {e}"),
                        &e.to_string(),
                    );
                }
            };
            let draft = QuestionDraft {
                text,
                author_name: item.author_name,
                email: item.email,
                show_name: false,
                origin: QuestionOrigin::Email,
                language: item.language,
                intake_note: item.intake_note,
            };
            match st.db.assign_inbox_item(id, session.id, &draft).await {
                Ok(Some((q, _))) => {
                    let target = format!("inbox#{id}");
                    let _ = st
                        .db
                        .audit(Some(auth.user.id), "inbox_assign", &target, &format!("{}#{}", session.slug, q.id.0))
                        .await;
                    Redirect::to(&format!("/staff/s/{}?done=assign#q{}", session.slug, q.id.0)).into_response()
                }
                Ok(None) => gone(),
                Err(e) => internal(e),
            }
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
