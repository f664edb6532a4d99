//! Durable publishing jobs on the real database, worker and media: done once and never duplicated, resumed
//! after a crash, a corrupt recording failing clearly without publishing half, and a staff retry.

mod support;

use citizenhour::config::Config;
use citizenhour::domain::SessionState;
use citizenhour::media::mixer::ProgramHandle;
use citizenhour::media::outputs::OutputSpec;
use citizenhour::media::sources::SourceSpec;
use citizenhour::storage::{Db, JobState};
use citizenhour::worker::{PUBLISH_LOCAL, Worker};
use std::sync::Arc;
use std::time::Duration;
use support::probe;

async fn setup(dir: &std::path::Path) -> (Arc<Config>, Db) {
    let mut config = Config::default();
    config.storage.data_dir = dir.join("data");
    std::fs::create_dir_all(config.site_dir().join("recordings")).unwrap();
    std::fs::create_dir_all(config.recordings_dir()).unwrap();
    let db = Db::connect(&config.database_url()).await.unwrap();
    (Arc::new(config), db)
}

/// A session that was live and has ended (publishing needs that).
async fn session(db: &Db, slug: &str) -> citizenhour::domain::SessionId {
    let id = db.create_session(&support::new_session(slug, None)).await.unwrap().id;
    db.set_session_state(id, SessionState::Live).await.unwrap();
    db.set_session_state(id, SessionState::Ended).await.unwrap();
    id
}

/// Records `seconds` of a live test program to `path` (on a blocking thread).
async fn record(path: &std::path::Path, seconds: u64) {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || record_blocking(&path, seconds)).await.unwrap();
}

fn record_blocking(path: &std::path::Path, seconds: u64) {
    let program = ProgramHandle::start(
        support::small_program_settings(),
        &[SourceSpec::Test { id: "host".into(), pattern: "smpte".into(), tone_hz: 440.0 }],
        &[OutputSpec::Recording { path: path.to_owned() }],
    )
    .unwrap();
    std::thread::sleep(Duration::from_secs(seconds));
    program.end(Duration::from_secs(20)).unwrap();
}

fn staging_dirs(config: &Config) -> Vec<String> {
    std::fs::read_dir(config.site_dir().join("recordings"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.contains("staging"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_job_runs_once_survives_a_crash_and_is_never_duplicated() {
    let dir = tempfile::tempdir().unwrap();
    let (config, db) = setup(dir.path()).await;
    let sid = session(&db, "jobs-ok").await;
    let rec = config.recordings_dir().join("jobs-ok.mp4");
    record(&rec, 4).await;
    db.add_recording(sid, &rec.to_string_lossy(), 4000).await.unwrap();

    // A worker claims the job and "dies" (the process ends while it runs): the row stays `running`.
    let w = Worker::start(db.clone(), config.clone()).await.unwrap();
    let job = w.enqueue(sid, PUBLISH_LOCAL).await.unwrap();
    let claimed = db.claim_job().await.unwrap().expect("due at once");
    assert_eq!((claimed.id, claimed.state, claimed.attempts), (job.id, JobState::Running, 1));
    drop(w);

    // The next start puts it back in the queue and finishes it.
    let w = Worker::start(db.clone(), config.clone()).await.unwrap();
    assert_eq!(db.job(job.id).await.unwrap().unwrap().state, JobState::Queued);
    w.run_until_idle().await.unwrap();
    let done = db.job(job.id).await.unwrap().unwrap();
    assert_eq!(done.state, JobState::Done, "{done:?}");
    assert_eq!(done.progress, 1.0);
    assert_eq!(done.attempts, 2, "the interrupted attempt and the one that finished");
    let p = db.publication(sid, "local").await.unwrap().expect("published");
    let master = config.site_dir().join(p.manifest["master_playlist"].as_str().unwrap().trim_start_matches("/media/"));
    let len = probe::format_duration(&master).expect("the ladder plays");
    assert!((len - 4.0).abs() < 0.6, "{len}");
    // The podcast rendition: audio only, the whole program.
    let audio = config.site_dir().join(p.manifest["audio"].as_str().unwrap().trim_start_matches("/media/"));
    assert_eq!(probe::codec_names(&audio), ["aac"], "{audio:?}");
    let a = probe::packets(&audio, "a:0").unwrap();
    assert!((a.duration() - len).abs() < 0.3, "audio {:.2} s vs {len:.2} s", a.duration());

    // Enqueueing again is the same job, not a second one; nothing more to run.
    let again = w.enqueue(sid, PUBLISH_LOCAL).await.unwrap();
    assert_eq!((again.id, again.state), (job.id, JobState::Done));
    // One publish job; after it, the answer notices (no further targets configured).
    let kinds: Vec<String> = db.jobs(Some(sid)).await.unwrap().into_iter().map(|j| j.kind).collect();
    assert_eq!(kinds.iter().filter(|k| *k == PUBLISH_LOCAL).count(), 1, "{kinds:?}");
    assert!(kinds.iter().all(|k| k == PUBLISH_LOCAL || k == "notify_askers"), "{kinds:?}");
    assert!(!w.run_one().await.unwrap(), "nothing due");
    assert!(staging_dirs(&config).is_empty(), "{:?}", staging_dirs(&config));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_recording_fails_clearly_publishes_nothing_and_can_be_retried() {
    let dir = tempfile::tempdir().unwrap();
    let (config, db) = setup(dir.path()).await;
    let sid = session(&db, "jobs-corrupt").await;
    // A recording cut off in its header: not an MP4 any more.
    let rec = config.recordings_dir().join("jobs-corrupt.mp4");
    let mut bytes = b"\x00\x00\x00\x18ftypiso6".to_vec();
    bytes.extend(std::iter::repeat_n(0xA5u8, 64 * 1024));
    std::fs::write(&rec, &bytes).unwrap();
    db.add_recording(sid, &rec.to_string_lossy(), 60_000).await.unwrap();

    let w = Worker::start(db.clone(), config.clone()).await.unwrap();
    let job = w.enqueue(sid, PUBLISH_LOCAL).await.unwrap();
    w.run_until_idle().await.unwrap();
    let failed = db.job(job.id).await.unwrap().unwrap();
    assert_eq!(failed.state, JobState::Failed, "a corrupt file is permanent, not retried: {failed:?}");
    assert_eq!(failed.attempts, 1);
    let reason = failed.last_error.clone().unwrap_or_default();
    assert!(reason.contains("jobs-corrupt.mp4") || reason.to_lowercase().contains("media"), "readable: {reason}");
    assert!(db.publication(sid, "local").await.unwrap().is_none(), "nothing published");
    assert!(staging_dirs(&config).is_empty(), "no half-rendered files left: {:?}", staging_dirs(&config));
    assert!(!config.site_dir().join("recordings/jobs-corrupt").exists());

    // Staff fix the file (here: a good recording) and retry the same job.
    record(&rec, 3).await;
    let retried = db.retry_job(job.id).await.unwrap();
    assert_eq!((retried.state, retried.attempts), (JobState::Queued, 0));
    w.run_until_idle().await.unwrap();
    assert_eq!(db.job(job.id).await.unwrap().unwrap().state, JobState::Done);
    assert!(db.publication(sid, "local").await.unwrap().is_some());
    let jobs = db.jobs(Some(sid)).await.unwrap();
    assert_eq!(jobs.iter().filter(|j| j.kind == PUBLISH_LOCAL).count(), 1, "still one publish job");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trimmed_publishing_starts_on_the_key_frame_before_the_in_point_and_shifts_the_chapters() {
    let _ = tracing_subscriber::fmt().with_env_filter("citizenhour=debug,gstreamer=warn").try_init();
    use citizenhour::domain::{QuestionDraft, QuestionOrigin, QuestionStatus, QuestionText};
    let dir = tempfile::tempdir().unwrap();
    let (config, db) = setup(dir.path()).await;
    let sid = session(&db, "jobs-trim").await;
    let rec = config.recordings_dir().join("jobs-trim.mp4");
    record(&rec, 8).await;
    db.add_recording(sid, &rec.to_string_lossy(), 8000).await.unwrap();
    // Three answers at 1 s, 4 s and 7 s of the recording.
    for (text, at_ms) in [("Erste Frage?", 1000), ("Zweite Frage?", 4000), ("Dritte Frage?", 7000)] {
        let q = db
            .add_question(
                sid,
                &QuestionDraft {
                    text: QuestionText::parse(text, 1500).unwrap(),
                    author_name: None,
                    email: None,
                    show_name: false,
                    origin: QuestionOrigin::Web,
                    language: None,
                    intake_note: None,
                },
            )
            .await
            .unwrap();
        db.set_question_status(q.id, QuestionStatus::Approved).await.unwrap();
        db.mark_answered(q.id, at_ms).await.unwrap();
    }
    // Staff cut the first 2.5 s and everything after 6 s (the recording has a key frame every second).
    db.set_trim(sid, Some((2500, Some(6000)))).await.unwrap();
    let w = Worker::start(db.clone(), config.clone()).await.unwrap();
    w.enqueue(sid, PUBLISH_LOCAL).await.unwrap();
    w.run_until_idle().await.unwrap();
    let p = db.publication(sid, "local").await.unwrap().expect("published");
    let m = &p.manifest;
    let file = |k: &str| config.site_dir().join(m[k].as_str().unwrap().trim_start_matches("/media/"));
    // 2.0 s (the key frame before 2.5 s) … 6.0 s: 4 s in every output.
    let hls = probe::format_duration(&file("master_playlist")).unwrap();
    assert!((hls - 4.0).abs() < 0.35, "HLS {hls:.2} s");
    let mp4 = probe::packets(&file("mp4"), "v:0").unwrap();
    assert!((mp4.duration() - 4.0).abs() < 0.35, "MP4 {mp4:?}");
    let m4a = probe::packets(&file("audio"), "a:0").unwrap();
    assert!((m4a.duration() - 4.0).abs() < 0.35, "M4A {m4a:?}");
    assert!((m["duration_ms"].as_i64().unwrap() - 4000).abs() < 350, "{m}");
    // The answer running at the in point starts at 0:00, the second moves to 2 s, the third is cut.
    let chapters: Vec<(i64, String)> = m["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["start_ms"].as_i64().unwrap(), c["title"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(chapters.len(), 2, "{chapters:?}");
    assert_eq!(chapters[0], (0, "Erste Frage?".to_owned()));
    assert_eq!(chapters[1].1, "Zweite Frage?");
    assert!((chapters[1].0 - 2000).abs() <= 50, "{chapters:?}");

    // Inverted points are refused clearly and publish nothing new.
    db.set_trim(sid, Some((5000, Some(3000)))).await.unwrap();
    let job = db.retry_job(db.job_by_kind(sid, PUBLISH_LOCAL).await.unwrap().unwrap().id).await.unwrap();
    w.run_until_idle().await.unwrap();
    let j = db.job(job.id).await.unwrap().unwrap();
    assert_eq!(j.state, JobState::Failed);
    assert!(j.last_error.unwrap_or_default().contains("trim"), "readable reason");
    assert_eq!(db.publication(sid, "local").await.unwrap().unwrap().manifest, p.manifest, "the good one stays");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_shows_jobs_retries_them_and_sets_trim_points_with_hostile_input_refused() {
    let _ = tracing_subscriber::fmt().with_env_filter("citizenhour=info").try_init();
    // The app's own worker stays off: the test decides when jobs run.
    let app = support::spawn_app_with(|c| c.publish.worker = false).await;
    let sid = session(&app.db, "console-jobs").await;
    let other = session(&app.db, "console-other").await;
    let rec = app.config.recordings_dir().join("console.mp4");
    let r = rec.clone();
    tokio::task::spawn_blocking(move || support::ffmpeg_recording(&r, 4, 320, 180, 300)).await.unwrap();
    app.db.add_recording(sid, &rec.to_string_lossy(), 4000).await.unwrap();
    // A recording that cannot be read: the job fails with a reason the console shows.
    let broken = app.config.recordings_dir().join("broken.mp4");
    std::fs::write(&broken, b"not a video").unwrap();
    app.db.add_recording(other, &broken.to_string_lossy(), 4000).await.unwrap();
    let w = Worker::start(app.db.clone(), Arc::new(app.config.clone())).await.unwrap();
    w.enqueue(sid, PUBLISH_LOCAL).await.unwrap();
    let failing = w.enqueue(other, PUBLISH_LOCAL).await.unwrap();
    w.run_until_idle().await.unwrap();

    let token = app.db.studio_token(sid).await.unwrap();
    let url = |p: &str| format!("{}/api/studio/console-jobs{p}", app.base);
    let get = |p: &str| app.client.get(url(p)).bearer_auth(&token).send();
    let view: serde_json::Value = get("/jobs").await.unwrap().json().await.unwrap();
    let jobs = view["jobs"].as_array().unwrap();
    let local = jobs.iter().find(|j| j["kind"] == PUBLISH_LOCAL).unwrap();
    assert_eq!((local["state"].as_str(), local["progress"].as_f64()), (Some("done"), Some(1.0)), "{view:#}");
    assert_eq!(view["published"]["local"], "/r/console-jobs");

    // Without the token, with another session's token, or for another session's job: refused.
    let anon = app.client.get(url("/jobs")).send().await.unwrap();
    assert_eq!(anon.status(), 401);
    let other_token = app.db.studio_token(other).await.unwrap();
    let wrong = app.client.get(url("/jobs")).bearer_auth(&other_token).send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let foreign =
        app.client.post(url(&format!("/jobs/{}/retry", failing.id))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(foreign.status(), 404, "a job of another session");
    let nonsense = app.client.post(url("/jobs/abc/retry")).bearer_auth(&token).send().await.unwrap();
    assert!(nonsense.status().is_client_error());

    // The failed job of the other session, seen from its own console: reason shown, retried by the button.
    let other_url = |p: &str| format!("{}/api/studio/console-other{p}", app.base);
    let v: serde_json::Value =
        app.client.get(other_url("/jobs")).bearer_auth(&other_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["jobs"][0]["state"], "failed");
    assert!(v["jobs"][0]["last_error"].as_str().unwrap().contains("cannot read media"), "{v:#}");
    let retried = app
        .client
        .post(other_url(&format!("/jobs/{}/retry", failing.id)))
        .bearer_auth(&other_token)
        .send()
        .await
        .unwrap();
    assert_eq!(retried.status(), 200);
    let retried: serde_json::Value = retried.json().await.unwrap();
    assert_eq!((retried["state"].as_str(), retried["attempts"].as_i64()), (Some("queued"), Some(0)));

    // Trim points: hostile values refused with 422 and nothing stored; good ones stored and the job re-queued.
    for bad in [
        serde_json::json!({"in_ms": -5, "out_ms": null}),
        serde_json::json!({"in_ms": 3000, "out_ms": 2000}),
        serde_json::json!({"in_ms": 9000, "out_ms": null}),
    ] {
        let r = app.client.post(url("/trim")).bearer_auth(&token).json(&bad).send().await.unwrap();
        assert_eq!(r.status(), 422, "{bad}");
    }
    for bad in [r#"{"in_ms": "1:00"}"#, r#"{"in_ms": 1, "evil": 1}"#, "[]", "{"] {
        let r = app
            .client
            .post(url("/trim"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(bad)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{bad}: {}", r.status());
    }
    assert_eq!(app.db.trim(sid).await.unwrap(), None, "nothing stored");
    let r = app.client.post(url("/trim")).bearer_auth(&token).json(&serde_json::json!({"in_ms": 1000, "out_ms": 3000}));
    let v: serde_json::Value = r.send().await.unwrap().json().await.unwrap();
    assert_eq!(v["trim"], serde_json::json!({"in_ms": 1000, "out_ms": 3000}));
    assert_eq!(v["jobs"].as_array().unwrap().iter().find(|j| j["kind"] == PUBLISH_LOCAL).unwrap()["state"], "queued");
    w.run_until_idle().await.unwrap();
    let p = app.db.publication(sid, "local").await.unwrap().unwrap();
    assert!((p.manifest["duration_ms"].as_i64().unwrap() - 2000).abs() < 300, "{}", p.manifest["duration_ms"]);
    let r = app.client.post(url("/trim")).bearer_auth(&token).json(&serde_json::Value::Null).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(app.db.trim(sid).await.unwrap(), None, "cleared");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_chromium_the_console_shows_a_failed_job_retries_it_and_saves_trim_points_by_keyboard() {
    let app = support::spawn_app_with(|c| c.publish.worker = false).await;
    let sid = session(&app.db, "console-browser").await;
    let broken = app.config.recordings_dir().join("broken.mp4");
    std::fs::write(&broken, b"not a video").unwrap();
    app.db.add_recording(sid, &broken.to_string_lossy(), 8000).await.unwrap();
    let w = Worker::start(app.db.clone(), Arc::new(app.config.clone())).await.unwrap();
    let job = w.enqueue(sid, PUBLISH_LOCAL).await.unwrap();
    w.run_until_idle().await.unwrap();
    let token = app.db.studio_token(sid).await.unwrap();
    let v = support::browser_script("studio_jobs.mjs", vec![app.base.clone(), "console-browser".into(), token]).await;
    assert!(v.get("error").is_none(), "{v:#}");
    let row = &v["before"][0];
    assert_eq!(row["job"], "Stadtseite / town site");
    assert!(row["state"].as_str().unwrap().starts_with("fehlgeschlagen / failed"), "{v:#}");
    assert!(row["error"].as_str().unwrap().contains("cannot read media"), "{v:#}");
    assert!(v["after_retry"][0]["state"].as_str().unwrap().starts_with("wartet / queued"), "{v:#}");
    assert_eq!(app.db.job(job.id).await.unwrap().unwrap().attempts, 0, "the button re-queued the same job");
    assert_eq!(v["labels"], serde_json::json!(["trim-in", "trim-out"]), "labelled fields");
    assert_eq!(app.db.trim(sid).await.unwrap(), Some((1000, Some(3000))), "{v:#}");
}
