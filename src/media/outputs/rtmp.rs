//! RTMP push (YouTube Live and the like), in its own pipeline so that nothing it does can stop the program.
//!
//! ```text
//! program:  tee(video) ─ queue(leaky) ─ appsink ┐           ┌ appsrc(video) ─┐
//!           tee(audio) ─ queue(leaky) ─ appsink ┴─ relay ──►┤                            ├─ flvmux ─ rtmp2sink
//!                     [output-rtmp]                          └ appsrc(audio) ─ aacparse  ─┘  [rtmp leg pipeline]
//! ```
//! The relay drops video until a key frame and audio until the video has started. When the leg fails
//! (connection refused, server gone), it reports `OutputFailed { destination_fault: true }`, waits with
//! exponential backoff (1 s … 30 s) and builds a new leg; the program never notices.

use super::{OutputBranch, Tees, link_tee};
use crate::media::mixer::ProgramEvent;
use crate::media::{MediaError, elements::make, names::Name};
use gst::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;

/// An RTMP URL including its stream key: a secret, never printed.
#[derive(Clone)]
pub struct RtmpUrl(pub String);

impl std::fmt::Debug for RtmpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Show scheme, host and application only: the last path segment is the stream key.
        match self.0.rsplit_once('/') {
            Some((base, _key)) => write!(f, "{base}/[REDACTED]"),
            None => f.write_str("[REDACTED]"),
        }
    }
}

struct Leg {
    video: gst_app::AppSrc,
    audio: gst_app::AppSrc,
    started: AtomicBool,
}

struct Relay {
    leg: Mutex<Option<Arc<Leg>>>,
    /// The program sent EOS into this output.
    program_ended: AtomicBool,
    stop: Arc<AtomicBool>,
    finished: Arc<AtomicBool>,
}

pub(crate) fn build(
    id: &str,
    url: &RtmpUrl,
    tees: Tees<'_>,
    events: UnboundedSender<ProgramEvent>,
) -> Result<OutputBranch, MediaError> {
    let b = |e| MediaError::build("program", e);
    let bin = gst::Bin::with_name(&Name::output(id));
    let relay = Arc::new(Relay {
        leg: Mutex::new(None),
        program_ended: AtomicBool::new(false),
        stop: Arc::new(AtomicBool::new(false)),
        finished: Arc::new(AtomicBool::new(false)),
    });
    for kind in ["video", "audio"] {
        let q = make("program", "queue", &format!("{kind}-queue"))?;
        q.set_property("max-size-time", 2_000_000_000u64);
        q.set_property("max-size-buffers", 0u32);
        q.set_property("max-size-bytes", 0u32);
        q.set_property_from_str("leaky", "downstream");
        let sink = gst_app::AppSink::builder().name(format!("{kind}-sink")).sync(false).build();
        sink.set_property("async", false);
        let is_video = kind == "video";
        let r_sample = relay.clone();
        let r_eos = relay.clone();
        sink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |s| {
                    let sample = s.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    r_sample.forward(is_video, sample);
                    Ok(gst::FlowSuccess::Ok)
                })
                .eos(move |_| r_eos.end_of_stream(is_video))
                .build(),
        );
        bin.add_many([&q, sink.upcast_ref()]).map_err(b)?;
        q.link(&sink).map_err(b)?;
        let ghost = gst::GhostPad::builder_with_target(&q.static_pad("sink").unwrap()).map_err(b)?.name(kind).build();
        bin.add_pad(&ghost).map_err(b)?;
    }
    tees.pipeline.add(&bin).map_err(b)?;
    link_tee(tees.video, &bin, "video")?;
    link_tee(tees.audio, &bin, "audio")?;

    let supervisor = relay.clone();
    let (id_owned, url) = (id.to_owned(), url.clone());
    std::thread::Builder::new()
        .name(format!("output-{id}"))
        .spawn(move || supervisor.supervise(&id_owned, &url, &events))
        .map_err(|e| MediaError::build("program", e))?;
    Ok(OutputBranch::with_flags(id, relay.finished.clone(), Some(relay.stop.clone())))
}

impl Relay {
    fn forward(&self, is_video: bool, sample: gst::Sample) {
        let Some(leg) = self.leg.lock().unwrap().clone() else { return };
        if is_video {
            if !leg.started.load(Ordering::SeqCst) {
                let key = sample.buffer().is_some_and(|b| !b.flags().contains(gst::BufferFlags::DELTA_UNIT));
                if !key {
                    return;
                }
                leg.started.store(true, Ordering::SeqCst);
            }
            let _ = leg.video.push_sample(&sample);
        } else if leg.started.load(Ordering::SeqCst) {
            let _ = leg.audio.push_sample(&sample);
        }
    }

    fn end_of_stream(&self, is_video: bool) {
        self.program_ended.store(true, Ordering::SeqCst);
        match self.leg.lock().unwrap().clone() {
            Some(leg) => {
                let _ = if is_video { leg.video.end_of_stream() } else { leg.audio.end_of_stream() };
            }
            // Nothing connected: nothing to finalize.
            None => self.finished.store(true, Ordering::SeqCst),
        }
    }

    fn supervise(&self, id: &str, url: &RtmpUrl, events: &UnboundedSender<ProgramEvent>) {
        let mut attempt = 0u32;
        while !self.stop.load(Ordering::SeqCst) && !self.program_ended.load(Ordering::SeqCst) {
            let started = Instant::now();
            match self.run_leg(url) {
                Ok(()) => {
                    self.finished.store(true, Ordering::SeqCst);
                    return;
                }
                Err(message) => {
                    *self.leg.lock().unwrap() = None;
                    if self.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    tracing::warn!(output = id, target = ?url, "RTMP push failed: {message}");
                    let _ = events.send(ProgramEvent::OutputFailed {
                        output: id.to_owned(),
                        message,
                        destination_fault: true,
                    });
                    if started.elapsed() > Duration::from_secs(30) {
                        attempt = 0;
                    }
                    let wait = Duration::from_secs(1u64 << attempt.min(5)).min(Duration::from_secs(30));
                    attempt += 1;
                    let until = Instant::now() + wait;
                    while Instant::now() < until && !self.stop.load(Ordering::SeqCst) {
                        if self.program_ended.load(Ordering::SeqCst) {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
            }
        }
        // Ended or stopped while disconnected: there is nothing left to finalize.
        self.finished.store(true, Ordering::SeqCst);
    }

    /// Runs one connection until EOS (Ok) or an error (Err with the reason).
    fn run_leg(&self, url: &RtmpUrl) -> Result<(), String> {
        let p = "rtmp";
        let pipeline = gst::Pipeline::with_name(&Name::output("rtmp-leg"));
        let mk = |f: &str, n: &str| make(p, f, n).map_err(|e| e.to_string());
        let appsrc = |name: &str| {
            let s = gst_app::AppSrc::builder()
                .name(name)
                .format(gst::Format::Time)
                .is_live(false)
                .max_time(gst::ClockTime::from_seconds(2))
                .leaky_type(gst_app::AppLeakyType::Downstream)
                .build();
            s.set_property("max-bytes", 0u64);
            // Forward the program's segment with each sample: the encoder's timestamps carry an offset that
            // only the segment explains.
            s.set_property("handle-segment-change", true);
            s
        };
        let (video, audio) = (appsrc("video"), appsrc("audio"));
        let (vparse, aparse) = (mk("h264parse", "video-parse")?, mk("aacparse", "audio-parse")?);
        let mux = mk("flvmux", "mux")?;
        mux.set_property("streamable", true);
        let sink = mk("rtmp2sink", "sink")?;
        sink.set_property("location", &url.0);
        sink.set_property("sync", false);
        sink.set_property("async", false);
        pipeline
            .add_many([video.upcast_ref(), audio.upcast_ref(), &vparse, &aparse, &mux, &sink])
            .map_err(|e| e.to_string())?;
        video.link(&vparse).map_err(|e| e.to_string())?;
        audio.link(&aparse).map_err(|e| e.to_string())?;
        vparse.link_pads(Some("src"), &mux, Some("video")).map_err(|e| e.to_string())?;
        aparse.link_pads(Some("src"), &mux, Some("audio")).map_err(|e| e.to_string())?;
        mux.link(&sink).map_err(|e| e.to_string())?;
        let bus = pipeline.bus().unwrap();
        pipeline.set_state(gst::State::Playing).map_err(|e| format!("cannot start: {e}"))?;
        *self.leg.lock().unwrap() =
            Some(Arc::new(Leg { video: video.clone(), audio: audio.clone(), started: AtomicBool::new(false) }));
        let result = loop {
            if self.stop.load(Ordering::SeqCst) {
                break Err("stopped".to_owned());
            }
            let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(100)) else { continue };
            match msg.view() {
                gst::MessageView::Eos(_) => break Ok(()),
                gst::MessageView::Error(e) => break Err(e.error().to_string()),
                _ => {}
            }
        };
        *self.leg.lock().unwrap() = None;
        let _ = pipeline.set_state(gst::State::Null);
        result
    }
}
