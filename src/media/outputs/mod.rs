//! Output builders: one file per output kind. Each is a bin `output-{id}` with ghost pads `video` and
//! `audio`, fed from the program's encoded tees through its own queues, so outputs fail independently.

pub mod recording;

use super::MediaError;
use gst::prelude::*;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Clone)]
pub enum OutputSpec {
    /// Crash-safe fragmented MP4 of the program.
    Recording { path: PathBuf },
}

impl OutputSpec {
    pub fn id(&self) -> &'static str {
        match self {
            OutputSpec::Recording { .. } => "recording",
        }
    }
}

/// A built output: its name and whether EOS reached its sink (it is finalized).
#[derive(Debug, Clone)]
pub struct OutputBranch {
    pub id: String,
    finished: Arc<AtomicBool>,
}

impl OutputBranch {
    /// Watches `sink_pad` for EOS, which for a file sink means the file is complete.
    pub(crate) fn watch(id: &str, sink_pad: &gst::Pad) -> OutputBranch {
        let finished = Arc::new(AtomicBool::new(false));
        let flag = finished.clone();
        sink_pad.add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, move |_, info| {
            if let Some(gst::PadProbeData::Event(ev)) = &info.data
                && ev.type_() == gst::EventType::Eos
            {
                flag.store(true, Ordering::SeqCst);
            }
            gst::PadProbeReturn::Ok
        });
        OutputBranch { id: id.to_owned(), finished }
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
) -> Result<OutputBranch, MediaError> {
    match spec {
        OutputSpec::Recording { path } => recording::build(spec.id(), path, tees, fragment),
    }
}

/// Links a tee to a bin's ghost pad through a fresh tee src pad.
pub(crate) fn link_tee(tee: &gst::Element, bin: &gst::Bin, ghost: &str) -> Result<(), MediaError> {
    let src = tee.request_pad_simple("src_%u").ok_or_else(|| MediaError::build("program", "tee refused a pad"))?;
    let sink = bin.static_pad(ghost).ok_or_else(|| MediaError::build("program", format!("no pad {ghost}")))?;
    src.link(&sink).map_err(|e| MediaError::build("program", format!("tee → {}.{ghost}: {e:?}", bin.name())))?;
    Ok(())
}
