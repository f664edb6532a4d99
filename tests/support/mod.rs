//! Test helpers: the real app on 127.0.0.1:0 with a fresh database and data dir, and media probes.
#![allow(dead_code)]

pub mod probe;
pub mod services;
pub mod staff;
pub mod youtube;

use citizenhour::app::App;
use citizenhour::config::Config;
use citizenhour::domain::{Session, Slug};
use citizenhour::storage::{Db, NewSession};
use std::net::SocketAddr;

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub db: Db,
    pub config: Config,
    pub dir: tempfile::TempDir,
    pub client: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// A small live program for media tests: 320×180@30, side by side, 1 s fragments.
pub fn small_program_settings() -> citizenhour::media::mixer::ProgramSettings {
    citizenhour::media::mixer::ProgramSettings {
        width: 320,
        height: 180,
        fps: 30,
        video_bitrate_kbit: 400,
        audio_bitrate: 64_000,
        fragment: std::time::Duration::from_secs(1),
        layout: citizenhour::media::layout::Layouts::builtin().get("side-by-side").unwrap().clone(),
        host_line: "Anna Beispiel · Bürgermeisterin".into(),
        logo: None,
        stall_timeout: std::time::Duration::from_secs(2),
        loudness_target_lufs: Some(-16.0),
        iso_dir: None,
    }
}

/// A session starting now with Anna Beispiel as host; the question intake closes at `closes`.
pub fn new_session(slug: &str, closes: Option<chrono::DateTime<chrono::Utc>>) -> NewSession {
    NewSession {
        slug: Slug::parse(slug).unwrap(),
        title: format!("Bürgersprechstunde {slug}"),
        host_name: "Anna Beispiel".into(),
        host_title: "Bürgermeisterin".into(),
        scheduled_at: chrono::Utc::now(),
        intake_opens_at: None,
        intake_closes_at: closes,
    }
}

/// Starts the real app on port 0 with a fresh temporary database and data dir.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::default();
    config.server.bind = "127.0.0.1:0".into();
    config.storage.data_dir = dir.path().join("data");
    adjust(&mut config);
    let app = App::build(config).await.expect("app builds");
    let addr = app.addr();
    let db = app.state().db.clone();
    let config = (*app.state().config).clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    TestApp {
        addr,
        base: format!("http://{addr}"),
        db,
        config,
        dir,
        client: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
        stop: Some(tx),
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

impl TestApp {
    pub async fn create_session(&self, slug: &str) -> Session {
        self.create_session_closing(slug, None).await
    }

    pub async fn create_session_closing(&self, slug: &str, closes: Option<chrono::DateTime<chrono::Utc>>) -> Session {
        self.db.create_session(&new_session(slug, closes)).await.unwrap()
    }

    pub async fn post_question_json(&self, slug: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client.post(format!("{}/api/sessions/{slug}/questions", self.base)).json(body).send().await.unwrap()
    }

    pub async fn post_question_raw(&self, slug: &str, content_type: &str, body: Vec<u8>) -> reqwest::Response {
        self.client
            .post(format!("{}/api/sessions/{slug}/questions", self.base))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_form(&self, slug: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client.post(format!("{}/s/{slug}/fragen", self.base)).form(fields).send().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).send().await.unwrap()
    }

    pub async fn question_count(&self, session: &Session) -> i64 {
        self.db.count_questions(session.id).await.unwrap()
    }
}

/// A recording like the live program writes (H.264 with a key frame every second + AAC in MP4), made by ffmpeg:
/// `seconds` of a moving test pattern at `width`×`height`, `kbit` video bitrate.
pub fn ffmpeg_recording(path: &std::path::Path, seconds: u32, width: u32, height: u32, kbit: u32) {
    let st = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc2=size={width}x{height}:rate=30"))
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t"])
        .arg(seconds.to_string())
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-bf", "0", "-pix_fmt", "yuv420p"])
        .args(["-b:v", &format!("{kbit}k"), "-maxrate", &format!("{kbit}k"), "-bufsize", &format!("{kbit}k")])
        .args(["-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart"])
        .arg(path)
        .status()
        .expect("ffmpeg runs");
    assert!(st.success(), "ffmpeg made no recording");
}

/// Adds approved and answered questions at the given recording times (ms).
/// `(text, answered at ms, e-mail, language)`
pub async fn answered_questions(
    db: &Db,
    session: citizenhour::domain::SessionId,
    answers: &[(&str, i64, Option<&str>, Option<&str>)],
) {
    use citizenhour::domain::{QuestionDraft, QuestionOrigin, QuestionStatus, QuestionText};
    for (text, at_ms, email, language) in answers {
        let q = db
            .add_question(
                session,
                &QuestionDraft {
                    text: QuestionText::parse(text, 1500).unwrap(),
                    author_name: Some("Erika Muster".into()),
                    email: email.map(str::to_owned),
                    show_name: false,
                    origin: QuestionOrigin::Web,
                    language: language.map(str::to_owned),
                    intake_note: None,
                },
            )
            .await
            .unwrap();
        db.set_question_status(q.id, QuestionStatus::Approved).await.unwrap();
        db.mark_answered(q.id, *at_ms).await.unwrap();
    }
}

/// `citizenhour worker` as its own process on `data_dir` with extra environment (a process the tests can
/// SIGKILL); stderr goes to `log`.
pub fn worker_process(
    data_dir: &std::path::Path,
    envs: Vec<(String, String)>,
    log: &std::path::Path,
) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_citizenhour"))
        .arg("worker")
        .env("CITIZENHOUR__STORAGE__DATA_DIR", data_dir)
        .env("RUST_LOG", "citizenhour=debug")
        .envs(envs)
        .stdout(std::fs::File::create(log.with_extension("out")).unwrap())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("worker starts")
}

/// Runs `tests/browser/{script}` with node on a blocking thread and returns the JSON summary it prints last.
pub async fn browser_script(script: &str, args: Vec<String>) -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser").join(script);
    let out = tokio::task::spawn_blocking(move || std::process::Command::new("node").arg(path).args(args).output())
        .await
        .unwrap()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or("{}"))
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)))
}

/// Polls job `id` until it is done (panics if it fails or `timeout` passes, showing `log`).
pub async fn wait_for_job_done(db: &Db, id: i64, timeout: std::time::Duration, log: &std::path::Path) {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let j = db.job(id).await.unwrap().unwrap();
        if j.state == citizenhour::storage::JobState::Done {
            return;
        }
        assert!(j.state != citizenhour::storage::JobState::Failed, "{:?}", j.last_error);
        assert!(std::time::Instant::now() < deadline, "not done: {}", std::fs::read_to_string(log).unwrap_or_default());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Stops a process gracefully (SIGTERM) and waits for it.
pub fn terminate(child: &mut std::process::Child) {
    let _ = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    child.wait().unwrap();
}

/// The decoded plain text of a raw mail (lettre may send quoted-printable or base64).
pub fn mail_text(raw: &[u8]) -> String {
    mail_parser::MessageParser::default().parse(raw).expect("a mail").body_text(0).unwrap_or_default().into_owned()
}
