//! OBS-style SRT ingest from a real ffmpeg caller: the picture reaches the program, a wrong passphrase is
//! refused, and a caller that drops for 5 s and comes back neither stalls the program nor shifts A/V.

mod support;

use citizenhour::media::mixer::{ProgramEvent, ProgramHandle};
use citizenhour::media::outputs::OutputSpec;
use citizenhour::media::sources::SourceSpec;
use std::process::Command;
use std::time::{Duration, Instant};
use support::probe;

const SLATE: [u8; 3] = [0x1d, 0x35, 0x57];

fn push(port: u16, passphrase: &str, seconds: u32) -> bool {
    spawn_push(port, passphrase, seconds).wait().expect("ffmpeg runs").success()
}

fn spawn_push(port: u16, passphrase: &str, seconds: u32) -> std::process::Child {
    Command::new("ffmpeg")
        .args(["-v", "error", "-re", "-f", "lavfi", "-i", "testsrc=size=320x180:rate=30"])
        .args(["-f", "lavfi", "-i", "sine=frequency=1000", "-t", &seconds.to_string()])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-tune",
            "zerolatency",
            "-g",
            "30",
            "-c:a",
            "aac",
            "-f",
            "mpegts",
        ])
        .arg(format!(
            "srt://127.0.0.1:{port}?mode=caller&latency=200000&pkt_size=1316&passphrase={passphrase}&pbkeylen=16"
        ))
        .spawn()
        .expect("ffmpeg runs")
}

/// A green test host and an SRT listener "obs" (passphrase `correct-horse-battery`) recorded to `rec`.
fn start_with_srt_listener(
    settings: citizenhour::media::mixer::ProgramSettings,
    port: u16,
    rec: &std::path::Path,
) -> ProgramHandle {
    ProgramHandle::start(
        settings,
        &[
            SourceSpec::Test { id: "host".into(), pattern: "green".into(), tone_hz: 440.0 },
            SourceSpec::Srt {
                id: "obs".into(),
                listen: format!("127.0.0.1:{port}"),
                passphrase: "correct-horse-battery".into(),
                latency_ms: 200,
            },
        ],
        &[OutputSpec::Recording { path: rec.to_owned() }],
    )
    .unwrap()
}

#[test]
fn an_srt_caller_goes_on_air_drops_for_five_seconds_and_comes_back_without_a_stall() {
    let dir = tempfile::tempdir().unwrap();
    let port = support::services::free_port();
    let rec = dir.path().join("program.mp4");
    let iso_dir = dir.path().join("iso");
    std::fs::create_dir_all(&iso_dir).unwrap();
    let mut settings = support::small_program_settings();
    settings.iso_dir = Some(iso_dir.clone());
    let program = start_with_srt_listener(settings, port, &rec);
    let mut events = program.take_events().unwrap();
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(1));
    assert!(push(port, "correct-horse-battery", 4), "the first caller is taken");
    let first_end = t0.elapsed().as_secs_f64();
    assert!(!push(port, "wrong-passphrase-123", 2), "a wrong passphrase is refused");
    std::thread::sleep(Duration::from_secs(5).saturating_sub(t0.elapsed() - Duration::from_secs_f64(first_end)));
    let second_start = t0.elapsed().as_secs_f64();
    assert!(push(port, "correct-horse-battery", 4), "the caller comes back");
    let second_end = t0.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs(1));
    let report = program.end(Duration::from_secs(20)).unwrap();

    let joined = std::iter::from_fn(|| events.try_recv().ok())
        .filter(|e| matches!(e, ProgramEvent::SourceJoined { source } if source == "obs"))
        .count();
    assert!(joined >= 3, "the listener was rebuilt after each caller ({joined} joins)");

    // The program kept its frame rate throughout.
    let len = report.duration.as_secs_f64();
    let frames = probe::decoded_video_frames(&rec) as f64;
    assert!((frames - len * 30.0).abs() <= 0.05 * len * 30.0, "{frames} frames in {len:.2} s");
    let gap = probe::max_pts_gap(&rec, "v:0");
    assert!(gap < 0.1, "a {gap:.3} s hole in the program");
    // The caller's picture is in its slot while connected, the slate while it is away.
    let during_first = first_end - 1.5;
    let p = probe::pixel(&rec, during_first, 240, 67);
    assert!(!probe::close(p, SLATE, 30), "first call not on air at {during_first:.1} s: {p:?}");
    let away = (first_end + second_start) / 2.0 + 0.5;
    let p = probe::pixel(&rec, away, 240, 67);
    assert!(probe::close(p, SLATE, 30), "slot not back to the slate at {away:.1} s: {p:?}");
    let during_second = second_end - 1.5;
    let p = probe::pixel(&rec, during_second, 240, 67);
    assert!(!probe::close(p, SLATE, 30), "second call not on air at {during_second:.1} s: {p:?}");
    // A/V still together at the end.
    let v = probe::packets(&rec, "v:0").unwrap();
    let a = probe::packets(&rec, "a:0").unwrap();
    assert!((v.end - a.end).abs() <= 0.040, "A/V apart by {:.3} s at the end", v.end - a.end);
    assert!(probe::max_volume_db(&rec, during_second - 1.0, 1.0) > -30.0, "the caller's tone is in the program");
    // Each call's own stream (ISO) is kept as sent: one MPEG-TS per connection, H.264 + AAC, the call's length.
    assert_eq!(report.iso_recordings.len(), 2, "{:?}", report.iso_recordings);
    for iso in &report.iso_recordings {
        assert!(iso.starts_with(&iso_dir) && iso.extension().is_some_and(|e| e == "ts"), "{iso:?}");
        assert_eq!(probe::codec_names(iso), ["h264", "aac"], "{iso:?}");
        let v = probe::packets(iso, "v:0").unwrap();
        assert!((v.duration() - 4.0).abs() < 0.5, "ISO {iso:?} holds {:.2} s of the 4 s call", v.duration());
    }
}

#[test]
fn a_caller_that_stalls_is_replaced_by_the_slate_and_comes_back_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let port = support::services::free_port();
    let rec = dir.path().join("program.mp4");
    let program = start_with_srt_listener(support::small_program_settings(), port, &rec);
    let mut events = program.take_events().unwrap();
    let t0 = Instant::now();
    let mut caller = spawn_push(port, "correct-horse-battery", 11);
    let pid = caller.id();
    // The caller freezes (SIGSTOP: no packets, connection kept) for 3.5 s, then goes on.
    std::thread::sleep(Duration::from_secs(4));
    let stop_at = t0.elapsed().as_secs_f64();
    assert!(Command::new("kill").args(["-STOP", &pid.to_string()]).status().unwrap().success());
    std::thread::sleep(Duration::from_millis(3500));
    assert!(Command::new("kill").args(["-CONT", &pid.to_string()]).status().unwrap().success());
    let resume_at = t0.elapsed().as_secs_f64();
    assert!(caller.wait().unwrap().success(), "the caller finishes normally");
    let report = program.end(Duration::from_secs(20)).unwrap();

    let seen: Vec<ProgramEvent> = std::iter::from_fn(|| events.try_recv().ok()).collect();
    let stalled = seen.iter().position(|e| matches!(e, ProgramEvent::SourceStalled { source } if source == "obs"));
    let resumed = seen.iter().position(|e| matches!(e, ProgramEvent::SourceResumed { source } if source == "obs"));
    assert!(stalled.is_some() && resumed > stalled, "stall and resume reported in order: {seen:?}");
    // The program kept its frame rate; the frozen caller's slot showed the slate, then the caller again.
    let len = report.duration.as_secs_f64();
    let frames = probe::decoded_video_frames(&rec) as f64;
    assert!((frames - len * 30.0).abs() <= 0.05 * len * 30.0, "{frames} frames in {len:.2} s");
    assert!(probe::max_pts_gap(&rec, "v:0") < 0.1, "a hole in the program");
    assert!(
        !seen.iter().any(|e| matches!(e, ProgramEvent::SourceStalled { source } if source == "host")),
        "the healthy host never stalled: {seen:?}"
    );
    let p = probe::pixel(&rec, stop_at - 1.0, 240, 67);
    assert!(!probe::close(p, SLATE, 30), "caller on air before the freeze: {p:?}");
    // The slot turns to the slate within the freeze (where exactly depends on the program's latency).
    let during: Vec<_> = [1.5, 2.0, 2.5, 3.0, 3.5].iter().map(|d| probe::pixel(&rec, stop_at + d, 240, 67)).collect();
    assert!(during.iter().any(|&p| probe::close(p, SLATE, 30)), "no slate in the frozen caller's slot: {during:?}");
    let p = probe::pixel(&rec, resume_at + 2.5, 240, 67);
    assert!(!probe::close(p, SLATE, 30), "caller back on air after the freeze: {p:?}");
}
