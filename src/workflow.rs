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
