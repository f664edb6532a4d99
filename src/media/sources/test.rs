//! Live test source: `videotestsrc is-live` + `audiotestsrc is-live` (a sine tone).
//!
//! ```text
//! [source-{id}]  videotestsrc(pattern) ─ timeoverlay ─ videoscale ─ capsfilter(slot) ─(ghost video)─► compositor.sink_N
//!                audiotestsrc(freq)                 ─(ghost audio)─► audiomixer.sink_M
//! ```

use super::{Built, MixerInputs, audio_pad, video_pad};
use crate::media::{MediaError, elements::make, names::Name};
use gst::prelude::*;

pub(crate) fn build(id: &str, pattern: &str, tone_hz: f64, inputs: MixerInputs<'_>) -> Result<Built, MediaError> {
    let bin = gst::Bin::with_name(&Name::source(id));
    let v = make("program", "videotestsrc", "video")?;
    v.set_property("is-live", true);
    v.set_property_from_str("pattern", pattern);
    let clock = make("program", "timeoverlay", "clock")?;
    let scale = make("program", "videoscale", "video-videoscale")?;
    let size = make("program", "capsfilter", super::SIZE_FILTER)?;
    let a = make("program", "audiotestsrc", "audio")?;
    a.set_property("is-live", true);
    a.set_property("freq", tone_hz);
    a.set_property("volume", 0.2f64);
    a.set_property("samplesperbuffer", 960i32);
    bin.add_many([&v, &clock, &scale, &size, &a]).map_err(|e| MediaError::build("program", e))?;
    gst::Element::link_many([&v, &clock, &scale, &size]).map_err(|e| MediaError::build("program", e))?;
    for (el, name) in [(&size, "video"), (&a, "audio")] {
        let ghost = gst::GhostPad::builder_with_target(&el.static_pad("src").unwrap())
            .map_err(|e| MediaError::build("program", e))?
            .name(name)
            .build();
        bin.add_pad(&ghost).map_err(|e| MediaError::build("program", e))?;
    }
    inputs.pipeline.add(&bin).map_err(|e| MediaError::build("program", e))?;
    let link = |ghost: &str, pad: gst::Pad| {
        bin.static_pad(ghost)
            .unwrap()
            .link(&pad)
            .map(|_| ())
            .map_err(|e| MediaError::build("program", format!("{ghost}: {e:?}")))
    };
    // Live sources are timestamped in the pipeline's running time already: no offset.
    let (video_pad, audio_pad) = (video_pad(&inputs)?, audio_pad(&inputs)?);
    link("video", video_pad.clone())?;
    link("audio", audio_pad.clone())?;
    bin.sync_state_with_parent().map_err(|e| MediaError::build("program", e))?;
    Ok((bin, video_pad, audio_pad, None))
}
