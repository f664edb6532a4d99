//! Source builders: one file per input kind. Each builds a bin `source-{id}` that feeds one
//! compositor pad (placed by the layout) and one audiomixer pad.

pub mod file;
pub(crate) mod iso;
pub mod srt;
pub mod test;
pub mod whip;

pub use whip::IceSettings;

use super::MediaError;
use super::layout::Rect;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// What to put into the program.
#[derive(Debug, Clone)]
pub enum SourceSpec {
    /// A media file (any container/codec decodebin reads), played in real time from its start.
    File { id: String, path: PathBuf },
    /// A live test pattern with a sine tone (for operators' checks and tests).
    Test { id: String, pattern: String, tone_hz: f64 },
    /// An SRT listener (OBS, ffmpeg: MPEG-TS with H.264/AAC). Waits for its caller; when the caller leaves it
    /// listens again. `passphrase` (10–79 characters) encrypts and authenticates.
    Srt { id: String, listen: String, passphrase: String, latency_ms: u32 },
}

impl SourceSpec {
    pub fn id(&self) -> &str {
        match self {
            SourceSpec::File { id, .. } | SourceSpec::Test { id, .. } | SourceSpec::Srt { id, .. } => id,
        }
    }

    /// Parses the CLI form `id=PATH` (file), `id=test:PATTERN:HZ` or `id=srt://HOST:PORT?passphrase=…` (listener).
    pub fn parse_cli(s: &str) -> Result<SourceSpec, String> {
        let (id, what) =
            s.split_once('=').ok_or_else(|| format!("expected id=PATH or id=test:PATTERN:HZ, got {s:?}"))?;
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("source id {id:?} must be letters, digits or _"));
        }
        if let Some(rest) = what.strip_prefix("srt://") {
            let (listen, query) = rest.split_once('?').unwrap_or((rest, ""));
            let passphrase = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("passphrase="))
                .ok_or_else(|| "an SRT source needs ?passphrase=… (10–79 characters)".to_owned())?;
            return Ok(SourceSpec::Srt {
                id: id.into(),
                listen: listen.into(),
                passphrase: passphrase.into(),
                latency_ms: 200,
            });
        }
        if let Some(rest) = what.strip_prefix("test:") {
            let (pattern, hz) = rest.split_once(':').unwrap_or((rest, "440"));
            let tone_hz = hz.parse::<f64>().map_err(|_| format!("tone {hz:?} is not a number"))?;
            return Ok(SourceSpec::Test { id: id.into(), pattern: pattern.into(), tone_hz });
        }
        Ok(SourceSpec::File { id: id.into(), path: what.into() })
    }
}

/// Where a source plugs into the program.
pub(crate) struct MixerInputs<'a> {
    pub pipeline: &'a gst::Pipeline,
    pub compositor: &'a gst::Element,
    pub audiomixer: &'a gst::Element,
    /// Running time at which the source joins: non-live sources (files) start their timeline there.
    pub offset: std::time::Duration,
    /// Where network sources record their own stream (ISO); `None`: no ISO recordings.
    pub iso_dir: Option<&'a std::path::Path>,
}

impl MixerInputs<'_> {
    /// The ISO file for a source joining now, if ISO recording is on.
    pub(crate) fn iso_path(&self, id: &str, extension: &str) -> Option<PathBuf> {
        use gst::prelude::*;
        let now = self.pipeline.current_running_time().map(|t| Duration::from_nanos(t.nseconds())).unwrap_or_default();
        self.iso_dir.map(|d| iso::path_for(d, id, now, extension))
    }
}

/// A source in the program: its bin and the mixer pads it feeds.
#[derive(Debug)]
pub(crate) struct BuiltSource {
    pub id: String,
    /// What it was built from, to rebuild it when it must rejoin (`None` for WHIP: a new offer is needed).
    pub spec: Option<SourceSpec>,
    pub bin: gst::Bin,
    pub video_pad: gst::Pad,
    pub audio_pad: gst::Pad,
    pub liveness: Arc<Liveness>,
    /// The source's own stream on disk (network sources, when ISO recording is on).
    pub iso: Option<iso::IsoRecorder>,
}

impl BuiltSource {
    pub(crate) fn new(
        id: &str,
        spec: Option<SourceSpec>,
        bin: gst::Bin,
        video_pad: gst::Pad,
        audio_pad: gst::Pad,
        iso: Option<iso::IsoRecorder>,
    ) -> BuiltSource {
        use gst::prelude::*;
        let liveness = Arc::new(Liveness::default());
        let seen = liveness.clone();
        video_pad.add_probe(gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST, move |_, _| {
            seen.saw_video();
            gst::PadProbeReturn::Ok
        });
        BuiltSource { id: id.to_owned(), spec, bin, video_pad, audio_pad, liveness, iso }
    }
}

/// When a source last delivered a video frame, and whether the watchdog has taken it off screen.
#[derive(Debug)]
pub(crate) struct Liveness {
    /// Milliseconds on [`monotonic_ms`] of the last video buffer (the join time until the first one).
    last_video_ms: AtomicU64,
    stalled: AtomicBool,
    /// Whether the layout gives it a slot.
    placed: AtomicBool,
}

impl Default for Liveness {
    fn default() -> Self {
        Liveness {
            last_video_ms: AtomicU64::new(monotonic_ms()),
            stalled: AtomicBool::new(false),
            placed: AtomicBool::new(false),
        }
    }
}

impl Liveness {
    fn saw_video(&self) {
        self.last_video_ms.store(monotonic_ms(), Ordering::Relaxed);
    }

    /// Milliseconds since the last video frame.
    pub(crate) fn silent_for(&self) -> Duration {
        Duration::from_millis(monotonic_ms().saturating_sub(self.last_video_ms.load(Ordering::Relaxed)))
    }

    pub(crate) fn is_stalled(&self) -> bool {
        self.stalled.load(Ordering::SeqCst)
    }
}

/// Milliseconds since the first call (a process-wide monotonic clock for the watchdog).
fn monotonic_ms() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed().as_millis() as u64
}

/// A source's stall state changed (see [`watch`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stall {
    Stalled,
    Resumed,
}

/// The watchdog's check of one source: a source that sent no video for `timeout` leaves the screen (its slot
/// shows the slate; its audio pad is silent anyway without data) until frames arrive again.
pub(crate) fn watch(source: &BuiltSource, timeout: Duration) -> Option<Stall> {
    let silent = source.liveness.silent_for() > timeout;
    if source.liveness.stalled.swap(silent, Ordering::SeqCst) == silent {
        return None;
    }
    show_if_visible(source);
    Some(if silent { Stall::Stalled } else { Stall::Resumed })
}

/// On screen exactly when the layout gives the source a slot and it is not stalled.
fn show_if_visible(source: &BuiltSource) {
    use gst::prelude::*;
    let l = &source.liveness;
    let visible = l.placed.load(Ordering::SeqCst) && !l.is_stalled();
    source.video_pad.set_property("alpha", if visible { 1.0f64 } else { 0.0 });
}

pub(crate) fn build(spec: &SourceSpec, inputs: MixerInputs<'_>) -> Result<BuiltSource, MediaError> {
    let (bin, video_pad, audio_pad, iso) = match spec {
        SourceSpec::File { id, path } => file::build(id, path, inputs)?,
        SourceSpec::Test { id, pattern, tone_hz } => test::build(id, pattern, *tone_hz, inputs)?,
        SourceSpec::Srt { id, listen, passphrase, latency_ms } => {
            srt::build(id, listen, passphrase, *latency_ms, inputs)?
        }
    };
    Ok(BuiltSource::new(spec.id(), Some(spec.clone()), bin, video_pad, audio_pad, iso))
}

/// What a builder returns: the source's bin and the mixer pads it feeds.
pub(crate) type Built = (gst::Bin, gst::Pad, gst::Pad, Option<iso::IsoRecorder>);

/// Requests a compositor pad, hidden until the layout places it.
pub(crate) fn video_pad(inputs: &MixerInputs<'_>) -> Result<gst::Pad, MediaError> {
    use gst::prelude::*;
    let pad = inputs
        .compositor
        .request_pad_simple("sink_%u")
        .ok_or_else(|| MediaError::build("program", "compositor refused a pad"))?;
    pad.set_property("alpha", 0.0f64);
    Ok(pad)
}

/// The video chain of a decoded source: convert, scale to the slot (the `video-capsfilter`), queue.
pub(crate) const VIDEO_CHAIN: &[&str] = &["videoconvert", "videoscale", "capsfilter", "queue"];
/// Name of the capsfilter that holds a source's slot size.
pub(crate) const SIZE_FILTER: &str = "video-capsfilter";

/// Caps for a slot of `width`×`height` (any size while the source has no slot).
pub(crate) fn slot_caps(width: i32, height: i32) -> gst::Caps {
    if width > 0 && height > 0 {
        gst::Caps::builder("video/x-raw")
            .field("width", width)
            .field("height", height)
            .field("pixel-aspect-ratio", gst::Fraction::new(1, 1))
            .build()
    } else {
        gst::Caps::new_any()
    }
}

/// Places a source's compositor pad at `rect` (or hides it when the layout has no slot for it). A stalled
/// source stays hidden until it resumes.
pub(crate) fn place(source: &BuiltSource, rect: Option<Rect>, zorder: u32) {
    use gst::prelude::*;
    let (bin, pad) = (&source.bin, &source.video_pad);
    source.liveness.placed.store(rect.is_some(), Ordering::SeqCst);
    if let (Some(r), Some(filter)) = (rect, bin.by_name(SIZE_FILTER)) {
        // Renegotiates the source's scaler to the new slot size (live, at the next frame).
        filter.set_property("caps", slot_caps(r.width, r.height));
    }
    if let Some(r) = rect {
        pad.set_property("xpos", r.x);
        pad.set_property("ypos", r.y);
        pad.set_property("width", r.width);
        pad.set_property("height", r.height);
    }
    show_if_visible(source);
    pad.set_property("zorder", zorder);
}

pub(crate) fn audio_pad(inputs: &MixerInputs<'_>) -> Result<gst::Pad, MediaError> {
    use gst::prelude::*;
    inputs
        .audiomixer
        .request_pad_simple("sink_%u")
        .ok_or_else(|| MediaError::build("program", "audiomixer refused a pad"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_source_specs_parse_and_refuse_junk() {
        assert!(matches!(SourceSpec::parse_cli("host=/tmp/a.mp4"), Ok(SourceSpec::File { .. })));
        match SourceSpec::parse_cli("guest=test:ball:660").unwrap() {
            SourceSpec::Test { pattern, tone_hz, .. } => assert_eq!((pattern.as_str(), tone_hz), ("ball", 660.0)),
            other => panic!("{other:?}"),
        }
        assert!(SourceSpec::parse_cli("noequals").is_err());
        assert!(SourceSpec::parse_cli("bad id=x").is_err());
        assert!(SourceSpec::parse_cli("g=test:ball:loud").is_err());
    }
}
