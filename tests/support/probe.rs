//! Judging media by the media: ffprobe packet and frame counts, stream durations.

use std::path::Path;
use std::process::Command;

#[derive(Debug, Clone, Copy)]
pub struct StreamSpan {
    pub packets: usize,
    pub first_pts: f64,
    /// Last packet's pts + its duration.
    pub end: f64,
}

impl StreamSpan {
    pub fn duration(&self) -> f64 {
        self.end - self.first_pts
    }
}

/// Reads every packet of `stream` ("v:0" or "a:0") and returns its span.
pub fn packets(file: &Path, stream: &str) -> Option<StreamSpan> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            stream,
            "-show_entries",
            "packet=pts_time,duration_time",
            "-of",
            "csv=p=0",
        ])
        .arg(file)
        .output()
        .expect("ffprobe runs (deploy/install-deps.sh installs ffmpeg)");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut pts: Vec<(f64, f64)> = text
        .lines()
        .filter_map(|l| {
            let mut it = l.split(',');
            let p = it.next()?.trim().parse::<f64>().ok()?;
            let d = it.next().and_then(|d| d.trim().parse::<f64>().ok()).unwrap_or(0.0);
            Some((p, d))
        })
        .collect();
    if pts.is_empty() {
        return None;
    }
    pts.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
    let (last, dur) = *pts.last().unwrap();
    Some(StreamSpan { packets: pts.len(), first_pts: pts[0].0, end: last + dur })
}

/// Decodes the video stream and counts the frames that actually decode.
pub fn decoded_video_frames(file: &Path) -> usize {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=nb_read_frames",
            "-of",
            "csv=p=0",
        ])
        .arg(file)
        .output()
        .expect("ffprobe runs");
    String::from_utf8_lossy(&out.stdout).trim().trim_end_matches(',').parse().unwrap_or(0)
}

/// ffprobe's standard output for `args` and `file` (errors only on stderr).
fn ffprobe(args: &[&str], file: &Path) -> String {
    let out = Command::new("ffprobe").args(["-v", "error"]).args(args).arg(file).output().expect("ffprobe runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The codec types ffprobe finds in a file or playlist, e.g. ["video", "audio"].
pub fn stream_kinds(file: &Path) -> Vec<String> {
    ffprobe(&["-show_entries", "stream=codec_type", "-of", "csv=p=0"], file)
        .lines()
        .map(|l| l.trim().trim_end_matches(',').to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Container duration as ffprobe reports it.
pub fn format_duration(file: &Path) -> Option<f64> {
    ffprobe(&["-show_entries", "format=duration", "-of", "csv=p=0"], file).trim().parse().ok()
}

/// The average RGB colour of a 4×4 block at (x, y) of the frame shown at `at` seconds.
pub fn pixel(file: &Path, at: f64, x: u32, y: u32) -> [u8; 3] {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-ss", &format!("{at:.3}"), "-i"])
        .arg(file)
        .args([
            "-frames:v",
            "1",
            "-vf",
            &format!("crop=4:4:{x}:{y},scale=1:1"),
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ])
        .output()
        .expect("ffmpeg runs");
    assert_eq!(out.stdout.len(), 3, "no frame at {at} s: {}", String::from_utf8_lossy(&out.stderr));
    [out.stdout[0], out.stdout[1], out.stdout[2]]
}

/// Whether two colours are within `tol` per channel (compression and YUV round trips blur them a little).
pub fn close(a: [u8; 3], b: [u8; 3], tol: u8) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= tol)
}

/// The largest gap between consecutive packet timestamps of `stream` (a stall shows up here).
pub fn max_pts_gap(file: &Path, stream: &str) -> f64 {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", stream, "-show_entries", "packet=pts_time", "-of", "csv=p=0"])
        .arg(file)
        .output()
        .expect("ffprobe runs");
    let mut pts: Vec<f64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().trim_end_matches(',').parse().ok())
        .collect();
    pts.sort_by(|a, b| a.partial_cmp(b).unwrap());
    pts.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max)
}

/// Peak audio level in dBFS of `dur` seconds starting at `from` (ffmpeg volumedetect); -91 for silence.
pub fn max_volume_db(file: &Path, from: f64, dur: f64) -> f64 {
    let out = Command::new("ffmpeg")
        .args(["-v", "info", "-ss", &format!("{from:.3}"), "-t", &format!("{dur:.3}"), "-i"])
        .arg(file)
        .args(["-vn", "-af", "volumedetect", "-f", "null", "-"])
        .output()
        .expect("ffmpeg runs");
    let err = String::from_utf8_lossy(&out.stderr);
    err.lines()
        .find_map(|l| l.split("max_volume:").nth(1))
        .and_then(|v| v.trim().trim_end_matches("dB").trim().parse().ok())
        .unwrap_or(-91.0)
}

/// The darkest luma (0–255) in a rectangle of the frame at `at` seconds.
pub fn pixel_area_min_luma(file: &Path, at: f64, x: u32, y: u32, w: u32, h: u32) -> u8 {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-ss", &format!("{at:.3}"), "-i"])
        .arg(file)
        .args(["-frames:v", "1", "-vf", &format!("crop={w}:{h}:{x}:{y},format=gray"), "-f", "rawvideo", "-"])
        .output()
        .expect("ffmpeg runs");
    assert_eq!(out.stdout.len(), (w * h) as usize, "no frame at {at} s: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout.iter().copied().min().unwrap_or(255)
}

/// Integrated loudness (LUFS, EBU R 128, ffmpeg's `ebur128` filter) of `dur` seconds from `from`.
pub fn loudness_lufs(file: &Path, from: f64, dur: f64) -> f64 {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostats", "-ss", &format!("{from:.3}"), "-t", &format!("{dur:.3}"), "-i"])
        .arg(file)
        .args(["-vn", "-af", "ebur128", "-f", "null", "-"])
        .output()
        .expect("ffmpeg runs");
    let log = String::from_utf8_lossy(&out.stderr);
    let summary = log.rsplit("Summary:").next().unwrap_or_default();
    summary
        .lines()
        .find_map(|l| l.trim().strip_prefix("I:").and_then(|v| v.trim().trim_end_matches("LUFS").trim().parse().ok()))
        .unwrap_or_else(|| panic!("no loudness in ffmpeg's output: {log}"))
}

/// Codec names of all streams, in stream order (e.g. `["vp8", "opus"]`).
pub fn codec_names(file: &Path) -> Vec<String> {
    let v: serde_json::Value =
        serde_json::from_str(&ffprobe(&["-show_entries", "stream=codec_name", "-of", "json"], file))
            .unwrap_or_default();
    v["streams"]
        .as_array()
        .map(|s| s.iter().filter_map(|s| s["codec_name"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// The first video stream's codec profile as ffprobe names it (e.g. "High", "Constrained Baseline").
pub fn video_profile(file: &Path) -> Option<String> {
    let out = ffprobe(&["-select_streams", "v:0", "-show_entries", "stream=profile", "-of", "csv=p=0"], file);
    let p = out.lines().next()?.trim().to_owned();
    (!p.is_empty()).then_some(p)
}
