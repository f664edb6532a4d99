//! A YouTube Data API v3 fake on 127.0.0.1 that follows the real protocol: the OAuth token endpoint (refresh
//! grant), resumable uploads (session start with `Location`, chunks with `Content-Range`, `308` with
//! `Range: bytes=0-N`, the `bytes */N` status query, the final video JSON), thumbnails.set, captions.insert
//! (multipart/related), playlistItems list/insert, Google's error JSON — and injects faults on demand: any status
//! with a reason (5xx, 429, 403 quotaExceeded, 401) or a connection dropped halfway through a request body.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status and Google error reason.
    Status(u16, &'static str),
    /// Read part of the request body, then close the connection without an answer.
    Drop,
}

#[derive(Default)]
pub struct Upload {
    pub total: u64,
    pub data: Vec<u8>,
    pub video: serde_json::Value,
    pub video_id: Option<String>,
}

#[derive(Default)]
pub struct FakeState {
    pub refresh_token: String,
    pub valid_tokens: Vec<String>,
    pub tokens_issued: usize,
    pub uploads: HashMap<String, Upload>,
    pub videos: Vec<serde_json::Value>,
    pub thumbnails: HashMap<String, usize>,
    pub captions: Vec<(String, String)>,
    pub playlist_items: Vec<(String, String)>,
    /// Per operation (`token`, `start`, `chunk`, `status`, `thumbnail`, `captions`, `playlist`): faults to apply
    /// to the next requests, in order.
    pub faults: HashMap<&'static str, VecDeque<Fault>>,
    /// Body bytes of chunk requests received (including those of dropped requests).
    pub chunk_bytes_received: u64,
    pub sessions_started: usize,
    /// Delay before answering each chunk (to let a test kill the uploader mid-way).
    pub chunk_delay: std::time::Duration,
    /// What requests the fake saw, e.g. `PUT chunk bytes 0-262143/1000000 -> 308`.
    pub log: Vec<String>,
}

#[derive(Clone)]
pub struct YoutubeFake {
    pub base: String,
    pub state: Arc<Mutex<FakeState>>,
    task: Arc<tokio::task::JoinHandle<()>>,
}

impl YoutubeFake {
    pub async fn start(refresh_token: &str) -> YoutubeFake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(FakeState { refresh_token: refresh_token.into(), ..FakeState::default() }));
        let app = Router::new()
            .route("/token", post(token))
            .route("/upload/youtube/v3/videos", post(start_upload).put(chunk))
            .route("/upload/youtube/v3/thumbnails/set", post(thumbnail))
            .route("/upload/youtube/v3/captions", post(captions))
            .route("/youtube/v3/playlistItems", get(list_playlist).post(insert_playlist))
            .with_state((state.clone(), base.clone()));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        YoutubeFake { base, state, task: Arc::new(task) }
    }

    pub fn fail_next(&self, op: &'static str, fault: Fault) {
        self.state.lock().unwrap().faults.entry(op).or_default().push_back(fault);
    }

    /// Every access token stops working (as after a revocation or early expiry).
    pub fn revoke_tokens(&self) {
        self.state.lock().unwrap().valid_tokens.clear();
    }

    pub fn config(&self, refresh_token: &str) -> citizenhour::config::YoutubeConfig {
        let mut c = citizenhour::config::Config::default().youtube;
        c.client_id = "citizenhour-test.apps.googleusercontent.com".into();
        c.client_secret = Some("client-secret".to_owned().into());
        c.refresh_token = Some(refresh_token.to_owned().into());
        c.token_uri = format!("{}/token", self.base);
        c.api_url = format!("{}/", self.base);
        c.playlist_id = "PLbuergerstunde".into();
        c.tags = vec!["Bürgersprechstunde".into()];
        c.chunk_mib = 1;
        c
    }
}

impl Drop for YoutubeFake {
    fn drop(&mut self) {
        if Arc::strong_count(&self.task) == 1 {
            self.task.abort();
        }
    }
}

type S = State<(Arc<Mutex<FakeState>>, String)>;

fn google_error(code: u16, reason: &str, message: &str) -> Response {
    let domain = if reason.contains("uota") || reason.contains("imit") { "youtube.quota" } else { "global" };
    let body = serde_json::json!({
        "error": { "code": code, "message": message, "errors": [{ "message": message, "domain": domain, "reason": reason }] }
    });
    (StatusCode::from_u16(code).unwrap(), [("content-type", "application/json; charset=UTF-8")], body.to_string())
        .into_response()
}

/// The next fault for `op`, if any: a response, or `Some(None)` for a dropped connection.
fn fault(st: &Mutex<FakeState>, op: &'static str) -> Option<Fault> {
    st.lock().unwrap().faults.get_mut(op).and_then(|q| q.pop_front())
}

fn fault_response(f: &Fault) -> Option<Response> {
    match f {
        Fault::Status(code, reason) => Some(google_error(*code, reason, &format!("injected {reason}"))),
        Fault::Drop => None,
    }
}

/// Reads half the body and drops the connection (no response), as a network failure mid-request.
async fn drop_connection(body: Body, count_chunk: Option<&Mutex<FakeState>>) -> ! {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut got = 0u64;
    while let Some(Ok(frame)) = body.frame().await {
        if let Some(d) = frame.data_ref() {
            got += d.len() as u64;
            if got > 64 * 1024 {
                break;
            }
        }
    }
    if let Some(st) = count_chunk {
        st.lock().unwrap().chunk_bytes_received += got;
    }
    // Ends the connection's task: the client sees the connection closed before a response.
    std::panic::resume_unwind(Box::new("dropped connection"))
}

fn authorized(st: &Mutex<FakeState>, headers: &HeaderMap) -> bool {
    let token = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    token.is_some_and(|t| st.lock().unwrap().valid_tokens.iter().any(|v| v == t))
}

fn unauthorized() -> Response {
    google_error(401, "authError", "Invalid Credentials")
}

async fn token(State((st, _)): S, body: String) -> Response {
    if let Some(f) = fault(&st, "token")
        && let Some(r) = fault_response(&f)
    {
        return r;
    }
    let form: HashMap<String, String> = url_decode_form(&body);
    let mut s = st.lock().unwrap();
    if form.get("grant_type").map(String::as_str) != Some("refresh_token")
        || form.get("refresh_token") != Some(&s.refresh_token)
        || form.get("client_id").is_none_or(|c| c.is_empty())
    {
        let body =
            serde_json::json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."});
        return (StatusCode::BAD_REQUEST, [("content-type", "application/json")], body.to_string()).into_response();
    }
    s.tokens_issued += 1;
    let t = format!("ya29.fake-{}", s.tokens_issued);
    s.valid_tokens.push(t.clone());
    let body = serde_json::json!({"access_token": t, "expires_in": 3599, "scope": "https://www.googleapis.com/auth/youtube.force-ssl", "token_type": "Bearer"});
    ([("content-type", "application/json")], body.to_string()).into_response()
}

fn url_decode_form(body: &str) -> HashMap<String, String> {
    body.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            let dec = |s: &str| {
                let s = s.replace('+', " ");
                let mut out = Vec::new();
                let b = s.as_bytes();
                let mut i = 0;
                while i < b.len() {
                    if b[i] == b'%' && i + 2 < b.len() {
                        out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(b'?'));
                        i += 3;
                    } else {
                        out.push(b[i]);
                        i += 1;
                    }
                }
                String::from_utf8_lossy(&out).to_string()
            };
            (dec(k), dec(v))
        })
        .collect()
}

async fn start_upload(
    State((st, base)): S,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(f) = fault(&st, "start")
        && let Some(r) = fault_response(&f)
    {
        return r;
    }
    if q.get("uploadType").map(String::as_str) != Some("resumable") {
        return google_error(400, "badRequest", "uploadType must be resumable");
    }
    if !authorized(&st, &headers) {
        return unauthorized();
    }
    let Ok(video) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return google_error(400, "parseError", "Parse Error");
    };
    let title = video["snippet"]["title"].as_str().unwrap_or_default();
    let description = video["snippet"]["description"].as_str().unwrap_or_default();
    if title.trim().is_empty() || title.chars().count() > 100 || title.contains(['<', '>']) {
        return google_error(400, "invalidTitle", "The request metadata specifies an invalid video title.");
    }
    if description.len() > 5000 || description.contains(['<', '>']) {
        return google_error(400, "invalidDescription", "The request metadata specifies an invalid video description.");
    }
    let total: u64 =
        headers.get("x-upload-content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut s = st.lock().unwrap();
    s.sessions_started += 1;
    let id = format!("AUpl{}x{}", s.sessions_started, rand_id(12));
    s.uploads.insert(id.clone(), Upload { total, video, ..Upload::default() });
    s.log.push(format!("POST start total={total} -> 200"));
    let location = format!("{base}/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status&upload_id={id}");
    (StatusCode::OK, [("location", location), ("x-guploader-uploadid", id)], "").into_response()
}

fn rand_id(n: usize) -> String {
    use rand::Rng;
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut r = rand::rng();
    (0..n).map(|_| A[r.random_range(0..A.len())] as char).collect()
}

fn status_of(u: &Upload) -> Response {
    if let Some(id) = &u.video_id {
        return finished(u, id);
    }
    if u.data.is_empty() {
        return (StatusCode::PERMANENT_REDIRECT, "").into_response();
    }
    (StatusCode::PERMANENT_REDIRECT, [("range", format!("bytes=0-{}", u.data.len() - 1))], "").into_response()
}

fn finished(u: &Upload, id: &str) -> Response {
    let mut v = u.video.clone();
    v["kind"] = "youtube#video".into();
    v["id"] = id.into();
    v["status"]["uploadStatus"] = "uploaded".into();
    ([("content-type", "application/json; charset=UTF-8")], v.to_string()).into_response()
}

async fn chunk(
    State((st, _)): S,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    use http_body_util::BodyExt;
    let Some(id) = q.get("upload_id").cloned() else { return google_error(400, "badRequest", "no upload_id") };
    if !st.lock().unwrap().uploads.contains_key(&id) {
        return google_error(404, "notFound", "upload session not found");
    }
    let range = headers.get("content-range").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let Some(spec) = range.strip_prefix("bytes ") else {
        return google_error(400, "badRequest", "Content-Range required");
    };
    let (span, total) = spec.split_once('/').unwrap_or((spec, ""));
    if span == "*" {
        // The status query.
        if let Some(f) = fault(&st, "status") {
            match fault_response(&f) {
                Some(r) => return r,
                None => drop_connection(body, None).await,
            }
        }
        let s = st.lock().unwrap();
        let u = &s.uploads[&id];
        let r = status_of(u);
        drop(s);
        st.lock().unwrap().log.push(format!("PUT status {range} -> {}", r.status().as_u16()));
        return r;
    }
    let Some((a, b)) = span.split_once('-') else { return google_error(400, "badRequest", "bad Content-Range") };
    let (Ok(a), Ok(b), Ok(total)) = (a.parse::<u64>(), b.parse::<u64>(), total.parse::<u64>()) else {
        return google_error(400, "badRequest", "bad Content-Range");
    };
    if let Some(f) = fault(&st, "chunk") {
        match fault_response(&f) {
            Some(r) => {
                // The body is not taken: nothing of it counts as received.
                st.lock().unwrap().log.push(format!("PUT chunk {range} -> {} (injected)", r.status().as_u16()));
                return r;
            }
            None => {
                st.lock().unwrap().log.push(format!("PUT chunk {range} -> dropped (injected)"));
                drop_connection(body, Some(&st)).await
            }
        }
    }
    let delay = st.lock().unwrap().chunk_delay;
    let data = match body.collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => return google_error(400, "badRequest", "body"),
    };
    // Counted and stored on receipt; the answer comes `delay` later (a client killed in between has sent the
    // bytes, and the server has them — as with Google, which persists what it received).
    st.lock().unwrap().chunk_bytes_received += data.len() as u64;
    let response = store_chunk(&st, &id, &range, a, b, total, &data);
    tokio::time::sleep(delay).await;
    response
}

fn store_chunk(st: &Mutex<FakeState>, id: &str, range: &str, a: u64, b: u64, total: u64, data: &[u8]) -> Response {
    let mut s = st.lock().unwrap();
    let u = s.uploads.get_mut(id).unwrap();
    let have = u.data.len() as u64;
    if total != u.total || b < a || b - a + 1 != data.len() as u64 || a > have {
        let msg = format!("chunk {a}-{b}/{total} does not continue at {have} of {}", u.total);
        return google_error(400, "badContent", &msg);
    }
    if b + 1 < total && !(b - a + 1).is_multiple_of(256 * 1024) {
        return google_error(400, "badContent", "chunks must be multiples of 256 KiB");
    }
    // Overlap (a resent part): keep what is new.
    let skip = (have - a) as usize;
    u.data.extend_from_slice(&data[skip.min(data.len())..]);
    let done = u.data.len() as u64 == u.total;
    let response = if done {
        if u.video_id.is_none() {
            let vid = rand_id(11);
            u.video_id = Some(vid.clone());
            let mut v = u.video.clone();
            v["id"] = vid.clone().into();
            s.videos.push(v);
        }
        let u = &s.uploads[id];
        finished(u, u.video_id.as_ref().unwrap())
    } else {
        status_of(u)
    };
    s.log.push(format!("PUT chunk {range} -> {}", response.status().as_u16()));
    response
}

async fn thumbnail(
    State((st, _)): S,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(f) = fault(&st, "thumbnail")
        && let Some(r) = fault_response(&f)
    {
        return r;
    }
    if !authorized(&st, &headers) {
        return unauthorized();
    }
    let vid = q.get("videoId").cloned().unwrap_or_default();
    let mut s = st.lock().unwrap();
    if !s.videos.iter().any(|v| v["id"] == vid.as_str()) {
        return google_error(404, "videoNotFound", "The video that you are trying to update cannot be found.");
    }
    let ctype = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if ctype != "image/jpeg" || body.len() < 4 || body[..2] != [0xFF, 0xD8] {
        return google_error(400, "invalidImage", "The thumbnail image is invalid.");
    }
    if body.len() > 2 * 1024 * 1024 {
        return google_error(413, "mediaBodyTooLarge", "The thumbnail is too large.");
    }
    s.thumbnails.insert(vid, body.len());
    let r = serde_json::json!({"kind": "youtube#thumbnailSetResponse", "items": [{"default": {"url": "https://i.ytimg.com/vi/x/default.jpg", "width": 120, "height": 90}}]});
    ([("content-type", "application/json")], r.to_string()).into_response()
}

async fn captions(
    State((st, _)): S,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(f) = fault(&st, "captions")
        && let Some(r) = fault_response(&f)
    {
        return r;
    }
    if !authorized(&st, &headers) {
        return unauthorized();
    }
    let ctype = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if q.get("uploadType").map(String::as_str) != Some("multipart") || !ctype.starts_with("multipart/related") {
        return google_error(400, "badRequest", "captions.insert expects a multipart/related upload");
    }
    let text = String::from_utf8_lossy(&body).to_string();
    // The metadata part (JSON) names the video; the media part is the caption file.
    let Some(json_start) = text.find('{') else { return google_error(400, "badRequest", "no metadata part") };
    let meta: serde_json::Value = serde_json::Deserializer::from_str(&text[json_start..])
        .into_iter::<serde_json::Value>()
        .next()
        .and_then(Result::ok)
        .unwrap_or_default();
    let vid = meta["snippet"]["videoId"].as_str().unwrap_or_default().to_owned();
    let Some(vtt) = text.find("WEBVTT").map(|i| text[i..].to_owned()) else {
        return google_error(400, "invalidCaption", "caption file is not WebVTT");
    };
    let mut s = st.lock().unwrap();
    if !s.videos.iter().any(|v| v["id"] == vid.as_str()) {
        return google_error(404, "videoNotFound", "video not found");
    }
    s.captions.push((vid, vtt));
    let mut r = meta.clone();
    r["kind"] = "youtube#caption".into();
    r["id"] = format!("cap{}", s.captions.len()).into();
    ([("content-type", "application/json")], r.to_string()).into_response()
}

async fn list_playlist(State((st, _)): S, Query(q): Query<HashMap<String, String>>, headers: HeaderMap) -> Response {
    if !authorized(&st, &headers) {
        return unauthorized();
    }
    let (pl, vid) = (q.get("playlistId").cloned().unwrap_or_default(), q.get("videoId").cloned().unwrap_or_default());
    let s = st.lock().unwrap();
    let items: Vec<serde_json::Value> = s
        .playlist_items
        .iter()
        .enumerate()
        .filter(|(_, (p, v))| *p == pl && (vid.is_empty() || *v == vid))
        .map(|(i, _)| serde_json::json!({"kind": "youtube#playlistItem", "id": format!("PLI{i}")}))
        .collect();
    let r = serde_json::json!({"kind": "youtube#playlistItemListResponse", "items": items, "pageInfo": {"totalResults": items.len(), "resultsPerPage": 5}});
    ([("content-type", "application/json")], r.to_string()).into_response()
}

async fn insert_playlist(State((st, _)): S, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(f) = fault(&st, "playlist")
        && let Some(r) = fault_response(&f)
    {
        return r;
    }
    if !authorized(&st, &headers) {
        return unauthorized();
    }
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let pl = v["snippet"]["playlistId"].as_str().unwrap_or_default().to_owned();
    let vid = v["snippet"]["resourceId"]["videoId"].as_str().unwrap_or_default().to_owned();
    if pl.is_empty() || vid.is_empty() || v["snippet"]["resourceId"]["kind"] != "youtube#video" {
        return google_error(400, "playlistItemRequired", "playlistId and resourceId are required");
    }
    let mut s = st.lock().unwrap();
    s.playlist_items.push((pl, vid));
    let mut r = v.clone();
    r["kind"] = "youtube#playlistItem".into();
    r["id"] = format!("PLI{}", s.playlist_items.len() - 1).into();
    ([("content-type", "application/json")], r.to_string()).into_response()
}
