//! Staff accounts: `citizenhour user add` (argon2id), login with CSRF (double submit), the session cookie's flags,
//! wrong passwords, brute force, hostile input, logout, roles on the overview and the audit log.

mod support;

use support::staff::{add_user, login, login_form, post_login, set_cookie, user_add};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_log_in_with_argon2id_passwords_behind_csrf_and_everything_is_audited() {
    let app = support::spawn_app_with(|c| c.server.public_url = String::new()).await;
    let data = app.config.storage.data_dir.clone();
    let out = user_add(
        &data,
        &["--email", " Anna@Musterstadt.DE ", "--name", "Anna Beispiel", "--role", "admin"],
        "korrekt-Pferd-Batterie",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("anna@musterstadt.de"));
    for (args, pw, says) in [
        (
            vec!["--email", "anna@musterstadt.de", "--name", "X", "--role", "admin"],
            "korrekt-Pferd-Batterie",
            "exists already",
        ),
        (vec!["--email", "kurt@musterstadt.de", "--name", "Kurt", "--role", "moderator"], "kurz", "12 characters"),
        (
            vec!["--email", "kurt@musterstadt.de", "--name", "Kurt", "--role", "root"],
            "korrekt-Pferd-Batterie",
            "unknown role",
        ),
        (
            vec!["--email", "kurt\r\nBcc: x", "--name", "Kurt", "--role", "host"],
            "korrekt-Pferd-Batterie",
            "not an e-mail",
        ),
    ] {
        let out = user_add(&data, &args, pw);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    add_user(&data, "mo@musterstadt.de", "Mo <b>Derator</b>", "moderator", "ein-langes-Passwort-123");

    // Not logged in: the overview sends to the login page.
    let r = app.client.get(format!("{}/staff", app.base)).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, "/staff/login"));
    let forged = app.client.get(format!("{}/staff", app.base)).header("cookie", "staff=0123").send().await.unwrap();
    assert_eq!(forged.status(), 303);

    // CSRF: a login without the form token, or with another browser's, is refused before any password check.
    let (cookie, csrf) = login_form(&app).await;
    let no_token =
        post_login(&app, &cookie, &[("email", "anna@musterstadt.de"), ("password", "korrekt-Pferd-Batterie")]).await;
    assert_eq!(no_token.status(), 403);
    let (_, other_csrf) = login_form(&app).await;
    let cross = post_login(
        &app,
        &cookie,
        &[("email", "anna@musterstadt.de"), ("password", "korrekt-Pferd-Batterie"), ("csrf", &other_csrf)],
    )
    .await;
    assert_eq!(cross.status(), 403);

    // Wrong password, unknown address, hostile input: the same 401 answer, no cookie, the field marked.
    let huge = "p".repeat(5_000);
    let too_big = "p".repeat(100_000);
    let r =
        post_login(&app, &cookie, &[("email", "anna@musterstadt.de"), ("password", &too_big), ("csrf", &csrf)]).await;
    assert_eq!(r.status(), 413, "a body over the limit is refused before anything else");
    for (email, pw) in [
        ("anna@musterstadt.de", "falsch-falsch-falsch"),
        ("nobody@musterstadt.de", "korrekt-Pferd-Batterie"),
        ("anna@musterstadt.de' OR '1'='1", "x' OR '1'='1"),
        ("anna@musterstadt.de\r\nSet-Cookie: staff=evil", "korrekt-Pferd-Batterie"),
        ("anna@musterstadt.de", huge.as_str()),
        ("", ""),
    ] {
        let r = post_login(&app, &cookie, &[("email", email), ("password", pw), ("csrf", &csrf)]).await;
        assert_eq!(r.status(), 401, "{email:?}");
        assert!(set_cookie(&r, "staff").is_none());
        let html = r.text().await.unwrap();
        assert!(html.contains(r#"role="alert""#) && html.contains(r#"aria-invalid="true""#));
        assert!(!html.contains("<script") && !html.contains("' OR '1'='1\" "), "escaped");
    }

    // The admin logs in: overview with the audit log; the moderator's name is escaped everywhere.
    let anna = login(&app, "ANNA@musterstadt.de", "korrekt-Pferd-Batterie").await;
    let html = app.client.get(format!("{}/staff", app.base)).header("cookie", &anna.cookie).send().await.unwrap();
    let html = html.text().await.unwrap();
    assert!(html.contains("Anna Beispiel") && html.contains("(admin)"));
    assert!(html.contains("login_failed") && html.contains("user_added"), "audit log shown to admins");
    let mo = login(&app, "mo@musterstadt.de", "ein-langes-Passwort-123").await;
    let html = app.client.get(format!("{}/staff", app.base)).header("cookie", &mo.cookie).send().await.unwrap();
    let html = html.text().await.unwrap();
    assert!(html.contains("Mo &#60;b&#62;Derator&#60;/b&#62;") && !html.contains("<b>Derator"), "{html}");
    assert!(!html.contains("login_failed"), "moderators do not see the audit log");

    // Logout needs the CSRF token; afterwards the cookie is dead.
    let r = app
        .client
        .post(format!("{}/staff/logout", app.base))
        .header("cookie", &anna.cookie)
        .form(&[("csrf", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = app
        .client
        .post(format!("{}/staff/logout", app.base))
        .header("cookie", &anna.cookie)
        .form(&[("csrf", &anna.csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(set_cookie(&r, "staff").unwrap().contains("Max-Age=0"));
    let after = app.client.get(format!("{}/staff", app.base)).header("cookie", &anna.cookie).send().await.unwrap();
    assert_eq!(after.status(), 303, "the old cookie no longer works");
    let log = app.db.audit_log(100).await.unwrap();
    for action in ["user_added", "login_failed", "login", "logout"] {
        assert!(log.iter().any(|e| e.action == action), "{action} audited");
    }
    assert!(
        log.iter().all(|e| !e.detail.contains("falsch") && !e.target.contains("falsch")),
        "no passwords in the log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_failed_logins_lock_the_address_for_fifteen_minutes_even_with_the_right_password() {
    let app = support::spawn_app().await;
    add_user(&app.config.storage.data_dir, "host@musterstadt.de", "Host", "host", "richtiges-Passwort-42");
    let (cookie, csrf) = login_form(&app).await;
    for _ in 0..10 {
        let r = post_login(
            &app,
            &cookie,
            &[("email", "host@musterstadt.de"), ("password", "geraten-geraten"), ("csrf", &csrf)],
        )
        .await;
        assert_eq!(r.status(), 401);
    }
    let r = post_login(
        &app,
        &cookie,
        &[("email", "host@musterstadt.de"), ("password", "richtiges-Passwort-42"), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(r.status(), 429);
    assert!(set_cookie(&r, "staff").is_none());
    assert!(r.text().await.unwrap().contains("15 Minuten"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderators_approve_and_reject_with_csrf_hostile_text_stays_escaped_and_hosts_may_not() {
    use citizenhour::domain::{QuestionDraft, QuestionOrigin, QuestionStatus, QuestionText};
    let app = support::spawn_app().await;
    let data = app.config.storage.data_dir.clone();
    add_user(&data, "mo@musterstadt.de", "Mo", "moderator", "ein-langes-Passwort-123");
    add_user(&data, "host@musterstadt.de", "Host", "host", "ein-langes-Passwort-456");
    let sid = app.db.create_session(&support::new_session("moderation", None)).await.unwrap().id;
    let other = app.db.create_session(&support::new_session("andere", None)).await.unwrap().id;
    let draft = |text: &str| QuestionDraft {
        text: QuestionText::parse(text, 1500).unwrap(),
        author_name: Some("<img src=x onerror=alert(1)>".into()),
        email: None,
        show_name: false,
        origin: QuestionOrigin::Web,
        language: None,
        intake_note: None,
    };
    let evil = app.db.add_question(sid, &draft("<script>alert('x')</script> Warum?")).await.unwrap();
    let plain = app.db.add_question(sid, &draft("Wann kommt der Bus?")).await.unwrap();
    let answered = app.db.add_question(sid, &draft("Schon beantwortet?")).await.unwrap();
    app.db.set_question_status(answered.id, QuestionStatus::Approved).await.unwrap();
    app.db.mark_answered(answered.id, 1000).await.unwrap();
    let foreign = app.db.add_question(other, &draft("Andere Sitzung")).await.unwrap();

    let mo = login(&app, "mo@musterstadt.de", "ein-langes-Passwort-123").await;
    let page =
        app.client.get(format!("{}/staff/s/moderation", app.base)).header("cookie", &mo.cookie).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    // askama escapes with numeric entities.
    assert!(html.contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62; Warum?"), "{html}");
    assert!(
        html.contains("&#60;img src=x onerror=alert(1)&#62;") && !html.contains("<script>") && !html.contains("<img")
    );
    let post = |path: String, cookie: String, csrf: String| {
        let c = app.client.clone();
        async move { c.post(path).header("cookie", cookie).form(&[("csrf", csrf)]).send().await.unwrap() }
    };
    let url = |id: i64, action: &str| format!("{}/staff/s/moderation/questions/{id}/{action}", app.base);
    let r = post(url(plain.id.0, "approve"), mo.cookie.clone(), "forged".into()).await;
    assert_eq!(r.status(), 403, "no CSRF token, no change");
    assert_eq!(app.db.question(plain.id).await.unwrap().status, QuestionStatus::Pending);
    let r = post(url(plain.id.0, "approve"), mo.cookie.clone(), mo.csrf.clone()).await;
    assert_eq!(r.status(), 303);
    assert_eq!(app.db.question(plain.id).await.unwrap().status, QuestionStatus::Approved);
    let r = post(url(evil.id.0, "reject"), mo.cookie.clone(), mo.csrf.clone()).await;
    assert_eq!(r.status(), 303);
    assert_eq!(app.db.question(evil.id).await.unwrap().status, QuestionStatus::Rejected);
    assert_eq!(post(url(foreign.id.0, "approve"), mo.cookie.clone(), mo.csrf.clone()).await.status(), 404);
    assert_eq!(post(url(plain.id.0, "delete"), mo.cookie.clone(), mo.csrf.clone()).await.status(), 404);
    assert_eq!(post(url(answered.id.0, "reject"), mo.cookie.clone(), mo.csrf.clone()).await.status(), 409);
    assert_eq!(app.db.question(foreign.id).await.unwrap().status, QuestionStatus::Pending);

    // A host may not moderate; without a login the form goes nowhere.
    let host = login(&app, "host@musterstadt.de", "ein-langes-Passwort-456").await;
    assert_eq!(post(url(evil.id.0, "approve"), host.cookie.clone(), host.csrf.clone()).await.status(), 403);
    let page =
        app.client.get(format!("{}/staff/s/moderation", app.base)).header("cookie", &host.cookie).send().await.unwrap();
    assert_eq!(page.status(), 403);
    assert_eq!(app.db.question(evil.id).await.unwrap().status, QuestionStatus::Rejected);
    let anon = app.client.post(url(evil.id.0, "approve")).form(&[("csrf", "x")]).send().await.unwrap();
    assert_eq!(anon.status(), 303, "to the login page");
    let log = app.db.audit_log(50).await.unwrap();
    assert!(log.iter().any(|e| e.action == "question_approve" && e.target == format!("moderation#{}", plain.id.0)));
    assert!(log.iter().any(|e| e.action == "question_reject" && e.user.as_deref() == Some("mo@musterstadt.de")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_open_the_studio_with_their_login_and_moderators_do_not() {
    let app = support::spawn_app().await;
    let data = app.config.storage.data_dir.clone();
    for (email, role) in [("host@musterstadt.de", "host"), ("mo@musterstadt.de", "moderator")] {
        add_user(&data, email, role, role, "ein-langes-Passwort-789");
    }
    app.db.create_session(&support::new_session("studio-login", None)).await.unwrap();
    let host = login(&app, "host@musterstadt.de", "ein-langes-Passwort-789").await;
    let mo = login(&app, "mo@musterstadt.de", "ein-langes-Passwort-789").await;
    let get = |path: &str, cookie: Option<&str>| {
        let mut req = app.client.get(format!("{}{path}", app.base));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        async move { req.send().await.unwrap() }
    };
    let home = get("/staff", Some(&host.cookie)).await.text().await.unwrap();
    assert!(home.contains(r#"<a href="/studio/studio-login">Studio</a>"#), "the overview links the studio for hosts");
    let page = get("/studio/studio-login", Some(&host.cookie)).await;
    assert_eq!(page.status(), 200);
    let state = get("/api/studio/studio-login", Some(&host.cookie)).await;
    assert_eq!(state.status(), 200);
    assert_eq!(state.json::<serde_json::Value>().await.unwrap()["slug"], "studio-login");
    for cookie in [Some(mo.cookie.as_str()), None, Some("staff=forged-token-value")] {
        assert_eq!(get("/studio/studio-login", cookie).await.status(), 401, "{cookie:?}");
        assert_eq!(get("/api/studio/studio-login", cookie).await.status(), 401, "{cookie:?}");
    }
    let mo_home = get("/staff", Some(&mo.cookie)).await.text().await.unwrap();
    assert!(!mo_home.contains("/studio/"), "moderators get the queue, not the studio");
}
