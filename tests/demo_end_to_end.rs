//! `citizenhour demo --exit-after-publish` end to end in a temp dir, judged by what it published.

mod support;

use citizenhour::domain::QuestionStatus;
use citizenhour::storage::Db;
use std::path::Path;
use std::process::Command;
use support::probe;
use support::services::{Garage, SmtpSink};
use support::youtube::YoutubeFake;

/// 10 s per answer: YouTube shows description chapters only when each is at least 10 s long.
const PER_QUESTION: f64 = 10.0;
const INTRO: f64 = 3.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_publishes_a_playable_ladder_with_one_chapter_per_answered_question() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    // The publish targets the demo reaches: Garage (S3), the YouTube fake, an SMTP sink for the askers' mails.
    let garage = Garage::start(&dir.path().join("garage"));
    let youtube = YoutubeFake::start("1//demo-refresh").await;
    let smtp = SmtpSink::start(&dir.path().join("smtp"));
    let y = youtube.config("1//demo-refresh");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_citizenhour"));
    cmd.args(["demo", "--exit-after-publish", "--bind", "127.0.0.1:0", "--size", "640x360"])
        .args(["--seconds-per-question", &(PER_QUESTION as u64).to_string()])
        .arg("--data-dir")
        .arg(&data)
        .arg("--samples")
        .arg(&samples)
        .current_dir(dir.path())
        .env("CITIZENHOUR__PUBLISH__TARGETS", r#"["s3", "youtube"]"#)
        .envs(garage.env(None))
        .env("CITIZENHOUR__YOUTUBE__CLIENT_ID", &y.client_id)
        .env("CITIZENHOUR__YOUTUBE__CLIENT_SECRET", "client-secret")
        .env("CITIZENHOUR__YOUTUBE__REFRESH_TOKEN", "1//demo-refresh")
        .env("CITIZENHOUR__YOUTUBE__TOKEN_URI", &y.token_uri)
        .env("CITIZENHOUR__YOUTUBE__API_URL", &y.api_url)
        .env("CITIZENHOUR__YOUTUBE__PLAYLIST_ID", &y.playlist_id)
        .env("CITIZENHOUR__MAIL__SMTP_HOST", "127.0.0.1")
        .env("CITIZENHOUR__MAIL__SMTP_PORT", smtp.port.to_string())
        .env("CITIZENHOUR__MAIL__SMTP_TLS", "none")
        .env("CITIZENHOUR__MAIL__FROM", "Stadt Musterstadt <buergerstunde@musterstadt.example>");
    // The YouTube fake runs on this test's runtime: wait for the demo on a blocking thread.
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("demo runs")).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("/r/demo-buergersprechstunde"), "prints the recording URL:\n{stdout}");

    let site = data.join("site/recordings/demo-buergersprechstunde");
    // The master playlist has at least two variants and ffprobe reads it.
    let master = std::fs::read_to_string(site.join("hls/master.m3u8")).unwrap();
    let variants = master.matches("#EXT-X-STREAM-INF").count();
    assert!(variants >= 2, "{master}");
    assert!(master.contains("CODECS=\"avc1.") && master.contains("mp4a.40.2"), "{master}");
    let kinds = probe::stream_kinds(&site.join("hls/master.m3u8"));
    // ffprobe lists each variant's streams (once per HLS program and once more as plain streams).
    assert!(kinds.iter().filter(|k| *k == "video").count() >= variants, "{kinds:?}");
    assert!(kinds.iter().any(|k| k == "audio"), "{kinds:?}");

    // The recording, the renditions and the download agree on length.
    let db = Db::connect(&format!("sqlite://{}", data.join("citizenhour.db").display())).await.unwrap();
    let session = db.session_by_slug("demo-buergersprechstunde").await.unwrap();
    let recording = db.latest_recording(session.id).await.unwrap().unwrap();
    let rec_len = recording.duration_ms as f64 / 1000.0;
    let rec_video = probe::packets(Path::new(&recording.path), "v:0").unwrap();
    assert!(
        (rec_video.duration() - rec_len).abs() < 0.1,
        "recording {:.3} s vs program {rec_len:.3} s",
        rec_video.duration()
    );
    for line in master.lines().filter(|l| l.ends_with(".m3u8")) {
        let playlist = site.join("hls").join(line);
        let text = std::fs::read_to_string(&playlist).unwrap();
        assert!(text.contains("#EXT-X-PLAYLIST-TYPE:VOD") && text.contains("#EXT-X-ENDLIST"), "{line}:\n{text}");
        let len = probe::format_duration(&playlist).unwrap();
        assert!((len - rec_len).abs() < 0.5, "{line}: {len:.2} s vs recording {rec_len:.2} s");
    }
    let mp4 = site.join("download.mp4");
    assert_eq!(probe::stream_kinds(&mp4), ["video", "audio"]);
    assert!((probe::packets(&mp4, "v:0").unwrap().duration() - rec_len).abs() < 0.1);
    let thumb = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "stream=codec_name,width", "-of", "csv=p=0"])
        .arg(site.join("thumbnail.jpg"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&thumb.stdout).trim(), "mjpeg,640");

    // One chapter per answered question, in the order they were answered, at the time they were shown.
    let answered = db.questions(session.id, Some(QuestionStatus::Answered)).await.unwrap();
    assert_eq!(answered.len(), 6, "3 over HTTP + 3 e-mails, all approved and answered");
    let chapters: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(site.join("chapters.json")).unwrap()).unwrap();
    assert_eq!(chapters.len(), answered.len());
    for (i, (c, q)) in chapters.iter().zip(&answered).enumerate() {
        assert_eq!(c["question_id"].as_i64(), Some(q.id.0), "chapter {i} follows the queue order");
        assert_eq!(c["start_ms"].as_i64(), q.answered_at_ms, "chapter {i} time = answer mark");
        let t = c["start_ms"].as_i64().unwrap() as f64 / 1000.0;
        let want = INTRO + PER_QUESTION * i as f64;
        assert!((t - want).abs() < 0.75, "chapter {i} at {t:.2} s, expected about {want:.2} s");
        assert_eq!(c["title"].as_str(), Some(q.text.headline(120).as_str()));
    }
    let vtt = std::fs::read_to_string(site.join("chapters.vtt")).unwrap();
    assert!(vtt.starts_with("WEBVTT"));
    assert_eq!(vtt.matches(" --> ").count(), answered.len());

    // The recording page serves the player with its chapter list.
    drop(db);
    let app = support::spawn_app_with(|c| c.storage.data_dir = data.clone()).await;
    let page = app.get("/r/demo-buergersprechstunde").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<script src="/assets/hls.min.js">"#));
    assert!(html.contains(r#"kind="chapters""#));
    assert!(
        html.contains("Spielplatz im Stadtpark &amp; am Weiher")
            || html.contains("Spielplatz im Stadtpark &#38; am Weiher")
    );
    assert_eq!(html.matches("data-start-ms=").count(), answered.len());
    let m = app.get("/media/recordings/demo-buergersprechstunde/hls/master.m3u8").await;
    assert_eq!(m.status(), 200);

    // In Chromium the player loads the ladder and every chapter link seeks it to its answer.
    let player =
        support::browser_script("recording_player.mjs", vec![format!("{}/r/demo-buergersprechstunde", app.base)]).await;
    assert!(player.get("error").is_none(), "{player:#}");
    assert_eq!(player["engine"], "hls.js", "{player:#}");
    assert_eq!(player["levels"].as_u64(), Some(variants as u64), "{player:#}");
    assert!((player["duration"].as_f64().unwrap() - rec_len).abs() < 1.0, "{player:#}");
    let seeks = player["seeks"].as_array().unwrap();
    assert_eq!(seeks.len(), answered.len());
    for s in seeks {
        let (start, now) = (s["start"].as_f64().unwrap(), s["currentTime"].as_f64().unwrap());
        assert!((now - start).abs() < 1.5, "chapter at {start:.2} s, player at {now:.2} s");
    }
    assert!(player["address"].as_str().unwrap().contains("?t="), "the address carries the chapter time");
    assert!(player["frames"].as_u64().unwrap_or(0) > 10, "frames decode in the browser: {player:#}");

    // The same recording on S3 (Garage): every local file under the version, plus index.json.
    let local_files = walk(&site);
    let client = citizenhour::publish::s3::S3Publisher::new(&garage.config(None)).client().clone();
    let listed = client
        .list_objects_v2()
        .bucket(&garage.bucket)
        .prefix("recordings/demo-buergersprechstunde/")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.key_count(), Some(local_files as i32 + 1), "{:?}", listed.contents());
    // On (fake) YouTube: one video with chapters in the description, thumbnail, captions, playlist entry.
    let yt = youtube.state.lock().unwrap();
    assert_eq!(yt.videos.len(), 1);
    let description = yt.videos[0]["snippet"]["description"].as_str().unwrap().to_owned();
    assert!(description.contains("\n0:00 "), "{description}");
    assert_eq!(
        description.lines().filter(|l| l.len() > 5 && l.as_bytes()[1] == b':').count(),
        answered.len(),
        "{description}"
    );
    assert_eq!(yt.thumbnails.len(), 1);
    assert_eq!(yt.captions.len(), 1);
    assert_eq!(yt.playlist_items.len(), 1);
    let vid = yt.videos[0]["id"].as_str().unwrap().to_owned();
    drop(yt);
    // Each asker who left an address got one mail with both links to their minute.
    let with_mail = answered.iter().filter(|q| q.email.is_some()).count();
    assert!(with_mail >= 2, "the samples have askers with addresses");
    let mails = smtp.messages();
    assert_eq!(mails.len(), with_mail);
    for raw in &mails {
        let m = mail_parser::MessageParser::default().parse(&raw[..]).unwrap();
        let body = m.body_text(0).unwrap();
        assert!(body.contains("/r/demo-buergersprechstunde?t="), "{body}");
        assert!(body.contains(&format!("https://www.youtube.com/watch?v={vid}&t=")), "{body}");
    }
}

/// Number of files under `dir` (recursively), except the local manifest.
fn walk(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| if p.is_dir() { walk(&p) } else { usize::from(p.file_name().unwrap() != "manifest.json") })
        .sum()
}
