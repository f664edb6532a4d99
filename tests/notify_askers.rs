//! Answer notices over real SMTP (an aiosmtpd sink on 127.0.0.1): one mail per answered asker with an
//! address, German or English, linking the exact second; never twice (re-render, re-run, restart); an SMTP outage
//! retried until the relay is back.

mod support;

use citizenhour::config::Config;
use citizenhour::domain::SessionState;
use citizenhour::storage::{Db, JobState};
use citizenhour::worker::{NOTIFY_ASKERS, PUBLISH_LOCAL, Worker};
use mail_parser::MessageParser;
use std::path::Path;
use std::sync::Arc;
use support::services::SmtpSink;

async fn setup(dir: &Path, smtp_port: u16) -> (Config, Db) {
    let mut config = Config::default();
    config.storage.data_dir = dir.join("data");
    config.server.public_url = "https://buergerstunde.musterstadt.example".into();
    config.town.name = "Stadt Musterstadt".into();
    config.mail.smtp_host = "127.0.0.1".into();
    config.mail.smtp_port = smtp_port;
    config.mail.smtp_tls = "none".into();
    config.mail.from = "Stadt Musterstadt <buergerstunde@musterstadt.example>".into();
    std::fs::create_dir_all(config.site_dir().join("recordings")).unwrap();
    std::fs::create_dir_all(config.recordings_dir()).unwrap();
    let db = Db::connect(&config.database_url()).await.unwrap();
    (config, db)
}

struct Mail {
    to: String,
    subject: String,
    body: String,
    message_id: String,
}

fn parse(raw: &[u8]) -> Mail {
    let m = MessageParser::default().parse(raw).expect("a mail");
    Mail {
        to: m.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_owned(),
        subject: m.subject().unwrap_or_default().to_owned(),
        body: m.body_text(0).unwrap_or_default().to_string(),
        message_id: m.message_id().unwrap_or_default().to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_answered_asker_gets_one_mail_in_their_language_linking_the_minute() {
    let _ = tracing_subscriber::fmt().with_env_filter("citizenhour=info").try_init();
    let dir = tempfile::tempdir().unwrap();
    let smtp = SmtpSink::start(&dir.path().join("smtp"));
    let (config, db) = setup(dir.path(), smtp.port).await;
    let config = Arc::new(config);
    let sid = db.create_session(&support::new_session("post-dezember", None)).await.unwrap().id;
    db.set_session_state(sid, SessionState::Live).await.unwrap();
    db.set_session_state(sid, SessionState::Ended).await.unwrap();
    let rec = config.recordings_dir().join("post.mp4");
    let r = rec.clone();
    tokio::task::spawn_blocking(move || support::ffmpeg_recording(&r, 8, 320, 180, 300)).await.unwrap();
    db.add_recording(sid, &rec.to_string_lossy(), 8000).await.unwrap();
    support::answered_questions(
        &db,
        sid,
        &[
            ("Wann kommt der Radweg an der Schule?", 2000, Some("erika@example.org"), Some("de")),
            ("When will the bus line run on Sundays?", 4500, Some("john@example.org"), Some("en")),
            ("Warum ist das Freibad zu?", 6000, None, None),
            ("Bad address", 7000, Some("nobody\r\nBcc: victim@example.org"), None),
        ],
    )
    .await;
    // Neither a question that was not answered nor its asker's address gets anything.
    let pending = citizenhour::domain::QuestionDraft {
        text: citizenhour::domain::QuestionText::parse("Noch offen?", 1500).unwrap(),
        author_name: None,
        email: Some("pending@example.org".into()),
        show_name: false,
        origin: citizenhour::domain::QuestionOrigin::Web,
        language: None,
        intake_note: None,
    };
    db.add_question(sid, &pending).await.unwrap();
    // Someone who asked the same (merged as a supporter) is told too, in their language.
    let same = citizenhour::domain::QuestionDraft {
        text: citizenhour::domain::QuestionText::parse("wann kommt der Radweg an der Schule", 1500).unwrap(),
        author_name: Some("Ali".into()),
        email: Some("ali@example.org".into()),
        language: Some("en".into()),
        ..pending.clone()
    };
    let (merged, token) = db.add_or_support_question(sid, &same).await.unwrap();
    assert!(token.is_none() && merged.supporters == 2);

    let w = Worker::start(db.clone(), config.clone()).await.unwrap();
    w.enqueue(sid, PUBLISH_LOCAL).await.unwrap();
    w.run_until_idle().await.unwrap();
    let notify = db.job_by_kind(sid, NOTIFY_ASKERS).await.unwrap().expect("queued after publishing");
    assert_eq!(notify.state, JobState::Done, "{:?}", notify.last_error);

    let mut mails: Vec<Mail> = smtp.messages().iter().map(|m| parse(m)).collect();
    mails.sort_by(|a, b| a.to.cmp(&b.to));
    assert_eq!(mails.len(), 3, "{:?}", mails.iter().map(|m| &m.to).collect::<Vec<_>>());
    let (ali, erika, john) = (&mails[0], &mails[1], &mails[2]);
    assert_eq!(ali.to, "ali@example.org");
    assert!(ali.subject.starts_with("Your question has been answered"), "{}", ali.subject);
    assert!(ali.body.contains("https://buergerstunde.musterstadt.example/r/post-dezember?t=2\n"), "{}", ali.body);
    assert!(ali.message_id.starts_with("answer.q1.p"), "{}", ali.message_id);
    assert_eq!(erika.to, "erika@example.org");
    assert_eq!(erika.subject, "Ihre Frage wurde beantwortet – Bürgersprechstunde post-dezember");
    assert!(erika.body.contains("Guten Tag Erika Muster,"), "{}", erika.body);
    assert!(erika.body.contains("„Wann kommt der Radweg an der Schule?“"));
    assert!(erika.body.contains("ab 0:02 hier:\nhttps://buergerstunde.musterstadt.example/r/post-dezember?t=2\n"));
    assert_eq!(john.to, "john@example.org");
    assert!(john.subject.starts_with("Your question has been answered"), "{}", john.subject);
    assert!(john.body.contains("from 0:04 on:\nhttps://buergerstunde.musterstadt.example/r/post-dezember?t=4\n"));
    assert!(erika.message_id.starts_with("answer.q1.s"), "{}", erika.message_id);
    assert!(erika.message_id.ends_with("@buergerstunde.musterstadt.example"));
    let raw = smtp.messages().concat();
    assert!(!String::from_utf8_lossy(&raw).contains("victim@example.org"), "no injected recipient");

    // The link works: the recording page plays from there.
    let page = db.publication(sid, "local").await.unwrap().unwrap();
    assert_eq!(page.manifest["chapters"][0]["start_ms"], 2000);

    // A re-render (new trim points) and a re-run of the notice job send nothing again.
    db.set_trim(sid, Some((0, Some(7500)))).await.unwrap();
    db.retry_job(db.job_by_kind(sid, PUBLISH_LOCAL).await.unwrap().unwrap().id).await.unwrap();
    w.run_until_idle().await.unwrap();
    db.retry_job(notify.id).await.unwrap();
    let w2 = Worker::start(db.clone(), config.clone()).await.unwrap();
    w2.run_until_idle().await.unwrap();
    assert_eq!(db.job(notify.id).await.unwrap().unwrap().state, JobState::Done);
    assert_eq!(smtp.messages().len(), 3, "exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_smtp_outage_is_retried_and_nobody_is_mailed_twice() {
    let _ = tracing_subscriber::fmt().with_env_filter("citizenhour=info").try_init();
    let dir = tempfile::tempdir().unwrap();
    let smtp = SmtpSink::start(&dir.path().join("smtp"));
    smtp.stop();
    let (config, db) = setup(dir.path(), smtp.port).await;
    let config = Arc::new(config);
    let sid = db.create_session(&support::new_session("post-outage", None)).await.unwrap().id;
    db.set_session_state(sid, SessionState::Live).await.unwrap();
    db.set_session_state(sid, SessionState::Ended).await.unwrap();
    let rec = config.recordings_dir().join("outage.mp4");
    let r = rec.clone();
    tokio::task::spawn_blocking(move || support::ffmpeg_recording(&r, 4, 320, 180, 300)).await.unwrap();
    db.add_recording(sid, &rec.to_string_lossy(), 4000).await.unwrap();
    support::answered_questions(&db, sid, &[("Frage eins?", 1000, Some("a@example.org"), None)]).await;

    let w = Worker::start(db.clone(), config.clone()).await.unwrap();
    w.enqueue(sid, PUBLISH_LOCAL).await.unwrap();
    w.run_until_idle().await.unwrap();
    let job = db.job_by_kind(sid, NOTIFY_ASKERS).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Queued, "relay down: retried later, not failed");
    assert!(job.retry_at > chrono::Utc::now(), "with backoff");
    assert!(job.last_error.as_deref().unwrap_or_default().contains("answer notices: SMTP"), "{:?}", job.last_error);

    smtp.start_again();
    db.retry_job(job.id).await.unwrap();
    w.run_until_idle().await.unwrap();
    assert_eq!(db.job(job.id).await.unwrap().unwrap().state, JobState::Done);
    assert_eq!(smtp.messages().len(), 1);
    db.retry_job(job.id).await.unwrap();
    w.run_until_idle().await.unwrap();
    assert_eq!(smtp.messages().len(), 1, "sent stays sent");
}
