//! Publishing benchmark: the HLS ladder (+ MP4 download, audio-only M4A, thumbnail) rendered by citizenhour from
//! a 720p30 recording — one demux and one decode, the 720p rung reusing the recorded H.264, 360p and 180p
//! encoded with x264 `veryfast` — against one ffmpeg process making the same outputs with the same x264 settings
//! from the same input, in the same run. Wall time is what matters (the recording must be online soon); CPU is
//! printed too.
//!
//! `cargo bench --bench ladder` (BENCH_SECONDS=60 by default). Results go to BENCHMARKS.md by hand.

use citizenhour::media::post::{Ladder, RenderPlan, render};
use citizenhour::media::samples::{ClipSpec, ensure_clip};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn cpu_seconds(who: i32) -> f64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(who, &mut u) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

fn main() {
    let seconds: u64 = std::env::var("BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let work = tempfile::tempdir().unwrap();
    let cache = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-samples");
    let input = cache.join(format!("recording-{seconds}s.mp4"));
    ensure_clip(
        &ClipSpec {
            label: "Aufzeichnung".into(),
            speech: "Guten Tag, ich beantworte heute Ihre Fragen zur Stadtentwicklung.".into(),
            voice: "de".into(),
            min_length: Duration::from_secs(seconds),
            width: 1280,
            height: 720,
            fps: 30,
            pattern: "smpte".into(),
        },
        &input,
    )
    .expect("sample recording");
    let ladder = Ladder::builtin();
    println!(
        "ladder benchmark: {seconds} s of 720p30 → HLS 720p (copied) + 360p + 180p (x264 veryfast), MP4, M4A, thumbnail"
    );

    // citizenhour
    let out = work.path().join("ours");
    let plan =
        RenderPlan { ladder: ladder.clone(), segment_seconds: 4, thumbnail_at: Duration::from_secs(5), trim: None };
    let cpu0 = cpu_seconds(libc::RUSAGE_SELF);
    let t0 = Instant::now();
    let report = render(&input, &out, &plan, &|_| {}).expect("render");
    let ours_wall = t0.elapsed().as_secs_f64();
    let ours_cpu = cpu_seconds(libc::RUSAGE_SELF) - cpu0;
    assert_eq!(report.variants.len(), 3, "{report:?}");

    // ffmpeg, same outputs and x264 settings
    let ff = work.path().join("ff");
    for rung in ["720p", "360p", "180p"] {
        std::fs::create_dir_all(ff.join(rung)).unwrap();
    }
    let hls = |rung: &str| {
        vec![
            "-f".to_owned(),
            "hls".into(),
            "-hls_time".into(),
            "4".into(),
            "-hls_playlist_type".into(),
            "vod".into(),
            "-hls_segment_filename".into(),
            ff.join(rung).join("seg%05d.ts").to_string_lossy().to_string(),
            ff.join(rung).join("index.m3u8").to_string_lossy().to_string(),
        ]
    };
    let x264 = |kbit: u32| -> Vec<String> {
        ["-c:v", "libx264", "-preset", "veryfast", "-b:v", &format!("{kbit}k"), "-g", "30", "-sc_threshold", "0"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    let mut args: Vec<String> = vec!["-v".into(), "error".into(), "-y".into(), "-i".into()];
    args.push(input.to_string_lossy().to_string());
    args.extend(["-filter_complex".into(), "[0:v]split=2[a][b];[a]scale=-2:360[v360];[b]scale=-2:180[v180]".into()]);
    args.extend(["-map", "0:v", "-map", "0:a", "-c", "copy"].map(String::from));
    args.extend(hls("720p"));
    args.extend(["-map", "[v360]", "-map", "0:a"].map(String::from));
    args.extend(x264(800));
    args.extend(["-c:a".into(), "copy".into()]);
    args.extend(hls("360p"));
    args.extend(["-map", "[v180]", "-map", "0:a"].map(String::from));
    args.extend(x264(250));
    args.extend(["-c:a".into(), "copy".into()]);
    args.extend(hls("180p"));
    args.extend(["-map", "0:v", "-map", "0:a", "-c", "copy", "-movflags", "+faststart"].map(String::from));
    args.push(ff.join("download.mp4").to_string_lossy().to_string());
    args.extend(["-map", "0:a", "-c", "copy", "-movflags", "+faststart"].map(String::from));
    args.push(ff.join("audio.m4a").to_string_lossy().to_string());
    args.extend(["-map", "0:v", "-ss", "5", "-frames:v", "1"].map(String::from));
    args.push(ff.join("thumbnail.jpg").to_string_lossy().to_string());
    let c0 = cpu_seconds(libc::RUSAGE_CHILDREN);
    let t1 = Instant::now();
    let st = Command::new("ffmpeg").args(&args).status().expect("ffmpeg runs");
    let ff_wall = t1.elapsed().as_secs_f64();
    let ff_cpu = cpu_seconds(libc::RUSAGE_CHILDREN) - c0;
    assert!(st.success(), "ffmpeg failed");

    println!("citizenhour: {ours_wall:.1} s wall, {ours_cpu:.1} CPU-s for {seconds} s of recording");
    println!("ffmpeg:      {ff_wall:.1} s wall, {ff_cpu:.1} CPU-s");
    println!("ratio of wall times citizenhour / ffmpeg = {:.2}", ours_wall / ff_wall);
}
