//! Static assets embedded in the binary: hls.js (pinned npm version, see `assets/package.json`), the player
//! script and the stylesheet.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

pub const HLS_JS: &str = include_str!("../../assets/vendor/hls.min.js");
pub const PLAYER_JS: &str = include_str!("../../assets/player.js");
pub const STYLE_CSS: &str = include_str!("../../assets/style.css");
pub const STUDIO_HTML: &str = include_str!("../../assets/studio.html");
pub const STUDIO_JS: &str = include_str!("../../assets/studio.js");

pub async fn serve(Path(file): Path<String>) -> Response {
    let (body, ctype) = match file.as_str() {
        "hls.min.js" => (HLS_JS, "text/javascript; charset=utf-8"),
        "player.js" => (PLAYER_JS, "text/javascript; charset=utf-8"),
        "style.css" => (STYLE_CSS, "text/css; charset=utf-8"),
        "studio.js" => (STUDIO_JS, "text/javascript; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    ([(header::CONTENT_TYPE, ctype), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_embedded_hls_js_is_the_pinned_npm_version() {
        let pkg: serde_json::Value = serde_json::from_str(include_str!("../../assets/package.json")).unwrap();
        let pinned = pkg["dependencies"]["hls.js"].as_str().unwrap();
        assert!(pinned.chars().all(|c| c.is_ascii_digit() || c == '.'), "pin an exact version, not {pinned}");
        assert!(super::HLS_JS.contains(&format!("\"{pinned}\"")), "assets/vendor/hls.min.js is not hls.js {pinned}");
    }
}
