//! The moderation console through its real forms: edit (original kept), pin, reorder, merge, reject with a reason
//! mailed to the asker (a real SMTP relay), filters and search, the unassigned mail inbox — each audited, each
//! with its hostile cases (no CSRF, other session, empty or too long text, merging into itself).

mod support;

use citizenhour::domain::{QuestionDraft, QuestionOrigin, QuestionStatus, QuestionText, SessionId};
use citizenhour::storage::{InboxItem, MailKey, Taken};
use support::services::SmtpSink;
use support::staff::{Login, add_user, login};

fn draft(text: &str, name: &str, email: Option<&str>) -> QuestionDraft {
    QuestionDraft {
        text: QuestionText::parse(text, 1500).unwrap(),
        author_name: Some(name.into()),
        email: email.map(str::to_owned),
        show_name: false,
        origin: QuestionOrigin::Web,
        language: None,
        intake_note: None,
    }
}

struct Console {
    app: support::TestApp,
    mo: Login,
    session: SessionId,
    _smtp_dir: tempfile::TempDir,
    smtp: SmtpSink,
}

async fn console() -> Console {
    let smtp_dir = tempfile::tempdir().unwrap();
    let smtp = SmtpSink::start(smtp_dir.path());
    let port = smtp.port;
    let app = support::spawn_app_with(move |c| {
        c.mail.smtp_host = "127.0.0.1".into();
        c.mail.smtp_port = port;
        c.mail.smtp_tls = "none".into();
        c.mail.from = "Stadt <buergersprechstunde@musterstadt.example>".into();
    })
    .await;
    let data = app.config.storage.data_dir.clone();
    add_user(&data, "mo@musterstadt.de", "Mo", "moderator", "ein-langes-Passwort-123");
    let session = app.db.create_session(&support::new_session("konsole", None)).await.unwrap().id;
    let mo = login(&app, "mo@musterstadt.de", "ein-langes-Passwort-123").await;
    Console { app, mo, session, _smtp_dir: smtp_dir, smtp }
}

impl Console {
    async fn act(&self, id: i64, action: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut form = vec![("csrf", self.mo.csrf.as_str())];
        form.extend_from_slice(fields);
        self.app
            .client
            .post(format!("{}/staff/s/konsole/questions/{id}/{action}", self.app.base))
            .header("cookie", &self.mo.cookie)
            .form(&form)
            .send()
            .await
            .unwrap()
    }
    async fn page(&self, query: &str) -> String {
        let r = self
            .app
            .client
            .get(format!("{}/staff/s/konsole{query}", self.app.base))
            .header("cookie", &self.mo.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.text().await.unwrap()
    }
    async fn order(&self) -> Vec<String> {
        let qs = self.app.db.questions(self.session, Some(QuestionStatus::Pending)).await.unwrap();
        qs.iter().map(|q| q.text.as_str().to_owned()).collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderators_edit_pin_reorder_merge_and_reject_with_a_mailed_reason() {
    let c = console().await;
    let db = &c.app.db;
    let asked = draft("Wann kommt der Radweg?", "Erika", Some("erika@example.org"));
    let (a, link) = db.add_or_support_question(c.session, &asked).await.unwrap();
    let link = link.expect("a personal link");
    let b = db
        .add_question(c.session, &draft("Wann kommt endlich der Radweg an der B7", "Ali", Some("ali@example.org")))
        .await
        .unwrap();
    let d = db.add_question(c.session, &draft("Warum ist die Bücherei zu?", "Uta", None)).await.unwrap();
    let e = db.add_question(c.session, &draft("Kaufen Sie Krypto!", "Spam", Some("spam@example.org"))).await.unwrap();
    let other = db.create_session(&support::new_session("andere", None)).await.unwrap().id;
    let foreign = db.add_question(other, &draft("Fremde Frage?", "X", None)).await.unwrap();

    // Edit: the text changes, the citizen's words are kept (only the first edit saves them) and shown to staff.
    assert_eq!(c.act(a.id.0, "edit", &[("text", "Wann wird der Radweg an der B7 gebaut?")]).await.status(), 303);
    assert_eq!(c.act(a.id.0, "edit", &[("text", "Wann wird der Radweg an der B7 <b>gebaut</b>?")]).await.status(), 303);
    let q = db.question(a.id).await.unwrap();
    assert_eq!(q.text.as_str(), "Wann wird der Radweg an der B7 <b>gebaut</b>?");
    assert_eq!(q.original_text.as_deref(), Some("Wann kommt der Radweg?"));
    let html = c.page("").await;
    assert!(
        html.contains("Wann wird der Radweg an der B7 &#60;b&#62;gebaut&#60;/b&#62;?") && !html.contains("<b>gebaut")
    );
    assert!(html.contains("Ursprünglicher Text") && html.contains("Wann kommt der Radweg?"));
    // The asker's export holds their own words as well.
    let export: serde_json::Value =
        c.app.client.get(format!("{}/q/{link}/export", c.app.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(export["original_question"], "Wann kommt der Radweg?");
    assert_eq!(export["question"], "Wann wird der Radweg an der B7 <b>gebaut</b>?");
    // Hostile edits change nothing.
    assert_eq!(c.act(a.id.0, "edit", &[("text", "   \n ")]).await.status(), 422);
    assert_eq!(c.act(a.id.0, "edit", &[("text", &"x".repeat(1501))]).await.status(), 422);
    let forged = c
        .app
        .client
        .post(format!("{}/staff/s/konsole/questions/{}/edit", c.app.base, a.id.0))
        .header("cookie", &c.mo.cookie)
        .form(&[("csrf", "forged"), ("text", "Gehackt")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(c.act(foreign.id.0, "edit", &[("text", "Gehackt")]).await.status(), 404);
    assert_eq!(db.question(foreign.id).await.unwrap().text.as_str(), "Fremde Frage?");

    // Order: down, up, pin (pinned first everywhere, the live queue too).
    assert_eq!(c.order().await[0], "Wann wird der Radweg an der B7 <b>gebaut</b>?");
    assert_eq!(c.act(a.id.0, "down", &[]).await.status(), 303);
    assert_eq!(
        c.order().await[..2],
        ["Wann kommt endlich der Radweg an der B7", "Wann wird der Radweg an der B7 <b>gebaut</b>?"]
    );
    assert_eq!(c.act(a.id.0, "up", &[]).await.status(), 303);
    assert_eq!(c.order().await[0], "Wann wird der Radweg an der B7 <b>gebaut</b>?");
    assert_eq!(c.act(a.id.0, "up", &[]).await.status(), 303, "already first: nothing moves, no error");
    assert_eq!(c.act(d.id.0, "pin", &[]).await.status(), 303);
    assert_eq!(c.order().await[0], "Warum ist die Bücherei zu?");
    let html = c.page("").await;
    assert!(html.find("Bücherei").unwrap() < html.find("gebaut").unwrap(), "pinned first on the page");
    db.set_question_status(d.id, QuestionStatus::Approved).await.unwrap();
    db.set_question_status(b.id, QuestionStatus::Approved).await.unwrap();
    let live: Vec<_> = db.questions(c.session, Some(QuestionStatus::Approved)).await.unwrap();
    assert_eq!(live[0].id, d.id, "the pinned question leads the live queue");
    db.set_question_status(b.id, QuestionStatus::Pending).await.unwrap();

    // Merge b into a: b's asker becomes a's supporter (kept for the answer notice), b is gone.
    assert_eq!(c.act(b.id.0, "merge", &[("target", &b.id.0.to_string())]).await.status(), 422, "not into itself");
    assert_eq!(c.act(b.id.0, "merge", &[("target", &foreign.id.0.to_string())]).await.status(), 404, "other session");
    assert_eq!(c.act(b.id.0, "merge", &[("target", "abc")]).await.status(), 422);
    let r = c.act(b.id.0, "merge", &[("target", &a.id.0.to_string())]).await;
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"].to_str().unwrap().ends_with(&format!("#q{}", a.id.0)));
    assert!(db.question(b.id).await.is_err());
    assert_eq!(db.question(a.id).await.unwrap().supporters, 2);
    let supporters = db.supporters_with_email(a.id).await.unwrap();
    assert_eq!(supporters.iter().map(|s| s.email.as_str()).collect::<Vec<_>>(), ["ali@example.org"]);

    // Reject with a reason, mailed to the asker (German by default), the reason kept for staff.
    let r = c.act(e.id.0, "reject", &[("reason", "Werbung\r\nBcc: x@y.z"), ("notify", "1")]).await;
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"].to_str().unwrap().contains("done=reject-mailed"));
    let q = db.question(e.id).await.unwrap();
    assert_eq!(q.status, QuestionStatus::Rejected);
    assert_eq!(q.rejection_reason.as_deref(), Some("WerbungBcc: x@y.z"), "control characters removed");
    let mails: Vec<String> = c.smtp.messages().iter().map(|m| String::from_utf8_lossy(m).into_owned()).collect();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("X-RcptTo: spam@example.org"));
    let text = support::mail_text(mails[0].as_bytes());
    assert!(text.contains("Begründung: WerbungBcc: x@y.z") && text.contains("> Kaufen Sie Krypto!"), "{text}");
    assert!(!mails[0].lines().any(|l| l.starts_with("Bcc:")));
    // Rejecting without mail sends nothing more.
    assert_eq!(c.act(d.id.0, "reject", &[("reason", "doppelt")]).await.status(), 303);
    assert_eq!(c.smtp.messages().len(), 1);

    // Filters and search.
    let html = c.page("?status=rejected").await;
    let li = |id: citizenhour::domain::QuestionId| format!("id=\"q{}\"", id.0);
    assert!(html.contains(r#"id="h-rejected""#) && !html.contains(r#"id="h-pending""#), "only rejected");
    assert!(html.contains(&li(e.id)) && !html.contains(&li(a.id)));
    assert!(html.contains("Ablehnungsgrund") && html.contains("doppelt"));
    let html = c.page("?q=RADWEG").await;
    assert!(html.contains(&li(a.id)) && !html.contains(&li(e.id)) && !html.contains(&li(d.id)), "search is case-blind");
    let html = c.page("?q=%3Cscript%3E&status=%27%3B--").await;
    assert!(!html.contains("<script>"), "the search term is escaped");
    let html = c.page("?done=%3Cscript%3Ealert(1)%3C/script%3E").await;
    assert!(!html.contains("alert(1)"), "flash messages are fixed texts, nothing is echoed");

    let log = db.audit_log(100).await.unwrap();
    for action in ["question_edit", "question_down", "question_up", "question_pin", "question_merge", "question_reject"]
    {
        assert!(
            log.iter().any(|e| e.action == action && e.user.as_deref() == Some("mo@musterstadt.de")),
            "{action} audited"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unassigned_mails_are_assigned_to_a_session_or_discarded() {
    let c = console().await;
    let db = &c.app.db;
    let mut ids = Vec::new();
    for (uid, text) in [(1, "Wo melde ich Sperrmüll an? <script>x</script>"), (2, "Werbung"), (3, "Dritte Frage")] {
        let key = MailKey { mailbox: "t@h/INBOX".into(), uidvalidity: 1, uid, message_id: None };
        let item = InboxItem {
            id: 0,
            received_at: chrono::Utc::now(),
            author_name: Some("Uta".into()),
            email: Some("uta@example.org".into()),
            subject: format!("Mail {uid}"),
            text: text.into(),
            language: Some("de".into()),
            intake_note: None,
            reason: "Keine Sprechstunde angegeben".into(),
        };
        let Taken::New(id) = db.take_mail_to_inbox(&key, &item, None).await.unwrap() else { panic!() };
        ids.push(id);
    }
    let get = |path: &str| {
        let req = c.app.client.get(format!("{}{path}", c.app.base)).header("cookie", &c.mo.cookie);
        async move { req.send().await.unwrap() }
    };
    let html = get("/staff/inbox").await.text().await.unwrap();
    assert!(html.contains("Nicht zugeordnete E-Mails") && html.contains("(3)"));
    assert!(html.contains("&#60;script&#62;x&#60;/script&#62;") && !html.contains("<script>x"));
    assert!(html.contains(r#"<option value="konsole">"#), "open sessions offered");
    let post = |path: String, form: Vec<(&'static str, String)>| {
        let req = c.app.client.post(format!("{}{path}", c.app.base)).header("cookie", &c.mo.cookie).form(&form);
        async move { req.send().await.unwrap() }
    };
    let csrf = c.mo.csrf.clone();
    // Staff shorten the text while assigning it.
    let r = post(
        format!("/staff/inbox/{}/assign", ids[0]),
        vec![("csrf", csrf.clone()), ("session", "konsole".into()), ("text", "Wo melde ich Sperrmüll an?".into())],
    )
    .await;
    assert_eq!(r.status(), 303);
    let qs = db.questions(c.session, None).await.unwrap();
    assert_eq!(qs.len(), 1);
    assert_eq!(qs[0].text.as_str(), "Wo melde ich Sperrmüll an?");
    assert_eq!((qs[0].origin, qs[0].email.as_deref()), (QuestionOrigin::Email, Some("uta@example.org")));
    // Gone from the inbox: a second assign is a clear 404, nothing doubled.
    let again = post(
        format!("/staff/inbox/{}/assign", ids[0]),
        vec![("csrf", csrf.clone()), ("session", "konsole".into()), ("text", "x".into())],
    )
    .await;
    assert_eq!(again.status(), 404);
    // Hostile: unknown session, empty text, forged CSRF → nothing moves.
    for form in [
        vec![("csrf", csrf.clone()), ("session", "gibt-es-nicht".into()), ("text", "Frage".into())],
        vec![("csrf", csrf.clone()), ("session", "konsole".into()), ("text", "  ".into())],
        vec![("csrf", "forged".into()), ("session", "konsole".into()), ("text", "Frage".into())],
    ] {
        let r = post(format!("/staff/inbox/{}/assign", ids[2]), form).await;
        assert!(r.status().is_client_error(), "{}", r.status());
    }
    assert!(db.inbox_item(ids[2]).await.unwrap().is_some());
    assert_eq!(post(format!("/staff/inbox/{}/discard", ids[1]), vec![("csrf", csrf.clone())]).await.status(), 303);
    assert!(db.inbox_item(ids[1]).await.unwrap().is_none());
    assert_eq!(db.inbox_items().await.unwrap().len(), 1);
    let log = db.audit_log(50).await.unwrap();
    assert!(log.iter().any(|e| e.action == "inbox_assign") && log.iter().any(|e| e.action == "inbox_discard"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_chromium_the_console_works_by_keyboard_alone_and_every_control_has_a_label() {
    let c = console().await;
    let db = &c.app.db;
    let first = db.add_question(c.session, &draft("Erste Frage zur Brücke?", "Erika", None)).await.unwrap();
    let second = db.add_question(c.session, &draft("Zweite Frage zur Brücke?", "Ali", None)).await.unwrap();
    let out = support::browser_script(
        "moderation.mjs",
        vec![
            c.app.base.clone(),
            "konsole".into(),
            "mo@musterstadt.de".into(),
            "ein-langes-Passwort-123".into(),
            second.id.0.to_string(),
        ],
    )
    .await;
    assert!(out["error"].is_null(), "{out}");
    assert_eq!(out["after_login"], "/staff", "{out}");
    assert_eq!(out["login_unlabeled"], serde_json::json!([]), "{out}");
    assert_eq!(out["queue_unlabeled"], serde_json::json!([]), "{out}");
    assert_eq!(out["lang"], "de");
    assert!(out["approve_flash"].as_str().unwrap_or_default().starts_with("Freigegeben"), "{out}");
    assert!(out["reject_flash"].as_str().unwrap_or_default().starts_with("Abgelehnt"), "{out}");
    assert_eq!(db.question(first.id).await.unwrap().status, QuestionStatus::Approved);
    assert_eq!(out["rejected_id"], second.id.0.to_string(), "{out}");
    let q = db.question(second.id).await.unwrap();
    assert_eq!((q.status, q.rejection_reason.as_deref()), (QuestionStatus::Rejected, Some("Doppelt gestellt")));
}
