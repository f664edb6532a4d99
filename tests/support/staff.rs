//! Staff helpers for tests: `user add` through the CLI, login through the real form (CSRF double submit).

use std::io::Write;
use std::process::{Command, Stdio};

pub fn user_add(data: &std::path::Path, args: &[&str], password: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_citizenhour"))
        .args(["user", "add"])
        .args(args)
        .env("CITIZENHOUR__STORAGE__DATA_DIR", data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

pub fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let i = html.find(&marker).unwrap_or_else(|| panic!("no {name} in {html}")) + marker.len();
    html[i..].split('"').next().unwrap().to_owned()
}

pub struct Login {
    pub cookie: String,
    pub csrf: String,
}

pub async fn login_form(app: &super::TestApp) -> (String, String) {
    let r = app.client.get(format!("{}/staff/login", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let c = set_cookie(&r, "staff_login_csrf").expect("login CSRF cookie");
    assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict"), "{c}");
    let cookie = c.split(';').next().unwrap().to_owned();
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"<label for="email">"#) && html.contains(r#"<label for="password">"#));
    (cookie, hidden(&html, "csrf"))
}

pub async fn post_login(app: &super::TestApp, cookie: &str, form: &[(&str, &str)]) -> reqwest::Response {
    app.client.post(format!("{}/staff/login", app.base)).header("cookie", cookie).form(form).send().await.unwrap()
}

pub async fn login(app: &super::TestApp, email: &str, password: &str) -> Login {
    let (cookie, csrf) = login_form(app).await;
    let r = post_login(app, &cookie, &[("email", email), ("password", password), ("csrf", &csrf)]).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(r.headers()["location"], "/staff");
    let c = set_cookie(&r, "staff").expect("session cookie");
    assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Path=/"), "{c}");
    assert!(!c.contains("Secure"), "plain http on loopback");
    let cookie = c.split(';').next().unwrap().to_owned();
    let home = app.client.get(format!("{}/staff", app.base)).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(home.status(), 200);
    let csrf = hidden(&home.text().await.unwrap(), "csrf");
    Login { cookie, csrf }
}

/// `citizenhour user add` that must succeed (the account every staff test starts from).
pub fn add_user(data: &std::path::Path, email: &str, name: &str, role: &str, password: &str) {
    let out = user_add(data, &["--email", email, "--name", name, "--role", role], password);
    assert!(out.status.success(), "user add {email}: {}", String::from_utf8_lossy(&out.stderr));
}
