//! Publishing to S3-compatible storage against a real Garage server on 127.0.0.1: every file with its type and
//! cache policy, ranged GETs, a re-render replacing the old version, a worker killed mid-multipart resuming
//! with at most one part sent again, and bad credentials failing clearly and retried from the CLI.

mod support;

use aws_sdk_s3::Client;
use citizenhour::config::Config;
use citizenhour::domain::SessionState;
use citizenhour::publish::s3::{S3Publisher, kind_of};
use citizenhour::storage::{Db, JobState};
use citizenhour::worker::{PUBLISH_LOCAL, PUBLISH_S3, Worker};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::services::{CountingProxy, Garage};

async fn setup(dir: &Path, s3: citizenhour::config::S3Config) -> (Config, Db) {
    let mut config = Config::default();
    config.storage.data_dir = dir.join("data");
    config.publish.s3 = Some(s3);
    std::fs::create_dir_all(config.site_dir().join("recordings")).unwrap();
    std::fs::create_dir_all(config.recordings_dir()).unwrap();
    let db = Db::connect(&config.database_url()).await.unwrap();
    (config, db)
}

/// An ended session with an ffmpeg recording, three answered questions, publishing to S3.
async fn ended_session(
    db: &Db,
    config: &Config,
    slug: &str,
    seconds: u32,
    kbit: u32,
) -> citizenhour::domain::SessionId {
    let id = db.create_session(&support::new_session(slug, None)).await.unwrap().id;
    db.set_session_state(id, SessionState::Live).await.unwrap();
    db.set_session_state(id, SessionState::Ended).await.unwrap();
    db.set_publish_targets(id, Some(&["s3".to_owned()])).await.unwrap();
    let rec = config.recordings_dir().join(format!("{slug}.mp4"));
    let r = rec.clone();
    tokio::task::spawn_blocking(move || support::ffmpeg_recording(&r, seconds, 1280, 720, kbit)).await.unwrap();
    db.add_recording(id, &rec.to_string_lossy(), seconds as i64 * 1000).await.unwrap();
    let step = seconds as i64 * 1000 / 4;
    support::answered_questions(
        db,
        id,
        &[("Wann kommt der Radweg?", step, None, None), ("Was kostet das Bad?", 2 * step, None, None)],
    )
    .await;
    id
}

fn local_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().to_string();
                if rel != "manifest.json" {
                    out.push((rel, p));
                }
            }
        }
    }
    out.sort();
    out
}

async fn keys(client: &Client, bucket: &str, prefix: &str) -> Vec<String> {
    let out = client.list_objects_v2().bucket(bucket).prefix(prefix).send().await.unwrap();
    let mut v: Vec<String> = out.contents().iter().filter_map(|o| o.key().map(str::to_owned)).collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publication_lands_in_garage_typed_cached_rangeable_and_a_rerender_replaces_it() {
    let _ = tracing_subscriber::fmt().with_env_filter("citizenhour=debug,aws=warn").try_init();
    let dir = tempfile::tempdir().unwrap();
    let garage = Garage::start(&dir.path().join("garage"));
    let (config, db) = setup(dir.path(), garage.config(None)).await;
    let config = Arc::new(config);
    let sid = ended_session(&db, &config, "s3-stadt", 8, 2000).await;
    let w = Worker::start(db.clone(), config.clone()).await.unwrap();
    w.enqueue(sid, PUBLISH_LOCAL).await.unwrap();
    w.run_until_idle().await.unwrap();
    let job = db.job_by_kind(sid, PUBLISH_S3).await.unwrap().expect("queued after the local publication");
    assert_eq!(job.state, JobState::Done, "{:?}", job.last_error);

    let client = S3Publisher::new(config.publish.s3.as_ref().unwrap()).client().clone();
    let bucket = &garage.bucket;
    let index_key = "recordings/s3-stadt/index.json";
    let index = client.get_object().bucket(bucket).key(index_key).send().await.unwrap();
    assert_eq!(index.content_type(), Some("application/json"));
    assert_eq!(index.cache_control(), Some("public, max-age=60"));
    let index: serde_json::Value = serde_json::from_slice(&index.body.collect().await.unwrap().to_vec()).unwrap();
    let version = db.publication(sid, "s3").await.unwrap().unwrap().manifest["version"].as_str().unwrap().to_owned();
    let base = format!("https://cdn.musterstadt.example/recordings/s3-stadt/{version}/");
    assert_eq!(index["master_playlist"], format!("{base}hls/master.m3u8"));
    assert_eq!(index["mp4"], format!("{base}download.mp4"));
    assert_eq!(index["chapters"].as_array().unwrap().len(), 2);

    // Every local file, byte for byte in size, with its type and cache policy.
    let local_dir = config.site_dir().join("recordings/s3-stadt");
    let local = local_files(&local_dir);
    let prefix = format!("recordings/s3-stadt/{version}/");
    let stored = keys(&client, bucket, &prefix).await;
    assert_eq!(stored, local.iter().map(|(rel, _)| format!("{prefix}{rel}")).collect::<Vec<_>>());
    assert!(local.iter().any(|(r, _)| r.ends_with(".ts")) && local.len() > 10, "{local:?}");
    for (rel, path) in &local {
        let head = client.head_object().bucket(bucket).key(format!("{prefix}{rel}")).send().await.unwrap();
        let (ctype, cache) = kind_of(rel);
        assert_eq!(head.content_length(), Some(std::fs::metadata(path).unwrap().len() as i64), "{rel}");
        assert_eq!(head.content_type(), Some(ctype), "{rel}");
        assert_eq!(head.cache_control(), Some(cache), "{rel}");
    }
    assert_eq!(kind_of("x.ts").1, "public, max-age=31536000, immutable");
    // A ranged GET, as players and download managers do.
    let mp4 = std::fs::read(local_dir.join("download.mp4")).unwrap();
    let ranged = client.get_object().bucket(bucket).key(format!("{prefix}download.mp4")).range("bytes=1000-1999");
    let ranged = ranged.send().await.unwrap();
    assert_eq!(ranged.content_range(), Some(format!("bytes 1000-1999/{}", mp4.len()).as_str()));
    assert_eq!(ranged.body.collect().await.unwrap().to_vec(), mp4[1000..2000]);

    // New trim points: a new render, a new version; index.json switches and the old version is gone.
    db.set_trim(sid, Some((2000, None))).await.unwrap();
    db.retry_job(db.job_by_kind(sid, PUBLISH_LOCAL).await.unwrap().unwrap().id).await.unwrap();
    w.run_until_idle().await.unwrap();
    let p = db.publication(sid, "s3").await.unwrap().unwrap();
    let v2 = p.manifest["version"].as_str().unwrap().to_owned();
    assert_ne!(v2, version);
    let all = keys(&client, bucket, "recordings/s3-stadt/").await;
    assert!(all.iter().all(|k| k == index_key || k.contains(&v2)), "old version left: {all:?}");
    assert_eq!(all.len(), local_files(&local_dir).len() + 1);
    let index = client.get_object().bucket(bucket).key(index_key).send().await.unwrap();
    let index: serde_json::Value = serde_json::from_slice(&index.body.collect().await.unwrap().to_vec()).unwrap();
    assert!(index["mp4"].as_str().unwrap().contains(&v2));
    assert!((index["duration_ms"].as_i64().unwrap() - 6000).abs() < 400, "{}", index["duration_ms"]);
    assert_eq!(db.jobs(Some(sid)).await.unwrap().iter().filter(|j| j.kind == PUBLISH_S3).count(), 1);
}

fn worker_process(config: &Config, garage: &Garage, endpoint: String, log: &Path) -> std::process::Child {
    support::worker_process(&config.storage.data_dir, garage.env(Some(endpoint)), log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_multipart_upload_resumes_with_at_most_one_part_sent_again() {
    let _ = tracing_subscriber::fmt().with_env_filter("citizenhour=info").try_init();
    let dir = tempfile::tempdir().unwrap();
    let garage = Garage::start(&dir.path().join("garage"));
    let (config, db) = setup(dir.path(), garage.config(None)).await;
    let config = Arc::new(config);
    // 12 s at 12 Mbit/s: an 18 MB MP4 and 6 MB segments — multipart uploads with 5 MiB parts.
    let sid = ended_session(&db, &config, "s3-crash", 12, 12_000).await;
    let w = Worker::start(db.clone(), config.clone()).await.unwrap();
    w.enqueue(sid, PUBLISH_LOCAL).await.unwrap();
    assert!(w.run_one().await.unwrap(), "publish_local ran");
    let job = db.job_by_kind(sid, PUBLISH_S3).await.unwrap().expect("S3 job queued");
    assert_eq!(job.state, JobState::Queued);
    let local = local_files(&config.site_dir().join("recordings/s3-crash"));
    let payload: u64 = local.iter().map(|(_, p)| std::fs::metadata(p).unwrap().len()).sum();
    let mp4_len = std::fs::metadata(config.site_dir().join("recordings/s3-crash/download.mp4")).unwrap().len();
    assert!(mp4_len > 3 * 5 * 1024 * 1024, "MP4 of {mp4_len} bytes needs ≥ 4 parts");

    // Uploads go through a counting proxy, throttled to 6 MB/s so the kill lands mid-file.
    let proxy = CountingProxy::start(format!("127.0.0.1:{}", garage.port), 6_000_000).await;
    let endpoint = format!("http://127.0.0.1:{}", proxy.port);
    let log = dir.path().join("worker1.log");
    let mut child = worker_process(&config, &garage, endpoint.clone(), &log);
    let deadline = Instant::now() + Duration::from_secs(90);
    let parts_before_kill = loop {
        let j = db.job(job.id).await.unwrap().unwrap();
        let parts = j.checkpoint["multipart"]["parts"].as_array().map(|p| p.len()).unwrap_or(0);
        if parts >= 2 {
            break parts;
        }
        assert!(j.state != JobState::Done, "finished before the kill; slow the proxy down");
        assert!(Instant::now() < deadline, "no multipart progress: {}", std::fs::read_to_string(&log).unwrap());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let sent_before = proxy.sent();
    let in_flight = db.job(job.id).await.unwrap().unwrap();
    assert_eq!(in_flight.state, JobState::Running, "killed while running");
    assert!(in_flight.checkpoint["multipart"]["upload_id"].as_str().is_some_and(|u| !u.is_empty()));

    // A new worker process picks the job up and continues the same multipart upload.
    let log2 = dir.path().join("worker2.log");
    let mut child = worker_process(&config, &garage, endpoint, &log2);
    support::wait_for_job_done(&db, job.id, Duration::from_secs(120), &log2).await;
    support::terminate(&mut child);
    let worker2 = std::fs::read_to_string(&log2).unwrap();
    assert!(worker2.contains("resuming jobs interrupted"), "{worker2}");

    // One object per file, no multipart upload left open, the MP4 intact.
    let client = S3Publisher::new(&garage.config(None)).client().clone();
    let version = db.publication(sid, "s3").await.unwrap().unwrap().manifest["version"].as_str().unwrap().to_owned();
    let prefix = format!("recordings/s3-crash/{version}/");
    let stored = keys(&client, &garage.bucket, &prefix).await;
    assert_eq!(stored.len(), local.len());
    let open = client.list_multipart_uploads().bucket(&garage.bucket).send().await.unwrap();
    assert!(open.uploads().is_empty(), "uploads left open: {:?}", open.uploads());
    let got = client.get_object().bucket(&garage.bucket).key(format!("{prefix}download.mp4")).send().await.unwrap();
    let got = got.body.collect().await.unwrap().to_vec();
    let want = std::fs::read(config.site_dir().join("recordings/s3-crash/download.mp4")).unwrap();
    assert!(got == want, "MP4 differs after the resumed upload");
    let after = db.job(job.id).await.unwrap().unwrap();

    // What went over the wire, both workers together: the files once, plus at most the part in flight at the
    // kill, plus HTTP/XML overhead (< 1 %).
    let total = proxy.sent();
    let part = 5 * 1024 * 1024;
    let overhead = payload / 100 + 256 * 1024;
    eprintln!(
        "S3 resume: payload {payload} B, sent {total} B ({sent_before} before the kill with {parts_before_kill} parts \
         recorded), re-sent ≤ {} B",
        total.saturating_sub(payload)
    );
    assert!(total <= payload + part + overhead, "sent {total} for {payload} (+ one part {part})");
    assert!(total >= payload, "sent {total} < payload {payload}?");
    assert_eq!(after.checkpoint["done"].as_array().unwrap().len(), local.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_fail_clearly_and_a_cli_retry_after_fixing_them_publishes() {
    let _ = tracing_subscriber::fmt().with_env_filter("citizenhour=info").try_init();
    let dir = tempfile::tempdir().unwrap();
    let garage = Garage::start(&dir.path().join("garage"));
    let mut bad = garage.config(None);
    bad.secret_access_key = Some("0".repeat(64).into());
    let (config, db) = setup(dir.path(), bad).await;
    let sid = ended_session(&db, &config, "s3-auth", 4, 1000).await;
    let w = Worker::start(db.clone(), Arc::new(config.clone())).await.unwrap();
    w.enqueue(sid, PUBLISH_LOCAL).await.unwrap();
    w.run_until_idle().await.unwrap();
    let job = db.job_by_kind(sid, PUBLISH_S3).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Failed, "a signature error is permanent: no retry loop");
    assert_eq!(job.attempts, 1);
    let reason = job.last_error.clone().unwrap();
    assert!(reason.starts_with("s3: PutObject: "), "{reason}");
    assert!(reason.contains("AccessDenied") || reason.contains("Signature"), "{reason}");
    assert!(!reason.contains(&"0".repeat(64)), "no secret in the reason");
    assert!(db.publication(sid, "s3").await.unwrap().is_none());

    // Staff fix the secret and retry from the CLI.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_citizenhour"))
        .args(["jobs", "retry", &job.id.to_string()])
        .env("CITIZENHOUR__STORAGE__DATA_DIR", &config.storage.data_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut fixed = config.clone();
    fixed.publish.s3 = Some(garage.config(None));
    let w = Worker::start(db.clone(), Arc::new(fixed)).await.unwrap();
    w.run_until_idle().await.unwrap();
    let job = db.job(job.id).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Done, "{:?}", job.last_error);
    assert!(db.publication(sid, "s3").await.unwrap().is_some());
}
