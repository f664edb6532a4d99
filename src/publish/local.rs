//! The local site target: a directory served by the web server under `/media/`.
//!
//! Rendering happens in a staging directory; [`publish_dir`] adds the chapter files and a manifest and then
//! swaps it into place with a rename, so citizens never see a half-published recording.

use super::PublishError;
use super::chapters::{ChapterEntry, webvtt};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VariantEntry {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub bandwidth: u64,
    pub playlist: String,
}

/// What the local site holds for one session; stored as `manifest.json` and in the database.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LocalManifest {
    pub slug: String,
    pub title: String,
    pub duration_ms: u64,
    /// URL paths (under the site's `/media/` prefix).
    pub master_playlist: String,
    pub mp4: String,
    /// Audio only (M4A, the recorded AAC) for a podcast feed; empty in older manifests.
    #[serde(default)]
    pub audio: String,
    /// Chapter lines for the YouTube description, when the session satisfies YouTube's rules.
    #[serde(default)]
    pub youtube_chapters: Option<String>,
    pub thumbnail: String,
    pub chapters_vtt: String,
    pub chapters_json: String,
    pub variants: Vec<VariantEntry>,
    pub chapters: Vec<ChapterEntry>,
}

/// Directory of a session's published files, relative to the site root.
pub fn session_dir(slug: &str) -> PathBuf {
    PathBuf::from("recordings").join(slug)
}

/// A fresh staging directory next to the final one.
pub fn staging_dir(site_root: &Path, slug: &str) -> PathBuf {
    site_root.join("recordings").join(format!(".{slug}.staging-{}", std::process::id()))
}

/// Files rendered into `staging` (relative paths in `files`) plus chapters → the final directory.
pub struct Rendered<'a> {
    pub duration_ms: u64,
    pub master_playlist: &'a str,
    pub mp4: &'a str,
    pub audio: &'a str,
    pub thumbnail: &'a str,
    pub variants: Vec<VariantEntry>,
}

pub fn publish_dir(
    site_root: &Path,
    staging: &Path,
    slug: &str,
    title: &str,
    rendered: Rendered<'_>,
    chapters: Vec<ChapterEntry>,
) -> Result<LocalManifest, PublishError> {
    for rel in [rendered.master_playlist, rendered.mp4, rendered.audio, rendered.thumbnail]
        .into_iter()
        .chain(rendered.variants.iter().map(|v| v.playlist.as_str()))
    {
        let p = staging.join(rel);
        let ok = std::fs::metadata(&p).map(|m| m.len() > 0).unwrap_or(false);
        if !ok {
            return Err(PublishError::Incomplete(format!("{} missing or empty", p.display())));
        }
    }
    let url = |rel: &str| format!("/media/recordings/{slug}/{rel}");
    let vtt_path = staging.join("chapters.vtt");
    std::fs::write(&vtt_path, webvtt(&chapters)).map_err(|e| PublishError::io(&vtt_path, e))?;
    let json_path = staging.join("chapters.json");
    std::fs::write(&json_path, serde_json::to_vec_pretty(&chapters).expect("chapters serialize"))
        .map_err(|e| PublishError::io(&json_path, e))?;
    let manifest = LocalManifest {
        slug: slug.to_owned(),
        title: title.to_owned(),
        duration_ms: rendered.duration_ms,
        master_playlist: url(rendered.master_playlist),
        mp4: url(rendered.mp4),
        audio: url(rendered.audio),
        youtube_chapters: super::chapters::youtube_description(&chapters, rendered.duration_ms as i64),
        thumbnail: url(rendered.thumbnail),
        chapters_vtt: url("chapters.vtt"),
        chapters_json: url("chapters.json"),
        variants: rendered.variants.into_iter().map(|v| VariantEntry { playlist: url(&v.playlist), ..v }).collect(),
        chapters,
    };
    let manifest_path = staging.join("manifest.json");
    std::fs::write(&manifest_path, serde_json::to_vec_pretty(&manifest).expect("manifest serializes"))
        .map_err(|e| PublishError::io(&manifest_path, e))?;

    let final_dir = site_root.join(session_dir(slug));
    if final_dir.exists() {
        let old = site_root.join("recordings").join(format!(".{slug}.old-{}", std::process::id()));
        std::fs::rename(&final_dir, &old).map_err(|e| PublishError::io(&final_dir, e))?;
        std::fs::rename(staging, &final_dir).map_err(|e| PublishError::io(staging, e))?;
        let _ = std::fs::remove_dir_all(&old);
    } else {
        std::fs::rename(staging, &final_dir).map_err(|e| PublishError::io(staging, e))?;
    }
    Ok(manifest)
}
