//! Live mix benchmark: CPU-seconds per media-second for a citizen hour's program — two 720p30 sources with
//! audio, lower third, one x264/AAC encode fanned out to the recording, live HLS and RTMP (nginx-rtmp on
//! loopback) — against one ffmpeg process doing the same mix (overlay + drawtext, same x264 preset and
//! bitrate, tee muxer to the same three outputs), from the same input files, in the same run.
//!
//! `cargo bench --bench live_mix` (BENCH_SECONDS=60 by default). Results go to BENCHMARKS.md by hand.

use citizenhour::media::layout::Layouts;
use citizenhour::media::mixer::{ProgramHandle, ProgramSettings};
use citizenhour::media::outputs::{OutputSpec, RtmpUrl};
use citizenhour::media::samples::{ClipSpec, ensure_clip};
use citizenhour::media::sources::SourceSpec;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn cpu_seconds(who: i32) -> f64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(who, &mut u) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn nginx(dir: &Path, action: &str, port: Option<u16>) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/services/nginx-rtmp.sh");
    let mut c = Command::new(script);
    c.arg(action).arg(dir);
    if let Some(p) = port {
        c.arg(p.to_string());
    }
    assert!(c.status().unwrap().success() || action != "start", "nginx-rtmp did not start");
}

fn main() {
    let seconds: u64 = std::env::var("BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let work = tempfile::tempdir().unwrap();
    let cache = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-samples");
    let mut clips = vec![];
    for (name, pattern) in [("host", "smpte"), ("guest", "ball")] {
        let spec = ClipSpec {
            label: name.into(),
            speech: "Guten Tag, ich beantworte heute Ihre Fragen zur Stadtentwicklung.".into(),
            voice: "de".into(),
            min_length: Duration::from_secs(seconds + 5),
            width: 1280,
            height: 720,
            fps: 30,
            pattern: pattern.into(),
        };
        let path = cache.join(format!("{name}-{seconds}s.mp4"));
        ensure_clip(&spec, &path).expect("sample clip");
        clips.push(path);
    }
    let rtmp_dir = work.path().join("rtmp");
    let port = free_port();
    nginx(&rtmp_dir, "start", Some(port));
    let (w, h, fps, kbit) = (1280u32, 720u32, 30u32, 2500u32);
    println!(
        "live mix benchmark: {seconds} s, 2 sources 720p30 + audio, lower third, x264 veryfast {kbit} kbit/s → recording + HLS + RTMP"
    );

    // citizenhour
    let cpu0 = cpu_seconds(libc::RUSAGE_SELF);
    let wall0 = Instant::now();
    let program = ProgramHandle::start(
        ProgramSettings {
            width: w,
            height: h,
            fps,
            video_bitrate_kbit: kbit,
            audio_bitrate: 128_000,
            fragment: Duration::from_secs(1),
            layout: Layouts::builtin().get("side-by-side").unwrap().clone(),
            host_line: "Dr. Anna Beispiel · Bürgermeisterin".into(),
            logo: Some(std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples/logo.png")),
            stall_timeout: Duration::from_secs(2),
            loudness_target_lufs: Some(-16.0),
            iso_dir: None,
        },
        &[
            SourceSpec::File { id: "host".into(), path: clips[0].clone() },
            SourceSpec::File { id: "guest".into(), path: clips[1].clone() },
        ],
        &[
            OutputSpec::Recording { path: work.path().join("ch.mp4") },
            OutputSpec::LiveHls { dir: work.path().join("ch-hls"), segment_seconds: 2 },
            OutputSpec::Rtmp { url: RtmpUrl(format!("rtmp://127.0.0.1:{port}/live2/ch")) },
        ],
    )
    .unwrap();
    program.show_question("Wann wird die Buslinie 7 wieder im 20-Minuten-Takt fahren?", Some("Erika Mustermann"));
    std::thread::sleep(Duration::from_secs(seconds));
    let report = program.end(Duration::from_secs(30)).unwrap();
    drop(program);
    let ours_cpu = cpu_seconds(libc::RUSAGE_SELF) - cpu0;
    let ours_media = report.duration.as_secs_f64();
    let ours_wall = wall0.elapsed().as_secs_f64();

    // ffmpeg, same mix
    let hls = work.path().join("ff-hls");
    std::fs::create_dir_all(&hls).unwrap();
    let filter = format!(
        "color=c=0x1d3557:s={w}x{h}:r={fps}[bg];[0:v]scale=640:360[a];[1:v]scale=640:360[b];\
         [bg][a]overlay=0:90:shortest=1[t];[t][b]overlay=640:90,\
         drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:fontsize=22:fontcolor=white:box=1:boxcolor=black@0.6:\
         x=40:y=h-90:text='Frage von Erika Mustermann\\: Wann wird die Buslinie 7 wieder im 20-Minuten-Takt fahren?',format=yuv420p[v];\
         [0:a][1:a]amix=inputs=2[au]"
    );
    let tee = format!(
        "[f=mp4:movflags=frag_keyframe+empty_moov]{}|[f=hls:hls_time=2:hls_list_size=0]{}|[f=flv]rtmp\\://127.0.0.1\\:{port}/live2/ff",
        work.path().join("ff.mp4").display(),
        hls.join("index.m3u8").display()
    );
    let cpu_children0 = cpu_seconds(libc::RUSAGE_CHILDREN);
    let wall1 = Instant::now();
    let st = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-re", "-i"])
        .arg(&clips[0])
        .args(["-re", "-i"])
        .arg(&clips[1])
        .args(["-t", &seconds.to_string(), "-filter_complex", &filter, "-map", "[v]", "-map", "[au]"])
        .args(["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-b:v", &format!("{kbit}k")])
        .args(["-g", &fps.to_string(), "-sc_threshold", "0", "-c:a", "aac", "-b:a", "128k", "-f", "tee", &tee])
        .status()
        .expect("ffmpeg runs");
    assert!(st.success(), "ffmpeg failed");
    let ff_cpu = cpu_seconds(libc::RUSAGE_CHILDREN) - cpu_children0;
    let ff_wall = wall1.elapsed().as_secs_f64();
    let ff_media = seconds as f64;
    nginx(&rtmp_dir, "stop", None);

    let ours = ours_cpu / ours_media;
    let theirs = ff_cpu / ff_media;
    println!(
        "citizenhour: {ours_cpu:.1} CPU-s for {ours_media:.1} media-s ({ours_wall:.1} s wall) = {ours:.3} core per media-second"
    );
    println!(
        "ffmpeg:      {ff_cpu:.1} CPU-s for {ff_media:.1} media-s ({ff_wall:.1} s wall) = {theirs:.3} core per media-second"
    );
    println!("ratio citizenhour / ffmpeg = {:.2}", ours / theirs);
}
