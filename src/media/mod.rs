//! Media: the only module that uses GStreamer.
//!
//! - [`mixer`]: the live program — sources → compositor + audiomixer → one encode → outputs.
//! - [`loudness`]: EBU R 128 measurement and the program's slow gain control.
//! - [`graphics`]: the lower third (host bar with the logo, question panel), rendered once per change.
//! - [`sources`]: one builder per input kind; [`outputs`]: one builder per output kind.
//! - [`post`]: after the session — HLS ladder, MP4 download and thumbnail, decoded once.
//! - [`samples`]: speech-like sample clips (espeak-ng) for demos and tests.
//! - [`probe`]: reading media back (GstDiscoverer) to judge what we made.
//!
//! The rest of the program talks to media through [`mixer::ProgramHandle`] (typed calls in, typed
//! [`mixer::ProgramEvent`]s out); it never sees a GStreamer type.

pub mod elements;
pub mod graphics;
pub mod layout;
pub mod loudness;
pub mod mixer;
pub mod names;
pub mod outputs;
pub mod post;
pub mod probe;
pub mod samples;
pub mod sources;

pub use elements::{MediaError, init};
