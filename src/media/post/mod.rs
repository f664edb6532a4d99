//! After the session: from the recording, decoded once, make the HLS VOD ladder, the MP4 download and
//! the thumbnail in one pipeline ([`ladder`]).

pub mod ladder;

pub use ladder::{Ladder, RenderPlan, RenderReport, RenderedVariant, Rung, Trim, render};
