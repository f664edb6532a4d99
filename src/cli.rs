//! The command line: `serve`, `demo`, `live`, `publish`, and the operator commands `session` and `questions`.
//! Every listing takes `--json`.

use crate::app::{self, App};
use crate::config::Config;
use crate::domain::{QuestionStatus, Slug};
use crate::storage::{Db, NewSession};
use crate::web::api::SessionView;
use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(name = "citizenhour", version, about = "Digitale Bürgersprechstunde — citizen hours, live and on demand")]
pub struct Cli {
    /// Configuration file (TOML); see deploy/config.example.toml.
    #[arg(long, global = true, env = "CITIZENHOUR_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web server.
    Serve,
    /// Run one complete citizen hour on the embedded defaults and publish it.
    Demo {
        /// Exit right after publishing (for scripts and tests) instead of serving until Ctrl-C.
        #[arg(long)]
        exit_after_publish: bool,
        /// Data directory (database, recordings, site).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Listen address (default 127.0.0.1:8080).
        #[arg(long)]
        bind: Option<String>,
        #[arg(long, default_value = "samples")]
        samples: PathBuf,
        /// Seconds each question stays on air.
        #[arg(long, default_value_t = 9)]
        seconds_per_question: u64,
        /// Program size, e.g. 1280x720.
        #[arg(long)]
        size: Option<String>,
    },
    /// Run a live program headless from the given sources into a recording.
    Live {
        /// `id=PATH` (a media file) or `id=test:PATTERN:HZ`; repeat. The first is the host.
        #[arg(long = "source", required = true)]
        sources: Vec<String>,
        /// Recording path (fragmented MP4).
        #[arg(long)]
        record: PathBuf,
        /// Stop after this many seconds.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long)]
        size: Option<String>,
        #[arg(long, default_value = "side-by-side")]
        layout: String,
        /// Lower-third line for the host.
        #[arg(long, default_value = "Live")]
        host_line: String,
        /// Also write live HLS into this directory.
        #[arg(long)]
        hls: Option<PathBuf>,
        /// Also push to this RTMP URL (with the stream key; never printed).
        #[arg(long, env = "CITIZENHOUR_LIVE_RTMP_URL", hide_env_values = true)]
        rtmp: Option<String>,
    },
    /// Render and publish a session's latest recording to the local site now (queues the durable job, or runs
    /// it again, and works it off here).
    Publish { slug: String },
    /// Run the publishing worker (jobs from the database) until Ctrl-C; `serve` runs one inside by default.
    Worker,
    /// The town mailbox (`[imap]`): take waiting mails once, or keep taking them until Ctrl-C.
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// Staff accounts (the first admin comes from here).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Publishing jobs: list them, retry one.
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Manage sessions.
    Session {
        #[command(subcommand)]
        command: SessionCommand,
    },
    /// Manage questions.
    Questions {
        #[command(subcommand)]
        command: QuestionsCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum JobsCommand {
    /// Every job (newest first) with state, attempts, progress and last error.
    List {
        /// Only this session's jobs.
        #[arg(long)]
        session: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Run a failed (or finished) job again now, with fresh attempts.
    Retry { id: i64 },
}

#[derive(Subcommand, Debug)]
pub enum SessionCommand {
    /// Create a session.
    Create {
        #[arg(long)]
        title: String,
        #[arg(long)]
        host: String,
        #[arg(long, default_value = "")]
        host_title: String,
        /// Start time, RFC 3339 (e.g. 2026-12-10T18:00:00+01:00).
        #[arg(long)]
        at: String,
        /// URL name; derived from the title if absent.
        #[arg(long)]
        slug: Option<String>,
        /// Question intake closes at (RFC 3339).
        #[arg(long)]
        intake_closes: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List sessions.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one session.
    Show {
        slug: String,
        #[arg(long)]
        json: bool,
    },
    /// Choose where this session's recording is published besides the local site (`s3`, `youtube`), e.g.
    /// `--set s3,youtube`, `--set ""` for the local site only, or `--default` for `[publish] targets`.
    Targets {
        slug: String,
        #[arg(long, conflicts_with = "default")]
        set: Option<String>,
        #[arg(long)]
        default: bool,
    },
    /// Set the in/out points of the session's recording (e.g. `--in 0:45 --out 58:10`; `h:mm:ss`, `m:ss` or
    /// seconds) or clear them; a published recording is rendered and published again.
    Trim {
        slug: String,
        #[arg(long = "in", value_parser = parse_clock)]
        start: Option<u64>,
        #[arg(long = "out", value_parser = parse_clock)]
        end: Option<u64>,
        #[arg(long, conflicts_with_all = ["start", "end"])]
        clear: bool,
    },
}

/// `h:mm:ss`, `m:ss`, `ss` (fractions allowed in the last part) → milliseconds.
pub fn parse_clock(s: &str) -> Result<u64, String> {
    let parts: Vec<&str> = s.trim().split(':').collect();
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(format!("{s:?} is not a time (h:mm:ss, m:ss or seconds)"));
    }
    let mut ms = 0f64;
    for (i, p) in parts.iter().enumerate() {
        let v: f64 = p.parse().map_err(|_| format!("{s:?} is not a time (h:mm:ss, m:ss or seconds)"))?;
        let last = i == parts.len() - 1;
        if v < 0.0 || !v.is_finite() || (!last && v.fract() != 0.0) || (i > 0 && v >= 60.0) {
            return Err(format!("{s:?} is not a time (h:mm:ss, m:ss or seconds)"));
        }
        ms = ms * 60.0 + v;
    }
    Ok((ms * 1000.0).round() as u64)
}

#[derive(Subcommand, Debug)]
pub enum MailCommand {
    /// Take every waiting mail once and print what became of them.
    Poll,
    /// Keep taking mail (IDLE where the server offers it) until Ctrl-C.
    Run,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a staff account. The password is read from standard input (one line, at least 12 characters), e.g.
    /// `citizenhour user add --email anna@musterstadt.de --name "Anna Beispiel" --role admin < password.txt`.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, moderator or host
        #[arg(long, default_value = "moderator")]
        role: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum QuestionsCommand {
    /// Import questions from JSON files (a list of {text, name, email, show_name}) and .eml files.
    Import {
        slug: String,
        files: Vec<PathBuf>,
        /// Approve what is imported.
        #[arg(long)]
        approve: bool,
        #[arg(long)]
        json: bool,
    },
    /// List a session's questions.
    List {
        slug: String,
        /// Only this status: pending, approved, rejected, answered.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

fn parse_size(s: &str) -> anyhow::Result<(u32, u32)> {
    let (w, h) = s.split_once('x').context("size must look like 1280x720")?;
    Ok((w.parse().context("width")?, h.parse().context("height")?))
}

fn parse_time(s: &str) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    Ok(chrono::DateTime::parse_from_rfc3339(s)
        .with_context(|| format!("{s:?} is not an RFC 3339 time like 2026-12-10T18:00:00+01:00"))?
        .with_timezone(&chrono::Utc))
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = Config::load(cli.config.as_deref())?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match cli.command {
        Command::Serve => rt.block_on(async {
            let app = App::build(config).await?;
            tracing::info!(addr = %app.addr(), "serving");
            println!("citizenhour: {}", app.state().config.public_url());
            app.run_until(app::shutdown_signal()).await?;
            Ok(())
        }),
        Command::Demo { exit_after_publish, data_dir, bind, samples, seconds_per_question, size } => {
            if let Some(d) = data_dir {
                config.storage.data_dir = d;
            }
            if let Some(b) = bind {
                config.server.bind = b;
            }
            if let Some(s) = size {
                (config.media.width, config.media.height) = parse_size(&s)?;
                config.validate()?;
            }
            crate::media::init()?;
            rt.block_on(crate::demo::run(
                config,
                crate::demo::DemoOptions { samples_dir: samples, exit_after_publish, seconds_per_question },
            ))?;
            Ok(())
        }
        Command::Live { sources, record, seconds, size, layout, host_line, hls, rtmp } => {
            use crate::media::{layout::Layouts, mixer::*, outputs::OutputSpec, sources::SourceSpec};
            if let Some(s) = size {
                (config.media.width, config.media.height) = parse_size(&s)?;
                config.validate()?;
            }
            let specs = sources
                .iter()
                .map(|s| SourceSpec::parse_cli(s))
                .collect::<Result<Vec<_>, _>>()
                .map_err(anyhow::Error::msg)?;
            let layouts = Layouts::builtin();
            let layout = layouts.get(&layout).cloned().with_context(|| {
                format!("unknown layout {layout:?}; known: {}", layouts.names().collect::<Vec<_>>().join(", "))
            })?;
            let m = &config.media;
            let mut outputs = vec![OutputSpec::Recording { path: record.clone() }];
            if let Some(dir) = hls {
                outputs.push(OutputSpec::LiveHls { dir, segment_seconds: 2 });
            }
            if let Some(url) = rtmp {
                outputs.push(OutputSpec::Rtmp { url: crate::media::outputs::RtmpUrl(url) });
            }
            let mut settings = ProgramSettings::from_config(m, layout, host_line);
            settings.logo = config.town.logo_path();
            let program = ProgramHandle::start(settings, &specs, &outputs)?;
            println!("live: recording to {}", record.display());
            std::thread::sleep(Duration::from_secs(seconds));
            let report = program.end(Duration::from_secs(20))?;
            println!("live: {:.2} s recorded to {}", report.duration.as_secs_f64(), record.display());
            Ok(())
        }
        Command::Publish { slug } => rt.block_on(async {
            let db = Db::connect(&config.database_url()).await?;
            let session = db.session_by_slug(&slug).await?;
            let worker = crate::worker::Worker::start(db.clone(), std::sync::Arc::new(config.clone())).await?;
            let job = worker.enqueue(session.id, crate::worker::PUBLISH_LOCAL).await?;
            let job = if job.state == crate::storage::JobState::Queued { job } else { db.retry_job(job.id).await? };
            // One progress bar per job of the session (render, uploads, notices), from the job rows.
            let watch = {
                let db = db.clone();
                let sid = session.id;
                tokio::spawn(async move { progress_bars(&db, sid).await })
            };
            let ran = worker.run_until_idle().await;
            tokio::time::sleep(std::time::Duration::from_millis(350)).await;
            watch.abort();
            ran?;
            let j = db.job(job.id).await?.context("job vanished")?;
            if j.state != crate::storage::JobState::Done {
                bail!("job {} {}: {}", j.id, j.state.as_str(), j.last_error.unwrap_or_default());
            }
            let mut out = serde_json::Map::new();
            for target in ["local", "s3", "youtube"] {
                if let Some(p) = db.publication(session.id, target).await? {
                    out.insert(target.into(), p.manifest);
                }
            }
            println!("{}", serde_json::to_string_pretty(&out)?);
            let failed: Vec<String> = db
                .jobs(Some(session.id))
                .await?
                .into_iter()
                .filter(|j| j.state != crate::storage::JobState::Done)
                .map(|j| format!("{} {}: {}", j.kind, j.state.as_str(), j.last_error.unwrap_or_default()))
                .collect();
            if !failed.is_empty() {
                bail!("not everything is published:\n  {}", failed.join("\n  "));
            }
            Ok(())
        }),
        Command::Worker => rt.block_on(async {
            let db = Db::connect(&config.database_url()).await?;
            let worker = crate::worker::Worker::start(db, std::sync::Arc::new(config.clone())).await?;
            eprintln!("worker: running jobs until Ctrl-C");
            worker.run_until(crate::app::shutdown_signal()).await;
            Ok(())
        }),
        Command::Mail { command } => rt.block_on(async {
            let db = Db::connect(&config.database_url()).await?;
            let intake = crate::mail_intake::MailIntake::new(db, std::sync::Arc::new(config.clone()))?;
            match command {
                MailCommand::Poll => {
                    let r = intake.poll_once().await.map_err(crate::app::AppError::from)?;
                    println!(
                        "{} questions, {} supported, {} to the inbox, {} skipped, {} duplicates, {} marked again, {} confirmations",
                        r.questions, r.supported, r.inbox, r.skipped, r.duplicates, r.marked_again, r.replies
                    );
                }
                MailCommand::Run => {
                    eprintln!("mail: taking questions from {} until Ctrl-C", config.imap.host);
                    intake.run_until(crate::app::shutdown_signal()).await;
                }
            }
            Ok(())
        }),
        Command::User { command } => rt.block_on(user_cmd(&config, command)),
        Command::Jobs { command } => rt.block_on(jobs_cmd(&config, command)),
        Command::Session { command } => rt.block_on(session_cmd(&config, command)),
        Command::Questions { command } => rt.block_on(questions_cmd(&config, command)),
    }
}

/// Draws a bar per job of `session` (indicatif; nothing when stderr is not a terminal) until aborted.
async fn progress_bars(db: &Db, session: crate::domain::SessionId) {
    use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
    let multi = MultiProgress::new();
    let style = ProgressStyle::with_template("{prefix:>15} [{bar:32}] {percent:>3}% {msg}")
        .expect("valid template")
        .progress_chars("=> ");
    let mut bars: std::collections::HashMap<i64, ProgressBar> = std::collections::HashMap::new();
    loop {
        for j in db.jobs(Some(session)).await.unwrap_or_default() {
            let bar = bars.entry(j.id).or_insert_with(|| {
                let b = multi.add(ProgressBar::new(1000));
                b.set_style(style.clone());
                b.set_prefix(j.kind.clone());
                b
            });
            bar.set_position((j.progress * 1000.0) as u64);
            let msg = match (j.state, &j.last_error) {
                (crate::storage::JobState::Done, _) => "done".to_owned(),
                (s, Some(e)) => format!("{} – {e}", s.as_str()),
                (s, None) => s.as_str().to_owned(),
            };
            bar.set_message(msg);
            if j.state == crate::storage::JobState::Done {
                bar.set_position(1000);
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}

async fn user_cmd(config: &Config, command: UserCommand) -> anyhow::Result<()> {
    use crate::domain::staff::{hash_password, normalize_email};
    let db = Db::connect(&config.database_url()).await?;
    match command {
        UserCommand::Add { email, name, role } => {
            let email = normalize_email(&email).map_err(anyhow::Error::msg)?;
            let role = crate::domain::Role::parse(&role).map_err(anyhow::Error::msg)?;
            let name = name.trim().to_owned();
            if name.is_empty() || name.chars().any(char::is_control) {
                bail!("--name must be a name without control characters");
            }
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']);
            let hash = hash_password(password).map_err(anyhow::Error::msg)?;
            let Some(user) = db.add_staff_user(&email, &name, role, &hash).await? else {
                bail!("an account for {email} exists already");
            };
            db.audit(None, "user_added", &email, role.as_str()).await?;
            println!("{} ({}) added as {}", user.name, user.email, user.role.as_str());
        }
    }
    Ok(())
}

async fn jobs_cmd(config: &Config, command: JobsCommand) -> anyhow::Result<()> {
    let db = Db::connect(&config.database_url()).await?;
    match command {
        JobsCommand::List { session, json } => {
            let sid = match session {
                Some(slug) => Some(db.session_by_slug(&slug).await?.id),
                None => None,
            };
            let jobs = db.jobs(sid).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&jobs)?);
            } else {
                for j in jobs {
                    println!(
                        "{:>4}  session {:<4} {:<16} {:<8} attempt {}/{}  {:5.1} %  {}",
                        j.id,
                        j.session_id.0,
                        j.kind,
                        j.state.as_str(),
                        j.attempts,
                        j.max_attempts,
                        j.progress * 100.0,
                        j.last_error.unwrap_or_default()
                    );
                }
            }
        }
        JobsCommand::Retry { id } => {
            let j = db.retry_job(id).await?;
            println!(
                "job {} {}: {} (run by the worker in `serve` or `citizenhour worker`)",
                j.id,
                j.kind,
                j.state.as_str()
            );
        }
    }
    Ok(())
}

async fn session_cmd(config: &Config, command: SessionCommand) -> anyhow::Result<()> {
    let db = Db::connect(&config.database_url()).await?;
    let base = config.public_url();
    match command {
        SessionCommand::Create { title, host, host_title, at, slug, intake_closes, json } => {
            let slug = match slug {
                Some(s) => Slug::parse(&s)?,
                None => Slug::from_title(&title),
            };
            if title.trim().is_empty() || host.trim().is_empty() {
                bail!("--title and --host must not be empty");
            }
            let s = db
                .create_session(&NewSession {
                    slug,
                    title,
                    host_name: host,
                    host_title,
                    scheduled_at: parse_time(&at)?,
                    intake_opens_at: None,
                    intake_closes_at: intake_closes.as_deref().map(parse_time).transpose()?,
                })
                .await?;
            let view = SessionView::new(&s, &base);
            if json {
                println!("{}", serde_json::to_string_pretty(&view)?);
            } else {
                println!("created {} ({})\n  page: {}", view.slug, view.title, view.page_url);
            }
        }
        SessionCommand::List { json } => {
            let views: Vec<_> = db.list_sessions().await?.iter().map(|s| SessionView::new(s, &base)).collect();
            if json {
                println!("{}", serde_json::to_string_pretty(&views)?);
            } else {
                for v in views {
                    println!("{:<40} {:<10} {}  {}", v.slug, v.state, v.scheduled_at, v.title);
                }
            }
        }
        SessionCommand::Targets { slug, set, default } => {
            let session = db.session_by_slug(&slug).await?;
            match (set, default) {
                (Some(list), false) => {
                    let targets: Vec<String> =
                        list.split(',').map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
                    for t in &targets {
                        if !crate::config::PUBLISH_TARGETS.contains(&t.as_str()) {
                            bail!("unknown target {t:?} (known: {})", crate::config::PUBLISH_TARGETS.join(", "));
                        }
                    }
                    if targets.iter().any(|t| t == "s3") && config.publish.s3.is_none() {
                        bail!("target s3 needs [publish.s3] in the configuration");
                    }
                    db.set_publish_targets(session.id, Some(&targets)).await?;
                }
                (None, true) => db.set_publish_targets(session.id, None).await?,
                _ => {}
            }
            let own = db.publish_targets(session.id).await?;
            let effective = crate::workflow::publish_targets(&db, config, session.id).await?;
            println!(
                "{}: local{}{}",
                session.slug,
                effective.iter().map(|t| format!(", {t}")).collect::<String>(),
                if own.is_none() { " (configured default)" } else { "" }
            );
        }
        SessionCommand::Trim { slug, start, end, clear } => {
            let session = db.session_by_slug(&slug).await?;
            if !clear && start.is_none() && end.is_none() {
                bail!("give --in and/or --out, or --clear");
            }
            if let (Some(s), Some(e)) = (start, end)
                && s >= e
            {
                bail!("--in must be before --out");
            }
            let trim = (!clear).then(|| (start.unwrap_or(0) as i64, end.map(|e| e as i64)));
            db.set_trim(session.id, trim).await?;
            // Published already: render and publish again with the new points (the same job, never a second).
            if let Some(job) = db.job_by_kind(session.id, crate::worker::PUBLISH_LOCAL).await? {
                db.retry_job(job.id).await?;
                println!("trim saved; job {} queued to publish again", job.id);
            } else {
                println!("trim saved");
            }
        }
        SessionCommand::Show { slug, json } => {
            let s = db.session_by_slug(&slug).await?;
            let view = SessionView::new(&s, &base);
            let n = db.count_questions(s.id).await?;
            let publication = db.publication(s.id, "local").await?;
            let studio = db.studio_token(s.id).await?;
            let creds = db.source_credentials(s.id).await?;
            let trim = db.trim(s.id).await?;
            let srt_host = if config.ingest.srt_public_host.is_empty() {
                config.ingest.srt_listen.rsplit_once(':').map(|(h, _)| h.to_owned()).unwrap_or_default()
            } else {
                config.ingest.srt_public_host.clone()
            };
            let srt_port = config.ingest.srt_listen.rsplit_once(':').map(|(_, p)| p.to_owned()).unwrap_or_default();
            let ingest: Vec<serde_json::Value> = creds
                .iter()
                .map(|c| {
                    let mut v = serde_json::json!({
                        "source": c.source_id,
                        "whip_url": format!("{base}/whip/{}/{}", s.slug, c.source_id),
                        "bearer_token": c.token,
                    });
                    if c.source_id == "obs" && !config.ingest.srt_listen.is_empty() {
                        v["srt_url"] = format!(
                            "srt://{srt_host}:{srt_port}?streamid={}&passphrase={}&pbkeylen=16",
                            s.slug, c.token
                        )
                        .into();
                    }
                    v
                })
                .collect();
            if json {
                let mut v = serde_json::to_value(&view)?;
                v["question_count"] = n.into();
                v["studio_url"] = format!("{base}/studio/{}?token={studio}", s.slug).into();
                v["ingest"] = ingest.into();
                v["published"] = publication.map(|p| p.manifest).unwrap_or(serde_json::Value::Null);
                v["trim"] = trim
                    .map(|(i, o)| serde_json::json!({ "in_ms": i, "out_ms": o }))
                    .unwrap_or(serde_json::Value::Null);
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                println!(
                    "{} — {}\n  host: {} {}\n  at: {}\n  state: {}\n  questions: {n}\n  page: {}\n  recording: {}",
                    view.slug,
                    view.title,
                    view.host_name,
                    view.host_title,
                    view.scheduled_at,
                    view.state,
                    view.page_url,
                    view.recording_url
                );
            }
        }
    }
    Ok(())
}

async fn questions_cmd(config: &Config, command: QuestionsCommand) -> anyhow::Result<()> {
    use crate::domain::{QuestionDraft, QuestionOrigin, QuestionText};
    let db = Db::connect(&config.database_url()).await?;
    match command {
        QuestionsCommand::Import { slug, files, approve, json } => {
            let session = db.session_by_slug(&slug).await?;
            let max = config.intake.max_question_chars;
            let mut imported = Vec::new();
            let mut skipped = Vec::new();
            for file in files {
                let raw = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
                let drafts: Vec<Result<QuestionDraft, String>> = if file.extension().is_some_and(|e| e == "eml") {
                    vec![
                        crate::intake::parse_email(&raw, &config.intake.mailbox_local_part)
                            .map_err(|e| e.to_string())
                            .and_then(|m| m.to_draft(max).map_err(|e| e.to_string())),
                    ]
                } else {
                    #[derive(serde::Deserialize)]
                    struct Item {
                        text: String,
                        name: Option<String>,
                        email: Option<String>,
                        #[serde(default)]
                        show_name: bool,
                    }
                    let items: Vec<Item> = serde_json::from_slice(&raw)
                        .with_context(|| format!("{} is not a JSON list of questions", file.display()))?;
                    items
                        .into_iter()
                        .map(|i| {
                            Ok(QuestionDraft {
                                text: QuestionText::parse(&i.text, max).map_err(|e| e.to_string())?,
                                author_name: i.name,
                                email: i.email.filter(|e| crate::web::submit::valid_email(e)),
                                show_name: i.show_name,
                                origin: QuestionOrigin::Import,
                                language: None,
                                intake_note: None,
                            })
                        })
                        .collect()
                };
                for d in drafts {
                    match d {
                        Ok(d) => {
                            let q = db.add_question(session.id, &d).await?;
                            if approve {
                                db.set_question_status(q.id, QuestionStatus::Approved).await?;
                            }
                            imported.push(q.id.0);
                        }
                        Err(e) => skipped.push(format!("{}: {e}", file.display())),
                    }
                }
            }
            if json {
                println!("{}", serde_json::json!({ "session": slug, "imported": imported, "skipped": skipped }));
            } else {
                println!("imported {} question(s) into {slug}", imported.len());
                for s in skipped {
                    println!("  skipped {s}");
                }
            }
        }
        QuestionsCommand::List { slug, status, json } => {
            let session = db.session_by_slug(&slug).await?;
            let status = match status.as_deref() {
                None => None,
                Some(s) => Some(QuestionStatus::parse(s).with_context(|| format!("unknown status {s:?}"))?),
            };
            let qs = db.questions(session.id, status).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&qs)?);
            } else {
                for q in qs {
                    println!(
                        "#{:<5} {:<9} {:<6} {}",
                        q.id.0,
                        q.status.as_str(),
                        q.origin.as_str(),
                        q.text.headline(80)
                    );
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_clock;

    #[test]
    fn clock_times_parse_and_junk_is_refused() {
        assert_eq!(parse_clock("45"), Ok(45_000));
        assert_eq!(parse_clock("0:45"), Ok(45_000));
        assert_eq!(parse_clock("58:10"), Ok(3_490_000));
        assert_eq!(parse_clock("1:02:03.5"), Ok(3_723_500));
        for bad in ["", ":", "1:", "a:10", "1:60", "-3", "1:2:3:4", "1.5:00", "inf"] {
            assert!(parse_clock(bad).is_err(), "{bad:?}");
        }
    }
}
