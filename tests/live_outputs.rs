//! Live outputs fan out from one encode and fail independently: recording, live HLS and RTMP to a real
//! nginx-rtmp server that is killed and restarted mid-stream.

mod support;

use citizenhour::media::mixer::{ProgramEvent, ProgramHandle};
use citizenhour::media::outputs::{OutputSpec, RtmpUrl};
use citizenhour::media::sources::SourceSpec;
use std::time::{Duration, Instant};
use support::probe;
use support::services::NginxRtmp;

#[test]
fn a_dying_rtmp_target_never_touches_the_recording_or_live_hls_and_the_push_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let nginx = NginxRtmp::start(&dir.path().join("rtmp"));
    let rec = dir.path().join("program.mp4");
    let hls = dir.path().join("live");
    let settings = support::small_program_settings();
    let program = ProgramHandle::start(
        settings,
        &[
            SourceSpec::Test { id: "host".into(), pattern: "smpte".into(), tone_hz: 440.0 },
            SourceSpec::Test { id: "guest".into(), pattern: "ball".into(), tone_hz: 660.0 },
        ],
        &[
            OutputSpec::Recording { path: rec.clone() },
            OutputSpec::LiveHls { dir: hls.clone(), segment_seconds: 2 },
            OutputSpec::Rtmp { url: RtmpUrl(nginx.url("streamkey-secret")) },
        ],
    )
    .unwrap();
    let mut events = program.take_events().unwrap();
    let t0 = Instant::now();
    let at = |s: f64| std::thread::sleep(Duration::from_secs_f64(s).saturating_sub(t0.elapsed()));
    at(4.0);
    // Live HLS is already playable while the session runs.
    let live_playlist = std::fs::read_to_string(hls.join("index.m3u8")).expect("live playlist exists");
    assert!(live_playlist.contains("#EXT-X-PLAYLIST-TYPE:EVENT") && !live_playlist.contains("#EXT-X-ENDLIST"));
    nginx.kill();
    at(7.0);
    nginx.start_again();
    at(16.0);
    let report = program.end(Duration::from_secs(20)).expect("clean end");
    assert_eq!(report.unfinished_outputs, Vec::<String>::new());

    let mut failures = vec![];
    while let Ok(e) = events.try_recv() {
        if let ProgramEvent::OutputFailed { output, destination_fault, message } = e {
            failures.push((output, destination_fault, message));
        }
    }
    assert!(!failures.is_empty(), "the killed server is reported");
    assert!(failures.iter().all(|(o, fault, _)| o == "rtmp" && *fault), "{failures:?}");
    assert!(failures.iter().all(|(_, _, m)| !m.contains("streamkey-secret")), "stream key leaked: {failures:?}");

    // The recording is untouched: every frame, no gap.
    let len = report.duration.as_secs_f64();
    let frames = probe::decoded_video_frames(&rec) as f64;
    assert!((frames - len * 30.0).abs() <= 0.05 * len * 30.0, "{frames} frames in {len:.2} s");
    let gap = probe::max_pts_gap(&rec, "v:0");
    assert!(gap < 0.1, "video gap of {gap:.3} s in the recording");

    // Live HLS became a finished playlist covering the whole program.
    let playlist = std::fs::read_to_string(hls.join("index.m3u8")).unwrap();
    assert!(playlist.contains("#EXT-X-ENDLIST"), "{playlist}");
    let hls_len = probe::format_duration(&hls.join("index.m3u8")).unwrap();
    assert!((hls_len - len).abs() < 1.0, "live HLS {hls_len:.2} s vs program {len:.2} s");
    let kinds = probe::stream_kinds(&hls.join("seg00000.ts"));
    assert!(kinds.contains(&"video".to_owned()) && kinds.contains(&"audio".to_owned()), "{kinds:?}");

    // nginx recorded the push before the crash and again after the restart.
    let flvs = nginx.recordings();
    assert!(flvs.len() >= 2, "{flvs:?}");
    let first = probe::packets(&flvs[0], "v:0").expect("video before the crash");
    let last = probe::packets(flvs.last().unwrap(), "v:0").expect("video after the restart");
    assert!(first.duration() > 2.0, "before the crash: {:.2} s", first.duration());
    assert!(last.duration() > 4.0, "after the restart: {:.2} s", last.duration());
    assert!(probe::packets(flvs.last().unwrap(), "a:0").is_some(), "audio after the restart");
}

#[test]
fn a_failing_live_hls_output_is_reported_and_the_recording_carries_on_to_a_clean_end() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("program.mp4");
    let hls = dir.path().join("live");
    let program = ProgramHandle::start(
        support::small_program_settings(),
        &[SourceSpec::Test { id: "host".into(), pattern: "smpte".into(), tone_hz: 440.0 }],
        &[OutputSpec::Recording { path: rec.clone() }, OutputSpec::LiveHls { dir: hls.clone(), segment_seconds: 1 }],
    )
    .unwrap();
    let mut events = program.take_events().unwrap();
    std::thread::sleep(Duration::from_secs(3));
    // The disk under live HLS goes away: its directory is replaced by a file, so the next segment cannot open.
    std::fs::remove_dir_all(&hls).unwrap();
    std::fs::write(&hls, b"not a directory").unwrap();
    std::thread::sleep(Duration::from_secs(5));
    let t = Instant::now();
    let report = program.end(Duration::from_secs(20)).expect("the program ends cleanly without its HLS output");
    assert!(t.elapsed() < Duration::from_secs(10), "ending waited {:?} for the dead output", t.elapsed());
    assert_eq!(report.failed_outputs, ["hls"], "{report:?}");
    assert_eq!(report.finished_outputs, ["recording"], "{report:?}");

    let failures: Vec<_> = std::iter::from_fn(|| events.try_recv().ok())
        .filter_map(|e| match e {
            ProgramEvent::OutputFailed { output, .. } => Some(output),
            _ => None,
        })
        .collect();
    assert!(failures.iter().any(|o| o == "hls"), "the HLS failure is reported: {failures:?}");
    // The recording kept every frame after the failure, to the end.
    let len = report.duration.as_secs_f64();
    assert!(len > 7.5, "{len}");
    let frames = probe::decoded_video_frames(&rec) as f64;
    assert!((frames - len * 30.0).abs() <= 0.05 * len * 30.0, "{frames} frames in {len:.2} s");
    assert!(probe::max_pts_gap(&rec, "v:0") < 0.1, "a hole in the recording");
}
