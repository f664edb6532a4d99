//! The post-production pipeline: one demux, one decode, every rendition.
//!
//! ```text
//! filesrc ─ qtdemux ─ video ─ h264parse ─ tee ─┬─ queue ─ h264parse ───────────────────── hlssink3[rung reused].video
//!                                              ├─ queue ─ h264parse ───────────────────── mp4mux(faststart) ─ filesink
//!                                              └─ queue ─ avdec_h264 ─ tee(raw) ─┬─ queue ─ videoscale ─ caps ─ x264enc ─ h264parse ─ hlssink3[rung].video
//!                                                                                └─ queue ─ (one frame ≥ T) ─ videoconvert ─ videoscale ─ jpegenc ─ filesink
//!                   ─ audio ─ aacparse  ─ tee ─┬─ queue ─ hlssink3[each rung].audio   (AAC copied, never re-encoded)
//!                                              ├─ queue ─ mp4mux
//!                                              └─ queue ─ mp4mux(faststart) ─ filesink  audio.m4a (podcast)
//! ```
//! Afterwards `master.m3u8` is written with each variant's measured peak and average bandwidth and its RFC 6381
//! codec string. Reference launch line: `pipelines/ladder.txt`.

use crate::media::{MediaError, elements::make, elements::run_to_eos, probe};
use gst::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const BUILTIN_LADDER: &str = include_str!("../../../pipelines/ladder.toml");
const P: &str = "post";

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rung {
    pub name: String,
    pub height: u32,
    pub video_kbit: u32,
    #[serde(default)]
    pub reuse_source: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Ladder {
    pub rung: Vec<Rung>,
}

impl Ladder {
    pub fn parse(text: &str) -> Result<Ladder, String> {
        let l: Ladder = toml::from_str(text).map_err(|e| format!("ladder: {e}"))?;
        if l.rung.is_empty() {
            return Err("ladder has no rungs".into());
        }
        for r in &l.rung {
            if r.name.is_empty() || !r.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                return Err(format!("rung name {:?} must be letters, digits, - or _", r.name));
            }
            if r.height < 64 || !r.height.is_multiple_of(2) || r.video_kbit < 50 {
                return Err(format!("rung {:?}: height must be even ≥ 64 and video_kbit ≥ 50", r.name));
            }
        }
        Ok(l)
    }

    pub fn builtin() -> Ladder {
        Ladder::parse(BUILTIN_LADDER).expect("built-in ladder is valid (tested)")
    }

    /// The rungs that fit a `source_height` recording (no upscaling), tallest first.
    pub fn fitting(&self, source_height: u32) -> Vec<Rung> {
        let mut v: Vec<Rung> = self.rung.iter().filter(|r| r.height <= source_height).cloned().collect();
        v.sort_by_key(|r| std::cmp::Reverse(r.height));
        v.dedup_by_key(|r| r.height);
        v
    }
}

#[derive(Debug, Clone)]
pub struct RenderPlan {
    pub ladder: Ladder,
    pub segment_seconds: u32,
    /// Where to take the thumbnail (from the trimmed start); clamped into the recording.
    pub thumbnail_at: Duration,
    /// Staff's in and out points. The in point snaps back to the key frame before it (the top rung copies the
    /// recorded H.264, which can only start on a key frame); every output starts there. See
    /// [`RenderReport::trimmed_from_ms`].
    pub trim: Option<Trim>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trim {
    pub start: Duration,
    /// `None`: to the end.
    pub end: Option<Duration>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RenderedVariant {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub reused_source: bool,
    pub peak_bandwidth: u64,
    pub average_bandwidth: u64,
    pub codecs: String,
    /// Relative to the output directory, e.g. `hls/720p/index.m3u8`.
    pub playlist: String,
    pub segments: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RenderReport {
    /// Length of what was rendered (after trimming).
    pub duration_ms: u64,
    /// Where in the recording the rendered outputs start (the in point, snapped to a key frame); chapters shift
    /// by this.
    #[serde(default)]
    pub trimmed_from_ms: u64,
    pub variants: Vec<RenderedVariant>,
    /// Relative paths inside the output directory.
    pub master_playlist: String,
    pub mp4: String,
    /// Audio only (the recorded AAC, copied) for a podcast feed.
    pub audio: String,
    pub thumbnail: String,
}

struct Captured {
    caps: Arc<Mutex<Option<gst::Caps>>>,
}

impl Captured {
    fn on(pad: &gst::Pad) -> Captured {
        let caps = Arc::new(Mutex::new(None));
        let c = caps.clone();
        pad.add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, move |_, info| {
            if let Some(gst::PadProbeData::Event(ev)) = &info.data
                && let gst::EventView::Caps(ce) = ev.view()
            {
                *c.lock().unwrap() = Some(ce.caps_owned());
            }
            gst::PadProbeReturn::Ok
        });
        Captured { caps }
    }
    /// The RFC 6381 codec string (`avc1.64001f`, `mp4a.40.2`) for the captured caps.
    fn codec(&self) -> String {
        let guard = self.caps.lock().unwrap();
        let Some(caps) = guard.as_ref() else { return String::new() };
        let from_caps = gst_pbutils::functions::codec_utils_caps_get_mime_codec(caps).ok().map(|s| s.to_string());
        match from_caps {
            // Byte-stream H.264 carries no codec_data, so GStreamer can only say "avc1"; build it from the
            // profile and level h264parse put into the caps.
            Some(c) if c == "avc1" => caps.structure(0).map(avc1_from_caps).unwrap_or(c),
            Some(c) => c,
            None => String::new(),
        }
    }
}

/// `avc1.PPCCLL` from h264parse's `profile` and `level` caps fields.
fn avc1_from_caps(s: &gst::StructureRef) -> String {
    let (profile_idc, constraints) = match s.get::<&str>("profile").unwrap_or("high") {
        "constrained-baseline" => (0x42, 0xe0),
        "baseline" => (0x42, 0x00),
        "main" => (0x4d, 0x40),
        "extended" => (0x58, 0x00),
        "high-10" => (0x6e, 0x00),
        "high-4:2:2" => (0x7a, 0x00),
        "high-4:4:4" => (0xf4, 0x00),
        _ => (0x64, 0x00),
    };
    let level = s.get::<&str>("level").unwrap_or("4");
    let level_idc = match level {
        "1b" => 9,
        l => l.parse::<f64>().map(|v| (v * 10.0).round() as u32).unwrap_or(40),
    };
    format!("avc1.{profile_idc:02x}{constraints:02x}{level_idc:02x}")
}

fn queue(name: &str) -> Result<gst::Element, MediaError> {
    let q = make(P, "queue", name)?;
    q.set_property("max-size-buffers", 0u32);
    q.set_property("max-size-bytes", 0u32);
    q.set_property("max-size-time", 5_000_000_000u64);
    Ok(q)
}

fn even(v: f64) -> u32 {
    ((v / 2.0).round() as u32 * 2).max(2)
}

/// Renders every output of `plan` from `input` into `out_dir`. `progress` gets 0.0–1.0 as it goes.
pub fn render(
    input: &Path,
    out_dir: &Path,
    plan: &RenderPlan,
    progress: &(dyn Fn(f64) + Sync),
) -> Result<RenderReport, MediaError> {
    crate::media::init()?;
    let info = probe::probe(input)?;
    let video = info.video.clone().ok_or_else(|| MediaError::Unreadable {
        path: input.display().to_string(),
        detail: "recording has no video stream".into(),
    })?;
    if info.audio.is_none() {
        return Err(MediaError::Unreadable {
            path: input.display().to_string(),
            detail: "recording has no audio stream".into(),
        });
    }
    let rungs = plan.ladder.fitting(video.height);
    if rungs.is_empty() {
        return Err(MediaError::build(P, format!("no ladder rung fits a {}p recording", video.height)));
    }
    let fps = if video.fps > 0.0 { video.fps.round() as u32 } else { 30 };
    let cut = match plan.trim {
        Some(t) => Cut::plan(input, t, info.duration)?,
        None => Cut::whole(info.duration),
    };
    let aspect = video.width as f64 / video.height as f64;
    std::fs::create_dir_all(out_dir).map_err(|e| MediaError::io(out_dir, e))?;

    let pipeline = gst::Pipeline::with_name(P);
    let b = |e: gst::glib::BoolError| MediaError::build(P, e);
    let src = make(P, "filesrc", "src")?;
    src.set_property("location", input.to_string_lossy().to_string());
    let demux = make(P, "qtdemux", "demux")?;
    let vparse = make(P, "h264parse", "vparse")?;
    let vtee = make(P, "tee", "vtee")?;
    let aparse = make(P, "aacparse", "aparse")?;
    let atee = make(P, "tee", "atee")?;
    pipeline.add_many([&src, &demux, &vparse, &vtee, &aparse, &atee]).map_err(b)?;
    src.link(&demux).map_err(b)?;
    vparse.link(&vtee).map_err(b)?;
    aparse.link(&atee).map_err(b)?;
    let (vsink, asink) = (vparse.static_pad("sink").unwrap(), aparse.static_pad("sink").unwrap());
    demux.connect_pad_added(move |_, pad| {
        let name = pad.name();
        let (target, video) = if name.starts_with("video") {
            (&vsink, true)
        } else if name.starts_with("audio") {
            (&asink, false)
        } else {
            return;
        };
        if target.is_linked() {
            return;
        }
        cut.apply(pad, video);
        if let Err(e) = pad.link(target) {
            tracing::warn!("post: cannot link demuxer pad {name}: {e:?}");
        }
    });

    let tee_to = |tee: &gst::Element, q: &gst::Element| -> Result<(), MediaError> {
        let s = tee.request_pad_simple("src_%u").ok_or_else(|| MediaError::build(P, "tee pad"))?;
        s.link(&q.static_pad("sink").unwrap()).map_err(|e| MediaError::build(P, format!("{e:?}")))?;
        Ok(())
    };

    // MP4 download: a copy of the recording's streams with the index up front.
    let mp4_name = "download.mp4";
    let mp4mux = make(P, "mp4mux", "mp4mux")?;
    mp4mux.set_property("faststart", true);
    let mp4sink = make(P, "filesink", "mp4sink")?;
    mp4sink.set_property("location", out_dir.join(mp4_name).to_string_lossy().to_string());
    let (mq_v, mq_a) = (queue("mp4-vq")?, queue("mp4-aq")?);
    // Every copy branch parses for itself (MP4 wants avc, MPEG-TS byte-stream): the tee then never has to
    // satisfy two stream formats at once.
    let mp4_parse = make(P, "h264parse", "mp4-vparse")?;
    pipeline.add_many([&mp4mux, &mp4sink, &mq_v, &mp4_parse, &mq_a]).map_err(b)?;
    mp4mux.link(&mp4sink).map_err(b)?;
    mq_v.link(&mp4_parse).map_err(b)?;
    mp4_parse.link_pads(Some("src"), &mp4mux, Some("video_%u")).map_err(b)?;
    mq_a.link_pads(Some("src"), &mp4mux, Some("audio_%u")).map_err(b)?;
    tee_to(&vtee, &mq_v)?;
    tee_to(&atee, &mq_a)?;

    // Audio only (podcast): the recorded AAC copied into a fast-start M4A.
    let audio_name = "audio.m4a";
    let m4amux = make(P, "mp4mux", "m4amux")?;
    m4amux.set_property("faststart", true);
    let m4asink = make(P, "filesink", "m4asink")?;
    m4asink.set_property("location", out_dir.join(audio_name).to_string_lossy().to_string());
    let m4aq = queue("m4a-q")?;
    pipeline.add_many([&m4amux, &m4asink, &m4aq]).map_err(b)?;
    m4amux.link(&m4asink).map_err(b)?;
    m4aq.link_pads(Some("src"), &m4amux, Some("audio_%u")).map_err(b)?;
    tee_to(&atee, &m4aq)?;

    // Decode once for every encoded rung and the thumbnail.
    let dq = queue("decode-queue")?;
    let dec = make(P, "avdec_h264", "decode")?;
    let rawtee = make(P, "tee", "rawtee")?;
    pipeline.add_many([&dq, &dec, &rawtee]).map_err(b)?;
    gst::Element::link_many([&dq, &dec, &rawtee]).map_err(b)?;
    tee_to(&vtee, &dq)?;

    // Thumbnail: the first frame at or after T (from the trimmed start), scaled to 640 wide.
    let thumb_name = "thumbnail.jpg";
    let thumb_at = plan.thumbnail_at.min(cut.duration() / 3).as_nanos() as u64;
    let tq = queue("thumb-queue")?;
    let tconv = make(P, "videoconvert", "thumb-convert")?;
    let tscale = make(P, "videoscale", "thumb-scale")?;
    let tcaps = make(P, "capsfilter", "thumb-caps")?;
    tcaps.set_property(
        "caps",
        gst::Caps::builder("video/x-raw").field("width", 640i32).field("height", even(640.0 / aspect) as i32).build(),
    );
    let jpeg = make(P, "jpegenc", "thumb-jpeg")?;
    let tsink = make(P, "filesink", "thumb-sink")?;
    tsink.set_property("location", out_dir.join(thumb_name).to_string_lossy().to_string());
    pipeline.add_many([&tq, &tconv, &tscale, &tcaps, &jpeg, &tsink]).map_err(b)?;
    gst::Element::link_many([&tq, &tconv, &tscale, &tcaps, &jpeg, &tsink]).map_err(b)?;
    tee_to(&rawtee, &tq)?;
    let taken = std::sync::atomic::AtomicBool::new(false);
    tq.static_pad("src").unwrap().add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        let Some(gst::PadProbeData::Buffer(buf)) = &info.data else { return gst::PadProbeReturn::Ok };
        let pts = buf.pts().map(|t| t.nseconds()).unwrap_or(0);
        if pts >= thumb_at && !taken.swap(true, std::sync::atomic::Ordering::SeqCst) {
            gst::PadProbeReturn::Ok
        } else {
            gst::PadProbeReturn::Drop
        }
    });

    // The ladder.
    let hls_dir = out_dir.join("hls");
    let mut planned = Vec::new();
    for rung in &rungs {
        let dir = hls_dir.join(&rung.name);
        std::fs::create_dir_all(&dir).map_err(|e| MediaError::io(&dir, e))?;
        let sink = make(P, "hlssink3", &format!("hls-{}", rung.name))?;
        sink.set_property("location", dir.join("seg%05d.ts").to_string_lossy().to_string());
        sink.set_property("playlist-location", dir.join("index.m3u8").to_string_lossy().to_string());
        sink.set_property("target-duration", plan.segment_seconds);
        sink.set_property("playlist-length", 0u32);
        sink.set_property("max-files", 0u32);
        sink.set_property_from_str("playlist-type", "vod");
        pipeline.add(&sink).map_err(b)?;
        let reuse = rung.reuse_source && rung.height == video.height;
        let (width, height) =
            if reuse { (video.width, video.height) } else { (even(rung.height as f64 * aspect), rung.height) };
        let vq = queue(&format!("{}-vq", rung.name))?;
        pipeline.add(&vq).map_err(b)?;
        let captured;
        if reuse {
            let parse = make(P, "h264parse", &format!("{}-vparse", rung.name))?;
            pipeline.add(&parse).map_err(b)?;
            vq.link(&parse).map_err(b)?;
            parse.link_pads(Some("src"), &sink, Some("video")).map_err(b)?;
            captured = Captured::on(&parse.static_pad("src").unwrap());
            tee_to(&vtee, &vq)?;
        } else {
            let scale = make(P, "videoscale", &format!("{}-scale", rung.name))?;
            let caps = make(P, "capsfilter", &format!("{}-caps", rung.name))?;
            caps.set_property(
                "caps",
                gst::Caps::builder("video/x-raw")
                    .field("width", width as i32)
                    .field("height", height as i32)
                    .field("pixel-aspect-ratio", gst::Fraction::new(1, 1))
                    .build(),
            );
            let enc = make(P, "x264enc", &format!("{}-encode", rung.name))?;
            enc.set_property_from_str("speed-preset", "veryfast");
            enc.set_property("bitrate", rung.video_kbit);
            enc.set_property("key-int-max", fps);
            enc.set_property("option-string", "scenecut=0");
            let parse = make(P, "h264parse", &format!("{}-parse", rung.name))?;
            pipeline.add_many([&scale, &caps, &enc, &parse]).map_err(b)?;
            gst::Element::link_many([&vq, &scale, &caps, &enc, &parse]).map_err(b)?;
            parse.link_pads(Some("src"), &sink, Some("video")).map_err(b)?;
            captured = Captured::on(&parse.static_pad("src").unwrap());
            tee_to(&rawtee, &vq)?;
        }
        let aq = queue(&format!("{}-aq", rung.name))?;
        pipeline.add(&aq).map_err(b)?;
        aq.link_pads(Some("src"), &sink, Some("audio")).map_err(b)?;
        tee_to(&atee, &aq)?;
        planned.push((rung.clone(), width, height, reuse, captured));
    }
    let audio_caps = Captured::on(&aparse.static_pad("src").unwrap());

    let duration = cut.duration();

    // Progress: position over duration, twice a second.
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let result = std::thread::scope(|scope| {
        let p = pipeline.clone();
        let d = done.clone();
        scope.spawn(move || {
            while !d.load(std::sync::atomic::Ordering::SeqCst) {
                if let Some(pos) = p.query_position::<gst::ClockTime>()
                    && !duration.is_zero()
                {
                    progress((pos.nseconds() as f64 / duration.as_nanos() as f64).clamp(0.0, 1.0));
                }
                std::thread::sleep(Duration::from_millis(500));
            }
        });
        let r = run_to_eos(&pipeline, Duration::from_secs(6 * 3600));
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        r
    });
    result?;
    progress(1.0);

    let audio_codec = audio_caps.codec();
    let mut variants = Vec::new();
    for (rung, width, height, reused, captured) in planned {
        let playlist = format!("hls/{}/index.m3u8", rung.name);
        let (peak, average, segments) = measure_bandwidth(&out_dir.join(&playlist))?;
        let codecs = [captured.codec(), audio_codec.clone()].into_iter().filter(|c| !c.is_empty()).collect::<Vec<_>>();
        variants.push(RenderedVariant {
            name: rung.name,
            width,
            height,
            reused_source: reused,
            peak_bandwidth: peak,
            average_bandwidth: average,
            codecs: codecs.join(","),
            playlist,
            segments,
        });
    }
    let master = "hls/master.m3u8";
    write_master(&out_dir.join(master), &variants, fps)?;
    Ok(RenderReport {
        duration_ms: duration.as_millis() as u64,
        trimmed_from_ms: cut.from.as_millis() as u64,
        variants,
        master_playlist: master.into(),
        mp4: mp4_name.into(),
        audio: audio_name.into(),
        thumbnail: thumb_name.into(),
    })
}

/// The part of the recording that is rendered: `[from, end)`, `from` on a key frame. Every buffer outside is
/// dropped right after the demuxer and the rest is shifted to start at zero, before any element downstream has
/// seen data: muxers and segmenters get an ordinary stream from 0 (a flushing seek after preroll is not that:
/// mp4mux and splitmuxsink miscompute their start from it).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cut {
    from: Duration,
    end: Duration,
    /// Subtracted from every timestamp: the key frame's DTS if it decodes before it shows (B-frames), else `from`.
    shift: Duration,
}

impl Cut {
    fn whole(duration: Duration) -> Cut {
        Cut { from: Duration::ZERO, end: duration, shift: Duration::ZERO }
    }

    /// Validates `trim` against the recording and finds the key frame at or before its in point.
    fn plan(input: &Path, trim: Trim, recording: Duration) -> Result<Cut, MediaError> {
        let end = trim.end.unwrap_or(recording).min(recording);
        if trim.start >= end {
            return Err(MediaError::Invalid(format!(
                "trim: in point {} is not before out point {}",
                clock(trim.start),
                clock(end)
            )));
        }
        if trim.start.is_zero() {
            return Ok(Cut { end, ..Cut::whole(recording) });
        }
        let (pts, dts) = key_frame_before(input, trim.start)?;
        tracing::debug!(?pts, ?dts, in_point = ?trim.start, "trim: key frame before the in point");
        Ok(Cut { from: pts, end, shift: dts.min(pts) })
    }

    fn duration(&self) -> Duration {
        self.end.saturating_sub(self.from)
    }

    /// Installs the drop-and-shift probe on a demuxer pad. Video starts on the key frame at `from`; audio at
    /// `from`; both end before `end`. (On a source pad: GStreamer 1.22 warns about dropped buffers on sink pads.)
    fn apply(self, pad: &gst::Pad, video: bool) {
        if self == Cut::whole(self.end) {
            return;
        }
        let started = std::sync::atomic::AtomicBool::new(!video);
        pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            let Some(buf) = info.buffer() else { return gst::PadProbeReturn::Ok };
            let Some(pts) = buf.pts() else { return gst::PadProbeReturn::Ok };
            let pts = Duration::from_nanos(pts.nseconds());
            if pts < self.from {
                return gst::PadProbeReturn::Drop;
            }
            if !started.load(std::sync::atomic::Ordering::Relaxed) {
                if buf.flags().contains(gst::BufferFlags::DELTA_UNIT) {
                    return gst::PadProbeReturn::Drop;
                }
                started.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            self.keep_and_shift(pts, info)
        });
    }

    fn keep_and_shift(&self, pts: Duration, info: &mut gst::PadProbeInfo) -> gst::PadProbeReturn {
        if pts >= self.end {
            return gst::PadProbeReturn::Drop;
        }
        let shift = gst::ClockTime::from_nseconds(self.shift.as_nanos() as u64);
        if let Some(buf) = info.buffer_mut() {
            let buf = buf.make_mut();
            let p = buf.pts().map(|t| t.saturating_sub(shift));
            let d = buf.dts().map(|t| t.saturating_sub(shift));
            buf.set_pts(p);
            buf.set_dts(d);
        }
        gst::PadProbeReturn::Ok
    }
}

/// `h:mm:ss.mmm` for error messages staff read.
fn clock(d: Duration) -> String {
    let ms = d.as_millis();
    format!("{}:{:02}:{:02}.{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
}

/// (PTS, DTS) of the recording's last video key frame at or before `at`: a seek in a demux-only pipeline, which
/// reads the MP4 index and one frame, not the media.
fn key_frame_before(input: &Path, at: Duration) -> Result<(Duration, Duration), MediaError> {
    const K: &str = "post-keyframe";
    let b = |e: String| MediaError::build(K, e);
    let pipeline = gst::Pipeline::with_name(K);
    let src = make(K, "filesrc", "src")?;
    src.set_property("location", input.to_string_lossy().to_string());
    let demux = make(K, "qtdemux", "demux")?;
    let sink = make(K, "fakesink", "sink")?;
    sink.set_property("sync", false);
    pipeline.add_many([&src, &demux, &sink]).map_err(|e| b(e.to_string()))?;
    src.link(&demux).map_err(|e| b(e.to_string()))?;
    // The first buffer after the seek's flush: where the demuxer really starts (the key frame).
    type FirstFrame = Option<(gst::ClockTime, Option<gst::ClockTime>)>;
    let first: Arc<Mutex<FirstFrame>> = Arc::default();
    let seen = first.clone();
    let sink_pad = sink.static_pad("sink").unwrap();
    demux.connect_pad_added(move |_, pad| {
        if !pad.name().starts_with("video") || sink_pad.is_linked() {
            return;
        }
        let seen = seen.clone();
        pad.add_probe(gst::PadProbeType::BUFFER | gst::PadProbeType::EVENT_FLUSH, move |_, info| {
            if let Some(ev) = info.event()
                && ev.type_() == gst::EventType::FlushStop
            {
                *seen.lock().unwrap() = None;
            } else if let Some(buf) = info.buffer()
                && let Some(pts) = buf.pts()
            {
                seen.lock().unwrap().get_or_insert((pts, buf.dts()));
            }
            gst::PadProbeReturn::Ok
        });
        let _ = pad.link(&sink_pad);
    });
    let wait = |what: &str| -> Result<(), MediaError> {
        let bus = pipeline.bus().expect("a pipeline has a bus");
        match bus
            .timed_pop_filtered(
                gst::ClockTime::from_seconds(30),
                &[gst::MessageType::AsyncDone, gst::MessageType::Error],
            )
            .as_ref()
            .map(|m| m.view())
        {
            Some(gst::MessageView::AsyncDone(_)) => Ok(()),
            Some(gst::MessageView::Error(e)) => Err(MediaError::Unreadable {
                path: input.display().to_string(),
                detail: format!("{what}: {}", e.error()),
            }),
            _ => Err(b(format!("{what} timed out"))),
        }
    };
    let result = (|| {
        pipeline.set_state(gst::State::Paused).map_err(|e| b(e.to_string()))?;
        wait("reading the recording's index")?;
        pipeline
            .seek_simple(
                // Not KEY_UNIT: qtdemux 1.22 snaps that to the key frame *before* one that lies exactly on
                // the position. A plain seek makes the demuxer start at the key frame the decoder needs, which
                // is the first buffer the probe above sees.
                gst::SeekFlags::FLUSH,
                // A key frame exactly at the in point counts as "before" it: container timestamps are rounded
                // to the track's timescale, so allow 5 ms (under half a frame at 60 fps).
                gst::ClockTime::from_nseconds((at + Duration::from_millis(5)).as_nanos() as u64),
            )
            .map_err(|e| b(format!("seek to the in point: {e}")))?;
        wait("seeking to the in point")?;
        let (pts, dts) = first.lock().unwrap().ok_or_else(|| b("no frame at the in point".into()))?;
        let dts = dts.unwrap_or(pts);
        Ok((Duration::from_nanos(pts.nseconds()), Duration::from_nanos(dts.nseconds())))
    })();
    let _ = pipeline.set_state(gst::State::Null);
    result
}

/// Reads a media playlist and its segment files: (peak, average) bits per second and the segment count.
fn measure_bandwidth(playlist: &Path) -> Result<(u64, u64, usize), MediaError> {
    let text = std::fs::read_to_string(playlist).map_err(|e| MediaError::io(playlist, e))?;
    let dir = playlist.parent().unwrap_or(Path::new("."));
    let (mut peak, mut total_bits, mut total_secs, mut n) = (0f64, 0f64, 0f64, 0usize);
    let mut pending: Option<f64> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("#EXTINF:") {
            pending = rest.split(',').next().and_then(|d| d.trim().parse().ok());
        } else if !line.starts_with('#') && !line.trim().is_empty() {
            let secs = pending.take().unwrap_or(0.0);
            let path: PathBuf = dir.join(line.trim());
            let bits = std::fs::metadata(&path).map_err(|e| MediaError::io(&path, e))?.len() as f64 * 8.0;
            if secs > 0.0 {
                peak = peak.max(bits / secs);
            }
            total_bits += bits;
            total_secs += secs;
            n += 1;
        }
    }
    if n == 0 || total_secs <= 0.0 {
        return Err(MediaError::Unreadable {
            path: playlist.display().to_string(),
            detail: "playlist has no segments".into(),
        });
    }
    Ok((peak.ceil() as u64, (total_bits / total_secs).ceil() as u64, n))
}

fn write_master(path: &Path, variants: &[RenderedVariant], fps: u32) -> Result<(), MediaError> {
    let mut m = String::from("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    for v in variants {
        m.push_str(&format!(
            "#EXT-X-STREAM-INF:BANDWIDTH={},AVERAGE-BANDWIDTH={},RESOLUTION={}x{},FRAME-RATE={fps}.000{}\n{}/index.m3u8\n",
            v.peak_bandwidth,
            v.average_bandwidth,
            v.width,
            v.height,
            if v.codecs.is_empty() { String::new() } else { format!(",CODECS=\"{}\"", v.codecs) },
            v.name
        ));
    }
    std::fs::write(path, m).map_err(|e| MediaError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avc1_codec_strings_follow_rfc_6381() {
        crate::media::init().unwrap();
        let caps = gst::Caps::builder("video/x-h264").field("profile", "high").field("level", "3.1").build();
        assert_eq!(avc1_from_caps(caps.structure(0).unwrap()), "avc1.64001f");
        let caps =
            gst::Caps::builder("video/x-h264").field("profile", "constrained-baseline").field("level", "3").build();
        assert_eq!(avc1_from_caps(caps.structure(0).unwrap()), "avc1.42e01e");
    }

    #[test]
    fn the_ladder_skips_rungs_taller_than_the_recording() {
        let l = Ladder::builtin();
        let fit: Vec<_> = l.fitting(720).into_iter().map(|r| r.name).collect();
        assert_eq!(fit, ["720p", "360p", "180p"]);
        assert!(Ladder::parse("[[rung]]\nname = \"../x\"\nheight = 360\nvideo_kbit = 500").is_err());
        assert!(Ladder::parse("[[rung]]\nname = \"a\"\nheight = 361\nvideo_kbit = 500").is_err());
        assert!(Ladder::parse("rung = []").is_err());
    }
}
