//! Publishing to YouTube against a protocol-exact fake (tests/support/youtube.rs): the resumable upload with
//! every fault type injected and recovered, thumbnail, captions, playlist, chapters in the description and the
//! asker's mail linking `t=`; a worker killed mid-upload continuing the same session (one video, at most one chunk
//! sent again); quota exhaustion waiting for the reset; a permanent refusal failing clearly and retried from the
//! CLI.

mod support;

use citizenhour::config::Config;
use citizenhour::domain::SessionState;
use citizenhour::storage::{Db, JobState};
use citizenhour::worker::{NOTIFY_ASKERS, PUBLISH_LOCAL, PUBLISH_YOUTUBE, Worker};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::services::SmtpSink;
use support::youtube::{Fault, YoutubeFake};

const REFRESH: &str = "1//0refresh-token-of-the-town-channel";

async fn setup(dir: &Path, fake: &YoutubeFake) -> (Config, Db) {
    let mut config = Config::default();
    config.storage.data_dir = dir.join("data");
    config.server.public_url = "https://buergerstunde.musterstadt.example".into();
    config.town.name = "Stadt Musterstadt".into();
    config.youtube = fake.config(REFRESH);
    std::fs::create_dir_all(config.site_dir().join("recordings")).unwrap();
    std::fs::create_dir_all(config.recordings_dir()).unwrap();
    let db = Db::connect(&config.database_url()).await.unwrap();
    (config, db)
}

/// An ended session (36 s recording, answers at 12 s and 24 s) publishing to YouTube.
async fn ended_session(db: &Db, config: &Config, slug: &str, kbit: u32) -> citizenhour::domain::SessionId {
    let id = db.create_session(&support::new_session(slug, None)).await.unwrap().id;
    db.set_session_state(id, SessionState::Live).await.unwrap();
    db.set_session_state(id, SessionState::Ended).await.unwrap();
    db.set_publish_targets(id, Some(&["youtube".to_owned()])).await.unwrap();
    let rec = config.recordings_dir().join(format!("{slug}.mp4"));
    let r = rec.clone();
    tokio::task::spawn_blocking(move || support::ffmpeg_recording(&r, 36, 640, 360, kbit)).await.unwrap();
    db.add_recording(id, &rec.to_string_lossy(), 36_000).await.unwrap();
    support::answered_questions(
        db,
        id,
        &[
            ("Wann kommt der <Radweg> an der Schule?", 12_000, Some("erika@example.org"), Some("de")),
            ("Was kostet das neue Freibad?", 24_000, None, None),
        ],
    )
    .await;
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_is_published_with_chapters_thumbnail_captions_and_playlist_through_every_fault() {
    let _ = tracing_subscriber::fmt().with_env_filter("citizenhour=info").try_init();
    let dir = tempfile::tempdir().unwrap();
    let fake = YoutubeFake::start(REFRESH).await;
    let smtp = SmtpSink::start(&dir.path().join("smtp"));
    let (mut config, db) = setup(dir.path(), &fake).await;
    config.mail.smtp_host = "127.0.0.1".into();
    config.mail.smtp_port = smtp.port;
    config.mail.smtp_tls = "none".into();
    config.mail.from = "Stadt Musterstadt <buergerstunde@musterstadt.example>".into();
    let config = Arc::new(config);
    let sid = ended_session(&db, &config, "yt-dezember", 1200).await;

    // One of each fault the issue names, across the steps.
    fake.fail_next("token", Fault::Status(503, "backendError"));
    fake.fail_next("start", Fault::Status(503, "backendError"));
    fake.fail_next("chunk", Fault::Status(500, "backendError"));
    fake.fail_next("chunk", Fault::Status(429, "rateLimitExceeded"));
    fake.fail_next("chunk", Fault::Drop);
    fake.fail_next("status", Fault::Status(502, "backendError"));
    fake.fail_next("thumbnail", Fault::Status(401, "authError"));
    fake.fail_next("captions", Fault::Drop);
    fake.fail_next("playlist", Fault::Status(503, "backendError"));

    let w = Worker::start(db.clone(), config.clone()).await.unwrap();
    w.enqueue(sid, PUBLISH_LOCAL).await.unwrap();
    let t0 = Instant::now();
    w.run_until_idle().await.unwrap();
    let job = db.job_by_kind(sid, PUBLISH_YOUTUBE).await.unwrap().expect("queued after the local publication");
    assert_eq!(job.state, JobState::Done, "{:?}\n{:?}", job.last_error, fake.state.lock().unwrap().log);
    eprintln!("YouTube publish with 9 faults: {:.1} s (attempts {})", t0.elapsed().as_secs_f64(), job.attempts);

    let mp4 = std::fs::read(config.site_dir().join("recordings/yt-dezember/download.mp4")).unwrap();
    let vid = {
        let s = fake.state.lock().unwrap();
        assert_eq!(s.sessions_started, 1, "one upload session: {:?}", s.log);
        assert_eq!(s.videos.len(), 1, "one video");
        let upload = s.uploads.values().next().unwrap();
        assert!(upload.data == mp4, "uploaded bytes differ ({} vs {})", upload.data.len(), mp4.len());
        let resent = s.chunk_bytes_received - mp4.len() as u64;
        assert!(resent <= 1024 * 1024, "re-sent {resent} B > one chunk");
        eprintln!("YouTube faults: {} B file, {resent} B sent again (a dropped chunk)", mp4.len());
        assert!(s.tokens_issued >= 2, "a 401 refreshed the token");
        let v = &s.videos[0];
        let vid = v["id"].as_str().unwrap().to_owned();
        assert_eq!(v["snippet"]["title"], "Bürgersprechstunde yt-dezember");
        let description = v["snippet"]["description"].as_str().unwrap();
        assert!(
            description.contains("0:00 Begrüßung\n0:12 Wann kommt der ‹Radweg› an der Schule?\n0:24 Was kostet"),
            "{description}"
        );
        assert!(description.contains("https://buergerstunde.musterstadt.example/r/yt-dezember"));
        assert_eq!(v["status"]["privacyStatus"], "private", "private unless configured");
        assert_eq!(v["snippet"]["categoryId"], "25");
        assert_eq!(v["snippet"]["defaultLanguage"], "de");
        assert_eq!(v["snippet"]["tags"], serde_json::json!(["Bürgersprechstunde", "Stadt Musterstadt"]));
        assert!(s.thumbnails.get(&vid).is_some_and(|n| *n > 1000), "thumbnail set");
        assert_eq!(s.captions.len(), 1);
        assert!(s.captions[0].1.contains("Was kostet das neue Freibad?"), "{}", s.captions[0].1);
        assert_eq!(s.playlist_items, vec![("PLbuergerstunde".to_owned(), vid.clone())]);
        vid
    };

    let p = db.publication(sid, "youtube").await.unwrap().unwrap();
    assert_eq!(p.manifest["watch_url"], format!("https://www.youtube.com/watch?v={vid}"));
    // The asker's mail came after YouTube and links both.
    assert_eq!(db.job_by_kind(sid, NOTIFY_ASKERS).await.unwrap().unwrap().state, JobState::Done);
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1);
    let m = mail_parser::MessageParser::default().parse(&mails[0][..]).unwrap();
    let body = m.body_text(0).unwrap();
    assert!(body.contains(&format!("https://www.youtube.com/watch?v={vid}&t=12s")), "{body}");
    assert!(body.contains("https://buergerstunde.musterstadt.example/r/yt-dezember?t=12"));

    // Publishing again (a re-run of the job) creates no second video.
    db.retry_job(job.id).await.unwrap();
    w.run_until_idle().await.unwrap();
    assert_eq!(fake.state.lock().unwrap().videos.len(), 1, "never a second video");
    assert_eq!(fake.state.lock().unwrap().playlist_items.len(), 1, "never a second playlist entry");
}

fn worker_process(config: &Config, fake: &YoutubeFake, log: &Path) -> std::process::Child {
    let y = fake.config(REFRESH);
    let envs = [
        ("CLIENT_ID", y.client_id),
        ("CLIENT_SECRET", "client-secret".to_owned()),
        ("REFRESH_TOKEN", REFRESH.to_owned()),
        ("TOKEN_URI", y.token_uri),
        ("API_URL", y.api_url),
        ("CHUNK_MIB", "1".to_owned()),
    ];
    let envs = envs.into_iter().map(|(k, v)| (format!("CITIZENHOUR__YOUTUBE__{k}"), v)).collect();
    support::worker_process(&config.storage.data_dir, envs, log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_upload_continues_the_same_session_one_video_at_most_one_chunk_again() {
    let _ = tracing_subscriber::fmt().with_env_filter("citizenhour=info").try_init();
    let dir = tempfile::tempdir().unwrap();
    let fake = YoutubeFake::start(REFRESH).await;
    fake.state.lock().unwrap().chunk_delay = Duration::from_millis(300);
    let (config, db) = setup(dir.path(), &fake).await;
    let config = Arc::new(config);
    let sid = ended_session(&db, &config, "yt-crash", 1500).await;
    let w = Worker::start(db.clone(), config.clone()).await.unwrap();
    w.enqueue(sid, PUBLISH_LOCAL).await.unwrap();
    assert!(w.run_one().await.unwrap());
    let job = db.job_by_kind(sid, PUBLISH_YOUTUBE).await.unwrap().unwrap();
    let mp4 = std::fs::read(config.site_dir().join("recordings/yt-crash/download.mp4")).unwrap();
    assert!(mp4.len() > 4 * 1024 * 1024, "{} B: at least 5 chunks", mp4.len());

    let log = dir.path().join("worker1.log");
    let mut child = worker_process(&config, &fake, &log);
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let j = db.job(job.id).await.unwrap().unwrap();
        if j.checkpoint["confirmed"].as_u64().unwrap_or(0) >= 2 * 1024 * 1024 {
            break;
        }
        assert!(j.state != JobState::Done, "finished before the kill");
        assert!(Instant::now() < deadline, "no progress: {}", std::fs::read_to_string(&log).unwrap());
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let session_before = db.job(job.id).await.unwrap().unwrap().checkpoint["session_uri"].clone();
    assert!(session_before.is_string());
    assert!(fake.state.lock().unwrap().videos.is_empty(), "no video before the upload completes");

    let log2 = dir.path().join("worker2.log");
    let mut child = worker_process(&config, &fake, &log2);
    support::wait_for_job_done(&db, job.id, Duration::from_secs(120), &log2).await;
    support::terminate(&mut child);
    let j = db.job(job.id).await.unwrap().unwrap();
    assert_eq!(j.checkpoint["session_uri"], session_before, "the same upload session continued");
    let s = fake.state.lock().unwrap();
    assert_eq!(s.sessions_started, 1);
    assert_eq!(s.videos.len(), 1, "one video");
    assert!(s.uploads.values().next().unwrap().data == mp4, "bytes differ");
    let resent = s.chunk_bytes_received - mp4.len() as u64;
    eprintln!("YouTube resume: {} B file, {} B received, {resent} B sent again", mp4.len(), s.chunk_bytes_received);
    assert!(resent <= 1024 * 1024, "re-sent {resent} B > one chunk");
    assert!(
        s.log.iter().any(|l| l.starts_with("PUT status bytes */")),
        "asked the server where to continue: {:?}",
        s.log
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_quota_waits_for_the_reset_and_a_permanent_refusal_fails_clearly_until_retried() {
    let _ = tracing_subscriber::fmt().with_env_filter("citizenhour=info").try_init();
    let dir = tempfile::tempdir().unwrap();
    let fake = YoutubeFake::start(REFRESH).await;
    let (config, db) = setup(dir.path(), &fake).await;
    let config = Arc::new(config);
    let sid = ended_session(&db, &config, "yt-quota", 300).await;
    fake.fail_next("start", Fault::Status(403, "quotaExceeded"));
    let w = Worker::start(db.clone(), config.clone()).await.unwrap();
    w.enqueue(sid, PUBLISH_LOCAL).await.unwrap();
    w.run_until_idle().await.unwrap();
    let job = db.job_by_kind(sid, PUBLISH_YOUTUBE).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Queued, "waiting, not failed");
    assert_eq!(job.attempts, 0, "a quota wait is not a failed attempt");
    let reset = citizenhour::publish::youtube::next_quota_reset(chrono::Utc::now());
    assert!((job.retry_at - reset).num_seconds().abs() < 120, "{} vs {reset}", job.retry_at);
    let reason = job.last_error.unwrap();
    assert!(reason.contains("quotaExceeded") && reason.contains("quota reset"), "{reason}");
    assert!(db.job_by_kind(sid, NOTIFY_ASKERS).await.unwrap().is_none(), "askers wait for YouTube");

    // The channel is not allowed to upload (a permanent 403): failed at once, readable, nothing created.
    fake.fail_next("start", Fault::Status(403, "forbidden"));
    db.retry_job(job.id).await.unwrap();
    w.run_until_idle().await.unwrap();
    let failed = db.job(job.id).await.unwrap().unwrap();
    assert_eq!(failed.state, JobState::Failed);
    assert_eq!(failed.last_error.as_deref(), Some("youtube: videos.insert: HTTP 403 forbidden injected forbidden"));
    assert!(fake.state.lock().unwrap().videos.is_empty());
    // A given-up YouTube job still lets the askers be told (about the town site).
    assert!(db.job_by_kind(sid, NOTIFY_ASKERS).await.unwrap().is_some());

    // After fixing it on the channel, staff retry from the CLI.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_citizenhour"))
        .args(["jobs", "retry", &job.id.to_string()])
        .env("CITIZENHOUR__STORAGE__DATA_DIR", &config.storage.data_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    w.run_until_idle().await.unwrap();
    assert_eq!(db.job(job.id).await.unwrap().unwrap().state, JobState::Done);
    assert_eq!(fake.state.lock().unwrap().videos.len(), 1);
}
