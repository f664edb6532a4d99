//! Output builders: one file per output kind. Each is a bin `output-{id}` with ghost pads `video` and
//! `audio`, fed from the program's encoded tees through its own queues, so outputs fail independently.

pub mod hls;
pub mod recording;
pub mod rtmp;

pub use rtmp::RtmpUrl;

use super::MediaError;
use gst::prelude::*;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Clone)]
pub enum OutputSpec {
    /// Crash-safe fragmented MP4 of the program.
    Recording { path: PathBuf },
    /// Live HLS (EVENT playlist) into a directory the web server serves.
    LiveHls { dir: PathBuf, segment_seconds: u32 },
    /// RTMP push (e.g. YouTube Live), retried with backoff, never stopping the program.
    Rtmp { url: RtmpUrl },
}

impl OutputSpec {
    pub fn id(&self) -> &'static str {
        match self {
            OutputSpec::Recording { .. } => "recording",
            OutputSpec::LiveHls { .. } => "hls",
            OutputSpec::Rtmp { .. } => "rtmp",
        }
    }
}

/// A built output: its name and whether EOS reached its sink (it is finalized).
#[derive(Debug, Clone)]
pub struct OutputBranch {
    pub id: String,
    finished: Arc<AtomicBool>,
    /// Set when the output reported an error: the program goes on without it and does not wait for it.
    failed: Arc<AtomicBool>,
    /// For outputs with their own threads: set to make them stop.
    stop: Option<Arc<AtomicBool>>,
}

impl OutputBranch {
    /// Watches `sink_pad` for EOS, which for a file sink means the file is complete.
    pub(crate) fn watch(id: &str, sink_pad: &gst::Pad) -> OutputBranch {
        let finished = crate::media::elements::eos_flag(sink_pad);
        OutputBranch { id: id.to_owned(), finished, failed: Arc::default(), stop: None }
    }

    pub(crate) fn with_flags(id: &str, finished: Arc<AtomicBool>, stop: Option<Arc<AtomicBool>>) -> OutputBranch {
        OutputBranch { id: id.to_owned(), finished, failed: Arc::default(), stop }
    }

    pub(crate) fn mark_failed(&self) {
        self.failed.store(true, Ordering::SeqCst);
    }

    pub fn has_failed(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }

    /// Tells the output's own threads (if any) to stop.
    pub(crate) fn stop(&self) {
        if let Some(s) = &self.stop {
            s.store(true, Ordering::SeqCst);
        }
    }

    pub fn is_finished(&self) -> bool {
        self.finished.load(Ordering::SeqCst)
    }
}

pub(crate) struct Tees<'a> {
    pub pipeline: &'a gst::Pipeline,
    pub video: &'a gst::Element,
    pub audio: &'a gst::Element,
}

pub(crate) fn build(
    spec: &OutputSpec,
    tees: Tees<'_>,
    fragment: std::time::Duration,
    events: &tokio::sync::mpsc::UnboundedSender<crate::media::mixer::ProgramEvent>,
) -> Result<OutputBranch, MediaError> {
    match spec {
        OutputSpec::Recording { path } => recording::build(spec.id(), path, tees, fragment),
        OutputSpec::LiveHls { dir, segment_seconds } => hls::build(spec.id(), dir, *segment_seconds, tees),
        OutputSpec::Rtmp { url } => rtmp::build(spec.id(), url, tees, events.clone()),
    }
}

/// A branch's entry for one stream kind: `queue ─ h264parse|aacparse`, with the ghost pad `kind` on the bin.
/// Each branch parses for itself, so every muxer negotiates the stream format it needs (MP4 and FLV want
/// `avc`/raw AAC, MPEG-TS wants byte-stream/ADTS) from one shared encode.
pub(crate) fn branch_input(
    bin: &gst::Bin,
    kind: &str,
    max_time: std::time::Duration,
) -> Result<gst::Element, MediaError> {
    use crate::media::elements::make;
    let b = |e| MediaError::build("program", e);
    // A failing output (disk full, directory gone, muxer error) must not travel back through the tee into
    // the encoder and stop the program: its flow error becomes "not linked", which the tee ignores.
    let shield = make("program", "errorignore", &format!("{kind}-shield"))?;
    shield.set_property("ignore-error", true);
    shield.set_property("ignore-notnegotiated", true);
    let q = make("program", "queue", &format!("{kind}-queue"))?;
    q.set_property("max-size-time", max_time.as_nanos() as u64);
    q.set_property("max-size-buffers", 0u32);
    q.set_property("max-size-bytes", 0u32);
    let parser = make("program", if kind == "video" { "h264parse" } else { "aacparse" }, &format!("{kind}-parse"))?;
    bin.add_many([&shield, &q, &parser]).map_err(b)?;
    gst::Element::link_many([&shield, &q, &parser]).map_err(b)?;
    let ghost = gst::GhostPad::builder_with_target(&shield.static_pad("sink").unwrap()).map_err(b)?.name(kind).build();
    bin.add_pad(&ghost).map_err(b)?;
    // Muxers refuse buffers without a PTS and that error would travel back into the program. The parser can
    // emit one (header-only access units on (re)negotiation): use its DTS, or drop it.
    let output = bin.name().to_string();
    parser.static_pad("src").unwrap().add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        let Some(gst::PadProbeData::Buffer(buf)) = &mut info.data else { return gst::PadProbeReturn::Ok };
        if buf.pts().is_some() {
            return gst::PadProbeReturn::Ok;
        }
        match buf.dts() {
            Some(dts) => {
                buf.make_mut().set_pts(dts);
                gst::PadProbeReturn::Ok
            }
            None => {
                tracing::warn!(output = %output, size = buf.size(), "dropping a buffer without timestamps");
                gst::PadProbeReturn::Drop
            }
        }
    });
    Ok(parser)
}

/// Links a tee to a bin's ghost pad through a fresh tee src pad.
pub(crate) fn link_tee(tee: &gst::Element, bin: &gst::Bin, ghost: &str) -> Result<(), MediaError> {
    let src = tee.request_pad_simple("src_%u").ok_or_else(|| MediaError::build("program", "tee refused a pad"))?;
    let sink = bin.static_pad(ghost).ok_or_else(|| MediaError::build("program", format!("no pad {ghost}")))?;
    src.link(&sink).map_err(|e| MediaError::build("program", format!("tee → {}.{ghost}: {e:?}", bin.name())))?;
    Ok(())
}
