//! The operator CLI against a real database in a temp dir, with `--json` output.

use std::path::Path;
use std::process::{Command, Output};

fn run(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_citizenhour"))
        .args(args)
        .env("CITIZENHOUR__STORAGE__DATA_DIR", data)
        .env("CITIZENHOUR__SERVER__PUBLIC_URL", "https://buergerstunde.musterstadt.example/")
        .output()
        .expect("citizenhour runs")
}

fn json(out: Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn sessions_and_questions_are_managed_from_the_command_line_with_json_output() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");

    let created = json(run(
        &data,
        &[
            "session",
            "create",
            "--title",
            "Bürgersprechstunde Dezember",
            "--host",
            "Anna Beispiel",
            "--host-title",
            "Bürgermeisterin",
            "--at",
            "2026-12-10T18:00:00+01:00",
            "--json",
        ],
    ));
    assert_eq!(created["slug"], "buergersprechstunde-dezember");
    assert_eq!(created["page_url"], "https://buergerstunde.musterstadt.example/s/buergersprechstunde-dezember");
    assert_eq!(created["state"], "scheduled");
    assert!(created["id"].as_i64().unwrap() > 0);

    let dup = run(
        &data,
        &[
            "session",
            "create",
            "--title",
            "Bürgersprechstunde Dezember",
            "--host",
            "X",
            "--at",
            "2026-12-10T18:00:00+01:00",
        ],
    );
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("exists already"));

    let bad_time = run(&data, &["session", "create", "--title", "T", "--host", "X", "--at", "morgen"]);
    assert!(!bad_time.status.success());
    assert!(String::from_utf8_lossy(&bad_time.stderr).contains("RFC 3339"));

    let list = json(run(&data, &["session", "list", "--json"]));
    assert_eq!(list.as_array().unwrap().len(), 1);

    let slug = "buergersprechstunde-dezember";
    let q = samples.join("questions.json");
    let eml = samples.join("mail-latin1-attachment.eml");
    let imported = json(run(
        &data,
        &["questions", "import", slug, q.to_str().unwrap(), eml.to_str().unwrap(), "--approve", "--json"],
    ));
    assert_eq!(imported["imported"].as_array().unwrap().len(), 4);

    let qs = json(run(&data, &["questions", "list", slug, "--status", "approved", "--json"]));
    let qs = qs.as_array().unwrap();
    assert_eq!(qs.len(), 4);
    assert!(qs.iter().all(|q| q["status"] == "approved"));
    assert!(qs.iter().all(|q| q.get("email").is_none()), "e-mail addresses stay out of listings");
    assert!(qs[3]["intake_note"].as_str().unwrap().contains("plan.pdf"));

    let shown = json(run(&data, &["session", "show", slug, "--json"]));
    assert_eq!(shown["question_count"], 4);
    assert_eq!(shown["recording_url"], "https://buergerstunde.musterstadt.example/r/buergersprechstunde-dezember");
    assert!(shown["studio_url"].as_str().unwrap().contains("/studio/buergersprechstunde-dezember?token="));
    let ingest = shown["ingest"].as_array().unwrap();
    assert_eq!(ingest.len(), 5, "host, three guests, obs");
    assert_eq!(
        ingest[0]["whip_url"],
        "https://buergerstunde.musterstadt.example/whip/buergersprechstunde-dezember/host"
    );
    assert_eq!(ingest[0]["bearer_token"].as_str().unwrap().len(), 32);

    // Trim points: clock formats, hostile values refused, cleared again.
    assert!(run(&data, &["session", "trim", slug, "--in", "1:05.5", "--out", "1:02:03"]).status.success());
    let shown = json(run(&data, &["session", "show", slug, "--json"]));
    assert_eq!(shown["trim"], serde_json::json!({ "in_ms": 65_500, "out_ms": 3_723_000 }));
    for (args, says) in [
        (vec!["--in", "2:00", "--out", "1:00"], "before --out"),
        (vec!["--in", "1:75"], "not a time"),
        (vec!["--in", "-3"], ""),
        (vec!["--in", "x"], "not a time"),
        (vec![], "--clear"),
    ] {
        let out = run(&data, &[&["session", "trim", slug][..], &args[..]].concat());
        assert!(!out.status.success(), "{args:?} accepted");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(json(run(&data, &["session", "show", slug, "--json"]))["trim"]["in_ms"], 65_500, "kept after refusals");
    assert!(run(&data, &["session", "trim", slug, "--clear"]).status.success());
    assert!(json(run(&data, &["session", "show", slug, "--json"]))["trim"].is_null());

    // Publish targets per session.
    let out = run(&data, &["session", "targets", slug, "--set", "youtube"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("{slug}: local, youtube"));
    let out = run(&data, &["session", "targets", slug, "--set", "ftp"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown target \"ftp\""));
    let out = run(&data, &["session", "targets", slug, "--set", "s3"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs [publish.s3]"));
    let out = run(&data, &["session", "targets", slug, "--default"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("{slug}: local (configured default)"));

    let missing = run(&data, &["session", "show", "gibt-es-nicht"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("not found"));
}

#[test]
fn serve_runs_from_a_config_file_answers_and_stops_on_sigterm_without_logging_secrets() {
    use std::io::{BufRead, BufReader, Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("citizenhour.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nbind = \"127.0.0.1:0\"\n[storage]\ndata_dir = \"{}\"\n[town]\nname = \"Beispielheim\"\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_citizenhour"))
        .args(["--config", config.to_str().unwrap(), "serve"])
        .env("CITIZENHOUR__YOUTUBE__STREAM_KEY", "abcd-supersecret-key")
        .env("RUST_LOG", "debug")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("citizenhour: ").unwrap_or_else(|| panic!("{line}")).to_owned();
    let addr = url.strip_prefix("http://").unwrap();
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut resp = String::new();
    conn.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("Beispielheim"), "the town name comes from the config file");
    let kill = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful exit on SIGTERM, got {status}");
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(!err.contains("supersecret"), "secret leaked into the log");
}

#[test]
fn a_config_file_with_a_typo_is_refused_with_the_key_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(&config, "[server]\nbnd = \"127.0.0.1:1\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_citizenhour"))
        .args(["--config", config.to_str().unwrap(), "serve"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bnd"));
}

#[test]
fn a_missing_or_broken_logo_stops_serve_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let not_an_image = dir.path().join("logo.png");
    std::fs::write(&not_an_image, b"<html>this is not a PNG</html>").unwrap();
    for (logo, expect) in [(dir.path().join("missing.png"), "no such file"), (not_an_image, "not a readable image")] {
        let config = dir.path().join("c.toml");
        std::fs::write(
            &config,
            format!(
                "[server]\nbind = \"127.0.0.1:0\"\n[storage]\ndata_dir = \"{}\"\n[town]\nname = \"X\"\nprivacy_url = \"/p\"\nlogo = \"{}\"\n",
                dir.path().join("data").display(),
                logo.display()
            ),
        )
        .unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_citizenhour"))
            .args(["--config", config.to_str().unwrap(), "serve"])
            .output()
            .unwrap();
        assert!(!out.status.success(), "serve must refuse {logo:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("[town] logo") && err.contains(expect), "{err}");
    }
}
