//! The YouTube target: the MP4 with title, description (with chapters), tags, privacy, category and language;
//! then thumbnail, captions (the chapter WebVTT) and the playlist entry.
//!
//! The video goes up over YouTube's **resumable upload protocol**, spoken here (google-youtube3 7.0's
//! `upload_resumable` never resumes and skips data on a retried chunk, see ../shared/notes/youtube.md):
//! 1. `POST {root}upload/youtube/v3/videos?uploadType=resumable&part=snippet,status` with the video JSON →
//!    `Location`: the session URI, saved in the checkpoint before a byte is sent;
//! 2. `PUT session` with `Content-Range: bytes a-b/N` per chunk (multiples of 256 KiB) → `308` with
//!    `Range: bytes=0-K`: the next chunk starts at K+1, whatever was sent;
//! 3. after any failure (a dropped connection, 5xx, a restart) `PUT session` with `Content-Range: bytes */N`
//!    asks the server how much it has; the upload continues there;
//! 4. `200/201` with the video JSON ends it. The video exists only then, and a new session is only started when
//!    the checkpoint has none (or the server forgot it: 404/410), so one recording never becomes two videos.
//!
//! The other calls (thumbnail, captions, playlist items) use the crate's hub. Authentication is the OAuth 2.0
//! refresh-token grant against the configured token endpoint; a 401 refreshes once and repeats the request.
//! 403 `quotaExceeded`/`uploadLimitExceeded` and 429 "uploads per day" wait for the daily reset.

use super::PublishError;
use crate::config::YoutubeConfig;
use google_youtube3::api::{
    Caption, CaptionSnippet, PlaylistItem, PlaylistItemSnippet, ResourceId, Video, VideoSnippet, VideoStatus,
};
use google_youtube3::{YouTube, common, hyper_rustls, hyper_util};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Chunks must be multiples of 256 KiB (except the last).
pub const CHUNK_UNIT: u64 = 256 * 1024;

/// OAuth 2.0 access tokens from a refresh token (RFC 6749 §6), cached until shortly before they expire.
/// Implements the crate's `GetToken`, so the hub's calls use the same tokens.
#[derive(Clone)]
pub struct TokenSource {
    http: reqwest::Client,
    token_uri: String,
    client_id: String,
    client_secret: String,
    refresh_token: String,
    cached: Arc<Mutex<Option<(String, Instant)>>>,
}

impl TokenSource {
    pub fn new(http: reqwest::Client, c: &YoutubeConfig) -> TokenSource {
        let secret =
            |s: &Option<secrecy::SecretString>| s.as_ref().map(|s| s.expose_secret().to_owned()).unwrap_or_default();
        TokenSource {
            http,
            token_uri: c.token_uri.clone(),
            client_id: c.client_id.clone(),
            client_secret: secret(&c.client_secret),
            refresh_token: secret(&c.refresh_token),
            cached: Arc::default(),
        }
    }

    /// Forgets the cached token (after a 401).
    pub fn invalidate(&self) {
        *self.cached.lock().unwrap() = None;
    }

    pub async fn token(&self) -> Result<String, PublishError> {
        if let Some((t, until)) = self.cached.lock().unwrap().clone()
            && Instant::now() < until
        {
            return Ok(t);
        }
        let resp = self
            .http
            .post(&self.token_uri)
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", self.refresh_token.as_str()),
                ("client_id", self.client_id.as_str()),
                ("client_secret", self.client_secret.as_str()),
            ])
            .send()
            .await
            .map_err(|e| transient(format!("token endpoint: {}", without_url(&e))))?;
        let status = resp.status();
        let body: serde_json::Value = resp.json().await.unwrap_or_default();
        if !status.is_success() {
            let error = body["error"].as_str().unwrap_or("unknown");
            // invalid_grant: the refresh token was revoked or expired — staff must authorize again.
            let permanent = status.is_client_error() && status.as_u16() != 429;
            return Err(PublishError::Remote {
                target: "youtube",
                detail: format!("token endpoint refused the refresh token: {status} {error}"),
                permanent,
            });
        }
        let token = body["access_token"].as_str().unwrap_or_default().to_owned();
        if token.is_empty() {
            return Err(transient("token endpoint sent no access_token".into()));
        }
        let expires = body["expires_in"].as_u64().unwrap_or(3600).saturating_sub(60).max(1);
        *self.cached.lock().unwrap() = Some((token.clone(), Instant::now() + Duration::from_secs(expires)));
        Ok(token)
    }
}

impl common::GetToken for TokenSource {
    fn get_token<'a>(
        &'a self,
        _scopes: &'a [&str],
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<Option<String>, Box<dyn std::error::Error + Send + Sync>>>
                + Send
                + 'a,
        >,
    > {
        Box::pin(async move { self.token().await.map(Some).map_err(|e| e.to_string().into()) })
    }
}

/// What to upload for one session.
#[derive(Debug, Clone)]
pub struct UploadPlan {
    pub mp4: PathBuf,
    pub thumbnail: Option<PathBuf>,
    pub captions_vtt: Option<PathBuf>,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
}

/// Progress of one YouTube publication, stored as the job's checkpoint.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct YoutubeCheckpoint {
    /// The resumable session URI (from `Location`), saved before the first byte.
    pub session_uri: Option<String>,
    /// Bytes the server confirmed (its `Range`).
    pub confirmed: u64,
    /// Bytes sent in all attempts, including what had to be sent again.
    pub bytes_sent: u64,
    pub video_id: Option<String>,
    pub thumbnail_set: bool,
    pub captions_set: bool,
    pub playlist_added: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    SessionStarted,
    Chunk { confirmed: u64, of: u64 },
    Uploaded { video_id: String },
    Thumbnail,
    Captions,
    Playlist,
    Finished { video_id: String, watch_url: String },
}

type Connector = hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;

pub struct YoutubeUploader {
    http: reqwest::Client,
    tokens: TokenSource,
    hub: YouTube<Connector>,
    cfg: YoutubeConfig,
    root: String,
    /// First wait after a 5xx/429/dropped connection; doubles up to 30 s, 6 tries per step.
    pub backoff: Duration,
}

impl YoutubeUploader {
    pub fn new(cfg: &YoutubeConfig) -> Result<YoutubeUploader, PublishError> {
        // Two rustls crypto providers are linked (aws-lc-rs for the S3 SDK, ring for reqwest/lettre); the hub's
        // connector needs a process default. Installing twice is harmless (the first wins).
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(600))
            .connect_timeout(Duration::from_secs(20))
            .build()
            .map_err(|e| transient(format!("HTTP client: {e}")))?;
        let tokens = TokenSource::new(http.clone(), cfg);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| transient(format!("TLS roots: {e}")))?
            .https_or_http()
            .enable_http1()
            .build();
        let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector);
        let mut hub = YouTube::new(client, tokens.clone());
        let root = format!("{}/", cfg.api_url.trim_end_matches('/'));
        hub.base_url(root.clone());
        hub.root_url(root.clone());
        Ok(YoutubeUploader { http, tokens, hub, cfg: cfg.clone(), root, backoff: Duration::from_millis(500) })
    }

    /// The video resource sent when the upload starts.
    pub fn video(&self, plan: &UploadPlan) -> Video {
        Video {
            snippet: Some(VideoSnippet {
                title: Some(youtube_text(&plan.title, 100, 400)),
                description: Some(youtube_text(&plan.description, 5000, 5000)),
                tags: Some(plan.tags.iter().map(|t| youtube_text(t, 100, 400)).collect()),
                category_id: Some(self.cfg.category_id.clone()),
                default_language: Some(self.cfg.language.clone()),
                default_audio_language: Some(self.cfg.language.clone()),
                ..VideoSnippet::default()
            }),
            status: Some(VideoStatus {
                privacy_status: Some(self.cfg.privacy.clone()),
                self_declared_made_for_kids: Some(false),
                embeddable: Some(true),
                ..VideoStatus::default()
            }),
            ..Video::default()
        }
    }

    /// Does the next piece of work; call until [`Step::Finished`], saving `cp` after each step.
    pub async fn step(&self, plan: &UploadPlan, cp: &mut YoutubeCheckpoint) -> Result<Step, PublishError> {
        if cp.video_id.is_none() {
            return self.upload_step(plan, cp).await;
        }
        let video_id = cp.video_id.clone().expect("checked");
        if !cp.thumbnail_set
            && let Some(t) = &plan.thumbnail
        {
            let f = std::fs::File::open(t).map_err(|e| PublishError::io(t, e))?;
            self.with_retries("thumbnails.set", || async {
                self.hub.thumbnails().set(&video_id).upload(f.try_clone().expect("file handle"), mime_jpeg()).await
            })
            .await?;
            cp.thumbnail_set = true;
            return Ok(Step::Thumbnail);
        }
        if !cp.captions_set
            && let Some(v) = &plan.captions_vtt
        {
            let caption = Caption {
                snippet: Some(CaptionSnippet {
                    video_id: Some(video_id.clone()),
                    language: Some(self.cfg.language.clone()),
                    name: Some(if self.cfg.language.starts_with("de") { "Kapitel" } else { "Chapters" }.into()),
                    ..CaptionSnippet::default()
                }),
                ..Caption::default()
            };
            let f = std::fs::File::open(v).map_err(|e| PublishError::io(v, e))?;
            self.with_retries("captions.insert", || async {
                self.hub
                    .captions()
                    .insert(caption.clone())
                    .upload(f.try_clone().expect("file handle"), mime_vtt())
                    .await
            })
            .await?;
            cp.captions_set = true;
            return Ok(Step::Captions);
        }
        if !cp.playlist_added && !self.cfg.playlist_id.is_empty() {
            let playlist = self.cfg.playlist_id.clone();
            // Idempotent: a crash after the insert must not add the video twice.
            let (_, listed) = self
                .with_retries("playlistItems.list", || async {
                    self.hub
                        .playlist_items()
                        .list(&vec!["id".into()])
                        .playlist_id(&playlist)
                        .video_id(&video_id)
                        .doit()
                        .await
                })
                .await?;
            if listed.items.unwrap_or_default().is_empty() {
                let item = PlaylistItem {
                    snippet: Some(PlaylistItemSnippet {
                        playlist_id: Some(playlist.clone()),
                        resource_id: Some(ResourceId {
                            kind: Some("youtube#video".into()),
                            video_id: Some(video_id.clone()),
                            ..ResourceId::default()
                        }),
                        ..PlaylistItemSnippet::default()
                    }),
                    ..PlaylistItem::default()
                };
                self.with_retries("playlistItems.insert", || async {
                    self.hub.playlist_items().insert(item.clone()).doit().await
                })
                .await?;
            }
            cp.playlist_added = true;
            return Ok(Step::Playlist);
        }
        Ok(Step::Finished { watch_url: format!("https://www.youtube.com/watch?v={video_id}"), video_id })
    }

    /// One step of the resumable upload: start the session, or send the next chunk (after asking the server
    /// where to continue when the last step failed).
    async fn upload_step(&self, plan: &UploadPlan, cp: &mut YoutubeCheckpoint) -> Result<Step, PublishError> {
        let total = std::fs::metadata(&plan.mp4).map_err(|e| PublishError::io(&plan.mp4, e))?.len();
        if total == 0 {
            return Err(PublishError::Remote {
                target: "youtube",
                detail: format!("{} is empty", plan.mp4.display()),
                permanent: true,
            });
        }
        let Some(session) = cp.session_uri.clone() else {
            let uri = self.start_session(plan, total).await?;
            cp.session_uri = Some(uri);
            cp.confirmed = 0;
            return Ok(Step::SessionStarted);
        };
        let chunk = self.cfg.chunk_mib.max(1) * 1024 * 1024;
        let mut attempt = 0u32;
        let mut must_ask = true;
        loop {
            if must_ask {
                match self.query_status(&session, total).await {
                    Ok(Progress::Done(video)) => return self.uploaded(cp, video),
                    Ok(Progress::Have(n)) => cp.confirmed = n,
                    Err(Failure::SessionGone) => {
                        // The server forgot the session (expired, or never completed): no video exists yet.
                        cp.session_uri = None;
                        cp.confirmed = 0;
                        return Err(transient("upload session expired; starting a new one".into()));
                    }
                    Err(f) => {
                        self.wait_or_fail(f, &mut attempt, "upload status").await?;
                        continue;
                    }
                }
            }
            let start = cp.confirmed;
            let len = chunk.min(total - start);
            let body = super::read_range(&plan.mp4, start, len)?;
            cp.bytes_sent += len;
            match self.put_chunk(&session, start, len, total, body).await {
                Ok(Progress::Done(video)) => return self.uploaded(cp, video),
                Ok(Progress::Have(n)) => {
                    cp.confirmed = n;
                    return Ok(Step::Chunk { confirmed: n, of: total });
                }
                Err(Failure::SessionGone) => {
                    cp.session_uri = None;
                    cp.confirmed = 0;
                    return Err(transient("upload session expired; starting a new one".into()));
                }
                Err(f) => {
                    self.wait_or_fail(f, &mut attempt, "upload chunk").await?;
                    must_ask = true;
                }
            }
        }
    }

    fn uploaded(&self, cp: &mut YoutubeCheckpoint, video: serde_json::Value) -> Result<Step, PublishError> {
        let id = video["id"].as_str().unwrap_or_default().to_owned();
        if id.is_empty() {
            return Err(transient(format!("upload finished without a video id: {video}")));
        }
        cp.video_id = Some(id.clone());
        cp.confirmed = cp.confirmed.max(video["fileDetails"]["fileSize"].as_u64().unwrap_or(0));
        Ok(Step::Uploaded { video_id: id })
    }

    async fn start_session(&self, plan: &UploadPlan, total: u64) -> Result<String, PublishError> {
        let url = format!("{}upload/youtube/v3/videos?uploadType=resumable&part=snippet,status", self.root);
        let body = serde_json::to_vec(&self.video(plan)).expect("video serializes");
        let mut attempt = 0u32;
        let mut refreshed = false;
        loop {
            let token = match self.tokens.token().await {
                Ok(t) => t,
                Err(PublishError::Remote { permanent: false, detail, .. }) => {
                    self.wait_or_fail(Failure::Retry { detail, after: None }, &mut attempt, "token").await?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let r = self
                .http
                .post(&url)
                .bearer_auth(&token)
                .header("Content-Type", "application/json; charset=UTF-8")
                .header("X-Upload-Content-Type", "video/mp4")
                .header("X-Upload-Content-Length", total.to_string())
                .body(body.clone())
                .send()
                .await;
            let f = match r {
                Ok(resp) if resp.status().is_success() => {
                    let loc = resp.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or_default();
                    if loc.is_empty() {
                        Failure::Retry { detail: "no Location header".into(), after: None }
                    } else {
                        return Ok(loc.to_owned());
                    }
                }
                Ok(resp) => classify(resp, "videos.insert").await,
                Err(e) => Failure::Retry { detail: without_url(&e), after: None },
            };
            if matches!(f, Failure::Unauthorized) && !refreshed {
                refreshed = true;
                self.tokens.invalidate();
                continue;
            }
            self.wait_or_fail(f, &mut attempt, "videos.insert").await?;
        }
    }

    async fn query_status(&self, session: &str, total: u64) -> Result<Progress, Failure> {
        let r = self
            .http
            .put(session)
            .header("Content-Range", format!("bytes */{total}"))
            .header("Content-Length", "0")
            .send()
            .await;
        match r {
            Ok(resp) => progress(resp, "upload status").await,
            Err(e) => Err(Failure::Retry { detail: without_url(&e), after: None }),
        }
    }

    async fn put_chunk(
        &self,
        session: &str,
        start: u64,
        len: u64,
        total: u64,
        body: Vec<u8>,
    ) -> Result<Progress, Failure> {
        let r = self
            .http
            .put(session)
            .header("Content-Range", format!("bytes {start}-{}/{total}", start + len - 1))
            .header("Content-Length", len.to_string())
            .header("Content-Type", "video/mp4")
            .body(body)
            .send()
            .await;
        match r {
            Ok(resp) => progress(resp, "upload chunk").await,
            Err(e) => Err(Failure::Retry { detail: without_url(&e), after: None }),
        }
    }

    /// Sleeps before the next try of a transient failure, or ends the step with the right error.
    async fn wait_or_fail(&self, f: Failure, attempt: &mut u32, what: &str) -> Result<(), PublishError> {
        match f {
            Failure::Retry { detail, after } => {
                *attempt += 1;
                if *attempt > 6 {
                    return Err(transient(format!("{what}: {detail} (gave up after {} tries)", *attempt)));
                }
                let base = self.backoff.as_millis() as u64 * (1u64 << (*attempt - 1).min(6));
                let jitter = rand::random_range(0..=base / 5 + 1);
                let wait = after.unwrap_or(Duration::from_millis((base + jitter).min(30_000)));
                tracing::warn!(what, "YouTube: {detail}; trying again in {wait:?}");
                tokio::time::sleep(wait).await;
                Ok(())
            }
            Failure::Unauthorized => {
                // The token was revoked or expired early: refresh once per failure, then try again.
                self.tokens.invalidate();
                *attempt += 1;
                if *attempt > 6 {
                    return Err(transient(format!("{what}: still unauthorized after refreshing the token")));
                }
                Ok(())
            }
            Failure::Quota { reason } => Err(PublishError::Quota {
                target: "youtube",
                detail: format!("{what}: {reason}: waiting for YouTube's daily quota reset"),
                retry_at: next_quota_reset(chrono::Utc::now()),
            }),
            Failure::Permanent(detail) => {
                Err(PublishError::Remote { target: "youtube", detail: format!("{what}: {detail}"), permanent: true })
            }
            Failure::SessionGone => Err(transient(format!("{what}: upload session gone"))),
        }
    }

    /// Runs a hub call with the same retry rules as the upload.
    async fn with_retries<T, F, Fut>(&self, what: &str, call: F) -> Result<T, PublishError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, common::Error>>,
    {
        let mut attempt = 0u32;
        loop {
            let f = match call().await {
                Ok(v) => return Ok(v),
                Err(common::Error::Failure(resp)) => {
                    let status = resp.status().as_u16();
                    let body = http_body_util::BodyExt::collect(resp.into_body())
                        .await
                        .map(|b| b.to_bytes().to_vec())
                        .unwrap_or_default();
                    failure(status, None, &body, what)
                }
                Err(common::Error::BadRequest(v)) => {
                    let status = v["error"]["code"].as_u64().unwrap_or(400) as u16;
                    failure(status, None, v.to_string().as_bytes(), what)
                }
                Err(common::Error::MissingToken(e)) => Failure::Retry { detail: format!("token: {e}"), after: None },
                Err(common::Error::HttpError(e)) => Failure::Retry { detail: e.to_string(), after: None },
                Err(e) => Failure::Permanent(e.to_string().trim().to_owned()),
            };
            self.wait_or_fail(f, &mut attempt, what).await?;
        }
    }
}

enum Progress {
    Have(u64),
    Done(serde_json::Value),
}

#[derive(Debug)]
enum Failure {
    Retry { detail: String, after: Option<Duration> },
    Unauthorized,
    Quota { reason: String },
    Permanent(String),
    SessionGone,
}

async fn progress(resp: reqwest::Response, what: &str) -> Result<Progress, Failure> {
    match resp.status().as_u16() {
        200 | 201 => Ok(Progress::Done(resp.json().await.unwrap_or_default())),
        308 => Ok(Progress::Have(
            resp.headers()
                .get("range")
                .and_then(|r| r.to_str().ok())
                .and_then(parse_range_end)
                .map(|e| e + 1)
                .unwrap_or(0),
        )),
        404 | 410 => Err(Failure::SessionGone),
        _ => Err(classify(resp, what).await),
    }
}

async fn classify(resp: reqwest::Response, what: &str) -> Failure {
    let status = resp.status().as_u16();
    let after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.min(300)));
    let body = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
    failure(status, after, &body, what)
}

/// YouTube's error JSON → what to do about it.
fn failure(status: u16, after: Option<Duration>, body: &[u8], what: &str) -> Failure {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let reason = v["error"]["errors"][0]["reason"].as_str().unwrap_or_default().to_owned();
    let message = v["error"]["message"].as_str().unwrap_or_default();
    let _ = what;
    let detail = format!("HTTP {status} {reason} {message}").trim().to_owned();
    match status {
        401 => Failure::Unauthorized,
        403 if matches!(reason.as_str(), "quotaExceeded" | "uploadLimitExceeded" | "dailyLimitExceeded") => {
            Failure::Quota { reason }
        }
        429 if reason == "uploadLimitExceeded" || message.contains("per day") => Failure::Quota { reason },
        429 | 500 | 502 | 503 | 504 => Failure::Retry { detail, after },
        403 if matches!(reason.as_str(), "rateLimitExceeded" | "userRateLimitExceeded") => {
            Failure::Retry { detail, after }
        }
        _ => Failure::Permanent(detail),
    }
}

/// `bytes=0-1234` (Google) or `bytes 0-1234` → 1234.
fn parse_range_end(v: &str) -> Option<u64> {
    let r = v.trim().strip_prefix("bytes")?.trim_start_matches(['=', ' ']);
    let (a, b) = r.split_once('-')?;
    if a.trim() != "0" {
        return None;
    }
    b.trim().parse().ok()
}

/// The next daily quota reset: midnight Pacific Time, taken as 08:05 UTC (PST; in summer this waits an hour
/// longer than needed, never too short).
pub fn next_quota_reset(now: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    let today = now.date_naive().and_hms_opt(8, 5, 0).expect("valid time").and_utc();
    if today > now { today } else { today + chrono::Duration::days(1) }
}

/// YouTube refuses `<` and `>` in titles and descriptions and limits their length (titles: 100 characters,
/// descriptions: 5,000 bytes).
pub fn youtube_text(s: &str, max_chars: usize, max_bytes: usize) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        let c = match c {
            '<' => '‹',
            '>' => '›',
            c if c.is_control() && c != '\n' => ' ',
            c => c,
        };
        if n >= max_chars || out.len() + c.len_utf8() > max_bytes {
            break;
        }
        out.push(c);
    }
    out.trim().to_owned()
}

fn transient(detail: String) -> PublishError {
    PublishError::Remote { target: "youtube", detail, permanent: false }
}

/// reqwest errors print the URL, and the session URI is a credential: leave it out.
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_body() || e.is_request() {
        "connection dropped"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut root = String::new();
    while let Some(s) = source {
        root = s.to_string();
        source = s.source();
    }
    if root.is_empty() { kind.to_owned() } else { format!("{kind} ({root})") }
}

fn mime_jpeg() -> mime::Mime {
    "image/jpeg".parse().expect("valid mime")
}

fn mime_vtt() -> mime::Mime {
    "text/vtt".parse().expect("valid mime")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_range_decides_where_to_continue() {
        assert_eq!(parse_range_end("bytes=0-262143"), Some(262_143));
        assert_eq!(parse_range_end("bytes 0-99"), Some(99));
        assert_eq!(parse_range_end("bytes=5-99"), None);
        assert_eq!(parse_range_end("garbage"), None);
    }

    #[test]
    fn errors_are_sorted_into_retry_refresh_quota_and_permanent() {
        let q = br#"{"error":{"code":403,"message":"quota","errors":[{"reason":"quotaExceeded"}]}}"#;
        assert!(matches!(failure(403, None, q, "x"), Failure::Quota { .. }));
        assert!(matches!(failure(503, None, b"", "x"), Failure::Retry { .. }));
        assert!(matches!(failure(429, None, b"{}", "x"), Failure::Retry { .. }));
        assert!(matches!(failure(401, None, b"", "x"), Failure::Unauthorized));
        let bad = br#"{"error":{"code":400,"message":"Invalid title","errors":[{"reason":"invalidTitle"}]}}"#;
        match failure(400, None, bad, "videos.insert") {
            Failure::Permanent(d) => assert_eq!(d, "HTTP 400 invalidTitle Invalid title"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn quota_waits_until_the_pacific_midnight_reset() {
        let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&chrono::Utc);
        assert_eq!(next_quota_reset(at("2026-12-04T23:00:00Z")), at("2026-12-05T08:05:00Z"));
        assert_eq!(next_quota_reset(at("2026-12-05T07:00:00Z")), at("2026-12-05T08:05:00Z"));
    }

    #[test]
    fn titles_and_descriptions_follow_youtubes_rules() {
        assert_eq!(youtube_text("Haushalt <2027> & Co", 100, 400), "Haushalt ‹2027› & Co");
        assert_eq!(youtube_text(&"ä".repeat(150), 100, 400).chars().count(), 100);
        let d = youtube_text(&"ü".repeat(4000), 5000, 5000);
        assert_eq!(d.len(), 5000);
    }
}
