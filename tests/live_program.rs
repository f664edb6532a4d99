//! The live program on real GStreamer, judged by the media it writes.

mod support;

use citizenhour::media::layout::Layouts;
use citizenhour::media::mixer::{ProgramEvent, ProgramHandle, ProgramSettings};
use citizenhour::media::outputs::OutputSpec;
use citizenhour::media::samples::{ClipSpec, generate_clip};
use citizenhour::media::sources::SourceSpec;
use std::path::Path;
use std::time::{Duration, Instant};
use support::probe;

const FPS: u32 = 30;

fn settings() -> ProgramSettings {
    support::small_program_settings()
}

fn clip(dir: &Path, name: &str, speech: &str, pattern: &str) -> std::path::PathBuf {
    let path = dir.join(format!("{name}.mp4"));
    generate_clip(
        &ClipSpec {
            label: name.into(),
            speech: speech.into(),
            voice: "de".into(),
            min_length: Duration::from_secs(13),
            width: 160,
            height: 90,
            fps: FPS,
            pattern: pattern.into(),
        },
        &path,
    )
    .expect("sample clip");
    path
}

#[test]
fn ten_seconds_from_sample_files_record_every_frame_with_audio_in_step() {
    let dir = tempfile::tempdir().unwrap();
    let host = clip(dir.path(), "host", "Guten Tag, ich beantworte heute Ihre Fragen.", "smpte");
    let guest = clip(dir.path(), "guest", "Wann kommt der Bus?", "ball");
    let rec = dir.path().join("program.mp4");
    let sources =
        [SourceSpec::File { id: "host".into(), path: host }, SourceSpec::File { id: "guest".into(), path: guest }];
    let program = ProgramHandle::start(settings(), &sources, &[OutputSpec::Recording { path: rec.clone() }]).unwrap();
    let mut events = program.take_events().unwrap();
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(3));
    let mark = program.show_question("Wann kommt der Bus?", Some("Erika"));
    std::thread::sleep(Duration::from_secs(10) - started.elapsed());
    let report = program.end(Duration::from_secs(20)).expect("clean end");
    assert_eq!(report.finished_outputs, ["recording"]);

    // The chapter mark is the program's running time when the question appeared.
    assert!((mark.as_secs_f64() - 3.0).abs() < 0.5, "mark at {mark:?}");
    let mut seen = vec![];
    while let Ok(e) = events.try_recv() {
        seen.push(e);
    }
    assert!(seen.contains(&ProgramEvent::Started));
    assert!(seen.iter().any(|e| matches!(e, ProgramEvent::ChapterMarked { at, .. } if *at == mark)));
    assert!(
        !seen.iter().any(|e| matches!(e, ProgramEvent::SourceFailed { .. } | ProgramEvent::OutputFailed { .. })),
        "{seen:?}"
    );

    let expected = report.duration.as_secs_f64();
    assert!((expected - 10.0).abs() < 0.5, "program ran {expected} s");
    assert_eq!(probe::stream_kinds(&rec), ["video", "audio"]);
    let video = probe::packets(&rec, "v:0").expect("video packets");
    let audio = probe::packets(&rec, "a:0").expect("audio packets");
    let frames = probe::decoded_video_frames(&rec);
    let want_frames = expected * FPS as f64;
    assert!(
        (frames as f64 - want_frames).abs() <= 0.05 * want_frames,
        "decoded {frames} frames, expected {want_frames:.0} ± 5 %"
    );
    assert!(
        (video.duration() - expected).abs() <= 0.05 * expected,
        "video {:.3} s vs {expected:.3} s",
        video.duration()
    );
    assert!(
        (audio.duration() - video.duration()).abs() <= 0.100,
        "audio {:.3} s vs video {:.3} s",
        audio.duration(),
        video.duration()
    );
    assert!(
        (audio.first_pts - video.first_pts).abs() <= 0.040,
        "A/V start offset {:.3}",
        audio.first_pts - video.first_pts
    );
}

#[test]
fn a_missing_source_file_is_a_clear_error_not_a_stall() {
    let dir = tempfile::tempdir().unwrap();
    let err = ProgramHandle::start(
        settings(),
        &[SourceSpec::File { id: "host".into(), path: dir.path().join("nope.mp4") }],
        &[OutputSpec::Recording { path: dir.path().join("x.mp4") }],
    )
    .err()
    .expect("refused");
    assert!(err.to_string().contains("nope.mp4"), "{err}");
}

#[test]
fn a_garbage_source_file_is_reported_and_the_program_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.mp4");
    std::fs::write(&garbage, vec![0x5au8; 64 * 1024]).unwrap();
    let rec = dir.path().join("program.mp4");
    let program = ProgramHandle::start(
        settings(),
        &[
            SourceSpec::Test { id: "host".into(), pattern: "smpte".into(), tone_hz: 440.0 },
            SourceSpec::File { id: "guest".into(), path: garbage },
        ],
        &[OutputSpec::Recording { path: rec.clone() }],
    )
    .unwrap();
    let mut events = program.take_events().unwrap();
    std::thread::sleep(Duration::from_secs(4));
    let report = program.end(Duration::from_secs(20)).expect("the program survives a broken source");
    let mut failed = None;
    while let Ok(e) = events.try_recv() {
        if let ProgramEvent::SourceFailed { source, message } = e {
            failed = Some((source, message));
        }
    }
    let (source, message) = failed.expect("the broken source is reported");
    assert_eq!(source, "guest");
    assert!(!message.is_empty());
    let video = probe::packets(&rec, "v:0").expect("video recorded");
    assert!((video.duration() - report.duration.as_secs_f64()).abs() < 0.2, "{video:?} vs {report:?}");
}

#[test]
fn sources_join_and_leave_and_the_layout_switches_live_without_a_stall() {
    const SLATE: [u8; 3] = [0x1d, 0x35, 0x57];
    const RED: [u8; 3] = [255, 0, 0];
    const GREEN: [u8; 3] = [0, 255, 0];
    let dir = tempfile::tempdir().unwrap();
    let guest = clip(dir.path(), "guest", "Hallo.", "red");
    let rec = dir.path().join("program.mp4");
    let program = ProgramHandle::start(
        settings(),
        &[SourceSpec::Test { id: "host".into(), pattern: "green".into(), tone_hz: 440.0 }],
        &[OutputSpec::Recording { path: rec.clone() }],
    )
    .unwrap();
    let t0 = Instant::now();
    let at = |s: f64| std::thread::sleep(Duration::from_secs_f64(s).saturating_sub(t0.elapsed()));
    at(2.0);
    program.add_source(&SourceSpec::File { id: "guest".into(), path: guest.clone() }).unwrap();
    assert!(program.add_source(&SourceSpec::File { id: "guest".into(), path: guest }).is_err(), "ids are unique");
    assert_eq!(program.source_ids(), ["host", "guest"]);
    at(4.0);
    program.set_layout(Layouts::builtin().get("picture-in-picture").unwrap().clone());
    at(6.0);
    program.remove_source("guest").unwrap();
    assert!(program.remove_source("guest").is_err());
    at(8.0);
    let report = program.end(Duration::from_secs(20)).unwrap();

    let frames = probe::decoded_video_frames(&rec) as f64;
    let want = report.duration.as_secs_f64() * FPS as f64;
    assert!((frames - want).abs() <= 0.05 * want, "{frames} frames, expected {want:.0}");
    // Side by side, before the guest joins: the right tile is the slate.
    let p = probe::pixel(&rec, 1.0, 240, 67);
    assert!(probe::close(p, SLATE, 40), "t=1 right tile {p:?}");
    // The guest joined into the right tile.
    let p = probe::pixel(&rec, 3.0, 240, 67);
    assert!(probe::close(p, RED, 60), "t=3 right tile {p:?}");
    // Picture in picture: the host fills the frame, the guest sits top right.
    let p = probe::pixel(&rec, 5.0, 40, 150);
    assert!(probe::close(p, GREEN, 60), "t=5 host full frame {p:?}");
    let p = probe::pixel(&rec, 5.0, 262, 32);
    assert!(probe::close(p, RED, 60), "t=5 pip {p:?}");
    // The guest left: only the host remains.
    let p = probe::pixel(&rec, 7.0, 262, 32);
    assert!(probe::close(p, GREEN, 60), "t=7 after leave {p:?}");
}

#[test]
fn the_lower_third_shows_the_host_bar_with_the_logo_and_the_question_panel_only_while_answered() {
    const WHITE: [u8; 3] = [255, 255, 255];
    const TOWN_BLUE: [u8; 3] = [0x1d, 0x35, 0x57];
    const GREEN: [u8; 3] = [0, 255, 0];
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("program.mp4");
    let mut s = settings();
    s.width = 640;
    s.height = 360;
    s.layout = Layouts::builtin().get("solo").unwrap().clone();
    s.logo = Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/logo.png"));
    let g = citizenhour::media::graphics::Geometry::for_frame(s.width, s.height);
    let program = ProgramHandle::start(
        s,
        &[SourceSpec::Test { id: "host".into(), pattern: "green".into(), tone_hz: 440.0 }],
        &[OutputSpec::Recording { path: rec.clone() }],
    )
    .unwrap();
    let t0 = Instant::now();
    let at = |s: f64| std::thread::sleep(Duration::from_secs_f64(s).saturating_sub(t0.elapsed()));
    at(2.0);
    let shown = program.show_question("Wann <b>fährt</b> der Bus wieder?", Some("Erika & Co"));
    at(4.0);
    program.clear_question();
    at(6.0);
    program.end(Duration::from_secs(20)).unwrap();

    // Right end of the host bar: plain town blue (the text sits left); the logo's red shield at its left.
    let bar = probe::pixel(&rec, 1.0, g.x + g.width - 12, g.host_y + g.host_height / 2 - 2);
    assert!(probe::close(bar, TOWN_BLUE, 30), "host bar {bar:?}");
    let logo_edge = probe::pixel(&rec, 1.0, g.x + 2 * g.padding + 2, g.host_y + g.host_height / 2 - 2);
    assert!(logo_edge[0] > 150 && logo_edge[1] < 120, "logo shield {logo_edge:?}");
    // The question panel (white, right end) only while the question is on air; the host behind it otherwise.
    let panel = |t: f64| probe::pixel(&rec, t, g.x + g.width - 12, g.question_y + 4);
    let before = panel(1.0);
    assert!(probe::close(before, GREEN, 60), "before the question {before:?}");
    let during = panel(shown.as_secs_f64() + 1.0);
    assert!(probe::close(during, WHITE, 30), "while answered {during:?}");
    let after = panel(5.0);
    assert!(probe::close(after, GREEN, 60), "after clearing {after:?}");
    // The question's text is drawn: dark pixels in the panel's left part.
    let text_area = probe::pixel_area_min_luma(
        &rec,
        shown.as_secs_f64() + 1.0,
        g.x + 8,
        g.question_y,
        g.width / 2,
        g.question_height,
    );
    assert!(text_area < 80, "darkest luma in the question panel {text_area}");
}

#[test]
fn a_too_loud_source_is_brought_to_the_loudness_target_and_the_loudness_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("program.mp4");
    let mut s = settings();
    // The test tone is about −14.7 LUFS on its own; the target is 11 LU below it.
    s.loudness_target_lufs = Some(-26.0);
    let program = ProgramHandle::start(
        s,
        &[SourceSpec::Test { id: "host".into(), pattern: "green".into(), tone_hz: 440.0 }],
        &[OutputSpec::Recording { path: rec.clone() }],
    )
    .unwrap();
    let mut events = program.take_events().unwrap();
    std::thread::sleep(Duration::from_secs(11));
    program.end(Duration::from_secs(20)).unwrap();

    let reports: Vec<_> = std::iter::from_fn(|| events.try_recv().ok())
        .filter_map(|e| match e {
            ProgramEvent::Loudness(r) => Some(r),
            _ => None,
        })
        .collect();
    assert!(reports.len() >= 8, "about one loudness report per second: {}", reports.len());
    let last = reports.last().unwrap();
    assert!((last.gain_db + 11.3).abs() < 2.0, "the control cut the tone: {last:?}");
    assert!((last.shortterm_lufs + 26.0).abs() < 1.5, "reported short-term loudness at the target: {last:?}");
    // Judged from the recording: the first second is the tone as it came, the last four are at the target.
    let start = probe::loudness_lufs(&rec, 0.3, 0.6);
    assert!(start > -19.0, "before the control acted: {start:.1} LUFS");
    let settled = probe::loudness_lufs(&rec, 6.5, 4.0);
    assert!((settled + 26.0).abs() <= 1.5, "settled program loudness {settled:.1} LUFS, target −26");
}
