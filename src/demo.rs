//! `citizenhour demo`: one complete citizen hour on the embedded defaults, on real parts —
//! questions over HTTP and e-mail, a live mix with lower thirds and chapters, a crash-safe recording,
//! and the published recording on the local site.

use crate::app::{self, App, AppError};
use crate::config::Config;
use crate::domain::{QuestionStatus, SessionState, Slug};
use crate::media::layout::Layouts;
use crate::media::mixer::{ProgramHandle, ProgramSettings};
use crate::media::outputs::OutputSpec;
use crate::media::samples::{ClipSpec, ensure_clip};
use crate::media::sources::SourceSpec;
use crate::storage::NewSession;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const DEMO_SLUG: &str = "demo-buergersprechstunde";
pub const HOST_NAME: &str = "Dr. Anna Beispiel";
pub const HOST_TITLE: &str = "Bürgermeisterin";

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub samples_dir: PathBuf,
    pub exit_after_publish: bool,
    /// How long each question stays on air.
    pub seconds_per_question: u64,
}

fn step(n: usize, total: usize, what: &str) {
    println!("[{n}/{total}] {what}");
    let _ = std::io::stdout().flush();
}

/// The session slug: the demo's own, or a numbered one when an earlier demo used it in this data dir.
async fn fresh_slug(app: &App) -> Result<Slug, AppError> {
    for n in 1.. {
        let candidate = if n == 1 { DEMO_SLUG.to_owned() } else { format!("{DEMO_SLUG}-{n}") };
        if app.state().db.session_by_slug(&candidate).await.is_err() {
            return Slug::parse(&candidate).map_err(|e| AppError::Invalid(e.to_string()));
        }
    }
    unreachable!()
}

pub async fn run(config: Config, opts: DemoOptions) -> Result<(), AppError> {
    let app = App::build(config).await?;
    let slug = fresh_slug(&app).await?;
    let state = app.state().clone();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stop_rx.await;
    }));
    println!("citizenhour demo — {}", state.config.public_url());
    let result = walk(&state, &slug, &opts).await;
    let outcome = match result {
        Ok(url) => {
            println!("\nFertig / done. Aufzeichnung mit Kapiteln / recording with chapters:\n  {url}");
            if !opts.exit_after_publish {
                println!("Der Server läuft weiter; Strg-C beendet ihn. / Serving until Ctrl-C.");
                app::shutdown_signal().await;
            }
            Ok(())
        }
        Err(e) => Err(e),
    };
    let _ = stop_tx.send(());
    match server.await {
        Ok(r) => r?,
        Err(e) => return Err(AppError::Invalid(format!("server task: {e}"))),
    }
    outcome
}

async fn walk(state: &crate::web::AppState, slug: &Slug, opts: &DemoOptions) -> Result<String, AppError> {
    const TOTAL: usize = 6;
    let db = &state.db;
    let config = &state.config;
    let base = config.public_url();

    step(1, TOTAL, "Sprechstunde anlegen / creating the session");
    let session = db
        .create_session(&NewSession {
            slug: slug.clone(),
            title: format!("Bürgersprechstunde mit {HOST_NAME}"),
            host_name: HOST_NAME.into(),
            host_title: HOST_TITLE.into(),
            scheduled_at: chrono::Utc::now(),
            intake_opens_at: None,
            intake_closes_at: None,
        })
        .await?;
    println!("      {base}/s/{slug}");

    step(2, TOTAL, "Fragen über das Web-Formular-API und per E-Mail / questions via HTTP and e-mail");
    let questions_file = opts.samples_dir.join("questions.json");
    let text = std::fs::read_to_string(&questions_file)
        .map_err(|e| AppError::Io { path: questions_file.display().to_string(), source: e })?;
    let samples: Vec<serde_json::Value> =
        serde_json::from_str(&text).map_err(|e| AppError::Invalid(format!("{}: {e}", questions_file.display())))?;
    let http = reqwest::Client::new();
    for q in &samples {
        let resp = http
            .post(format!("{base}/api/sessions/{slug}/questions"))
            .json(q)
            .send()
            .await
            .map_err(|e| AppError::Invalid(format!("question POST: {e}")))?;
        if resp.status() != reqwest::StatusCode::CREATED {
            let status = resp.status();
            let body = resp.text().await.unwrap_or_default();
            return Err(AppError::Invalid(format!("question POST answered {status}: {body}")));
        }
    }
    println!("      {} Fragen über HTTP / questions over HTTP", samples.len());
    let mut mails = 0;
    for path in eml_files(&opts.samples_dir)? {
        let raw = std::fs::read(&path).map_err(|e| AppError::Io { path: path.display().to_string(), source: e })?;
        match crate::intake::parse_email(&raw, &config.intake.mailbox_local_part) {
            // Mails addressed to the demo session (by plus-address or subject code) go to this run's session.
            Ok(mail) if mail.route.as_deref() == Some(DEMO_SLUG) => {
                match mail.to_draft(config.intake.max_question_chars) {
                    Ok(draft) => {
                        db.add_question(session.id, &draft).await?;
                        mails += 1;
                    }
                    Err(e) => println!("      {}: übersprungen / skipped: {e}", path.display()),
                }
            }
            Ok(_) => println!("      {}: keine passende Sitzung / no matching session", path.display()),
            Err(e) => println!("      {}: übersprungen / skipped: {e}", path.display()),
        }
    }
    println!("      {mails} Fragen per E-Mail / questions by e-mail");

    step(3, TOTAL, "Moderation: Fragen freigeben / approving questions");
    let pending = db.questions(session.id, Some(QuestionStatus::Pending)).await?;
    for q in &pending {
        db.set_question_status(q.id, QuestionStatus::Approved).await?;
    }
    let approved = db.questions(session.id, Some(QuestionStatus::Approved)).await?;
    println!("      {} freigegeben / approved", approved.len());

    step(4, TOTAL, "Beispielclips erzeugen / preparing sample sources (espeak-ng)");
    let per_q = Duration::from_secs(opts.seconds_per_question.max(3));
    let intro = Duration::from_secs(3);
    let outro = Duration::from_secs(2);
    let live_len = intro + per_q * approved.len() as u32 + outro;
    let m = &config.media;
    let clip_dir = config.storage.data_dir.join("samples");
    let (cw, ch) = (even(m.width / 2), even(m.height / 2));
    let host_speech = "Guten Tag und herzlich willkommen zur Bürgersprechstunde. Ich beantworte heute Ihre Fragen. \
        Das ist eine gute Frage, vielen Dank dafür. Wir kümmern uns darum und berichten im Stadtrat. \
        Die nächste Frage bitte. Vielen Dank für Ihre Geduld und auf Wiedersehen.";
    let guest_speech = approved.iter().map(|q| q.text.as_str().to_owned()).collect::<Vec<_>>().join(" ");
    let specs = [
        ("host", format!("{HOST_NAME} · {HOST_TITLE}"), host_speech.to_owned(), "smpte"),
        ("guest", "Bürgerin / Bürger".to_owned(), guest_speech, "ball"),
    ];
    let mut sources = Vec::new();
    for (id, label, speech, pattern) in specs {
        let spec = ClipSpec {
            label,
            speech,
            voice: "de".into(),
            min_length: live_len + Duration::from_secs(1),
            width: cw,
            height: ch,
            fps: m.fps,
            pattern: pattern.into(),
        };
        let path = clip_dir.join(format!("{id}.mp4"));
        let spec2 = spec.clone();
        let path2 = path.clone();
        let len = tokio::task::spawn_blocking(move || ensure_clip(&spec2, &path2))
            .await
            .map_err(|e| AppError::Invalid(format!("sample task: {e}")))??;
        println!("      {id}: {} ({:.1} s)", path.display(), len.as_secs_f64());
        sources.push(SourceSpec::File { id: id.into(), path });
    }

    step(5, TOTAL, "Live: Mischung, Bauchbinde, Kapitel, Aufzeichnung / live mix, lower third, chapters, recording");
    let layouts = Layouts::builtin();
    let layout = layouts.get("side-by-side").cloned().expect("built-in layout");
    let mut settings = ProgramSettings::from_config(m, layout, format!("{HOST_NAME} · {HOST_TITLE}"));
    settings.logo = config.town.logo_path().or_else(|| {
        let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/logo.png");
        sample.is_file().then_some(sample)
    });
    let recording = config.recordings_dir().join(format!("{slug}-{}.mp4", chrono::Utc::now().format("%Y%m%dT%H%M%S")));
    let outputs = [OutputSpec::Recording { path: recording.clone() }];
    let program = ProgramHandle::start(settings, &sources, &outputs)?;
    db.set_session_state(session.id, SessionState::Live).await?;
    tokio::time::sleep(intro).await;
    for (i, q) in approved.iter().enumerate() {
        let at = program.show_question(&q.text.headline(140), q.display_name());
        db.mark_answered(q.id, at.as_millis() as i64).await?;
        println!(
            "      Frage {}/{} bei / at {}: {}",
            i + 1,
            approved.len(),
            crate::domain::chapter::clock(at.as_millis() as i64),
            q.text.headline(60)
        );
        tokio::time::sleep(per_q).await;
    }
    program.clear_question();
    tokio::time::sleep(outro).await;
    let report = tokio::task::spawn_blocking(move || program.end(Duration::from_secs(20)))
        .await
        .map_err(|e| AppError::Invalid(format!("end task: {e}")))??;
    db.set_session_state(session.id, SessionState::Ended).await?;
    db.add_recording(session.id, &recording.to_string_lossy(), report.duration.as_millis() as i64).await?;
    println!("      {} ({:.1} s)", recording.display(), report.duration.as_secs_f64());

    step(6, TOTAL, "Veröffentlichen: HLS-Leiter, MP4, Vorschaubild, Kapitel, Ziele, Mails / publishing");
    let started = std::time::Instant::now();
    // The durable jobs, as after a real session: render + local site, then the configured targets and the
    // answer notices. Worked off here (the server's own worker may take some of them; claiming is atomic).
    let worker = crate::worker::Worker::start(db.clone(), config.clone()).await?;
    worker.enqueue(session.id, crate::worker::PUBLISH_LOCAL).await?;
    let mut shown = std::collections::HashMap::<String, String>::new();
    loop {
        worker.run_until_idle().await?;
        let jobs = db.jobs(Some(session.id)).await?;
        for j in &jobs {
            let line = match j.state {
                crate::storage::JobState::Done => "fertig / done".to_owned(),
                crate::storage::JobState::Failed => {
                    format!("fehlgeschlagen / failed: {}", j.last_error.clone().unwrap_or_default())
                }
                s => format!("{} {:3.0} %", s.as_str(), j.progress * 100.0),
            };
            if shown.get(&j.kind) != Some(&line) {
                println!("      {:<16} {line}", j.kind);
                shown.insert(j.kind.clone(), line);
            }
        }
        let now = chrono::Utc::now();
        let settled = jobs.iter().all(|j| match j.state {
            crate::storage::JobState::Done | crate::storage::JobState::Failed => true,
            // Waiting for a backoff or a quota reset: not for the demo to sit out.
            crate::storage::JobState::Queued => j.retry_at > now + chrono::Duration::seconds(5),
            crate::storage::JobState::Running => false,
        });
        if settled {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let manifest = db
        .publication(session.id, "local")
        .await?
        .and_then(|p| serde_json::from_value::<crate::publish::local::LocalManifest>(p.manifest).ok())
        .ok_or_else(|| AppError::Invalid("the recording was not published".into()))?;
    println!(
        "      {} Varianten / variants, {} Kapitel / chapters, {:.1} s",
        manifest.variants.len(),
        manifest.chapters.len(),
        started.elapsed().as_secs_f64()
    );
    for target in ["s3", "youtube"] {
        if let Some(p) = db.publication(session.id, target).await? {
            let at = p.manifest["index"].as_str().or(p.manifest["watch_url"].as_str()).unwrap_or_default().to_owned();
            println!("      {target}: {at}");
        }
    }
    Ok(format!("{base}/r/{slug}"))
}

fn even(v: u32) -> u32 {
    (v / 2 * 2).max(64)
}

fn eml_files(dir: &Path) -> Result<Vec<PathBuf>, AppError> {
    let rd = std::fs::read_dir(dir).map_err(|e| AppError::Io { path: dir.display().to_string(), source: e })?;
    let mut v: Vec<PathBuf> =
        rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect();
    v.sort();
    Ok(v)
}
