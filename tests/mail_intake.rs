//! Mail intake against a real Dovecot on 127.0.0.1: test mails are delivered over LMTP, the intake reads them
//! over IMAP, routes them (plus-address, `[slug]` in the subject, otherwise the unassigned inbox), marks them
//! handled (moved or flagged), confirms them through a real SMTP relay — and takes none twice, not after a
//! SIGKILL either. The hostile corpus (HTML-only, foreign charsets, nested multiparts, 25 MB attachments, missing
//! headers, a MIME bomb, header injection …) ends each in a question, the inbox or a logged skip.

mod support;

use citizenhour::config::Config;
use citizenhour::domain::QuestionStatus;
use citizenhour::mail_intake::{MailIntake, PollReport};
use citizenhour::storage::Db;
use std::sync::Arc;
use std::time::Duration;
use support::services::{Dovecot, SmtpSink};

const TOWN: &str = "buergersprechstunde@musterstadt.example";

fn to(slug: &str) -> String {
    format!("buergersprechstunde+{slug}@musterstadt.example")
}

/// A plain mail; `extra` headers are inserted as given.
fn mail(to: &str, from: &str, subject: &str, id: &str, body: &str, extra: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{id}@example.org>\r\nDate: Fri, 04 Dec 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n{extra}\r\n{body}\r\n"
    )
    .into_bytes()
}

struct Town {
    _dir: tempfile::TempDir,
    db: Db,
    config: Config,
    dovecot: Dovecot,
}

async fn town(adjust: impl FnOnce(&mut Config)) -> Town {
    let dir = tempfile::tempdir().unwrap();
    let dovecot = Dovecot::start(dir.path());
    let mut config = Config::default();
    config.storage.data_dir = dir.path().join("data");
    std::fs::create_dir_all(&config.storage.data_dir).unwrap();
    config.server.public_url = "https://buergerstunde.musterstadt.example".into();
    config.imap.host = "127.0.0.1".into();
    config.imap.port = dovecot.imap_port;
    config.imap.tls = "none".into();
    config.imap.username = dovecot.user.clone();
    config.imap.password = Some(dovecot.password.clone().into());
    adjust(&mut config);
    config.validate().unwrap();
    let db = Db::connect(&config.database_url()).await.unwrap();
    db.create_session(&support::new_session("rathaus-2026", None)).await.unwrap();
    let past = chrono::Utc::now() - chrono::Duration::hours(1);
    db.create_session(&support::new_session("geschlossen", Some(past))).await.unwrap();
    Town { _dir: dir, db, config, dovecot }
}

impl Town {
    async fn poll(&self) -> PollReport {
        MailIntake::new(self.db.clone(), Arc::new(self.config.clone())).unwrap().poll_once().await.unwrap()
    }
    async fn questions(&self, slug: &str) -> Vec<citizenhour::domain::Question> {
        let s = self.db.session_by_slug(slug).await.unwrap();
        self.db.questions(s.id, None).await.unwrap()
    }
}

/// Auto-replies on, sent through the SMTP sink.
fn confirm_through(c: &mut Config, smtp: &SmtpSink) {
    c.imap.auto_reply = true;
    c.mail.smtp_host = "127.0.0.1".into();
    c.mail.smtp_port = smtp.port;
    c.mail.smtp_tls = "none".into();
    c.mail.from = "Stadt Musterstadt <buergersprechstunde@musterstadt.example>".into();
}

fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    raw.lines().find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(": ")))
}

fn body_text(raw: &str) -> String {
    support::mail_text(raw.as_bytes())
}

#[tokio::test]
async fn mails_are_routed_marked_confirmed_and_never_taken_twice() {
    let smtp_dir = tempfile::tempdir().unwrap();
    let smtp = SmtpSink::start(smtp_dir.path());
    let t = town(|c| confirm_through(c, &smtp)).await;
    let d = &t.dovecot;
    let plus = to("rathaus-2026");
    d.deliver(
        &plus,
        &mail(&plus, "Erika Muster <erika@example.org>", "Radweg", "m1", "Wann kommt der Radweg an der B7?", ""),
    );
    d.deliver(
        TOWN,
        &mail(TOWN, "Hans <hans@example.org>", "Frage [Rathaus-2026] Kita", "m2", "Gibt es genug Kitaplätze?", ""),
    );
    // The same question again (other words, same letters): a supporter, not a second question.
    d.deliver(&plus, &mail(&plus, "Ali <ali@example.org>", "Radweg", "m3", "wann kommt der RADWEG an der B7", ""));
    // The same message delivered twice (same Message-ID): taken once.
    d.deliver(
        &plus,
        &mail(&plus, "Erika Muster <erika@example.org>", "Radweg", "m1", "Wann kommt der Radweg an der B7?", ""),
    );
    d.deliver(TOWN, &mail(TOWN, "Uta <uta@example.org>", "Ohne Kürzel", "m4", "Wo melde ich Sperrmüll an?", ""));
    d.deliver(
        &to("gibt-es-nicht"),
        &mail(&to("gibt-es-nicht"), "Bo <bo@example.org>", "x", "m5", "Frage an niemanden?", ""),
    );
    d.deliver(
        &to("geschlossen"),
        &mail(&to("geschlossen"), "Cem <cem@example.org>", "zu spät", "m6", "Ist es zu spät?", ""),
    );
    // An out-of-office robot: taken (it has text) but never answered — no mail loops.
    d.deliver(
        &plus,
        &mail(
            &plus,
            "Robo <robo@example.org>",
            "Abwesend",
            "m7",
            "Warum ist die Bücherei montags zu?",
            "Auto-Submitted: auto-replied\r\n",
        ),
    );
    assert_eq!(d.count("INBOX"), 8);

    let r = t.poll().await;
    assert_eq!(
        r,
        PollReport { questions: 3, supported: 1, inbox: 3, skipped: 0, duplicates: 1, marked_again: 0, replies: 6 },
        "{r:?}"
    );
    let qs = t.questions("rathaus-2026").await;
    let texts: Vec<&str> = qs.iter().map(|q| q.text.as_str()).collect();
    assert_eq!(
        texts,
        ["Wann kommt der Radweg an der B7?", "Gibt es genug Kitaplätze?", "Warum ist die Bücherei montags zu?"]
    );
    assert_eq!(qs[0].supporters, 2, "Ali supports Erika's question");
    assert_eq!(qs[0].author_name.as_deref(), Some("Erika Muster"));
    assert_eq!(qs[0].email.as_deref(), Some("erika@example.org"));
    assert!(
        qs.iter().all(|q| q.status == QuestionStatus::Pending && !q.show_name),
        "mail questions wait for moderation, names off screen"
    );
    assert!(t.questions("geschlossen").await.is_empty());

    let inbox = t.db.inbox_items().await.unwrap();
    let reasons: Vec<&str> = inbox.iter().map(|i| i.reason.as_str()).collect();
    assert_eq!(inbox.len(), 3, "{reasons:?}");
    assert!(reasons[0].starts_with("Keine Sprechstunde angegeben"), "{reasons:?}");
    assert!(reasons[1].contains("Unbekannte Sprechstunde „gibt-es-nicht“"), "{reasons:?}");
    assert!(reasons[2].contains("„geschlossen“ ist geschlossen"), "{reasons:?}");
    assert_eq!(inbox[0].text, "Wo melde ich Sperrmüll an?");
    assert_eq!(inbox[0].email.as_deref(), Some("uta@example.org"));

    // On the server: nothing left waiting, all in the handled folder.
    assert_eq!(d.count("INBOX"), 0);
    assert_eq!(d.count("Citizenhour-Erledigt"), 8);
    assert_eq!(d.count("Citizenhour-Nicht-verarbeitet"), 0);

    // Confirmations: six (not to the robot, not for the duplicate), threaded, marked automatic, with the
    // personal link for a new question — and the link works.
    let sent: Vec<String> = smtp.messages().iter().map(|m| String::from_utf8_lossy(m).into_owned()).collect();
    assert_eq!(sent.len(), 6);
    assert!(sent.iter().all(|m| header(m, "Auto-Submitted") == Some("auto-replied")), "{sent:#?}");
    assert!(!sent.iter().any(|m| m.contains("robo@example.org")));
    let erika = sent.iter().find(|m| m.contains("X-RcptTo: erika@example.org")).expect("Erika's confirmation");
    assert_eq!(header(erika, "In-Reply-To"), Some("<m1@example.org>"));
    let link = body_text(erika)
        .split_whitespace()
        .map(str::to_owned)
        .find(|w| w.starts_with("https://buergerstunde.musterstadt.example/q/"))
        .expect("personal link");
    let token = link.rsplit('/').next().unwrap();
    let q = t.db.question_by_manage_token(token).await.unwrap().expect("the link belongs to the question");
    assert_eq!(q.id, qs[0].id);
    let ali = sent.iter().find(|m| m.contains("X-RcptTo: ali@example.org")).unwrap();
    assert!(
        body_text(ali).contains("bereits gestellt") && !body_text(ali).contains("/q/"),
        "a supporter gets no link: {ali}"
    );

    // A second pass finds nothing; a third delivery of m1 is still a duplicate.
    assert_eq!(t.poll().await, PollReport::default());
    d.deliver(
        &plus,
        &mail(&plus, "Erika Muster <erika@example.org>", "Radweg", "m1", "Wann kommt der Radweg an der B7?", ""),
    );
    assert_eq!(t.poll().await.duplicates, 1);
    assert_eq!(t.questions("rathaus-2026").await.len(), 3);
    assert_eq!(smtp.messages().len(), 6);
}

#[tokio::test]
async fn flag_mode_leaves_mails_in_place_and_idle_brings_new_ones_at_once() {
    // poll_seconds is an hour: only IDLE can bring the mail in within the test's patience.
    let t = town(|c| {
        c.imap.mark = "flag".into();
        c.imap.poll_seconds = 3600;
    })
    .await;
    let intake = MailIntake::new(t.db.clone(), Arc::new(t.config.clone())).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(intake.run_until(async move {
        let _ = stopped.await;
    }));
    tokio::time::sleep(Duration::from_millis(500)).await; // connected and idling
    let plus = to("rathaus-2026");
    t.dovecot.deliver(&plus, &mail(&plus, "Erika <erika@example.org>", "Bus", "i1", "Fährt der 7er bald öfter?", ""));
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while t.questions("rathaus-2026").await.is_empty() {
        assert!(std::time::Instant::now() < deadline, "IDLE did not bring the mail in");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    t.dovecot.deliver(&plus, &mail(&plus, "Bo <bo@example.org>", "", "i2", "", ""));
    while t.db.skipped_mails(10).await.unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "the empty mail was not skipped");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop.send(());
    running.await.unwrap();
    // Both stay in INBOX, flagged; the empty one also as skipped.
    assert_eq!(t.dovecot.count("INBOX"), 2);
    assert_eq!(t.dovecot.search("INBOX", &["KEYWORD", "$CitizenhourDone"]), 2);
    assert_eq!(t.dovecot.search("INBOX", &["KEYWORD", "$CitizenhourSkipped"]), 1);
    assert_eq!(t.dovecot.search("INBOX", &["SEEN"]), 0, "staff still see them unread");
    assert_eq!(t.db.skipped_mails(10).await.unwrap()[0].1, "message has no text");
    assert_eq!(t.poll().await, PollReport::default(), "flagged mails are not taken again");
    assert_eq!(t.questions("rathaus-2026").await.len(), 1);
}

#[tokio::test]
async fn a_wrong_password_is_a_clear_error_without_the_password() {
    let t = town(|c| c.imap.password = Some("wrong-password-123".to_string().into())).await;
    let e = MailIntake::new(t.db.clone(), Arc::new(t.config.clone())).unwrap().poll_once().await.unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("login as townhall refused"), "{msg}");
    assert!(!msg.contains("wrong-password-123"), "{msg}");
}

#[tokio::test]
async fn a_process_killed_mid_batch_takes_every_mail_exactly_once_after_restart() {
    let t = town(|_| {}).await;
    let plus = to("rathaus-2026");
    const N: usize = 150;
    for i in 0..N {
        let body = format!("Frage Nummer {i}: wann wird Straße {i} saniert?");
        t.dovecot
            .deliver(&plus, &mail(&plus, &format!("B{i} <b{i}@example.org>"), "Straße", &format!("k{i}"), &body, ""));
    }
    let conf = t._dir.path().join("citizenhour.toml");
    std::fs::write(
        &conf,
        format!(
            "[imap]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nusername = \"{}\"\npassword = \"{}\"\n",
            t.dovecot.imap_port, t.dovecot.user, t.dovecot.password
        ),
    )
    .unwrap();
    let run = |log: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_citizenhour"))
            .args(["--config".as_ref(), conf.as_os_str(), "mail".as_ref(), "poll".as_ref()])
            .env("CITIZENHOUR__STORAGE__DATA_DIR", &t.config.storage.data_dir)
            .stdout(std::fs::File::create(t._dir.path().join(log)).unwrap())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut first = run("first.log");
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while t.questions("rathaus-2026").await.len() < 20 {
        assert!(std::time::Instant::now() < deadline, "the first pass took nothing");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill().unwrap();
    first.wait().unwrap();
    let taken_before = t.questions("rathaus-2026").await.len();
    let waiting_after_kill = t.dovecot.count("INBOX");
    assert!(
        taken_before < N && waiting_after_kill > 0,
        "killed mid-batch: {taken_before} taken, {waiting_after_kill} waiting"
    );
    let status = run("second.log").wait().unwrap();
    assert!(status.success());
    let second = std::fs::read_to_string(t._dir.path().join("second.log")).unwrap();
    eprintln!("killed after {taken_before} questions; second pass: {second}");

    let qs = t.questions("rathaus-2026").await;
    assert_eq!(qs.len(), N, "every mail once");
    let mut texts: Vec<&str> = qs.iter().map(|q| q.text.as_str()).collect();
    texts.sort();
    texts.dedup();
    assert_eq!(texts.len(), N, "no question twice");
    assert!(qs.iter().all(|q| q.supporters == 1), "nobody counted twice as a supporter");
    assert_eq!(t.dovecot.count("INBOX"), 0);
    assert_eq!(t.dovecot.count("Citizenhour-Erledigt"), N);
}

/// One case of the hostile corpus: its name, the raw message, and where it must end.
struct Case {
    name: &'static str,
    raw: Vec<u8>,
    expect: Expect,
}

#[derive(Debug, PartialEq)]
enum Expect {
    /// A question whose text contains this.
    Question(&'static str),
    /// The unassigned inbox, with a reason containing this.
    Inbox(&'static str),
    /// Skipped, the logged reason containing this.
    Skipped(&'static str),
}

fn headers(to: &str, subject: &str, id: &str, content_type: &str) -> String {
    format!(
        "From: Erika <erika@example.org>\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{id}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}\r\n"
    )
}

fn corpus() -> Vec<Case> {
    let plus = to("rathaus-2026");
    let mut cases = Vec::new();
    let mut add = |name, raw: Vec<u8>, expect| cases.push(Case { name, raw, expect });
    add(
        "html-only with script and style",
        format!("{}\r\n<html><head><style>p{{color:red}}</style><script>alert('x')</script></head><body><p>Wird die <b>Brücke</b> &amp; der Steg repariert?</p><img src=x onerror=alert(1)></body></html>\r\n",
            headers(&plus, "Brücke", "h1", "text/html; charset=utf-8")).into_bytes(),
        Expect::Question("Wird die Brücke & der Steg repariert?"),
    );
    let mut latin1 =
        headers(&plus, "=?iso-8859-1?q?Stra=DFenb=E4ume?=", "h2", "text/plain; charset=iso-8859-1").into_bytes();
    latin1.extend_from_slice(
        b"Content-Transfer-Encoding: 8bit\r\n\r\nWerden die Stra\xdfenb\xe4ume in der S\xfcdstadt gef\xe4llt?\r\n",
    );
    add("iso-8859-1 8bit", latin1, Expect::Question("Werden die Straßenbäume in der Südstadt gefällt?"));
    let mut cp1252 = headers(&plus, "Kosten", "h3", "text/plain; charset=windows-1252").into_bytes();
    cp1252.extend_from_slice(b"\r\nWas kostet das Schwimmbad \x93wirklich\x94 \x96 mehr als 5 Mio \x80?\r\n");
    add(
        "windows-1252 quotes and euro",
        cp1252,
        Expect::Question("Was kostet das Schwimmbad “wirklich” – mehr als 5 Mio €?"),
    );
    let mut koi8 = headers(&plus, "Vopros", "h4", "text/plain; charset=koi8-r").into_bytes();
    koi8.extend_from_slice(
        b"\r\n\xeb\xcf\xc7\xc4\xc1 \xcf\xd4\xcb\xd2\xcf\xc5\xd4\xd3\xd1 \xc2\xc1\xd3\xd3\xc5\xca\xce?\r\n",
    );
    add("koi8-r", koi8, Expect::Question("Когда откроется бассейн?"));
    let mut sjis = headers(&plus, "Eki", "h5", "text/plain; charset=shift_jis").into_bytes();
    sjis.extend_from_slice(
        b"\r\n\x89\x77\x82\xcd\x82\xa2\x82\xc2\x8a\x4a\x82\xad\x82\xcc\x82\xc5\x82\xb7\x82\xa9\x81\x48\r\n",
    );
    add("shift_jis", sjis, Expect::Question("駅はいつ開くのですか？"));
    let mut bad_utf8 = headers(&plus, "Bytes", "h6", "text/plain; charset=utf-8").into_bytes();
    bad_utf8.extend_from_slice(b"\r\nFrage mit \xff\xfe\xc3 kaputten Bytes?\r\n");
    add("invalid utf-8 in a utf-8 body", bad_utf8, Expect::Question("kaputten Bytes?"));
    add(
        "right-to-left and emoji",
        format!(
            "{}\r\nهل ستُفتح المكتبة يوم الأحد؟ 📚👍🏽\r\n",
            headers(&plus, "مكتبة", "h7", "text/plain; charset=utf-8")
        )
        .into_bytes(),
        Expect::Question("هل ستُفتح المكتبة يوم الأحد؟ 📚👍🏽"),
    );
    add(
        "sql metacharacters",
        format!(
            "{}\r\nRobert'); DROP TABLE questions; -- \"x\" OR 1=1?\r\n",
            headers(&plus, "SQL", "h8", "text/plain")
        )
        .into_bytes(),
        Expect::Question("Robert'); DROP TABLE questions; -- \"x\" OR 1=1?"),
    );
    // 60 levels of multipart/mixed around one text part.
    let mut nested = headers(&plus, "Tief", "h9", "multipart/mixed; boundary=\"b0\"");
    nested.push_str("\r\n");
    for level in 1..60 {
        nested.push_str(&format!("--b{}\r\nContent-Type: multipart/mixed; boundary=\"b{level}\"\r\n\r\n", level - 1));
    }
    nested.push_str(
        "--b59\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nTief verschachtelte Frage zum Hallenbad?\r\n",
    );
    for level in (0..60).rev() {
        nested.push_str(&format!("--b{level}--\r\n"));
    }
    add("60 nested multiparts", nested.into_bytes(), Expect::Question("Tief verschachtelte Frage zum Hallenbad?"));
    // A 25 MB attachment next to the question: the question is taken, the attachment noted, not stored.
    let mut big = headers(&plus, "Plan", "h10", "multipart/mixed; boundary=\"XX\"");
    big.push_str("\r\n--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nIst der Bebauungsplan im Anhang so richtig?\r\n--XX\r\nContent-Type: application/octet-stream; name=\"plan.bin\"\r\nContent-Disposition: attachment; filename=\"plan.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n");
    let line = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n";
    big.push_str(&line.repeat(25 * 1024 * 1024 / 57));
    big.push_str("--XX--\r\n");
    add("25 MB attachment", big.into_bytes(), Expect::Question("Ist der Bebauungsplan im Anhang so richtig?"));
    add(
        "no From, Date or Message-ID",
        b"Subject: [rathaus-2026] anonym\r\n\r\nAnonyme Frage zum Marktplatz?\r\n".to_vec(),
        Expect::Question("Anonyme Frage zum Marktplatz?"),
    );
    add(
        "header injection in the name and subject",
        format!(
            "From: =?utf-8?q?Evil=0D=0ABcc=3A_victim=40example=2Eorg?= <evil@example.org>\r\nTo: {plus}\r\nSubject: =?utf-8?q?x=0D=0ABcc=3A_victim2=40example=2Eorg?=\r\nMessage-ID: <h11@example.org>\r\n\r\nHarmlose Frage zur Müllabfuhr?\r\n"
        )
        .into_bytes(),
        Expect::Question("Harmlose Frage zur Müllabfuhr?"),
    );
    // MIME bomb: 20,000 empty parts in 4 MB, and 3,000 levels of nesting.
    let mut bomb = headers(&plus, "Bombe", "h12", "multipart/mixed; boundary=\"z\"");
    bomb.push_str("\r\n");
    bomb.push_str(&"--z\r\nContent-Type: text/plain\r\n\r\nA\r\n".repeat(20_000));
    bomb.push_str("--z--\r\n");
    add("mime bomb: 20,000 parts", bomb.into_bytes(), Expect::Question("A"));
    let mut deep = headers(&plus, "Tiefe Bombe", "h13", "multipart/mixed; boundary=\"d0\"");
    deep.push_str("\r\n");
    for level in 1..3000 {
        deep.push_str(&format!("--d{}\r\nContent-Type: multipart/mixed; boundary=\"d{level}\"\r\n\r\n", level - 1));
    }
    // The parser stops at its nesting limit: no body text is found, the subject becomes the question.
    add("mime bomb: 3,000 levels, never closed", deep.into_bytes(), Expect::Question("Tiefe Bombe"));
    add(
        "10 MB of text",
        format!(
            "{}\r\n{}\r\n",
            headers(&plus, "Roman", "h14", "text/plain"),
            "Sehr lange Geschichte. ".repeat(10 * 1024 * 1024 / 23)
        )
        .into_bytes(),
        Expect::Inbox("bitte kürzen"),
    );
    add(
        "empty text and subject",
        format!("{}\r\n \r\n", headers(&plus, "", "h15", "text/plain")).into_bytes(),
        Expect::Skipped("no text"),
    );
    add(
        "only quoted text",
        format!("{}\r\n> alte Mail\r\n> noch alt\r\n", headers(&plus, "", "h16", "text/plain")).into_bytes(),
        Expect::Skipped("no text"),
    );
    let mut binary = b"\x00\x01\x02\xff\xfe garbage without any header\r\n".to_vec();
    binary.extend(std::iter::repeat_n(0u8, 4096));
    add("binary garbage", binary, Expect::Skipped(""));
    // Larger than max_message_mib (36 in this test; the 25 MB attachment is 34 MB in base64): skipped without
    // being downloaded.
    let mut huge = headers(&plus, "Riesig", "h17", "text/plain");
    huge.push_str("\r\n");
    huge.push_str(
        &"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789\r\n".repeat(37 * 1024 * 1024 / 76),
    );
    add("37 MB message", huge.into_bytes(), Expect::Skipped("more than the limit"));
    cases
}

#[tokio::test]
async fn the_hostile_mail_corpus_ends_each_in_a_question_the_inbox_or_a_logged_skip() {
    let smtp_dir = tempfile::tempdir().unwrap();
    let smtp = SmtpSink::start(smtp_dir.path());
    let t = town(|c| {
        c.imap.max_message_mib = 36;
        confirm_through(c, &smtp);
    })
    .await;
    let cases = corpus();
    for c in &cases {
        t.dovecot.deliver(&to("rathaus-2026"), &c.raw);
    }
    let started = std::time::Instant::now();
    let r = t.poll().await;
    eprintln!("hostile corpus: {} mails in {:.1} s: {r:?}", cases.len(), started.elapsed().as_secs_f64());
    assert_eq!(t.dovecot.count("INBOX"), 0, "every mail is marked");

    let qs = t.questions("rathaus-2026").await;
    let inbox = t.db.inbox_items().await.unwrap();
    let skipped = t.db.skipped_mails(100).await.unwrap();
    for c in &cases {
        match &c.expect {
            Expect::Question(text) => assert!(
                qs.iter().any(|q| q.text.as_str().contains(text)),
                "{}: no question containing {text:?} in {:?}",
                c.name,
                qs.iter().map(|q| q.text.headline(80)).collect::<Vec<_>>()
            ),
            Expect::Inbox(reason) => assert!(inbox.iter().any(|i| i.reason.contains(reason)), "{}: {inbox:?}", c.name),
            Expect::Skipped(_) => {}
        }
    }
    let want_skips: Vec<&str> =
        cases.iter().filter_map(|c| if let Expect::Skipped(r) = c.expect { Some(r) } else { None }).collect();
    assert_eq!(skipped.len(), want_skips.len(), "skips: {skipped:?}");
    for want in want_skips {
        assert!(skipped.iter().any(|(_, why)| why.contains(want)), "no skip with {want:?}: {skipped:?}");
    }
    assert_eq!(t.dovecot.count("Citizenhour-Nicht-verarbeitet"), skipped.len());
    assert_eq!(r.skipped, skipped.len());

    // Nothing malformed stored: no control characters but line ends, no markup from the HTML mail, no header
    // injection in names; the attachment noted, not kept; the 10 MB text cut for the inbox.
    for q in &qs {
        assert!(!q.text.as_str().chars().any(|c| c.is_control() && c != '\n'), "{:?}", q.text);
        assert!(!q.text.as_str().contains("<script") && !q.text.as_str().contains("alert"), "{:?}", q.text);
        for name in q.author_name.iter().chain(q.email.iter()) {
            assert!(!name.contains(['\r', '\n']), "{name:?}");
        }
    }
    let evil = qs.iter().find(|q| q.text.as_str().contains("Müllabfuhr")).unwrap();
    assert_eq!(evil.author_name.as_deref(), Some("Evil Bcc: victim@example.org"), "folded into one harmless line");
    let plan = qs.iter().find(|q| q.text.as_str().contains("Bebauungsplan")).unwrap();
    assert!(plan.intake_note.as_deref().unwrap_or_default().contains("plan.bin"), "{:?}", plan.intake_note);
    let anonymous = qs.iter().find(|q| q.text.as_str().contains("Marktplatz")).unwrap();
    assert!(anonymous.author_name.is_none() && anonymous.email.is_none());
    assert!(inbox.iter().all(|i| i.text.chars().count() <= 20_000));
    // Confirmations went to real senders only; the injected Bcc reached nobody.
    let sent: Vec<String> = smtp.messages().iter().map(|m| String::from_utf8_lossy(m).into_owned()).collect();
    assert!(!sent.is_empty());
    assert!(
        !sent.iter().any(|m| m.contains("X-RcptTo: victim") || m.lines().any(|l| l.starts_with("Bcc:"))),
        "{sent:#?}"
    );
}

#[tokio::test]
async fn tls_and_starttls_need_a_trusted_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let dovecot = Dovecot::start_tls(dir.path());
    let mut config = Config::default();
    config.storage.data_dir = dir.path().join("data");
    config.imap.host = "127.0.0.1".into();
    config.imap.username = dovecot.user.clone();
    config.imap.password = Some(dovecot.password.clone().into());
    config.validate().unwrap();
    let db = Db::connect(&config.database_url()).await.unwrap();
    db.create_session(&support::new_session("rathaus-2026", None)).await.unwrap();
    let plus = to("rathaus-2026");
    dovecot.deliver(&plus, &mail(&plus, "Erika <erika@example.org>", "TLS", "t1", "Ist die Verbindung sicher?", ""));
    let poll = |c: &Config| {
        let intake = MailIntake::new(db.clone(), Arc::new(c.clone())).unwrap();
        async move { intake.poll_once().await }
    };
    for (tls, port) in [("tls", dovecot.imaps_port), ("starttls", dovecot.imap_port)] {
        let mut c = config.clone();
        c.imap.tls = tls.into();
        c.imap.port = port;
        // The server's certificate comes from a CA this machine does not trust: refused before the password goes out.
        let e = poll(&c).await.unwrap_err().to_string();
        assert!(e.contains("TLS with 127.0.0.1") && e.contains("UnknownIssuer"), "{tls}: {e}");
        c.imap.ca_file = dovecot.ca_file().to_string_lossy().into_owned();
        let r = poll(&c).await.unwrap_or_else(|e| panic!("{tls}: {e}"));
        assert_eq!(r.questions + r.marked_again, usize::from(tls == "tls"), "{tls}: {r:?}");
    }
    let s = db.session_by_slug("rathaus-2026").await.unwrap();
    assert_eq!(db.questions(s.id, None).await.unwrap().len(), 1);
    let log = std::fs::read_to_string(dovecot.dir.join("dovecot.log")).unwrap();
    let logins: Vec<&str> = log.lines().filter(|l| l.contains("Login: user=")).collect();
    assert_eq!(logins.len(), 2, "{log}");
    assert!(logins.iter().all(|l| l.contains("TLS")), "every login went over TLS: {logins:#?}");
}

/// A server without the MOVE and IDLE extensions (plain RFC 3501 + UIDPLUS, as some municipal mail servers are):
/// taken mails are copied, flagged \Deleted and expunged by UID, and new mail is found by polling.
#[tokio::test]
async fn without_move_and_idle_mails_are_copied_expunged_and_polled() {
    let dir = tempfile::tempdir().unwrap();
    let dovecot =
        Dovecot::start_with_capability(dir.path(), "IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE UIDPLUS");
    let mut config = Config::default();
    config.storage.data_dir = dir.path().join("data");
    config.imap.host = "127.0.0.1".into();
    config.imap.port = dovecot.imap_port;
    config.imap.tls = "none".into();
    config.imap.username = dovecot.user.clone();
    config.imap.password = Some(dovecot.password.clone().into());
    config.imap.poll_seconds = 1;
    config.validate().unwrap();
    let db = Db::connect(&config.database_url()).await.unwrap();
    let s = db.create_session(&support::new_session("rathaus-2026", None)).await.unwrap();
    let plus = to("rathaus-2026");
    dovecot.deliver(&plus, &mail(&plus, "Erika <erika@example.org>", "Eins", "n1", "Erste Frage ohne MOVE?", ""));
    let intake = MailIntake::new(db.clone(), Arc::new(config)).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(intake.run_until(async move {
        let _ = stopped.await;
    }));
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let wait_for = |n: usize| {
        let db = db.clone();
        async move {
            while db.questions(s.id, None).await.unwrap().len() < n {
                assert!(std::time::Instant::now() < deadline, "{n} questions not taken");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    wait_for(1).await;
    // Arrives while the intake waits: found by the next poll (no IDLE to announce it).
    dovecot.deliver(&plus, &mail(&plus, "Ali <ali@example.org>", "Zwei", "n2", "Zweite Frage ohne IDLE?", ""));
    wait_for(2).await;
    let _ = stop.send(());
    running.await.unwrap();
    assert_eq!(dovecot.count("INBOX"), 0, "copied away and expunged");
    assert_eq!(dovecot.count("Citizenhour-Erledigt"), 2);
    // Dovecot counts messages flagged \Deleted per session (a MOVE flags none) in the line it logs when the
    // session ends — a moment after the intake let go of it.
    let flagged_deleted = |log: &str| log.lines().any(|l| l.contains("deleted=") && !l.contains("deleted=0"));
    let log_path = dovecot.dir.join("dovecot.log");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !flagged_deleted(&std::fs::read_to_string(&log_path).unwrap()) {
        assert!(std::time::Instant::now() < deadline, "{}", std::fs::read_to_string(&log_path).unwrap());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
