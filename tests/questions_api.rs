//! The question endpoints (JSON and form) with good and hostile input.

mod support;

use serde_json::json;
use support::spawn_app;

fn good() -> serde_json::Value {
    json!({"text": "Wann kommt der Radweg?", "name": "Erika", "email": "erika@example.org", "show_name": true, "consent": true})
}

#[tokio::test]
async fn a_valid_question_is_stored_as_pending_and_answered_with_201() {
    let app = spawn_app().await;
    let s = app.create_session("rathaus-dezember").await;
    let resp = app.post_question_json("rathaus-dezember", &good()).await;
    assert_eq!(resp.status(), 201);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "pending");
    let id = body["id"].as_i64().unwrap();
    let q = app.db.question(citizenhour::domain::QuestionId(id)).await.unwrap();
    assert_eq!(q.session_id, s.id);
    assert_eq!(q.text.as_str(), "Wann kommt der Radweg?");
    assert_eq!(q.email.as_deref(), Some("erika@example.org"));
    assert_eq!(q.display_name(), Some("Erika"));
}

#[tokio::test]
async fn bad_questions_get_a_clear_localized_4xx_and_nothing_is_stored() {
    let app = spawn_app().await;
    let s = app.create_session("rathaus-dezember").await;
    let too_long = "ä".repeat(1501);
    let cases: Vec<(serde_json::Value, u16, &str, &str)> = vec![
        (json!({"text": "", "consent": true}), 422, "empty_question", "Bitte geben Sie eine Frage ein."),
        (json!({"text": " \n\t \u{3000} ", "consent": true}), 422, "empty_question", "Bitte geben Sie eine Frage ein."),
        (json!({"text": too_long, "consent": true}), 422, "question_too_long", "1501 Zeichen"),
        (json!({"text": "Frage?", "consent": false}), 422, "consent_missing", "willigen Sie"),
        (
            json!({"text": "Frage?", "consent": true, "email": "a@b.de\r\nBcc: x@y.de"}),
            422,
            "invalid_email",
            "ungültig",
        ),
        (json!({"text": "Frage?", "consent": true, "email": "kein-at-zeichen"}), 422, "invalid_email", "ungültig"),
        (json!({"text": "Frage?", "consent": true, "name": "x".repeat(101)}), 422, "invalid_name", "100 Zeichen"),
        (json!({"text": 42, "consent": true}), 400, "malformed", "fehlerhaft"),
    ];
    for (body, status, code, needle) in cases {
        let resp = app.post_question_json("rathaus-dezember", &body).await;
        assert_eq!(resp.status().as_u16(), status, "{body}");
        let err: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(err["error"], code, "{body}");
        assert!(err["message"].as_str().unwrap().contains(needle), "{body}: {err}");
    }
    assert_eq!(app.question_count(&s).await, 0);

    // The honeypot: hidden from people and screen readers, outside the tab order; a bot that fills it in gets the
    // same thank-you page and nothing is stored.
    assert!(html_has_honeypot(&app.get("/s/rathaus-dezember").await.text().await.unwrap()));
    let bot = app
        .post_form(
            "rathaus-dezember",
            &[("text", "Kaufen Sie Uhren!"), ("consent", "on"), ("website", "http://spam.example")],
        )
        .await;
    assert_eq!(bot.status(), 200);
    assert!(bot.text().await.unwrap().contains("Vielen Dank"));
    assert_eq!(app.question_count(&s).await, 0, "the bot's question is not stored");
}

#[tokio::test]
async fn english_speakers_get_english_errors() {
    let app = spawn_app().await;
    app.create_session("rathaus-dezember").await;
    let resp = app
        .client
        .post(format!("{}/api/sessions/rathaus-dezember/questions", app.base))
        .header("accept-language", "en-US,en;q=0.9")
        .json(&json!({"text": "  ", "consent": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let err: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(err["message"], "Please enter a question.");
}

#[tokio::test]
async fn unknown_sessions_closed_intake_wrong_types_and_huge_bodies_are_refused() {
    let app = spawn_app().await;
    let open = app.create_session("offen-2026").await;
    let closed =
        app.create_session_closing("geschlossen-2026", Some(chrono::Utc::now() - chrono::Duration::hours(1))).await;

    let r = app.post_question_json("gibt-es-nicht", &good()).await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["error"], "unknown_session");

    let r = app.post_question_json("geschlossen-2026", &good()).await;
    assert_eq!(r.status(), 409);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["error"], "intake_closed");

    let r = app.post_question_raw("offen-2026", "text/plain", b"Wann kommt der Bus?".to_vec()).await;
    assert_eq!(r.status(), 415);
    let err: serde_json::Value = r.json().await.unwrap();
    assert_eq!(err["error"], "wrong_content_type");
    assert!(err["message"].as_str().unwrap().contains("application/json"));

    let huge = serde_json::to_vec(&json!({"text": "x".repeat(200_000), "consent": true})).unwrap();
    let r = app.post_question_raw("offen-2026", "application/json", huge).await;
    assert_eq!(r.status(), 413);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["error"], "body_too_large");

    let r = app.post_question_raw("offen-2026", "application/json", b"{\"text\": \"unterminated".to_vec()).await;
    assert_eq!(r.status(), 400);

    let r = app.post_question_raw("offen-2026", "application/json", vec![0xff, 0xfe, 0x00, 0x80]).await;
    assert_eq!(r.status(), 400);

    assert_eq!(app.question_count(&open).await, 0);
    assert_eq!(app.question_count(&closed).await, 0);
}

#[tokio::test]
async fn the_form_works_without_javascript_and_ties_errors_to_fields() {
    let app = spawn_app().await;
    let s = app.create_session("rathaus-dezember").await;

    let page = app.get("/s/rathaus-dezember").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<label for="text">"#) && html.contains(r#"id="text""#), "labelled question field");
    assert!(html.contains(r#"<html lang="de">"#));

    // Empty question: 422, the form comes back with the error tied to the field and the other values kept.
    let r = app.post_form("rathaus-dezember", &[("text", "   "), ("name", "<b>Ben</b>"), ("consent", "on")]).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"aria-invalid="true""#), "{html}");
    assert!(html.contains(r#"id="text-error""#) && html.contains("Bitte geben Sie eine Frage ein."));
    assert!(html.contains("&lt;b&gt;Ben&lt;/b&gt;") || html.contains("&#60;b&#62;Ben"), "name escaped: {html}");
    assert!(!html.contains("<b>Ben</b>"));
    assert_eq!(app.question_count(&s).await, 0);

    // Missing consent in English.
    let r = app.post_form("rathaus-dezember", &[("text", "Where is the bus?"), ("lang", "en")]).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("Please consent"), "{html}");
    assert!(html.contains(r#"<html lang="en">"#));

    // A good one.
    let r = app
        .post_form(
            "rathaus-dezember",
            &[("text", "<script>alert(1)</script> Radweg?"), ("consent", "on"), ("show_name", "on")],
        )
        .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Vielen Dank"));
    assert_eq!(app.question_count(&s).await, 1);

    // Wrong content type on the form endpoint.
    let r = app
        .client
        .post(format!("{}/s/rathaus-dezember/fragen", app.base))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    assert_eq!(app.question_count(&s).await, 1);
}

#[tokio::test]
async fn pages_list_sessions_and_unknown_pages_are_404() {
    let app = spawn_app().await;
    app.create_session("rathaus-dezember").await;
    let home = app.get("/").await;
    assert_eq!(home.status(), 200);
    assert!(home.text().await.unwrap().contains("/s/rathaus-dezember"));
    assert_eq!(app.get("/s/nope-nope").await.status(), 404);
    assert_eq!(app.get("/r/rathaus-dezember").await.status(), 404, "no recording yet");
    assert_eq!(app.get("/assets/hls.min.js").await.status(), 200);
    assert_eq!(app.get("/assets/../Cargo.toml").await.status(), 404);
    let sessions: serde_json::Value = app.get("/api/sessions").await.json().await.unwrap();
    assert_eq!(sessions[0]["slug"], "rathaus-dezember");
    assert!(sessions[0]["page_url"].as_str().unwrap().ends_with("/s/rathaus-dezember"));
}

fn html_has_honeypot(html: &str) -> bool {
    html.contains(r#"<div class="hp" aria-hidden="true">"#)
        && html.contains(r#"name="website" type="text" tabindex="-1""#)
}

#[tokio::test]
async fn the_openapi_document_describes_the_routes_and_errors_the_server_really_has() {
    let app = spawn_app().await;
    app.create_session("openapi-check").await;
    let r = app.get("/api/openapi.json").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let doc: serde_json::Value = r.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    // Every documented path answers (GETs with 200, the POST with its documented 4xx for an empty body).
    for (path, item) in doc["paths"].as_object().unwrap() {
        let url = path.replace("{slug}", "openapi-check");
        if item.get("get").is_some() {
            assert_eq!(app.get(&url).await.status(), 200, "GET {url}");
        }
        if let Some(post) = item.get("post") {
            let r = app.client.post(format!("{}{url}", app.base)).json(&serde_json::json!({})).send().await.unwrap();
            let status = r.status().as_u16().to_string();
            assert!(post["responses"].get(&status).is_some(), "POST {url} answered {status}, not documented");
            let body: serde_json::Value = r.json().await.unwrap();
            let codes = doc["components"]["schemas"]["Error"]["properties"]["error"]["enum"].as_array().unwrap();
            assert!(codes.contains(&body["error"]), "error code {} not documented", body["error"]);
        }
    }
    // Every $ref resolves.
    let text = doc.to_string();
    for r in text.split("\"$ref\":\"").skip(1) {
        let target = r.split('"').next().unwrap().trim_start_matches("#/");
        let mut node = &doc;
        for part in target.split('/') {
            node = &node[part];
        }
        assert!(!node.is_null(), "dangling $ref {target}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_questions_are_merged_with_their_supporters_counted_even_in_a_flood() {
    // The flood comes from one address: the per-address limit is off here (its own test below).
    let app = support::spawn_app_with(|c| c.intake.per_ip_burst = 0).await;
    let s = app.create_session("doppelt").await;
    let ask = |text: &str, email: Option<&str>| serde_json::json!({"text": text, "consent": true, "email": email, "name": "Erika"});
    let first = app.post_question_json("doppelt", &ask("Wann kommt der Radweg?", Some("a@example.org"))).await;
    assert_eq!(first.status(), 201);
    let first: serde_json::Value = first.json().await.unwrap();
    assert_eq!((first["merged"].as_bool(), first["supporters"].as_i64()), (Some(false), Some(1)));
    // Same words, other case, spacing, punctuation and Unicode form (full-width letters): the same question.
    for (text, n) in [("wann  kommt der RADWEG", 2), ("Wann kommt der Radweg?!?", 3), ("Ｗａｎｎ kommt der Radweg", 4)]
    {
        let r = app.post_question_json("doppelt", &ask(text, Some("b@example.org"))).await;
        assert_eq!(r.status(), 200, "{text}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(
            (v["id"].clone(), v["merged"].as_bool(), v["supporters"].as_i64()),
            (first["id"].clone(), Some(true), Some(n))
        );
        assert!(v["message"].as_str().unwrap().contains("schon gestellt"));
    }
    let other = app.post_question_json("doppelt", &ask("Wann kommt der Bus?", None)).await;
    assert_eq!(other.status(), 201);
    assert_eq!(app.question_count(&s).await, 2);

    // A rejected question does not swallow a new one with the same text.
    let bus =
        app.db.questions(s.id, None).await.unwrap().into_iter().find(|q| q.text.as_str().contains("Bus")).unwrap();
    app.db.set_question_status(bus.id, citizenhour::domain::QuestionStatus::Rejected).await.unwrap();
    assert_eq!(app.post_question_json("doppelt", &ask("Wann kommt der Bus", None)).await.status(), 201);
    assert_eq!(app.question_count(&s).await, 3);

    // A flood of 40 identical questions at once: one question, 40 supporters, no error.
    let mut tasks = Vec::new();
    for i in 0..40 {
        let client = app.client.clone();
        let url = format!("{}/api/sessions/doppelt/questions", app.base);
        tasks.push(tokio::spawn(async move {
            let body = serde_json::json!({"text": "Flut: Was kostet das Freibad?", "consent": true, "name": format!("Bot {i}")});
            client.post(url).json(&body).send().await.unwrap().status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 39, "{statuses:?}");
    let flood =
        app.db.questions(s.id, None).await.unwrap().into_iter().find(|q| q.text.as_str().starts_with("Flut")).unwrap();
    assert_eq!(flood.supporters, 40);
    assert_eq!(app.question_count(&s).await, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_askers_personal_link_shows_exports_erases_and_withdraws_and_guessing_gets_nothing() {
    let app = spawn_app().await;
    let s = app.create_session("meine-frage").await;
    let ask = |text: &str| serde_json::json!({"text": text, "consent": true, "email": "erika@example.org", "name": "Erika <b>M</b>", "show_name": true});
    let r: serde_json::Value = app.post_question_json("meine-frage", &ask("Frage <eins>?")).await.json().await.unwrap();
    let link = r["manage_url"].as_str().expect("a personal link").to_owned();
    let path = link.trim_start_matches(&app.base).to_owned();
    assert!(path.starts_with("/q/") && path.len() == 3 + 64, "{path}");
    let merged: serde_json::Value =
        app.post_question_json("meine-frage", &ask("frage eins")).await.json().await.unwrap();
    assert!(merged.get("manage_url").is_none(), "a merged duplicate gets no link to the first asker's question");

    let page = app.get(&path).await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Frage &lt;eins&gt;?")
            && html.contains("Erika &lt;b&gt;M&lt;/b&gt;")
            && html.contains("erika@example.org")
    );
    let export: serde_json::Value = app.get(&format!("{path}/export")).await.json().await.unwrap();
    assert_eq!(
        (export["email"].as_str(), export["show_name_on_screen"].as_bool()),
        (Some("erika@example.org"), Some(true))
    );
    assert_eq!(export["session"]["slug"], "meine-frage");

    // Erase: name and address gone, the text stays, the link is dead.
    let r = app.client.post(format!("{}{path}/erase", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let q =
        app.db.questions(s.id, None).await.unwrap().into_iter().find(|q| q.text.as_str() == "Frage <eins>?").unwrap();
    assert_eq!((q.author_name, q.email, q.show_name), (None, None, false));
    assert_eq!(app.get(&path).await.status(), 404);

    // Withdraw: an unanswered question is deleted with its data.
    let r: serde_json::Value = app.post_question_json("meine-frage", &ask("Frage zwei?")).await.json().await.unwrap();
    let two = r["manage_url"].as_str().unwrap().trim_start_matches(&app.base).to_owned();
    assert_eq!(app.question_count(&s).await, 2);
    assert_eq!(app.client.post(format!("{}{two}/withdraw", app.base)).send().await.unwrap().status(), 200);
    assert_eq!(app.question_count(&s).await, 1);
    assert_eq!(app.get(&two).await.status(), 404);

    // An answered question stays (it is a chapter of the recording); the data can still be erased.
    let r: serde_json::Value = app.post_question_json("meine-frage", &ask("Frage drei?")).await.json().await.unwrap();
    let three = r["manage_url"].as_str().unwrap().trim_start_matches(&app.base).to_owned();
    let id = citizenhour::domain::QuestionId(r["id"].as_i64().unwrap());
    app.db.set_question_status(id, citizenhour::domain::QuestionStatus::Approved).await.unwrap();
    app.db.mark_answered(id, 5000).await.unwrap();
    assert!(app.get(&three).await.text().await.unwrap().contains("bleibt als Kapitel"));
    let r = app.client.post(format!("{}{three}/withdraw", app.base)).send().await.unwrap();
    assert!(r.status().is_redirection() || r.status() == 200);
    assert!(app.db.question(id).await.is_ok(), "answered questions are not deleted");

    // Guessing: malformed and unknown tokens get the same 404, nothing else.
    for bad in ["abc", "../../etc/passwd", &"0".repeat(64), &"g".repeat(64), &"a".repeat(10_000)] {
        assert_eq!(app.get(&format!("/q/{bad}")).await.status(), 404, "{bad}");
        assert_eq!(app.client.post(format!("{}/q/{bad}/withdraw", app.base)).send().await.unwrap().status(), 404);
    }
    assert_eq!(app.question_count(&s).await, 2);

    // The form's confirmation page links the personal page.
    let r = app.post_form("meine-frage", &[("text", "Frage vier?"), ("consent", "on")]).await;
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"<a href="/q/"#) && html.contains("Ihre persönliche Seite"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_sending_too_many_questions_gets_a_clear_429_with_retry_after() {
    let app = support::spawn_app_with(|c| {
        c.intake.per_ip_burst = 3;
        c.intake.per_ip_every_ms = 60_000;
    })
    .await;
    let s = app.create_session("flut").await;
    let ask = |i: usize| serde_json::json!({"text": format!("Frage Nummer {i}?"), "consent": true});
    for i in 0..3 {
        assert_eq!(app.post_question_json("flut", &ask(i)).await.status(), 201);
    }
    // The fourth — by API, by form, or claiming another address without a trusted proxy — is refused.
    let r = app.post_question_json("flut", &ask(4)).await;
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "rate_limited");
    assert!(body["message"].as_str().unwrap().contains("Zu viele Fragen"));
    assert_eq!(app.post_form("flut", &[("text", "Per Formular?"), ("consent", "on")]).await.status(), 429);
    let spoofed = app
        .client
        .post(format!("{}/api/sessions/flut/questions", app.base))
        .header("x-forwarded-for", "203.0.113.9")
        .json(&ask(5))
        .send()
        .await
        .unwrap();
    assert_eq!(spoofed.status(), 429, "X-Forwarded-For is not trusted by default");
    assert_eq!(app.question_count(&s).await, 3, "nothing stored beyond the limit");
    // Reading is not limited.
    for _ in 0..10 {
        assert_eq!(app.get("/s/flut").await.status(), 200);
    }

    // Behind a trusted proxy each forwarded address has its own quota.
    let proxied = support::spawn_app_with(|c| {
        c.intake.per_ip_burst = 1;
        c.intake.per_ip_every_ms = 60_000;
        c.intake.trust_forwarded_for = true;
    })
    .await;
    proxied.create_session("proxy").await;
    for (ip, want) in [("198.51.100.1", 201), ("198.51.100.2", 201), ("198.51.100.1", 429)] {
        let r = proxied
            .client
            .post(format!("{}/api/sessions/proxy/questions", proxied.base))
            .header("x-forwarded-for", format!("{ip}, 10.0.0.1"))
            .json(&serde_json::json!({"text": format!("Frage von {ip} {want}"), "consent": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), want, "{ip}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_chromium_the_form_works_by_keyboard_alone_with_the_error_tied_to_its_field() {
    let app = spawn_app().await;
    let s = app.create_session("tastatur").await;
    let v = support::browser_script("question_form.mjs", vec![format!("{}/s/tastatur", app.base)]).await;
    assert!(v.get("error").is_none(), "{v:#}");
    let focus: Vec<&str> = v["focus"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert!(!focus.contains(&"website"), "the honeypot is never focused: {focus:?}");
    assert_eq!(v["consent_error"]["invalid"], "true", "{v:#}");
    assert!(v["consent_error"]["text"].as_str().unwrap_or_default().len() > 5, "{v:#}");
    assert_eq!(v["kept_text"], "Wann wird die Brücke am Markt saniert?", "what was typed survives the error");
    // Headless Chromium asks for English (Accept-Language: en-US): the pages answer in English.
    assert!(v["done"].as_str().unwrap().contains("Thank you!"), "{v:#}");
    assert!(v["personal_link"].as_str().unwrap().starts_with("/q/"), "{v:#}");
    let qs = app.db.questions(s.id, None).await.unwrap();
    assert_eq!(qs.len(), 1);
    assert_eq!(
        (qs[0].author_name.as_deref(), qs[0].email.as_deref(), qs[0].show_name),
        (Some("Erika"), Some("erika@example.org"), true)
    );
}

/// The hostile field corpus through both doors (JSON API and form): every field gets markup, SQL, right-to-left
/// text and emoji, control characters, CR/LF injection and invalid UTF-8. Each ends as a clean 2xx with the text
/// stored as sent (minus control characters) or a clear 4xx with nothing stored; the pages escape everything.
#[tokio::test]
async fn every_field_survives_the_hostile_corpus_through_api_and_form() {
    let app = support::spawn_app_with(|c| c.intake.per_ip_burst = 0).await;
    let s = app.create_session("feindlich").await;
    let stored = [
        ("<script>alert('t')</script><img src=x onerror=alert(2)>", "<b>Name</b>"),
        ("'; DROP TABLE questions; -- \" OR 1=1", "Robert'); DROP TABLE staff;--"),
        ("هل ستُفتح المكتبة يوم الأحد؟ 📚👍🏽", "محمد 👨‍👩‍👧"),
        ("\u{202e}Umgedrehter Text\u{202c} mit Steuerzeichen\u{0007}?", "Max\r\nBcc: victim@example.org"),
    ];
    for (i, (text, name)) in stored.iter().enumerate() {
        let body = json!({"text": format!("{text} {i}a"), "name": name, "consent": true, "show_name": true});
        let r = app.post_question_json("feindlich", &body).await;
        assert_eq!(r.status(), 201, "{body}");
        let form_text = format!("{text} {i}b");
        let r = app.post_form("feindlich", &[("text", form_text.as_str()), ("name", name), ("consent", "on")]).await;
        assert_eq!(r.status(), 200, "{form_text}");
        let html = r.text().await.unwrap();
        assert!(!html.contains("<script>alert") && !html.contains("<img src=x") && !html.contains("<b>Name"));
    }
    let qs = app.db.questions(s.id, None).await.unwrap();
    assert_eq!(qs.len(), 8);
    for q in &qs {
        let t = q.text.as_str();
        assert!(!t.chars().any(|c| c.is_control() && c != '\n'), "{t:?}");
        for field in q.author_name.iter() {
            assert!(!field.contains(['\r', '\n']), "{field:?}");
        }
    }
    assert!(qs.iter().any(|q| q.text.as_str().starts_with("<script>alert('t')</script>")), "markup stored verbatim");
    assert!(qs.iter().any(|q| q.text.as_str().starts_with("هل ستُفتح المكتبة يوم الأحد؟ 📚👍🏽")));
    assert!(qs.iter().any(|q| q.author_name.as_deref() == Some("محمد 👨‍👩‍👧")));
    assert!(qs.iter().any(|q| q.author_name.as_deref() == Some("MaxBcc: victim@example.org")), "CR/LF removed");

    // Refused with a clear 4xx, nothing stored: invalid UTF-8 in a form, a 10 MB form, CR/LF in the address.
    let before = app.question_count(&s).await;
    let url = format!("{}/s/feindlich/fragen", app.base);
    let form = |body: Vec<u8>| {
        app.client.post(&url).header("content-type", "application/x-www-form-urlencoded").body(body).send()
    };
    for bad in [&b"text=%FF%FE%FD&consent=on"[..], b"text=\xff\xfe raw&consent=on"] {
        let r = form(bad.to_vec()).await.unwrap();
        assert!(r.status().is_client_error(), "{}", r.status());
    }
    let r = app
        .post_question_raw("feindlich", "application/json", b"{\"text\": \"\xff\xfe\", \"consent\": true}".to_vec())
        .await;
    assert_eq!(r.status(), 400);
    let mut big = b"consent=on&text=".to_vec();
    big.extend(std::iter::repeat_n(b'a', 10 * 1024 * 1024));
    assert_eq!(form(big).await.unwrap().status(), 413);
    let r =
        app.post_form("feindlich", &[("text", "Frage?"), ("email", "a@b.de\r\nBcc: x@y.de"), ("consent", "on")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("aria-invalid=\"true\""));
    let r = app.post_form("feindlich", &[("text", " \u{3000}\t "), ("consent", "on")]).await;
    assert_eq!(r.status(), 422);
    assert_eq!(app.question_count(&s).await, before);
}

/// The submission writer batches whatever arrives at once into one transaction: a submission that cannot be
/// stored (here: for a session that does not exist, a foreign-key violation) fails alone, the others in its batch
/// are stored, and identical ones among them are still merged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_submission_in_a_batch_fails_alone() {
    use citizenhour::domain::{QuestionDraft, QuestionOrigin, QuestionText, SessionId};
    let _ = tracing_subscriber::fmt().with_env_filter("citizenhour=warn").try_init();
    let app = spawn_app().await;
    let s = app.create_session("stapel").await;
    let draft = |text: String| QuestionDraft {
        text: QuestionText::parse(&text, 1500).unwrap(),
        author_name: None,
        email: None,
        show_name: false,
        origin: QuestionOrigin::Api,
        language: None,
        intake_note: None,
    };
    let mut tasks = Vec::new();
    for i in 0..200 {
        let db = app.db.clone();
        // Every tenth goes to a session that does not exist; every text is asked twice.
        let (session, text) = if i % 10 == 0 {
            (SessionId(999_999), format!("Verloren {i}?"))
        } else {
            (s.id, format!("Frage {}?", i / 2))
        };
        let d = draft(text);
        tasks.push(tokio::spawn(async move { db.add_or_support_question(session, &d).await }));
    }
    let mut ok = 0;
    for (i, t) in tasks.into_iter().enumerate() {
        let r = t.await.unwrap();
        if i % 10 == 0 {
            assert!(r.is_err(), "submission {i} to a missing session must fail");
        } else {
            r.unwrap_or_else(|e| panic!("submission {i}: {e}"));
            ok += 1;
        }
    }
    assert_eq!(ok, 180);
    let qs = app.db.questions(s.id, None).await.unwrap();
    let supporters: i64 = qs.iter().map(|q| q.supporters).sum();
    assert_eq!(supporters, 180, "every good submission counted once");
    assert!(qs.len() < 180, "identical texts merged: {} questions", qs.len());
}
