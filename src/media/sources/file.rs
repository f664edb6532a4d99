//! File source: `filesrc ! decodebin`, each decoded stream converted and linked to the mixers.
//!
//! ```text
//! [source-{id}]  filesrc ─ decodebin ─┬─ videoconvert ─ videoscale ─ capsfilter(slot) ─ queue ─(ghost video)─► compositor.sink_N
//!                                     ├─ audioconvert ─ audioresample ─ queue ─(ghost audio)─► audiomixer.sink_M
//!                                     └─ (other streams) ─ fakesink
//! ```

use super::{Built, MixerInputs, audio_pad, video_pad};
use crate::media::{MediaError, elements::make, names::Name};
use gst::prelude::*;
use std::path::Path;

pub(crate) fn build(id: &str, path: &Path, inputs: MixerInputs<'_>) -> Result<Built, MediaError> {
    if !path.is_file() {
        return Err(MediaError::Unreadable { path: path.display().to_string(), detail: "no such file".into() });
    }
    let bin = gst::Bin::with_name(&Name::source(id));
    let src = make("program", "filesrc", "file")?;
    src.set_property("location", path.to_string_lossy().to_string());
    let dec = make("program", "decodebin", "decode")?;
    bin.add_many([&src, &dec]).map_err(|e| MediaError::build("program", e))?;
    src.link(&dec).map_err(|e| MediaError::build("program", e))?;
    inputs.pipeline.add(&bin).map_err(|e| MediaError::build("program", e))?;

    let vpad = video_pad(&inputs)?;
    let apad = audio_pad(&inputs)?;
    // A file's timeline starts at 0; shift it to the moment it joins the program.
    decode_into_mixers(&bin, &dec, &vpad, &apad, inputs.offset.as_nanos() as i64);
    bin.sync_state_with_parent().map_err(|e| MediaError::build("program", e))?;
    Ok((bin, vpad, apad, None))
}

/// Links each stream `decodebin` finds: the first video and the first audio to the mixer pads, anything else
/// to a fakesink (an unlinked decodebin pad stalls the pipeline).
pub(super) fn decode_into_mixers(bin: &gst::Bin, dec: &gst::Element, vpad: &gst::Pad, apad: &gst::Pad, offset: i64) {
    let bin_weak = bin.downgrade();
    let pads = std::sync::Mutex::new((Some(vpad.clone()), Some(apad.clone())));
    dec.connect_pad_added(move |_dec, pad| {
        let Some(bin) = bin_weak.upgrade() else { return };
        let caps = pad.current_caps().unwrap_or_else(|| pad.query_caps(None));
        let kind = caps.structure(0).map(|s| s.name().to_string()).unwrap_or_default();
        let mut pads = pads.lock().unwrap();
        let result = if kind.starts_with("video/") && pads.0.is_some() {
            link_branch(&bin, pad, super::VIDEO_CHAIN, "video", pads.0.take().unwrap(), offset)
        } else if kind.starts_with("audio/") && pads.1.is_some() {
            link_branch(&bin, pad, &["audioconvert", "audioresample", "queue"], "audio", pads.1.take().unwrap(), offset)
        } else {
            link_branch_to_fakesink(&bin, pad)
        };
        if let Err(e) = result {
            tracing::warn!(source = %bin.name(), "cannot link decoded {kind}: {e}");
        }
    });
}

pub(super) fn link_branch(
    bin: &gst::Bin,
    pad: &gst::Pad,
    factories: &[&str],
    ghost_name: &str,
    mixer_pad: gst::Pad,
    offset: i64,
) -> Result<(), MediaError> {
    let mut elements = Vec::new();
    for f in factories {
        elements.push(make("program", f, &format!("{ghost_name}-{f}"))?);
    }
    if let Some(q) = elements.last() {
        q.set_property("max-size-time", 2_000_000_000u64);
        q.set_property("max-size-buffers", 0u32);
        q.set_property("max-size-bytes", 0u32);
    }
    // Scale to the layout slot here (fast videoscale) rather than in the compositor (its converter is ~3× the CPU).
    if let Some(filter) = elements.iter().find(|e| e.name() == super::SIZE_FILTER) {
        filter.set_property(
            "caps",
            super::slot_caps(mixer_pad.property::<i32>("width"), mixer_pad.property::<i32>("height")),
        );
    }
    bin.add_many(&elements).map_err(|e| MediaError::build("program", e))?;
    gst::Element::link_many(&elements).map_err(|e| MediaError::build("program", e))?;
    let last_src = elements.last().unwrap().static_pad("src").unwrap();
    let ghost = gst::GhostPad::builder_with_target(&last_src)
        .map_err(|e| MediaError::build("program", e))?
        .name(ghost_name)
        .build();
    ghost.set_offset(offset);
    ghost.set_active(true).map_err(|e| MediaError::build("program", e))?;
    bin.add_pad(&ghost).map_err(|e| MediaError::build("program", e))?;
    ghost.link(&mixer_pad).map_err(|e| MediaError::build("program", format!("{ghost_name} → mixer: {e:?}")))?;
    for e in &elements {
        e.sync_state_with_parent().map_err(|e| MediaError::build("program", e))?;
    }
    pad.link(&elements[0].static_pad("sink").unwrap())
        .map_err(|e| MediaError::build("program", format!("decodebin → {ghost_name}: {e:?}")))?;
    Ok(())
}

pub(super) fn link_branch_to_fakesink(bin: &gst::Bin, pad: &gst::Pad) -> Result<(), MediaError> {
    let sink = gst::ElementFactory::make("fakesink")
        .property("sync", false)
        .property("async", false)
        .build()
        .map_err(|e| MediaError::build("program", e))?;
    bin.add(&sink).map_err(|e| MediaError::build("program", e))?;
    sink.sync_state_with_parent().map_err(|e| MediaError::build("program", e))?;
    pad.link(&sink.static_pad("sink").unwrap()).map_err(|e| MediaError::build("program", format!("{e:?}")))?;
    Ok(())
}
