//! SRT listener source (OBS, ffmpeg, hardware encoders): MPEG-TS over SRT, decoded into the mixers.
//!
//! ```text
//! [source-{id}]  srtsrc(listener, passphrase) ─ tee ─ decodebin ─ videoconvert ─ videoscale ─ capsfilter(slot) ─ queue ─(ghost video)─► compositor
//!                                                         ─ audioconvert ─ audioresample ─ queue ─(ghost audio)─► audiomixer
//!                                                    └ [ISO] the MPEG-TS as sent → {id}-{ms}ms.ts (see `iso`)
//! ```
//! Until a caller connects the slot shows nothing (the slate behind). When the caller leaves, srtsrc sends EOS;
//! the source asks the program to rebuild it, so the next connection is taken again.

use super::file::decode_into_mixers;
use super::{Built, MixerInputs, audio_pad, iso, video_pad};
use crate::media::mixer::REJOIN_MESSAGE;
use crate::media::{MediaError, elements::make, names::Name};
use gst::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};

pub(crate) fn build(
    id: &str,
    listen: &str,
    passphrase: &str,
    latency_ms: u32,
    inputs: MixerInputs<'_>,
) -> Result<Built, MediaError> {
    if !(10..=79).contains(&passphrase.len()) {
        return Err(MediaError::build("program", "SRT passphrase must be 10–79 characters"));
    }
    let b = |e| MediaError::build("program", e);
    let bin = gst::Bin::with_name(&Name::source(id));
    let src = make("program", "srtsrc", "srt")?;
    src.set_property("uri", format!("srt://{listen}?mode=listener"));
    src.set_property("passphrase", passphrase);
    src.set_property_from_str("pbkeylen", "16");
    src.set_property("latency", latency_ms as i32);
    src.set_property("wait-for-connection", true);
    let dec = make("program", "decodebin", "decode")?;
    let tee = make("program", "tee", "ts-tee")?;
    bin.add_many([&src, &tee, &dec]).map_err(b)?;
    gst::Element::link_many([&src, &tee, &dec]).map_err(b)?;
    let iso = match inputs.iso_path(id, "ts") {
        Some(path) => {
            let (rec, head) = iso::IsoRecorder::transport_stream(&bin, path)?;
            tee.link(&head).map_err(b)?;
            Some(rec)
        }
        None => None,
    };
    inputs.pipeline.add(&bin).map_err(b)?;
    let vpad = video_pad(&inputs)?;
    let apad = audio_pad(&inputs)?;
    decode_into_mixers(&bin, &dec, &vpad, &apad, 0);

    // The caller left: ask (once) to be rebuilt so the next caller is taken.
    let asked = AtomicBool::new(false);
    let (bin_weak, source) = (bin.downgrade(), id.to_owned());
    src.static_pad("src").unwrap().add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, move |_, info| {
        if let Some(gst::PadProbeData::Event(ev)) = &info.data
            && ev.type_() == gst::EventType::Eos
            && !asked.swap(true, Ordering::SeqCst)
            && let Some(bin) = bin_weak.upgrade()
        {
            let s = gst::Structure::builder(REJOIN_MESSAGE).field("source", &source).build();
            let _ = bin.post_message(gst::message::Application::builder(s).src(&bin).build());
        }
        gst::PadProbeReturn::Ok
    });
    bin.sync_state_with_parent().map_err(b)?;
    Ok((bin, vpad, apad, iso))
}
