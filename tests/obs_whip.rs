//! An OBS-style WHIP publisher (OBS ≥ 30 uses libdatachannel): a real WebRTC client built from GStreamer's
//! `webrtcbin` whose offer is rewritten to OBS's layout — ICE credentials, fingerprint and DTLS setup at session
//! level, `a=group:LS`, `a=ice-options:ice2,trickle`, audio first, and `profile-level-id=42e01f` announced while
//! the encoder actually sends **High** profile H.264 (as OBS does). The picture and tone must reach the program,
//! the ISO recording must hold H.264 + Opus, and DELETE on the (relative) Location must end the source.

mod support;

use gst::prelude::*;
use std::time::Duration;
use support::probe;

/// Rewrites a webrtcbin offer into OBS's shape (see the module doc).
fn obs_style(offer: &str) -> String {
    let lines: Vec<&str> = offer.lines().map(|l| l.trim_end_matches('\r')).collect();
    let session_level =
        |l: &str| l.starts_with("a=ice-ufrag:") || l.starts_with("a=ice-pwd:") || l.starts_with("a=fingerprint:");
    let ice: Vec<&str> = {
        let mut seen = Vec::new();
        for l in lines.iter().filter(|l| session_level(l)) {
            if !seen.iter().any(|s: &&str| s.split(':').next() == l.split(':').next()) {
                seen.push(*l);
            }
        }
        seen
    };
    let mut out = Vec::new();
    let first_media = lines.iter().position(|l| l.starts_with("m=")).expect("an m-line");
    for l in &lines[..first_media] {
        if !l.starts_with("a=ice-options") {
            out.push(l.to_string());
        }
    }
    let mids: Vec<&str> = lines.iter().filter_map(|l| l.strip_prefix("a=mid:")).collect();
    out.push(format!("a=group:LS {}", mids.join(" ")));
    out.push("a=msid-semantic:WMS *".into());
    out.push("a=setup:actpass".into());
    out.extend(ice.iter().map(|s| s.to_string()));
    out.push("a=ice-options:ice2,trickle".into());
    for l in &lines[first_media..] {
        if session_level(l) || l.starts_with("a=setup:") || l.starts_with("a=ice-options") {
            continue;
        }
        if *l == "a=sendrecv" {
            out.push("a=sendonly".into());
            continue;
        }
        if l.starts_with("a=fmtp:96 ") {
            out.push("a=fmtp:96 profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1".into());
            continue;
        }
        out.push(l.to_string());
    }
    out.join("\r\n") + "\r\n"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_obs_style_publisher_with_high_profile_h264_goes_on_air_and_leaves_by_delete() {
    let app = support::spawn_app_with(|c| {
        c.media.width = 320;
        c.media.height = 180;
    })
    .await;
    let session = app.create_session("obs-test").await;
    let creds = app.db.source_credentials(session.id).await.unwrap();
    let token = creds.iter().find(|c| c.source_id == "obs").expect("an obs source").token.clone();
    let studio = app.db.studio_token(session.id).await.unwrap();
    let r =
        app.client.post(format!("{}/api/studio/obs-test/start", app.base)).bearer_auth(&studio).send().await.unwrap();
    assert_eq!(r.status(), 204);

    // The publisher: audio first (mid 0), then High-profile H.264 without B-frames (OBS's WHIP settings).
    citizenhour::media::init().unwrap();
    let client = gst::parse::launch(
        "webrtcbin name=pc bundle-policy=max-bundle \
         audiotestsrc is-live=true wave=sine freq=660 volume=0.5 ! audioconvert ! audioresample ! opusenc ! rtpopuspay pt=111 ! \
           application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000 ! pc. \
         videotestsrc is-live=true pattern=red ! video/x-raw,width=640,height=360,framerate=30/1 ! videoconvert ! \
           x264enc tune=zerolatency speed-preset=veryfast key-int-max=30 bframes=0 ! video/x-h264,profile=high ! \
           rtph264pay pt=96 config-interval=-1 aggregate-mode=zero-latency ! \
           application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000 ! pc.",
    )
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let pc = client.by_name("pc").unwrap();
    // Loopback only, like the server in tests (../shared/notes/webrtc.md).
    let agent = pc.property::<gst::glib::Object>("ice-agent");
    agent.set_property("ice-tcp", false);
    let _ = agent.emit_by_name::<bool>("add-local-ip-address", &[&"127.0.0.1"]);
    client.set_state(gst::State::Playing).unwrap();
    let offer = tokio::task::spawn_blocking({
        let pc = pc.clone();
        move || {
            let promise = gst::Promise::new();
            pc.emit_by_name::<()>("create-offer", &[&None::<gst::Structure>, &promise]);
            promise.wait();
            let offer = promise
                .get_reply()
                .and_then(|r| r.value("offer").ok()?.get::<gst_webrtc::WebRTCSessionDescription>().ok())
                .expect("an offer");
            let promise = gst::Promise::new();
            pc.emit_by_name::<()>("set-local-description", &[&offer, &promise]);
            promise.wait();
            for _ in 0..500 {
                if pc.property::<gst_webrtc::WebRTCICEGatheringState>("ice-gathering-state")
                    == gst_webrtc::WebRTCICEGatheringState::Complete
                {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let local = pc.property::<gst_webrtc::WebRTCSessionDescription>("local-description");
            local.sdp().as_text().unwrap()
        }
    })
    .await
    .unwrap();
    let offer = obs_style(&offer);
    assert!(offer.contains("a=group:LS") && offer.find("m=audio") < offer.find("m=video"), "{offer}");
    let first_m = offer.find("m=").unwrap();
    assert!(offer[..first_m].contains("a=ice-ufrag:") && !offer[first_m..].contains("a=ice-ufrag:"), "{offer}");
    assert!(offer[..first_m].contains("a=setup:") && !offer[first_m..].contains("a=setup:"), "{offer}");

    let r = app
        .client
        .post(format!("{}/whip/obs-test/obs", app.base))
        .header("content-type", "application/sdp")
        .header("user-agent", "Mozilla/5.0 (OBS-Studio/30.2.0; Linux x86_64; de-DE)")
        .bearer_auth(&token)
        .body(offer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let answer_sdp = r.text().await.unwrap();
    assert!(answer_sdp.contains("H264/90000") && answer_sdp.contains("a=candidate"), "{answer_sdp}");
    let answer = gst_webrtc::WebRTCSessionDescription::new(
        gst_webrtc::WebRTCSDPType::Answer,
        gst_sdp::SDPMessage::parse_buffer(answer_sdp.as_bytes()).unwrap(),
    );
    let promise = gst::Promise::new();
    pc.emit_by_name::<()>("set-remote-description", &[&answer, &promise]);
    tokio::task::spawn_blocking(move || promise.wait()).await.unwrap();

    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(
        pc.property::<gst_webrtc::WebRTCPeerConnectionState>("connection-state"),
        gst_webrtc::WebRTCPeerConnectionState::Connected
    );
    let on_air_until = Duration::from_secs(6);
    // OBS's "stop streaming": DELETE on the resource (relative Location, resolved against the endpoint).
    let url = reqwest::Url::parse(&format!("{}/whip/obs-test/obs", app.base)).unwrap().join(&location).unwrap();
    let r = app.client.delete(url).bearer_auth(&token).send().await.unwrap();
    assert!(r.status().is_success(), "DELETE {location}: {}", r.status());
    client.set_state(gst::State::Null).unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let ending = std::time::Instant::now();
    let r = app.client.post(format!("{}/api/studio/obs-test/end", app.base)).bearer_auth(&studio).send().await.unwrap();
    assert!(r.status().is_success(), "end: {}", r.status());
    // Playable on the town site as soon as the end returns: the live HLS is the preliminary recording.
    let page = app.get("/r/obs-test").await;
    let playable_after = ending.elapsed();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("/media/live/obs-test/index.m3u8") || html.contains("/media/recordings/obs-test/"), "{html}");
    eprintln!("session end → recording page playable: {:.2} s", playable_after.as_secs_f64());
    let vod = app.db.publication(session.id, citizenhour::workflow::LIVE_VOD).await.unwrap().expect("live VOD");
    let playlist = app.config.site_dir().join("live/obs-test/index.m3u8");
    assert!(std::fs::read_to_string(&playlist).unwrap().contains("#EXT-X-ENDLIST"));
    let vod_len = probe::format_duration(&playlist).unwrap();
    assert!((vod_len - vod.manifest["duration_ms"].as_f64().unwrap() / 1000.0).abs() < 1.0, "{vod_len} vs {vod:?}");

    let rec = app.db.latest_recording(session.id).await.unwrap().expect("recording stored");
    let rec = std::path::Path::new(&rec.path).to_owned();
    // Somewhere while it was on air the publisher's red picture filled a slot, and its tone was in the mix.
    let reds = (2..6)
        .map(|t| probe::pixel(&rec, t as f64, 80, 67))
        .chain((2..6).map(|t| probe::pixel(&rec, t as f64, 240, 67)))
        .filter(|&p| probe::close(p, [255, 0, 0], 70))
        .count();
    assert!(reds >= 2, "the OBS publisher's red picture is not in the program");
    assert!(probe::max_volume_db(&rec, 3.0, 2.0) > -30.0, "its tone is not in the program");
    // Its own stream, as sent: High-profile H.264 + Opus.
    let iso_dir = rec.with_file_name(format!("{}-iso", rec.file_stem().unwrap().to_string_lossy()));
    let iso = std::fs::read_dir(&iso_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("obs-"));
    let iso = iso.expect("an ISO recording of the OBS source");
    let mut codecs = probe::codec_names(&iso);
    codecs.sort();
    assert_eq!(codecs, ["h264", "opus"], "{iso:?}");
    assert_eq!(probe::video_profile(&iso).as_deref(), Some("High"), "the encoder's High profile, as OBS sends it");
    let v = probe::packets(&iso, "v:0").unwrap();
    assert!(v.duration() > 3.0 && v.duration() <= on_air_until.as_secs_f64() + 1.0, "{v:?}");
}
