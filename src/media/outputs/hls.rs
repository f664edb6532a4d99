//! Live HLS output for the town site: MPEG-TS segments and an EVENT playlist that keeps every segment, so
//! viewers can seek back during the session and the playlist is a finished VOD (`#EXT-X-ENDLIST`) at the end.
//!
//! ```text
//! [output-hls]  (ghost video) ─ queue ─ h264parse ─┐
//!                                      ├─ hlssink3(playlist-type=event, target-duration) → index.m3u8 + segNNNNN.ts
//!               (ghost audio) ─ queue ─ aacparse  ─┘
//! ```

use super::{OutputBranch, Tees, branch_input, link_tee};
use crate::media::{MediaError, elements::make, names::Name};
use gst::prelude::*;
use std::path::Path;

pub(crate) fn build(id: &str, dir: &Path, segment_seconds: u32, tees: Tees<'_>) -> Result<OutputBranch, MediaError> {
    std::fs::create_dir_all(dir).map_err(|e| MediaError::io(dir, e))?;
    let b = |e| MediaError::build("program", e);
    let bin = gst::Bin::with_name(&Name::output(id));
    let vq = branch_input(&bin, "video", std::time::Duration::from_secs(3))?;
    let aq = branch_input(&bin, "audio", std::time::Duration::from_secs(3))?;
    let sink = make("program", "hlssink3", "sink")?;
    sink.set_property("location", dir.join("seg%05d.ts").to_string_lossy().to_string());
    sink.set_property("playlist-location", dir.join("index.m3u8").to_string_lossy().to_string());
    sink.set_property("target-duration", segment_seconds);
    sink.set_property_from_str("playlist-type", "event");
    sink.set_property("playlist-length", 0u32);
    sink.set_property("max-files", 0u32);
    // The program encoder makes a key frame every second already.
    sink.set_property("send-keyframe-requests", false);
    bin.add(&sink).map_err(b)?;
    vq.link_pads(Some("src"), &sink, Some("video")).map_err(b)?;
    aq.link_pads(Some("src"), &sink, Some("audio")).map_err(b)?;
    tees.pipeline.add(&bin).map_err(b)?;
    link_tee(tees.video, &bin, "video")?;
    link_tee(tees.audio, &bin, "audio")?;
    let video_in = sink.static_pad("video").ok_or_else(|| MediaError::build("program", "hlssink3 has no video pad"))?;
    Ok(OutputBranch::watch(id, &video_in))
}
