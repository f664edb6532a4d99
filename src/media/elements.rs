//! GStreamer start-up: init, static plugins, and the check that every element we use is installed.

use gst::prelude::*;
use std::sync::OnceLock;

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error(
        "GStreamer element '{element}' is missing: install the Debian package '{package}' (deploy/install-deps.sh does this)"
    )]
    MissingElement { element: &'static str, package: &'static str },
    #[error("GStreamer could not start: {0}")]
    Init(String),
    #[error("building pipeline {pipeline}: {detail}")]
    Build { pipeline: String, detail: String },
    #[error("pipeline {pipeline} failed in {element}: {message}")]
    Runtime { pipeline: String, element: String, message: String },
    #[error("pipeline {pipeline} did not finish within {seconds} s (unfinished: {unfinished})")]
    Frozen { pipeline: String, seconds: u64, unfinished: String },
    #[error("cannot read media {path}: {detail}")]
    Unreadable { path: String, detail: String },
    #[error("{0}")]
    Invalid(String),
    #[error("sample generation failed: {0}")]
    Samples(String),
    #[error("I/O error on {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

impl MediaError {
    pub(crate) fn build(pipeline: &str, detail: impl std::fmt::Display) -> Self {
        MediaError::Build { pipeline: pipeline.to_owned(), detail: detail.to_string() }
    }
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        MediaError::Io { path: path.display().to_string(), source }
    }
}

/// Every element citizenhour builds, with the Debian package (or static crate) that provides it.
pub const REQUIRED_ELEMENTS: &[(&str, &str)] = &[
    ("videotestsrc", "gstreamer1.0-plugins-base"),
    ("audiotestsrc", "gstreamer1.0-plugins-base"),
    ("compositor", "gstreamer1.0-plugins-base"),
    ("imagefreeze", "gstreamer1.0-plugins-good"),
    ("audiomixer", "gstreamer1.0-plugins-base"),
    ("videoconvert", "gstreamer1.0-plugins-base"),
    ("videoscale", "gstreamer1.0-plugins-base"),
    ("audioconvert", "gstreamer1.0-plugins-base"),
    ("audioresample", "gstreamer1.0-plugins-base"),
    ("decodebin", "gstreamer1.0-plugins-base"),
    ("textoverlay", "gstreamer1.0-x"),
    ("gdkpixbufoverlay", "gstreamer1.0-plugins-good"),
    ("appsrc", "gstreamer1.0-plugins-base"),
    ("timeoverlay", "gstreamer1.0-x"),
    ("x264enc", "gstreamer1.0-plugins-ugly"),
    ("h264parse", "gstreamer1.0-plugins-bad"),
    ("errorignore", "gstreamer1.0-plugins-bad"),
    ("avdec_h264", "gstreamer1.0-libav"),
    ("voaacenc", "gstreamer1.0-plugins-bad"),
    ("aacparse", "gstreamer1.0-plugins-good"),
    ("qtdemux", "gstreamer1.0-plugins-good"),
    ("mp4mux", "gstreamer1.0-plugins-good"),
    ("wavparse", "gstreamer1.0-plugins-good"),
    ("jpegenc", "gstreamer1.0-plugins-good"),
    ("webrtcbin", "gstreamer1.0-plugins-bad"),
    ("nicesrc", "gstreamer1.0-nice"),
    ("rtpvp8depay", "gstreamer1.0-plugins-good"),
    ("vp8dec", "gstreamer1.0-plugins-good"),
    ("opusdec", "gstreamer1.0-plugins-base"),
    ("flvmux", "gstreamer1.0-plugins-good"),
    ("rtmp2sink", "gstreamer1.0-plugins-bad"),
    ("srtsrc", "gstreamer1.0-plugins-bad"),
    ("tsdemux", "gstreamer1.0-plugins-bad"),
    ("isofmp4mux", "gst-plugin-fmp4 (linked statically)"),
    ("hlssink3", "gst-plugin-hlssink3 (linked statically)"),
    ("ebur128level", "gst-plugin-audiofx (linked statically)"),
    ("volume", "gstreamer1.0-plugins-base"),
];

static INIT: OnceLock<Result<(), String>> = OnceLock::new();

/// Initializes GStreamer once, registers the statically linked plugins and checks [`REQUIRED_ELEMENTS`].
pub fn init() -> Result<(), MediaError> {
    INIT.get_or_init(|| {
        gst::init().map_err(|e| e.to_string())?;
        bridge_logs_to_tracing();
        gstfmp4::plugin_register_static().map_err(|e| e.to_string())?;
        gsthlssink3::plugin_register_static().map_err(|e| e.to_string())?;
        gstrsaudiofx::plugin_register_static().map_err(|e| e.to_string())?;
        Ok(())
    })
    .clone()
    .map_err(MediaError::Init)?;
    check_elements(REQUIRED_ELEMENTS)
}

/// GStreamer's own warnings and errors go to `tracing` (target `gstreamer`) instead of stderr. `GST_DEBUG`
/// still raises the level for debugging; without it only warnings and errors are produced.
fn bridge_logs_to_tracing() {
    if std::env::var_os("GST_DEBUG").is_none() {
        gst::log::set_default_threshold(gst::DebugLevel::Warning);
    }
    gst::log::remove_default_log_function();
    gst::log::add_log_function(|category, level, _file, function, _line, object, message| {
        let Some(text) = message.get() else { return };
        let object = object.map(|o| o.to_string()).unwrap_or_default();
        let category = category.name();
        match level {
            gst::DebugLevel::Error => {
                tracing::error!(target: "gstreamer", %category, %object, function = %function, "{text}")
            }
            gst::DebugLevel::Warning | gst::DebugLevel::Fixme => {
                tracing::warn!(target: "gstreamer", %category, %object, function = %function, "{text}")
            }
            gst::DebugLevel::Info => tracing::info!(target: "gstreamer", %category, %object, "{text}"),
            _ => tracing::debug!(target: "gstreamer", %category, %object, "{text}"),
        }
    });
}

/// A flag that turns true when EOS passes `pad` (for a file sink: the file is complete).
pub(crate) fn eos_flag(pad: &gst::Pad) -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let set = flag.clone();
    pad.add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, move |_, info| {
        if let Some(gst::PadProbeData::Event(ev)) = &info.data
            && ev.type_() == gst::EventType::Eos
        {
            set.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        gst::PadProbeReturn::Ok
    });
    flag
}

/// Makes a live `imagefreeze` report no upper latency bound. It reports one frame, which caps the whole
/// program's maximum latency at 33 ms: as soon as a source with more latency joins (SRT, WebRTC), the latency
/// cannot be configured and mixers start dropping that source's frames. Repeating a frozen image tolerates any
/// delay, so "unbounded" is the truth.
pub(crate) fn unbounded_max_latency(element: &gst::Element) {
    let pad = element.static_pad("src").expect("imagefreeze has a src pad");
    pad.add_probe(gst::PadProbeType::QUERY_UPSTREAM | gst::PadProbeType::PULL, |_, info| {
        if let Some(q) = info.query_mut()
            && let gst::QueryViewMut::Latency(l) = q.view_mut()
        {
            let (live, min, _) = l.result();
            l.set(live, min, gst::ClockTime::NONE);
        }
        gst::PadProbeReturn::Ok
    });
}

/// Fails with the first element of `list` that no installed plugin provides.
pub fn check_elements(list: &[(&'static str, &'static str)]) -> Result<(), MediaError> {
    for &(element, package) in list {
        if gst::ElementFactory::find(element).is_none() {
            return Err(MediaError::MissingElement { element, package });
        }
    }
    Ok(())
}

/// Makes an element or says which one could not be made.
pub(crate) fn make(pipeline: &str, factory: &str, name: &str) -> Result<gst::Element, MediaError> {
    gst::ElementFactory::make(factory)
        .name(name)
        .build()
        .map_err(|e| MediaError::build(pipeline, format!("element {factory} ({name}): {e}")))
}

/// Runs a finite pipeline until EOS; the first error stops it and is returned with its element.
pub(crate) fn run_to_eos(pipeline: &gst::Pipeline, timeout: std::time::Duration) -> Result<(), MediaError> {
    let name = pipeline.name().to_string();
    pipeline.set_state(gst::State::Playing).map_err(|e| MediaError::build(&name, e))?;
    let bus = pipeline.bus().unwrap();
    let result = match bus.timed_pop_filtered(
        gst::ClockTime::from_nseconds(timeout.as_nanos() as u64),
        &[gst::MessageType::Eos, gst::MessageType::Error],
    ) {
        Some(msg) => match msg.view() {
            gst::MessageView::Error(err) => Err(MediaError::Runtime {
                pipeline: name.clone(),
                element: msg.src().map(|s| s.path_string().to_string()).unwrap_or_default(),
                message: format!("{} ({})", err.error(), err.debug().map(|d| d.to_string()).unwrap_or_default()),
            }),
            _ => Ok(()),
        },
        None => {
            pipeline.debug_to_dot_file(gst::DebugGraphDetails::all(), format!("{name}-frozen"));
            Err(MediaError::Frozen { pipeline: name.clone(), seconds: timeout.as_secs(), unfinished: "all".into() })
        }
    };
    let _ = pipeline.set_state(gst::State::Null);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_element_names_itself_and_its_debian_package() {
        init().expect("the real element set is installed");
        let err = check_elements(&[("compositor", "x"), ("nosuchelement3000", "gstreamer1.0-plugins-imaginary")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("'nosuchelement3000'"), "{err}");
        assert!(err.contains("gstreamer1.0-plugins-imaginary"), "{err}");
    }
}
