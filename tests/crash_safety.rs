//! The recording survives SIGKILL: the fragmented MP4 plays and holds at least N−2 s after N s.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::probe;

fn kill_after(seconds: f64, dir: &std::path::Path) -> std::path::PathBuf {
    let rec = dir.join(format!("killed-{seconds}.mp4"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_citizenhour"))
        .args(["live", "--source", "host=test:smpte:440", "--source", "guest=test:ball:660", "--size", "320x180"])
        .args(["--seconds", "120", "--record"])
        .arg(&rec)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("citizenhour starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a line").unwrap();
    assert!(first.starts_with("live: recording"), "{first}");
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    // SIGKILL: no chance to finalize anything.
    child.kill().unwrap();
    child.wait().unwrap();
    eprintln!("killed after {:.2} s", t0.elapsed().as_secs_f64());
    rec
}

#[test]
fn a_recording_killed_mid_session_still_plays_and_loses_at_most_two_seconds() {
    let dir = tempfile::tempdir().unwrap();
    // Five kills at uneven times, so fragment and chunk boundaries fall differently each time.
    for n in [3.2, 4.7, 6.1, 7.9, 9.4] {
        let rec = kill_after(n, dir.path());
        assert_eq!(probe::stream_kinds(&rec), ["video", "audio"], "after {n} s");
        let video = probe::packets(&rec, "v:0").unwrap_or_else(|| panic!("no video after {n} s"));
        let audio = probe::packets(&rec, "a:0").unwrap_or_else(|| panic!("no audio after {n} s"));
        let frames = probe::decoded_video_frames(&rec);
        eprintln!(
            "killed after {n} s: {:.2} s video ({frames} frames), {:.2} s audio survived",
            video.duration(),
            audio.duration()
        );
        assert!(video.duration() >= n - 2.0, "after {n} s only {:.2} s of video survived", video.duration());
        assert!(frames as f64 >= (n - 2.0) * 30.0, "after {n} s only {frames} frames decode");
        assert!(audio.duration() >= n - 2.0, "after {n} s only {:.2} s of audio survived", audio.duration());
    }
}
