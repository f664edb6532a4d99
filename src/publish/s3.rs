//! The S3 target: a published recording's files copied to S3-compatible storage (AWS S3, Garage, Ceph RGW …).
//!
//! Layout: `{prefix}{slug}/{version}/…` holds one render (segments, playlists, MP4, M4A, thumbnail, chapters) and
//! never changes, so its files are served `immutable`; `{prefix}{slug}/index.json` names the current version
//! with absolute public URLs and is served with a short cache. A re-render (new trim points) uploads a new
//! version, switches `index.json`, then deletes the old version: a CDN never mixes two renders.
//!
//! Resumable: the work is a sequence of small [`S3Publisher::step`]s over an [`S3Checkpoint`] that the caller
//! persists after each step. Files larger than one part go up as multipart uploads; after a restart the parts
//! the server already has are read back with ListParts (the server is the truth, not the checkpoint), so at most
//! the one part in flight is sent again.

use super::PublishError;
use super::local::LocalManifest;
use crate::config::S3Config;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Progress of one S3 publication, stored as the job's checkpoint.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct S3Checkpoint {
    /// Fingerprint of the local manifest this upload copies; a different render starts over.
    pub source: String,
    /// Key component of this render, e.g. `v20261204T231500Z`.
    pub version: String,
    /// Relative paths already stored.
    pub done: BTreeSet<String>,
    pub multipart: Option<MultipartState>,
    /// Payload bytes sent so far (all attempts), for progress and the resume figures.
    pub bytes_sent: u64,
    pub index_written: bool,
    pub cleaned: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MultipartState {
    pub rel: String,
    pub upload_id: String,
    /// (part number, ETag), in order.
    pub parts: Vec<(i32, String)>,
}

/// What one step did.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Stored { rel: String, bytes: u64 },
    Part { rel: String, number: i32, of: i32, bytes: u64 },
    Index { url: String },
    Cleaned { removed: usize },
    Finished { url: String },
}

/// The S3 target's manifest (`index.json`): the local one with absolute public URLs.
pub type S3Manifest = LocalManifest;

pub struct S3Publisher {
    client: Client,
    cfg: S3Config,
}

/// One file to upload.
#[derive(Debug, Clone)]
struct Source {
    rel: String,
    path: PathBuf,
    len: u64,
}

impl S3Publisher {
    pub fn new(cfg: &S3Config) -> S3Publisher {
        let secret = cfg.secret_access_key.as_ref().map(|s| s.expose_secret().to_owned()).unwrap_or_default();
        let creds = Credentials::new(cfg.access_key_id.clone(), secret, None, None, "citizenhour-config");
        let mut b = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(cfg.region.clone()))
            .credentials_provider(creds)
            .force_path_style(cfg.path_style)
            // Checksums only where S3 requires them: the SDK's default (CRC32 in an aws-chunked trailer) is
            // refused by many S3-compatible servers ("Invalid payload signature"); SigV4 still signs the body.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        if !cfg.endpoint.is_empty() {
            b = b.endpoint_url(cfg.endpoint.trim_end_matches('/'));
        }
        S3Publisher { client: Client::from_conf(b.build()), cfg: cfg.clone() }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    fn part_size(&self) -> u64 {
        self.cfg.part_size_mib * 1024 * 1024
    }

    /// `{prefix}{slug}/`
    pub fn session_prefix(&self, slug: &str) -> String {
        format!("{}{slug}/", self.cfg.prefix)
    }

    pub fn index_key(&self, slug: &str) -> String {
        format!("{}index.json", self.session_prefix(slug))
    }

    /// Prepares `cp` for publishing the local render in `dir` (the session's directory on the local site): a new
    /// render (or a fresh checkpoint) starts a new version.
    pub fn begin(&self, dir: &Path, cp: &mut S3Checkpoint) -> Result<(), PublishError> {
        let manifest_path = dir.join("manifest.json");
        let text = std::fs::read(&manifest_path).map_err(|e| PublishError::io(&manifest_path, e))?;
        let source = format!("{:016x}-{}", fnv1a(&text), text.len());
        if cp.source != source {
            *cp = S3Checkpoint {
                source,
                version: chrono::Utc::now().format("v%Y%m%dT%H%M%S%3fZ").to_string(),
                ..S3Checkpoint::default()
            };
        }
        Ok(())
    }

    /// Does the next piece of work; call until it returns [`Step::Finished`], saving `cp` after each step.
    pub async fn step(&self, dir: &Path, slug: &str, cp: &mut S3Checkpoint) -> Result<Step, PublishError> {
        let base = format!("{}{}/", self.session_prefix(slug), cp.version);
        if let Some(next) = upload_order(dir)?.into_iter().find(|s| !cp.done.contains(&s.rel)) {
            let key = format!("{base}{}", next.rel);
            if next.len <= self.part_size() {
                self.put_file(&key, &next).await?;
                cp.bytes_sent += next.len;
                cp.done.insert(next.rel.clone());
                return Ok(Step::Stored { rel: next.rel, bytes: next.len });
            }
            return self.next_part(&key, &next, cp).await;
        }
        let index_key = self.index_key(slug);
        if !cp.index_written {
            let local: LocalManifest = read_json(&dir.join("manifest.json"))?;
            let manifest = self.public_manifest(local, &base, slug);
            let body = serde_json::to_vec_pretty(&manifest).expect("manifest serializes");
            self.client
                .put_object()
                .bucket(&self.cfg.bucket)
                .key(&index_key)
                .content_type("application/json")
                .cache_control(CACHE_SHORT)
                .body(ByteStream::from(body))
                .send()
                .await
                .map_err(|e| remote("PutObject index.json", e))?;
            cp.index_written = true;
            return Ok(Step::Index { url: self.cfg.public_url(&index_key) });
        }
        if !cp.cleaned {
            let removed = self.remove_other_versions(slug, &cp.version).await?;
            cp.cleaned = true;
            return Ok(Step::Cleaned { removed });
        }
        Ok(Step::Finished { url: self.cfg.public_url(&index_key) })
    }

    fn public_manifest(&self, local: LocalManifest, base: &str, slug: &str) -> S3Manifest {
        let local_prefix = format!("/media/recordings/{slug}/");
        let url = |u: &str| self.cfg.public_url(&format!("{base}{}", u.strip_prefix(&local_prefix).unwrap_or(u)));
        S3Manifest {
            master_playlist: url(&local.master_playlist),
            mp4: url(&local.mp4),
            audio: url(&local.audio),
            thumbnail: url(&local.thumbnail),
            chapters_vtt: url(&local.chapters_vtt),
            chapters_json: url(&local.chapters_json),
            variants: local
                .variants
                .iter()
                .map(|v| super::local::VariantEntry { playlist: url(&v.playlist), ..v.clone() })
                .collect(),
            ..local
        }
    }

    async fn put_file(&self, key: &str, src: &Source) -> Result<(), PublishError> {
        let body = ByteStream::from_path(&src.path).await.map_err(|e| PublishError::Remote {
            target: "s3",
            detail: format!("reading {}: {e}", src.path.display()),
            permanent: false,
        })?;
        let (ctype, cache) = kind_of(&src.rel);
        self.client
            .put_object()
            .bucket(&self.cfg.bucket)
            .key(key)
            .content_type(ctype)
            .cache_control(cache)
            .content_length(src.len as i64)
            .body(body)
            .send()
            .await
            .map_err(|e| remote("PutObject", e))?;
        Ok(())
    }

    /// One multipart step: create the upload, send the next part, or complete it.
    async fn next_part(&self, key: &str, src: &Source, cp: &mut S3Checkpoint) -> Result<Step, PublishError> {
        let part_size = self.part_size();
        let of = src.len.div_ceil(part_size) as i32;
        let state = match cp.multipart.take() {
            Some(m) if m.rel == src.rel => match self.server_parts(key, &m.upload_id).await {
                Ok(parts) => Some(MultipartState { parts, ..m }),
                // The upload was aborted or expired: start the file again.
                Err(PublishError::Remote { detail, .. }) if detail.contains("NoSuchUpload") => None,
                Err(e) => {
                    cp.multipart = Some(m);
                    return Err(e);
                }
            },
            _ => None,
        };
        let mut state = match state {
            Some(s) => s,
            None => {
                let (ctype, cache) = kind_of(&src.rel);
                let created = self
                    .client
                    .create_multipart_upload()
                    .bucket(&self.cfg.bucket)
                    .key(key)
                    .content_type(ctype)
                    .cache_control(cache)
                    .send()
                    .await
                    .map_err(|e| remote("CreateMultipartUpload", e))?;
                let upload_id = created.upload_id().unwrap_or_default().to_owned();
                if upload_id.is_empty() {
                    return Err(PublishError::Remote {
                        target: "s3",
                        detail: "CreateMultipartUpload returned no upload id".into(),
                        permanent: false,
                    });
                }
                MultipartState { rel: src.rel.clone(), upload_id, parts: Vec::new() }
            }
        };
        // Parts are sent in order; the next is the first the server does not have.
        let have: BTreeSet<i32> = state.parts.iter().map(|(n, _)| *n).collect();
        let next = (1..=of).find(|n| !have.contains(n));
        let step = match next {
            Some(number) => {
                let offset = (number as u64 - 1) * part_size;
                let len = part_size.min(src.len - offset);
                let data = super::read_range(&src.path, offset, len)?;
                let out = self
                    .client
                    .upload_part()
                    .bucket(&self.cfg.bucket)
                    .key(key)
                    .upload_id(&state.upload_id)
                    .part_number(number)
                    .content_length(len as i64)
                    .body(ByteStream::from(data))
                    .send()
                    .await;
                let out = match out {
                    Ok(o) => o,
                    Err(e) => {
                        cp.multipart = Some(state);
                        return Err(remote("UploadPart", e));
                    }
                };
                cp.bytes_sent += len;
                state.parts.push((number, out.e_tag().unwrap_or_default().to_owned()));
                state.parts.sort_by_key(|(n, _)| *n);
                Step::Part { rel: src.rel.clone(), number, of, bytes: len }
            }
            None => {
                let parts = state
                    .parts
                    .iter()
                    .map(|(n, e)| CompletedPart::builder().part_number(*n).e_tag(e).build())
                    .collect::<Vec<_>>();
                let done = self
                    .client
                    .complete_multipart_upload()
                    .bucket(&self.cfg.bucket)
                    .key(key)
                    .upload_id(&state.upload_id)
                    .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
                    .send()
                    .await;
                if let Err(e) = done {
                    cp.multipart = Some(state);
                    return Err(remote("CompleteMultipartUpload", e));
                }
                cp.done.insert(src.rel.clone());
                return Ok(Step::Stored { rel: src.rel.clone(), bytes: src.len });
            }
        };
        cp.multipart = Some(state);
        Ok(step)
    }

    /// The parts the server holds for an upload (all pages).
    async fn server_parts(&self, key: &str, upload_id: &str) -> Result<Vec<(i32, String)>, PublishError> {
        let mut parts = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .client
                .list_parts()
                .bucket(&self.cfg.bucket)
                .key(key)
                .upload_id(upload_id)
                .set_part_number_marker(marker.clone())
                .send()
                .await
                .map_err(|e| remote("ListParts", e))?;
            for p in page.parts() {
                if let (Some(n), Some(e)) = (p.part_number(), p.e_tag()) {
                    parts.push((n, e.to_owned()));
                }
            }
            match (page.is_truncated(), page.next_part_number_marker()) {
                (Some(true), Some(m)) => marker = Some(m.to_owned()),
                _ => break,
            }
        }
        parts.sort_by_key(|(n, _)| *n);
        Ok(parts)
    }

    /// Deletes every object under the session's prefix that is neither `version` nor `index.json`.
    async fn remove_other_versions(&self, slug: &str, version: &str) -> Result<usize, PublishError> {
        let prefix = self.session_prefix(slug);
        let keep = format!("{prefix}{version}/");
        let index = self.index_key(slug);
        let mut stale = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.cfg.bucket)
                .prefix(&prefix)
                .set_continuation_token(token.clone())
                .send()
                .await
                .map_err(|e| remote("ListObjectsV2", e))?;
            for o in page.contents() {
                if let Some(k) = o.key()
                    && !k.starts_with(&keep)
                    && k != index
                {
                    stale.push(k.to_owned());
                }
            }
            match page.next_continuation_token() {
                Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_owned()),
                _ => break,
            }
        }
        for chunk in stale.chunks(1000) {
            let objects = chunk
                .iter()
                .map(|k| ObjectIdentifier::builder().key(k).build().expect("key is set"))
                .collect::<Vec<_>>();
            self.client
                .delete_objects()
                .bucket(&self.cfg.bucket)
                .delete(Delete::builder().set_objects(Some(objects)).quiet(true).build().expect("objects set"))
                .send()
                .await
                .map_err(|e| remote("DeleteObjects", e))?;
        }
        Ok(stale.len())
    }
}

/// Playlists and the index may change (a re-render); everything under a version never does.
pub const CACHE_SHORT: &str = "public, max-age=60";
pub const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// (Content-Type, Cache-Control) for a published file.
pub fn kind_of(rel: &str) -> (&'static str, &'static str) {
    let ext = rel.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "m3u8" => ("application/vnd.apple.mpegurl", CACHE_SHORT),
        "ts" => ("video/mp2t", CACHE_IMMUTABLE),
        "m4s" => ("video/iso.segment", CACHE_IMMUTABLE),
        "mp4" => ("video/mp4", CACHE_IMMUTABLE),
        "m4a" => ("audio/mp4", CACHE_IMMUTABLE),
        "jpg" | "jpeg" => ("image/jpeg", CACHE_IMMUTABLE),
        "vtt" => ("text/vtt; charset=utf-8", CACHE_IMMUTABLE),
        "json" => ("application/json", CACHE_SHORT),
        _ => ("application/octet-stream", CACHE_IMMUTABLE),
    }
}

/// Every file under `dir` but the local manifest (`index.json` replaces it), in the order that keeps the bucket
/// consistent for a reader: media first, then the playlists that reference them (variants before the master).
fn upload_order(dir: &Path) -> Result<Vec<Source>, PublishError> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).map_err(|e| PublishError::io(&d, e))? {
            let e = e.map_err(|e| PublishError::io(&d, e))?;
            let path = e.path();
            let meta = e.metadata().map_err(|e| PublishError::io(&path, e))?;
            if meta.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("under dir").to_string_lossy().replace('\\', "/");
                if rel != "manifest.json" {
                    files.push(Source { rel, path, len: meta.len() });
                }
            }
        }
    }
    let rank = |rel: &str| match () {
        _ if rel.ends_with("master.m3u8") => 2,
        _ if rel.ends_with(".m3u8") => 1,
        _ => 0,
    };
    files.sort_by(|a, b| (rank(&a.rel), &a.rel).cmp(&(rank(&b.rel), &b.rel)));
    Ok(files)
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, PublishError> {
    let text = std::fs::read(path).map_err(|e| PublishError::io(path, e))?;
    serde_json::from_slice(&text).map_err(|e| PublishError::Incomplete(format!("{}: {e}", path.display())))
}

/// A readable error from an S3 call; credentials, bucket and permission problems are permanent.
fn remote<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(op: &str, e: SdkError<E, R>) -> PublishError {
    let (detail, permanent) = match &e {
        SdkError::ServiceError(se) => {
            let err = se.err();
            let code = err.code().unwrap_or("unknown");
            let msg = err.message().unwrap_or("");
            let permanent = matches!(
                code,
                "AccessDenied"
                    | "InvalidAccessKeyId"
                    | "SignatureDoesNotMatch"
                    | "NoSuchBucket"
                    | "InvalidBucketName"
                    | "AuthorizationHeaderMalformed"
                    | "InvalidArgument"
                    | "EntityTooSmall"
            );
            (format!("{op}: {code} {msg}").trim().to_owned(), permanent)
        }
        SdkError::TimeoutError(_) => (format!("{op}: timed out"), false),
        SdkError::DispatchFailure(d) => (format!("{op}: connection failed ({d:?})"), false),
        SdkError::ResponseError(_) => (format!("{op}: unreadable response"), false),
        other => (format!("{op}: {other:?}"), false),
    };
    PublishError::Remote { target: "s3", detail, permanent }
}

/// FNV-1a, 64 bit: a stable fingerprint (unlike `DefaultHasher`) for the checkpoint.
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ *b as u64).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_typed_and_cached_by_kind() {
        assert_eq!(kind_of("hls/720p/index.m3u8"), ("application/vnd.apple.mpegurl", CACHE_SHORT));
        assert_eq!(kind_of("hls/720p/seg00001.ts"), ("video/mp2t", CACHE_IMMUTABLE));
        assert_eq!(kind_of("download.mp4").0, "video/mp4");
        assert_eq!(kind_of("audio.m4a").0, "audio/mp4");
        assert_eq!(kind_of("thumbnail.JPG").0, "image/jpeg");
        assert_eq!(kind_of("chapters.vtt").0, "text/vtt; charset=utf-8");
        assert_eq!(kind_of("no-extension").0, "application/octet-stream");
    }

    #[test]
    fn media_goes_up_before_the_playlists_that_name_it() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["manifest.json", "hls/master.m3u8", "hls/360p/index.m3u8", "hls/360p/seg00000.ts", "download.mp4"] {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"x").unwrap();
        }
        let order: Vec<String> = upload_order(dir.path()).unwrap().into_iter().map(|s| s.rel).collect();
        assert_eq!(order, ["download.mp4", "hls/360p/seg00000.ts", "hls/360p/index.m3u8", "hls/master.m3u8"]);
    }

    #[test]
    fn public_urls_use_the_cdn_base_or_the_endpoint() {
        let mut cfg = S3Config {
            endpoint: "http://127.0.0.1:3900/".into(),
            region: "garage".into(),
            bucket: "b".into(),
            prefix: "p/".into(),
            access_key_id: "GK".into(),
            secret_access_key: None,
            path_style: true,
            public_base_url: String::new(),
            part_size_mib: 8,
        };
        assert_eq!(cfg.public_url("p/x/index.json"), "http://127.0.0.1:3900/b/p/x/index.json");
        cfg.public_base_url = "https://cdn.example/".into();
        assert_eq!(cfg.public_url("p/x/index.json"), "https://cdn.example/p/x/index.json");
    }
}
