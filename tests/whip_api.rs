//! WHIP signalling with hostile input: every bad request gets a clear 4xx and the live program is not disturbed.

mod support;

use support::probe;

const OFFER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\n\
a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\na=setup:actpass\r\n\
a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n\
m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendonly\r\na=rtcp-mux\r\n\
a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\na=setup:actpass\r\n\
a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_whip_requests_get_clear_4xx_and_the_program_carries_on() {
    let app = support::spawn_app_with(|c| {
        c.media.width = 320;
        c.media.height = 180;
    })
    .await;
    let session = app.create_session("whip-test").await;
    let creds = app.db.source_credentials(session.id).await.unwrap();
    let host = creds.iter().find(|c| c.source_id == "host").unwrap().token.clone();
    let guest = creds.iter().find(|c| c.source_id == "guest1").unwrap().token.clone();
    let studio = app.db.studio_token(session.id).await.unwrap();
    let whip = |source: &str| format!("{}/whip/whip-test/{source}", app.base);
    let post = |url: String, token: Option<&str>, ctype: &str, body: &str| {
        let mut r = app.client.post(url).header("content-type", ctype).body(body.to_owned());
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };

    // Not live yet.
    assert_eq!(post(whip("host"), Some(&host), "application/sdp", OFFER).await.unwrap().status(), 409);
    let r =
        app.client.post(format!("{}/api/studio/whip-test/start", app.base)).bearer_auth(&studio).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let r =
        app.client.post(format!("{}/api/studio/whip-test/start", app.base)).bearer_auth(&studio).send().await.unwrap();
    assert_eq!(r.status(), 409, "already live");

    // Hostile requests.
    let cases: Vec<(String, Option<&str>, &str, String, u16)> = vec![
        (whip("host"), None, "application/sdp", OFFER.into(), 401),
        (whip("host"), Some("wrong"), "application/sdp", OFFER.into(), 401),
        (whip("host"), Some(&guest), "application/sdp", OFFER.into(), 401),
        (whip("nobody"), Some(&host), "application/sdp", OFFER.into(), 401),
        (format!("{}/whip/no-such-session/host", app.base), Some(&host), "application/sdp", OFFER.into(), 404),
        (whip("host"), Some(&host), "application/json", "{}".into(), 415),
        (whip("host"), Some(&host), "application/sdp", "this is not sdp".into(), 400),
        (whip("host"), Some(&host), "application/sdp", "v=0\r\nm=garbage\r\n".into(), 400),
        (whip("host"), Some(&host), "application/sdp", OFFER.replace("VP8", "AV1").replace("opus", "G722"), 400),
    ];
    for (url, token, ctype, body, status) in cases {
        let r = post(url.clone(), token, ctype, &body).await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{url} {token:?} {ctype}");
        assert!(!r.text().await.unwrap().is_empty(), "a clear message");
    }

    // A good offer joins; a second publisher on the same source is refused.
    let r = post(whip("host"), Some(&host), "application/sdp", OFFER).await.unwrap();
    assert_eq!(r.status(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(r.headers()["content-type"], "application/sdp");
    let answer = r.text().await.unwrap();
    assert!(
        answer.contains("a=recvonly") && answer.contains("VP8/90000") && answer.contains("a=candidate"),
        "{answer}"
    );
    assert!(!answer.contains("abcdefghijklmnopqrstuvwx"), "the offer's ICE password must not be echoed");
    assert_eq!(post(whip("host"), Some(&host), "application/sdp", OFFER).await.unwrap().status(), 409);
    // Preflight and trickle.
    let r = app.client.request(reqwest::Method::OPTIONS, whip("host")).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["accept-post"], "application/sdp");
    let r = app.client.patch(format!("{}{location}", app.base)).bearer_auth(&host).send().await.unwrap();
    assert_eq!(r.status(), 405);
    // DELETE needs the token and the right resource.
    let r = app.client.delete(format!("{}{location}", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = app
        .client
        .delete(format!("{}/whip/whip-test/host/not-the-resource", app.base))
        .bearer_auth(&host)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    let state: serde_json::Value = app
        .client
        .get(format!("{}/api/studio/whip-test", app.base))
        .bearer_auth(&studio)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["live"]["live"], true);
    assert_eq!(state["live"]["sources"], serde_json::json!(["host"]));

    let r = app.client.delete(format!("{}{location}", app.base)).bearer_auth(&host).send().await.unwrap();
    assert_eq!(r.status(), 200);
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let r =
        app.client.post(format!("{}/api/studio/whip-test/end", app.base)).bearer_auth(&studio).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let ended: serde_json::Value = r.json().await.unwrap();
    let len = ended["duration_ms"].as_i64().unwrap() as f64 / 1000.0;

    // The program ran through all of it without a gap.
    let rec = app.db.latest_recording(session.id).await.unwrap().unwrap();
    let rec = std::path::Path::new(&rec.path);
    let frames = probe::decoded_video_frames(rec) as f64;
    assert!((frames - len * 30.0).abs() <= 0.05 * len * 30.0, "{frames} frames in {len:.2} s");
    assert!(probe::max_pts_gap(rec, "v:0") < 0.1);
}
