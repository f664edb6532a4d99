//! Small shared pieces of the server-rendered pages: template rendering, escaping, the page frame, cookies.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// An askama template as a page with `status`, or a logged 500 if it cannot be rendered.
pub fn render(status: StatusCode, t: impl askama::Template) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!("template error: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "Interner Fehler / internal error").into_response()
        }
    }
}

/// A staff page: rendered like [`render`], never cached.
pub fn render_private(t: impl askama::Template) -> Response {
    ([(header::CACHE_CONTROL, "no-store")], render(StatusCode::OK, t)).into_response()
}

/// The value of cookie `name`, if the request has it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(&format!("{name}=")).map(str::to_owned))
}

/// `&`, `<`, `>`, `"`, `'` escaped for HTML text and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"de\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\">\n<title>{} – citizenhour</title>\n<link rel=\"stylesheet\" \
         href=\"/assets/style.css\">\n</head>\n<body>\n<a class=\"skip\" href=\"#main\">Zum Inhalt springen</a>\n\
         <main id=\"main\" tabindex=\"-1\">\n{body}\n</main>\n</body>\n</html>\n",
        esc(title)
    )
}
