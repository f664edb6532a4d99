//! Chromium and Firefox (Debian's, headless, fake camera and microphone) go live through the studio page via
//! WHIP; the recording holds the picture and sound; the questions answered in the page become chapters; the
//! camera's own stream is kept (ISO); the session ends and publishes by itself.

mod support;

use citizenhour::domain::{QuestionDraft, QuestionOrigin, QuestionStatus, QuestionText};
use std::path::Path;
use std::time::Duration;
use support::probe;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_goes_live_through_the_studio_and_its_camera_and_microphone_are_recorded() {
    goes_live_through_the_studio("chromium").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firefox_goes_live_through_the_studio_and_its_camera_and_microphone_are_recorded() {
    goes_live_through_the_studio("firefox").await;
}

async fn goes_live_through_the_studio(browser: &'static str) {
    let app = support::spawn_app_with(|c| {
        c.media.width = 640;
        c.media.height = 360;
        c.media.video_bitrate_kbit = 1000;
    })
    .await;
    let session = app.create_session("studio-test").await;
    for text in ["Wann kommt der Bus?", "Wo bleibt der Radweg?"] {
        let q = app
            .db
            .add_question(
                session.id,
                &QuestionDraft {
                    text: QuestionText::parse(text, 1500).unwrap(),
                    author_name: Some("Erika".into()),
                    email: None,
                    show_name: true,
                    origin: QuestionOrigin::Web,
                    language: None,
                    intake_note: None,
                },
            )
            .await
            .unwrap();
        app.db.set_question_status(q.id, QuestionStatus::Approved).await.unwrap();
    }
    let token = app.db.studio_token(session.id).await.unwrap();

    // Without the token the studio and its API are closed.
    assert_eq!(app.get("/studio/studio-test").await.status(), 401);
    assert_eq!(app.get("/studio/studio-test?token=wrong").await.status(), 401);
    assert_eq!(app.get("/api/studio/studio-test").await.status(), 401);
    let r =
        app.client.post(format!("{}/api/studio/studio-test/start", app.base)).bearer_auth("nope").send().await.unwrap();
    assert_eq!(r.status(), 401);

    let args = vec![app.base.clone(), "studio-test".into(), token.clone(), "3".into(), browser.into()];
    let summary = support::browser_script("studio_whip.mjs", args).await;
    assert!(summary.get("error").is_none(), "{summary:#}");
    assert_eq!(summary["ended"], true, "{summary:#}");
    assert!(summary["url"].as_str().unwrap().ends_with("/studio/studio-test"), "token removed from the URL");

    // The chapters are the answer marks, in the order the page answered them.
    let answered = app.db.questions(session.id, Some(QuestionStatus::Answered)).await.unwrap();
    assert_eq!(answered.len(), 2);
    let marks: Vec<i64> = answered.iter().map(|q| q.answered_at_ms.unwrap()).collect();
    assert!(marks[1] - marks[0] >= 2500, "{marks:?}");

    // The recording holds the browser's camera in the host slot and its microphone.
    let rec = app.db.latest_recording(session.id).await.unwrap().expect("recording stored at the end");
    let rec = Path::new(&rec.path).to_owned();
    let len = probe::packets(&rec, "v:0").unwrap().duration();
    let frames = probe::decoded_video_frames(&rec) as f64;
    assert!((frames - len * 30.0).abs() <= 0.05 * len * 30.0, "{frames} frames in {len:.2} s");
    let at = marks[1] as f64 / 1000.0;
    let host_tile = probe::pixel(&rec, at, 160, 180);
    assert!(
        !probe::close(host_tile, [0x1d, 0x35, 0x57], 30),
        "host slot still shows the slate at {at:.1} s: {host_tile:?}"
    );
    let loud = probe::max_volume_db(&rec, at - 2.0, 2.0);
    assert!(loud > -30.0, "the browser's microphone is silent in the recording ({loud} dB)");

    // The camera's own stream (ISO) is kept as sent: VP8 + Opus in Matroska, named by its join time.
    let iso_dir = rec.with_file_name(format!("{}-iso", rec.file_stem().unwrap().to_string_lossy()));
    let isos: Vec<_> = std::fs::read_dir(&iso_dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(isos.len(), 1, "{isos:?}");
    let iso = &isos[0];
    let name = iso.file_name().unwrap().to_string_lossy().to_string();
    assert!(name.starts_with("host-") && name.ends_with("ms.mkv"), "{name}");
    let mut codecs = probe::codec_names(iso);
    codecs.sort();
    assert_eq!(codecs, ["opus", "vp8"], "{iso:?}");
    let iso_video = probe::packets(iso, "v:0").expect("ISO video");
    assert!(iso_video.duration() > 3.0 && iso_video.duration() < len + 0.5, "{iso_video:?} vs program {len:.1} s");
    assert!(probe::decoded_video_frames(iso) as f64 > iso_video.duration() * 10.0, "the ISO video decodes");

    // Ending published the recording by itself.
    let mut published = None;
    for _ in 0..240 {
        if let Some(p) = app.db.publication(session.id, "local").await.unwrap() {
            published = Some(p);
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let p = published.expect("published within 60 s of the end");
    assert_eq!(p.manifest["chapters"].as_array().unwrap().len(), 2);
}
