//! Workflows that span modules (media → publish → storage), so that none of those modules has to know the
//! others: rendering and publishing a session's recording.

use crate::app::AppError;
use crate::config::Config;
use crate::domain::{SessionId, SessionState};
use crate::media::post::{self, Ladder, RenderPlan};
use crate::publish::{self, local::LocalManifest};
use crate::storage::Db;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The ladder from `publish.ladder_file`, or the built-in one.
pub fn ladder(config: &Config) -> Result<Ladder, AppError> {
    if config.publish.ladder_file.is_empty() {
        return Ok(Ladder::builtin());
    }
    let path = PathBuf::from(&config.publish.ladder_file);
    let text =
        std::fs::read_to_string(&path).map_err(|e| AppError::Io { path: path.display().to_string(), source: e })?;
    Ladder::parse(&text).map_err(AppError::Invalid)
}

/// Renders the session's latest recording and publishes it to the local site: HLS ladder, MP4, thumbnail,
/// chapters (one per answered question). `progress` gets 0.0–1.0 during rendering.
pub async fn publish_session(
    db: &Db,
    config: &Config,
    session_id: SessionId,
    progress: Arc<dyn Fn(f64) + Send + Sync>,
) -> Result<LocalManifest, AppError> {
    let session = db.session_by_id(session_id).await?;
    let recording = db
        .latest_recording(session_id)
        .await?
        .ok_or_else(|| AppError::Invalid(format!("session {} has no recording", session.slug)))?;
    let site = config.site_dir();
    let staging = publish::local::staging_dir(&site, session.slug.as_str());
    let _ = std::fs::remove_dir_all(&staging);
    let trim = db.trim(session_id).await?.map(|(tin, tout)| post::Trim {
        start: Duration::from_millis(tin.max(0) as u64),
        end: tout.map(|o| Duration::from_millis(o.max(0) as u64)),
    });
    let plan = RenderPlan {
        ladder: ladder(config)?,
        segment_seconds: config.publish.segment_seconds,
        thumbnail_at: Duration::from_secs(5),
        trim,
    };
    let input = PathBuf::from(&recording.path);
    let out = staging.clone();
    let report = tokio::task::spawn_blocking(move || post::render(&input, &out, &plan, &*progress))
        .await
        .map_err(|e| AppError::Invalid(format!("render task: {e}")))?;
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e.into());
        }
    };
    let chapters =
        trimmed_chapters(db.chapters(session_id, 120).await?, report.trimmed_from_ms as i64, report.duration_ms as i64);
    let entries = publish::chapters::entries(&chapters, report.duration_ms as i64);
    let rendered = publish::local::Rendered {
        duration_ms: report.duration_ms,
        master_playlist: &report.master_playlist,
        mp4: &report.mp4,
        audio: &report.audio,
        thumbnail: &report.thumbnail,
        variants: report
            .variants
            .iter()
            .map(|v| publish::local::VariantEntry {
                name: v.name.clone(),
                width: v.width,
                height: v.height,
                bandwidth: v.peak_bandwidth,
                playlist: v.playlist.clone(),
            })
            .collect(),
    };
    let manifest =
        match publish::local::publish_dir(&site, &staging, session.slug.as_str(), &session.title, rendered, entries) {
            Ok(m) => m,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&staging);
                return Err(e.into());
            }
        };
    db.upsert_publication(session_id, "local", &serde_json::to_value(&manifest).expect("manifest serializes")).await?;
    if session.state != SessionState::Published {
        db.set_session_state(session_id, SessionState::Published).await?;
    }
    Ok(manifest)
}

/// Chapters on the trimmed timeline: shifted by the in point; the answer running at the in point starts at 0:00,
/// earlier ones and those after the out point are left out.
pub fn trimmed_chapters(
    chapters: Vec<crate::domain::Chapter>,
    from_ms: i64,
    duration_ms: i64,
) -> Vec<crate::domain::Chapter> {
    let mut sorted = chapters;
    sorted.sort_by_key(|c| c.start_ms);
    let running = sorted.iter().rposition(|c| c.start_ms <= from_ms);
    sorted
        .into_iter()
        .enumerate()
        .filter(|(i, c)| c.start_ms > from_ms || Some(*i) == running)
        .map(|(_, mut c)| {
            c.start_ms = (c.start_ms - from_ms).max(0);
            c
        })
        .filter(|c| c.start_ms < duration_ms)
        .collect()
}

/// Publication target of the preliminary recording (the live HLS), replaced by `local` once rendered.
pub const LIVE_VOD: &str = "live-vod";

/// Makes the session's live HLS — a finished EVENT playlist at the end — the recording on the town site at once,
/// with its chapters (WebVTT + JSON next to the playlist), before any transcoding. Seconds, whatever the length.
pub async fn publish_live_as_vod(
    db: &Db,
    config: &Config,
    session_id: SessionId,
    duration_ms: i64,
) -> Result<LocalManifest, AppError> {
    let session = db.session_by_id(session_id).await?;
    let slug = session.slug.as_str();
    let dir = config.live_hls_dir(slug);
    let playlist = dir.join("index.m3u8");
    let text = std::fs::read_to_string(&playlist)
        .map_err(|e| AppError::Io { path: playlist.display().to_string(), source: e })?;
    if !text.contains("#EXT-X-ENDLIST") {
        return Err(AppError::Invalid(format!("live playlist of {slug} is not finished")));
    }
    let chapters = db.chapters(session_id, 120).await?;
    let entries = publish::chapters::entries(&chapters, duration_ms);
    let write = |name: &str, body: String| {
        let path = dir.join(name);
        std::fs::write(&path, body).map_err(|e| AppError::Io { path: path.display().to_string(), source: e })
    };
    write("chapters.vtt", publish::chapters::webvtt(&entries))?;
    write("chapters.json", serde_json::to_string_pretty(&entries).expect("chapters serialize"))?;
    let url = |f: &str| Config::live_hls_url(slug, f);
    let manifest = LocalManifest {
        slug: slug.to_owned(),
        title: session.title.clone(),
        duration_ms: duration_ms.max(0) as u64,
        master_playlist: url("index.m3u8"),
        mp4: String::new(),
        audio: String::new(),
        youtube_chapters: None,
        thumbnail: String::new(),
        chapters_vtt: url("chapters.vtt"),
        chapters_json: url("chapters.json"),
        variants: Vec::new(),
        chapters: entries,
    };
    db.upsert_publication(session_id, LIVE_VOD, &serde_json::to_value(&manifest).expect("manifest serializes")).await?;
    Ok(manifest)
}

/// The targets a session publishes to besides the local site: its own choice, else `[publish] targets`.
pub async fn publish_targets(db: &Db, config: &Config, session_id: SessionId) -> Result<Vec<String>, AppError> {
    Ok(db.publish_targets(session_id).await?.unwrap_or_else(|| config.publish.targets.clone()))
}

/// Copies the session's local publication to S3, one resumable step at a time; the checkpoint is saved after
/// every step (a restarted worker continues from the server's view of the multipart upload). Returns the
/// public URL of `index.json`.
pub async fn publish_s3(
    db: &Db,
    config: &Config,
    job: &crate::storage::Job,
    on_step: &(dyn Fn(&publish::s3::Step) + Send + Sync),
) -> Result<String, AppError> {
    let s3 = config.publish.s3.as_ref().ok_or_else(|| AppError::Invalid("[publish.s3] is not configured".into()))?;
    let session = db.session_by_id(job.session_id).await?;
    let slug = session.slug.as_str();
    if db.publication(job.session_id, "local").await?.is_none() {
        return Err(AppError::Invalid(format!("{slug} is not published locally yet")));
    }
    let dir = config.site_dir().join(publish::local::session_dir(slug));
    let publisher = publish::s3::S3Publisher::new(s3);
    let mut cp: publish::s3::S3Checkpoint = serde_json::from_value(job.checkpoint.clone()).unwrap_or_default();
    publisher.begin(&dir, &mut cp)?;
    let total: u64 = dir_size(&dir).max(1);
    loop {
        let step = publisher.step(&dir, slug, &mut cp).await;
        // Saved after success and failure alike: a failed part keeps the upload id for the next attempt.
        db.set_job_checkpoint(job.id, &serde_json::to_value(&cp).expect("checkpoint serializes")).await?;
        let step = step?;
        on_step(&step);
        db.set_job_progress(job.id, (cp.bytes_sent as f64 / total as f64).min(0.99)).await?;
        if let publish::s3::Step::Finished { url } = step {
            let manifest = serde_json::json!({
                "index": url,
                "version": cp.version,
                "bytes_sent": cp.bytes_sent,
            });
            db.upsert_publication(job.session_id, "s3", &manifest).await?;
            return Ok(url);
        }
    }
}

fn dir_size(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(e.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}

/// Mails every asker whose question was answered and who left an address — and everyone who asked the same (merged
/// supporters) — once: a notice is noted `sending`
/// before it goes to SMTP and `sent` after. A notice left `sending` by a crash is sent again with the same
/// Message-ID (the one window where a duplicate is possible: between the server's acceptance and our note).
/// Returns (sent, skipped) counts.
pub async fn notify_askers(db: &Db, config: &Config, session_id: SessionId) -> Result<(usize, usize), AppError> {
    use crate::publish::notify::{Mailer, Notice, NotifyError, compose};
    use crate::storage::NoticeState;
    let session = db.session_by_id(session_id).await?;
    let Some(local) = db.publication(session_id, "local").await? else {
        return Err(AppError::Invalid(format!("{} is not published yet", session.slug)));
    };
    let manifest: LocalManifest =
        serde_json::from_value(local.manifest).map_err(|e| AppError::Invalid(format!("local manifest: {e}")))?;
    let Some(mailer) = Mailer::from_config(&config.mail)? else {
        tracing::warn!(session = %session.slug, "answer notices not sent: [mail] smtp_host is not set");
        return Ok((0, 0));
    };
    let youtube =
        db.publication(session_id, "youtube").await?.and_then(|p| p.manifest["watch_url"].as_str().map(str::to_owned));
    let page = format!("{}/r/{}", config.public_url(), session.slug);
    let host = url_host(&config.public_url());
    let (mut sent, mut skipped) = (0, 0);
    for q in db.questions(session_id, Some(crate::domain::QuestionStatus::Answered)).await? {
        // The chapter of this question on the published (trimmed) timeline; cut answers get no notice.
        let Some(chapter) = manifest.chapters.iter().find(|c| c.question_id == q.id.0) else {
            skipped += 1;
            continue;
        };
        // The asker, then everyone who asked the same (merged supporters), each noted before and after SMTP.
        // (supporter id — none for the asker, address, name, language)
        type Recipient = (Option<i64>, String, Option<String>, Option<String>);
        let mut recipients: Vec<Recipient> = Vec::new();
        if let Some(email) = q.email.as_deref().filter(|e| !e.trim().is_empty())
            && db.notice_state(q.id).await? != Some(NoticeState::Sent)
        {
            recipients.push((None, email.to_owned(), q.author_name.clone(), q.language.clone()));
        }
        for s in db.supporters_with_email(q.id).await? {
            if s.notice != Some(NoticeState::Sent) {
                recipients.push((Some(s.id), s.email, s.author_name, s.language));
            }
        }
        for (supporter, email, name, language) in recipients {
            let message_id = match supporter {
                None => format!("<answer.q{}.s{}@{host}>", q.id.0, session_id.0),
                Some(p) => format!("<answer.q{}.p{p}.s{}@{host}>", q.id.0, session_id.0),
            };
            let notice = Notice {
                to: &email,
                name: name.as_deref(),
                language: language.as_deref(),
                question: q.text.as_str(),
                session_title: &session.title,
                town: &config.town.name,
                at_ms: chapter.start_ms,
                page_url: &page,
                youtube_url: youtube.as_deref(),
                message_id: &message_id,
            };
            let message = match compose(&mailer.from, &notice) {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(question = q.id.0, "answer notice skipped: {e}");
                    skipped += 1;
                    continue;
                }
            };
            let note = async |state| match supporter {
                None => db.set_notice_state(session_id, q.id, state, &message_id).await,
                Some(p) => db.set_supporter_notice(p, state).await,
            };
            note(NoticeState::Sending).await?;
            match mailer.send(message).await {
                Ok(()) => {
                    note(NoticeState::Sent).await?;
                    sent += 1;
                }
                // The server refused this recipient for good: note it, go on with the others.
                Err(NotifyError::Smtp { detail, permanent: true }) => {
                    tracing::warn!(question = q.id.0, "answer notice refused: {detail}");
                    skipped += 1;
                }
                // Connection refused, timeouts, 4xx: the job retries; what was sent stays sent.
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok((sent, skipped))
}

fn url_host(url: &str) -> String {
    url.split("://").nth(1).unwrap_or(url).split(['/', ':']).next().unwrap_or("citizenhour").to_owned()
}

/// Uploads the session's MP4 to YouTube with title, description (chapters), thumbnail and captions, one
/// resumable step at a time (the checkpoint, with the upload session URI, is saved after every step). Returns
/// the watch URL.
pub async fn publish_youtube(db: &Db, config: &Config, job: &crate::storage::Job) -> Result<String, AppError> {
    use crate::publish::youtube::{Step, UploadPlan, YoutubeCheckpoint, YoutubeUploader};
    let session = db.session_by_id(job.session_id).await?;
    let slug = session.slug.as_str();
    let local = db
        .publication(job.session_id, "local")
        .await?
        .ok_or_else(|| AppError::Invalid(format!("{slug} is not published locally yet")))?;
    let manifest: LocalManifest =
        serde_json::from_value(local.manifest).map_err(|e| AppError::Invalid(format!("local manifest: {e}")))?;
    let dir = config.site_dir().join(publish::local::session_dir(slug));
    let file = |url: &str| dir.join(url.rsplit_once(&format!("/{slug}/")).map(|(_, r)| r).unwrap_or(url));
    let page = format!("{}/r/{slug}", config.public_url());
    let mut description = format!("{} – {} {}", session.title, session.host_title, session.host_name).trim().to_owned();
    if !config.town.name.is_empty() {
        description.push_str(&format!("\n{}", config.town.name));
    }
    if let Some(chapters) = &manifest.youtube_chapters {
        description.push_str(&format!("\n\n{chapters}"));
    }
    description.push_str(&format!("\n\nFragen, Antworten und Kapitel: {page}"));
    let mut tags = config.youtube.tags.clone();
    if !config.town.name.is_empty() {
        tags.push(config.town.name.clone());
    }
    let plan = UploadPlan {
        mp4: file(&manifest.mp4),
        thumbnail: (!manifest.thumbnail.is_empty()).then(|| file(&manifest.thumbnail)),
        captions_vtt: (!manifest.chapters.is_empty()).then(|| file(&manifest.chapters_vtt)),
        title: session.title.clone(),
        description,
        tags,
    };
    let uploader = YoutubeUploader::new(&config.youtube)?;
    let mut cp: YoutubeCheckpoint = serde_json::from_value(job.checkpoint.clone()).unwrap_or_default();
    loop {
        let step = uploader.step(&plan, &mut cp).await;
        db.set_job_checkpoint(job.id, &serde_json::to_value(&cp).expect("checkpoint serializes")).await?;
        match step? {
            Step::Chunk { confirmed, of } => {
                db.set_job_progress(job.id, (confirmed as f64 / of as f64 * 0.95).min(0.95)).await?;
            }
            Step::Finished { video_id, watch_url } => {
                let m = serde_json::json!({
                    "video_id": video_id,
                    "watch_url": watch_url,
                    "bytes_sent": cp.bytes_sent,
                    "privacy": config.youtube.privacy,
                });
                db.upsert_publication(job.session_id, "youtube", &m).await?;
                return Ok(watch_url);
            }
            other => tracing::debug!(job = job.id, ?other, "youtube"),
        }
    }
}
