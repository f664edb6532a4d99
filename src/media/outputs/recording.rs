//! Recording output: fragmented MP4 (`isofmp4mux`), crash-safe — every completed fragment is playable
//! even if the process dies; on a clean end the header is rewritten with the total duration.
//!
//! ```text
//! [output-recording]  (ghost video) ─ queue ─ h264parse ─┐
//!                                            ├─ isofmp4mux(fragment-duration) ─ filesink
//!                     (ghost audio) ─ queue ─ aacparse  ─┘
//! ```
//! Reference launch line: `pipelines/recording.txt`.

use super::{OutputBranch, Tees, branch_input, link_tee};
use crate::media::{MediaError, elements::make, names::Name};
use gst::prelude::*;
use std::path::Path;
use std::time::Duration;

pub(crate) fn build(id: &str, path: &Path, tees: Tees<'_>, fragment: Duration) -> Result<OutputBranch, MediaError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| MediaError::io(dir, e))?;
    }
    let bin = gst::Bin::with_name(&Name::output(id));
    // Buffer up to 3 s so a slow disk never backs up into the program.
    let vq = branch_input(&bin, "video", Duration::from_secs(3))?;
    let aq = branch_input(&bin, "audio", Duration::from_secs(3))?;
    let mux = make("program", "isofmp4mux", "mux")?;
    mux.set_property("fragment-duration", fragment.as_nanos() as u64);
    // CMAF chunks of a quarter fragment reach the disk while the fragment is still open: a crash loses
    // less than one chunk plus the encoder's latency instead of a whole fragment.
    mux.set_property("chunk-duration", (fragment / 4).max(Duration::from_millis(100)).as_nanos() as u64);
    mux.set_property_from_str("header-update-mode", "rewrite");
    mux.set_property("write-mfra", true);
    let sink = make("program", "filesink", "sink")?;
    sink.set_property("location", path.to_string_lossy().to_string());
    sink.set_property("sync", false);
    // Each chunk is one buffer: write it through instead of holding 64 KiB in stdio.
    sink.set_property_from_str("buffer-mode", "unbuffered");
    sink.set_property("async", false);
    bin.add_many([&mux, &sink]).map_err(|e| MediaError::build("program", e))?;
    vq.link_pads(Some("src"), &mux, Some("sink_0")).map_err(|e| MediaError::build("program", e))?;
    aq.link_pads(Some("src"), &mux, Some("sink_1")).map_err(|e| MediaError::build("program", e))?;
    mux.link(&sink).map_err(|e| MediaError::build("program", e))?;
    tees.pipeline.add(&bin).map_err(|e| MediaError::build("program", e))?;
    link_tee(tees.video, &bin, "video")?;
    link_tee(tees.audio, &bin, "audio")?;
    Ok(OutputBranch::watch(id, &sink.static_pad("sink").unwrap()))
}
