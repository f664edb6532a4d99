//! Sample clips with speech-like audio for demos and tests: espeak-ng speaks a text, GStreamer encodes it
//! with a labelled test picture into an MP4 (H.264 + AAC).
//!
//! ```text
//! videotestsrc(pattern, N frames) ─ textoverlay(label) ─ timeoverlay ─ x264enc ─ h264parse ─┐
//! filesrc(espeak.wav) ─ wavparse ─ audioconvert ─ audioresample ─┐                          ├─ mp4mux ─ filesink
//! audiotestsrc(silence, clip length) ────────────────────────────┴─ audiomixer ─ voaacenc ─┘
//! ```

use super::{MediaError, elements::make, elements::run_to_eos};
use gst::prelude::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct ClipSpec {
    pub label: String,
    /// What the speaker says (German voice by default).
    pub speech: String,
    pub voice: String,
    /// Minimum clip length; the clip is made longer if the speech needs it.
    pub min_length: Duration,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub pattern: String,
}

/// Makes `out` from `spec` unless it exists already with a matching spec (cache key next to it).
pub fn ensure_clip(spec: &ClipSpec, out: &Path) -> Result<Duration, MediaError> {
    let key_path = out.with_extension("key");
    let key = format!("{spec:?}");
    if out.is_file()
        && std::fs::read_to_string(&key_path).ok().as_deref() == Some(key.as_str())
        && let Ok(info) = super::probe::probe(out)
    {
        return Ok(info.duration);
    }
    let len = generate_clip(spec, out)?;
    std::fs::write(&key_path, key).map_err(|e| MediaError::io(&key_path, e))?;
    Ok(len)
}

/// Generates the clip and returns its length.
pub fn generate_clip(spec: &ClipSpec, out: &Path) -> Result<Duration, MediaError> {
    super::init()?;
    let dir = out.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| MediaError::io(dir, e))?;
    let wav = out.with_extension("speech.wav");
    let status = Command::new("espeak-ng")
        .args(["-v", &spec.voice, "-s", "150", "-w"])
        .arg(&wav)
        .arg(&spec.speech)
        .status()
        .map_err(|e| MediaError::Samples(format!("espeak-ng not runnable ({e}); install the package espeak-ng")))?;
    if !status.success() {
        return Err(MediaError::Samples(format!("espeak-ng exited with {status}")));
    }
    let speech_len = wav_duration(&wav)?;
    let length = spec.min_length.max(speech_len + Duration::from_millis(500));
    let frames = (length.as_secs_f64() * spec.fps as f64).ceil() as i32;
    let audio_buffers = (length.as_secs_f64() * 48_000.0 / 1024.0).ceil() as i32;

    let p = "samples";
    let pipeline = gst::Pipeline::with_name(p);
    let b = |e: gst::glib::BoolError| MediaError::build(p, e);
    let v = make(p, "videotestsrc", "video")?;
    v.set_property("num-buffers", frames);
    v.set_property_from_str("pattern", &spec.pattern);
    let vcaps = make(p, "capsfilter", "vcaps")?;
    vcaps.set_property(
        "caps",
        // I420 (4:2:0, 8 bit): what browsers and every decoder take. Left open, x264enc picks 4:4:4 10 bit.
        gst::Caps::builder("video/x-raw")
            .field("format", "I420")
            .field("width", spec.width as i32)
            .field("height", spec.height as i32)
            .field("framerate", gst::Fraction::new(spec.fps as i32, 1))
            .build(),
    );
    let label = make(p, "textoverlay", "label")?;
    label.set_property("text", &spec.label);
    label.set_property_from_str("valignment", "top");
    label.set_property_from_str("halignment", "left");
    label.set_property("font-desc", format!("Sans Bold {}", (spec.height / 14).max(8)));
    let clock = make(p, "timeoverlay", "clock")?;
    clock.set_property_from_str("valignment", "bottom");
    clock.set_property_from_str("halignment", "right");
    let venc = make(p, "x264enc", "venc")?;
    venc.set_property_from_str("speed-preset", "ultrafast");
    venc.set_property("key-int-max", spec.fps);
    let vparse = make(p, "h264parse", "vparse")?;
    let mux = make(p, "mp4mux", "mux")?;
    let sink = make(p, "filesink", "sink")?;
    sink.set_property("location", out.to_string_lossy().to_string());

    let fsrc = make(p, "filesrc", "speech")?;
    fsrc.set_property("location", wav.to_string_lossy().to_string());
    let wavparse = make(p, "wavparse", "wavparse")?;
    let aconv = make(p, "audioconvert", "aconv")?;
    let ares = make(p, "audioresample", "ares")?;
    let silence = make(p, "audiotestsrc", "silence")?;
    silence.set_property_from_str("wave", "silence");
    silence.set_property("samplesperbuffer", 1024i32);
    silence.set_property("num-buffers", audio_buffers);
    let amix = make(p, "audiomixer", "amix")?;
    let acaps = make(p, "capsfilter", "acaps")?;
    acaps.set_property(
        "caps",
        gst::Caps::builder("audio/x-raw").field("rate", 48_000i32).field("channels", 2i32).build(),
    );
    let aconv2 = make(p, "audioconvert", "aconv2")?;
    let aenc = make(p, "voaacenc", "aenc")?;
    let aparse = make(p, "aacparse", "aparse")?;

    pipeline
        .add_many([
            &v, &vcaps, &label, &clock, &venc, &vparse, &mux, &sink, &fsrc, &wavparse, &aconv, &ares, &silence, &amix,
            &acaps, &aconv2, &aenc, &aparse,
        ])
        .map_err(b)?;
    gst::Element::link_many([&v, &vcaps, &label, &clock, &venc, &vparse, &mux, &sink]).map_err(b)?;
    gst::Element::link_many([&fsrc, &wavparse, &aconv, &ares, &amix]).map_err(b)?;
    silence.link(&amix).map_err(b)?;
    gst::Element::link_many([&amix, &acaps, &aconv2, &aenc, &aparse, &mux]).map_err(b)?;
    run_to_eos(&pipeline, Duration::from_secs(300))?;
    let _ = std::fs::remove_file(&wav);
    Ok(length)
}

/// Length of a PCM WAV file from its header.
fn wav_duration(path: &Path) -> Result<Duration, MediaError> {
    let bytes = std::fs::read(path).map_err(|e| MediaError::io(path, e))?;
    let bad = || MediaError::Samples(format!("{} is not a PCM WAV file", path.display()));
    if bytes.len() < 44 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(bad());
    }
    let byte_rate = u32::from_le_bytes(bytes[28..32].try_into().unwrap()) as f64;
    if byte_rate == 0.0 {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64((bytes.len() - 44) as f64 / byte_rate))
}
