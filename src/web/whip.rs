//! WHIP signalling (RFC 9725) for `POST /whip/{slug}/{source}`: the per-source ingest token as bearer,
//! `application/sdp` in, `201 Created` + `Location` + SDP answer out; `DELETE` on the Location ends the
//! source; `OPTIONS` answers browsers' CORS preflight; `PATCH` (trickle ICE) is 405 for now.
//! The media side is `media::sources::whip`; this file only checks and routes.

use super::AppState;
use crate::live::LiveError;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

fn plain(status: StatusCode, message: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], message.to_owned()).into_response()
}

fn cors(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("POST, DELETE, OPTIONS, PATCH"));
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("Authorization, Content-Type, If-Match"));
    h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("Location, ETag, Link"));
    r
}

async fn authorize(
    state: &AppState,
    slug: &str,
    source: &str,
    headers: &HeaderMap,
) -> Result<crate::domain::SessionId, Response> {
    let session = state
        .db
        .session_by_slug(slug)
        .await
        .map_err(|_| plain(StatusCode::NOT_FOUND, "unknown session / unbekannte Sprechstunde"))?;
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| plain(StatusCode::UNAUTHORIZED, "bearer token required / Token fehlt"))?;
    let ok = state.db.check_source_token(session.id, source, token).await.map_err(|e| {
        tracing::error!("whip auth: {e}");
        plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    })?;
    if !ok {
        return Err(plain(StatusCode::UNAUTHORIZED, "wrong token for this source / falsches Token"));
    }
    Ok(session.id)
}

fn live_error(e: LiveError) -> Response {
    match e {
        LiveError::NotLive(_) => plain(StatusCode::CONFLICT, "session is not live / Sprechstunde ist nicht live"),
        LiveError::SourceTaken(_) => {
            plain(StatusCode::CONFLICT, "this source is publishing already / Quelle ist schon belegt")
        }
        LiveError::NoSuchSource(_) => plain(StatusCode::NOT_FOUND, "no such WHIP resource"),
        LiveError::Media(crate::media::MediaError::Unreadable { detail, .. }) => {
            plain(StatusCode::BAD_REQUEST, &format!("offer refused: {detail}"))
        }
        other => {
            tracing::error!("whip: {other}");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

#[tracing::instrument(skip(state, headers, body), fields(session = %slug, source = %source))]
pub async fn publish(
    State(state): State<AppState>,
    Path((slug, source)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ctype = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !ctype.trim().to_ascii_lowercase().starts_with("application/sdp") {
        return cors(plain(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/sdp"));
    }
    let session = match authorize(&state, &slug, &source, &headers).await {
        Ok(s) => s,
        Err(r) => return cors(r),
    };
    let Ok(offer) = String::from_utf8(body.to_vec()) else {
        return cors(plain(StatusCode::BAD_REQUEST, "offer is not UTF-8 text"));
    };
    if !offer.trim_start().starts_with("v=0") {
        return cors(plain(StatusCode::BAD_REQUEST, "offer is not an SDP session description"));
    }
    match state.live.add_whip(session, &slug, &source, offer).await {
        Ok((resource, answer)) => {
            tracing::debug!(%answer, "WHIP answer");
            let location = format!("/whip/{slug}/{source}/{resource}");
            cors(
                (
                    StatusCode::CREATED,
                    [(header::CONTENT_TYPE, "application/sdp".to_owned()), (header::LOCATION, location)],
                    answer,
                )
                    .into_response(),
            )
        }
        Err(e) => cors(live_error(e)),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    Path((slug, source, resource)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let session = match authorize(&state, &slug, &source, &headers).await {
        Ok(s) => s,
        Err(r) => return cors(r),
    };
    match state.live.remove_whip(session, &slug, &source, &resource).await {
        Ok(()) => cors(StatusCode::OK.into_response()),
        Err(e) => cors(live_error(e)),
    }
}

/// CORS preflight and WHIP's `OPTIONS`; `PATCH` (trickle ICE / ICE restart) is not supported yet.
pub async fn other(method: Method) -> Response {
    if method == Method::OPTIONS {
        let mut r = cors(StatusCode::NO_CONTENT.into_response());
        r.headers_mut().insert("accept-post", HeaderValue::from_static("application/sdp"));
        r
    } else {
        cors(plain(StatusCode::METHOD_NOT_ALLOWED, "trickle ICE (PATCH) is not supported"))
    }
}
