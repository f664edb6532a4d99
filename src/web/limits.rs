//! Rate limits on question submissions (form and API): per client address and for everyone together
//! (tower_governor). A refusal is a clear, bilingual 429 with `Retry-After`.

use crate::config::IntakeConfig;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use std::net::{IpAddr, SocketAddr};
use tower_governor::GovernorLayer;
use tower_governor::errors::GovernorError;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::{GlobalKeyExtractor, KeyExtractor};

/// The client's address: the TCP peer, or — only behind a trusted reverse proxy — the first address in
/// `X-Forwarded-For` (or `X-Real-IP`).
#[derive(Clone, Copy, Debug)]
pub struct ClientIp {
    pub trust_forwarded_for: bool,
}

impl KeyExtractor for ClientIp {
    type Key = IpAddr;

    fn extract<T>(&self, req: &Request<T>) -> Result<IpAddr, GovernorError> {
        if self.trust_forwarded_for {
            let forwarded = req
                .headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .or_else(|| req.headers().get("x-real-ip").and_then(|v| v.to_str().ok()))
                .and_then(|v| v.trim().parse::<IpAddr>().ok());
            if let Some(ip) = forwarded {
                return Ok(ip);
            }
        }
        req.extensions()
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .ok_or(GovernorError::UnableToExtractKey)
    }
}

fn refused(e: GovernorError) -> Response<Body> {
    let (status, wait) = match e {
        GovernorError::TooManyRequests { wait_time, .. } => (StatusCode::TOO_MANY_REQUESTS, wait_time.max(1)),
        GovernorError::UnableToExtractKey => (StatusCode::BAD_REQUEST, 0),
        GovernorError::Other { code, .. } => (code, 0),
    };
    let body = serde_json::json!({
        "error": "rate_limited",
        "message": format!(
            "Zu viele Fragen in kurzer Zeit – bitte in {wait} s noch einmal versuchen. / Too many questions in a short \
             time; please try again in {wait} s."
        ),
        "field": null,
    });
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if wait > 0 {
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait));
    }
    r
}

/// `routes` with the configured limits (none when switched off).
pub fn limit_submissions<S: Clone + Send + Sync + 'static>(routes: Router<S>, c: &IntakeConfig) -> Router<S> {
    let mut routes = routes;
    if c.per_ip_burst > 0 {
        let conf = GovernorConfigBuilder::default()
            .per_millisecond(c.per_ip_every_ms.max(1))
            .burst_size(c.per_ip_burst)
            .key_extractor(ClientIp { trust_forwarded_for: c.trust_forwarded_for })
            .finish()
            .expect("valid per-IP quota (checked by the configuration)");
        let limiter = conf.limiter().clone();
        // Forget addresses that have been quiet, so the table does not grow with every visitor.
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                limiter.retain_recent();
            }
        });
        routes = routes.layer(GovernorLayer::new(conf).error_handler(refused));
    }
    if c.global_per_second > 0 {
        let every_ms = (1000 / c.global_per_second as u64).max(1);
        let conf = GovernorConfigBuilder::default()
            .per_millisecond(every_ms)
            .burst_size(c.global_per_second)
            .key_extractor(GlobalKeyExtractor)
            .finish()
            .expect("valid global quota");
        routes = routes.layer(GovernorLayer::new(conf).error_handler(refused));
    }
    routes
}
