//! The program: every source mixed in one pipeline on one clock, encoded once, fanned out to outputs.
//!
//! ```text
//!  videotestsrc(1 frame) ─ imagefreeze(live, slate) ─► ┌────────────┐
//!  [source-host]  ─ video ────────────────► │            │
//!  [source-guest] ─ video ────────────────► │ compositor │─ caps(I420 W×H@fps) ─ x264enc ─ h264parse ─ tee(video) ─┐
//!  [graphics] lower third (host bar, question) ► │        │                                                        │
//!                                                └────────────┘                                                    ├─► [output-*]
//!  audiotestsrc(live, silence) ───────────► ┌────────────┐                                                        │
//!  [source-host]  ─ audio ────────────────► │ audiomixer │─ caps(48 kHz stereo) ─ audioconvert ─ voaacenc ─ aacparse ─ tee(audio) ─┘
//!  [source-guest] ─ audio ────────────────► └────────────┘
//! ```
//!
//! The live slate and silence make both mixers run in live mode: the program keeps its frame rate whatever the
//! sources do. Chapter marks are the pipeline's running time when a question is shown; the recording's
//! timestamps are that same running time, so a chapter points at the frame where its lower third appeared.

use super::graphics::LowerThird;
use super::layout::Layout;
use super::loudness::{LoudnessControl, LoudnessReport};
use super::names::{Name, Role};
use super::outputs::{self, OutputBranch, OutputSpec, Tees};
use super::sources::{self, BuiltSource, MixerInputs, SourceSpec};
use super::{MediaError, elements::make};
use gst::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::mpsc as tokio_mpsc;

/// Settings of one program (fixed while it runs).
#[derive(Debug, Clone)]
pub struct ProgramSettings {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub video_bitrate_kbit: u32,
    pub audio_bitrate: u32,
    pub fragment: Duration,
    pub layout: Layout,
    /// Shown in the lower third's host bar, e.g. "Dr. Anna Beispiel · Bürgermeisterin".
    pub host_line: String,
    /// The town's logo (PNG/JPEG) at the left of the host bar; left out with a warning if unreadable.
    pub logo: Option<std::path::PathBuf>,
    /// A source without video for this long leaves the screen (slate in its slot) until it sends again.
    pub stall_timeout: Duration,
    /// Keep the program's loudness near this (LUFS, EBU R 128); `None`: measure and report only.
    pub loudness_target_lufs: Option<f64>,
    /// Where network sources (WHIP, SRT) record their own stream for later editing; `None`: not at all.
    pub iso_dir: Option<std::path::PathBuf>,
}

impl ProgramSettings {
    /// The settings `[media]` configures, with the layout to start in and the host's lower-third line.
    pub fn from_config(m: &crate::config::MediaConfig, layout: Layout, host_line: String) -> ProgramSettings {
        ProgramSettings {
            width: m.width,
            height: m.height,
            fps: m.fps,
            video_bitrate_kbit: m.video_bitrate_kbit,
            audio_bitrate: m.audio_bitrate,
            fragment: Duration::from_millis(m.fragment_ms),
            layout,
            host_line,
            logo: None,
            stall_timeout: Duration::from_millis(m.stall_timeout_ms),
            loudness_target_lufs: m.loudness_target_lufs,
            iso_dir: None,
        }
    }
}

/// What the program reports while it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum ProgramEvent {
    Started,
    SourceJoined {
        source: String,
    },
    SourceLeft {
        source: String,
    },
    SourceFailed {
        source: String,
        message: String,
    },
    /// A source sent no video for the stall timeout: its slot shows the slate until it resumes.
    SourceStalled {
        source: String,
    },
    SourceResumed {
        source: String,
    },
    /// Once per second: the program's loudness as sent and the control's gain.
    Loudness(LoudnessReport),
    /// An output failed; `destination_fault` when the far end (e.g. the RTMP server) is to blame.
    OutputFailed {
        output: String,
        message: String,
        destination_fault: bool,
    },
    ChapterMarked {
        at: Duration,
        headline: String,
    },
    Finished {
        duration: Duration,
    },
}

/// The result of a clean (or deadline-bounded) end.
#[derive(Debug, Clone)]
pub struct FinishReport {
    /// Running time when EOS was sent: the program's length.
    pub duration: Duration,
    pub finished_outputs: Vec<String>,
    pub unfinished_outputs: Vec<String>,
    /// Outputs that reported errors during the session (as `OutputFailed`): incomplete even if they reached
    /// EOS. They are not waited for, and never in `finished_outputs`/`unfinished_outputs`.
    pub failed_outputs: Vec<String>,
    /// Each network source's own recording (ISO), in the order the sources joined.
    pub iso_recordings: Vec<std::path::PathBuf>,
}

enum Terminal {
    Eos,
    Fatal { element: String, message: String },
}

/// A running program. Methods are cheap and safe to call from async code, except [`ProgramInner::end`] and
/// source changes, which block on GStreamer (call them from a blocking thread). Dropping the handle stops it.
pub struct ProgramHandle {
    inner: Arc<ProgramInner>,
}

impl std::ops::Deref for ProgramHandle {
    type Target = ProgramInner;
    fn deref(&self) -> &ProgramInner {
        &self.inner
    }
}

/// The program's state, shared by the handle and its bus thread (which rejoins sources that ended).
pub struct ProgramInner {
    pipeline: gst::Pipeline,
    /// Sources in layout order (the host first). Locked briefly; never across a state change.
    sources: std::sync::Mutex<Vec<BuiltSource>>,
    layout: std::sync::Mutex<Layout>,
    lower_third: LowerThird,
    /// The loudness control's gain element and state (`None`: measure only).
    gain: gst::Element,
    loudness: std::sync::Mutex<Option<LoudnessControl>>,
    compositor: gst::Element,
    audiomixer: gst::Element,
    settings: ProgramSettings,
    outputs: Vec<OutputBranch>,
    events_tx: tokio_mpsc::UnboundedSender<ProgramEvent>,
    events_rx: std::sync::Mutex<Option<tokio_mpsc::UnboundedReceiver<ProgramEvent>>>,
    terminal_rx: std::sync::Mutex<mpsc::Receiver<Terminal>>,
    bus_thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
    stop_bus: Arc<AtomicBool>,
    /// Running time (ns) from which mixed output is dropped; `u64::MAX` while live.
    cut_at: Arc<AtomicU64>,
    /// ISO files of sources that already left.
    iso_done: std::sync::Mutex<Vec<std::path::PathBuf>>,
}

const PIPELINE: &str = "program";
const LOUDNESS_IN: &str = "loudness-in";
const LOUDNESS_OUT: &str = "loudness-out";

/// Application message a source posts when it ended and wants to be rebuilt (e.g. an SRT listener after
/// its caller left); the bus thread does it.
pub(crate) const REJOIN_MESSAGE: &str = "citizenhour/rejoin";

impl ProgramHandle {
    /// Builds the program with its initial sources and outputs and sets it playing.
    pub fn start(
        settings: ProgramSettings,
        initial_sources: &[SourceSpec],
        output_specs: &[OutputSpec],
    ) -> Result<ProgramHandle, MediaError> {
        super::init()?;
        let s = &settings;
        let pipeline = gst::Pipeline::with_name(PIPELINE);

        // Video: live slate → compositor → lower third → encoder → tee.
        // The slate is painted once and repeated live by imagefreeze: no per-frame painting.
        let slate = make(PIPELINE, "videotestsrc", &Name::program("slate"))?;
        slate.set_property("num-buffers", 1i32);
        slate.set_property_from_str("pattern", "solid-color");
        slate.set_property("foreground-color", 0xff1d3557u32);
        let slate_caps = capsfilter(&Name::program("slate-caps"), video_caps(s, Some("I420")))?;
        let slate_live = make(PIPELINE, "imagefreeze", &Name::program("slate-live"))?;
        slate_live.set_property("is-live", true);
        super::elements::unbounded_max_latency(&slate_live);
        let compositor = make(PIPELINE, "compositor", &Name::program("compositor"))?;
        compositor.set_property_from_str("background", "black");
        // Extra latency lets non-live file sources and, later, network sources arrive in time.
        compositor.set_property("latency", 200_000_000u64);
        // Sources joining later (WebRTC with its jitter buffer) may report more latency than the first ones.
        compositor.set_property("min-upstream-latency", 300_000_000u64);
        let vcaps = capsfilter(&Name::program("video-caps"), video_caps(s, Some("I420")))?;
        let venc = make(PIPELINE, "x264enc", &Name::program("video-encoder"))?;
        venc.set_property_from_str("speed-preset", "veryfast");
        venc.set_property_from_str("tune", "zerolatency");
        venc.set_property("bitrate", s.video_bitrate_kbit);
        // One key frame per second: fragments, HLS segments and seeks all cut there.
        venc.set_property("key-int-max", s.fps);
        venc.set_property("option-string", "scenecut=0");
        let vparse = make(PIPELINE, "h264parse", &Name::program("video-parse"))?;
        let vtee = make(PIPELINE, "tee", &Name::program("video-tee"))?;
        vtee.set_property("allow-not-linked", true);

        // Audio: live silence → audiomixer → AAC → tee.
        let silence = make(PIPELINE, "audiotestsrc", &Name::program("silence"))?;
        silence.set_property("is-live", true);
        silence.set_property_from_str("wave", "silence");
        silence.set_property("samplesperbuffer", 960i32);
        let amixer = make(PIPELINE, "audiomixer", &Name::program("audiomixer"))?;
        amixer.set_property("latency", 200_000_000u64);
        amixer.set_property("min-upstream-latency", 300_000_000u64);
        let acaps = capsfilter(&Name::program("audio-caps"), audio_caps())?;
        // Loudness: measured before the gain (the control's input) and after it (what is sent).
        let loud_in = make(PIPELINE, "ebur128level", &Name::program(LOUDNESS_IN))?;
        loud_in.set_property_from_str("mode", "momentary+short-term");
        loud_in.set_property("interval", 100_000_000u64);
        let gain = make(PIPELINE, "volume", &Name::program("loudness-gain"))?;
        let loud_out = make(PIPELINE, "ebur128level", &Name::program(LOUDNESS_OUT))?;
        loud_out.set_property_from_str("mode", "momentary+short-term+global");
        loud_out.set_property("interval", 1_000_000_000u64);
        let aconv = make(PIPELINE, "audioconvert", &Name::program("audio-convert"))?;
        let aenc = make(PIPELINE, "voaacenc", &Name::program("audio-encoder"))?;
        aenc.set_property("bitrate", s.audio_bitrate as i32);
        let aparse = make(PIPELINE, "aacparse", &Name::program("audio-parse"))?;
        let atee = make(PIPELINE, "tee", &Name::program("audio-tee"))?;
        atee.set_property("allow-not-linked", true);

        pipeline
            .add_many([
                &slate,
                &slate_caps,
                &slate_live,
                &compositor,
                &vcaps,
                &venc,
                &vparse,
                &vtee,
                &silence,
                &amixer,
                &acaps,
                &loud_in,
                &gain,
                &loud_out,
                &aconv,
                &aenc,
                &aparse,
                &atee,
            ])
            .map_err(be)?;
        gst::Element::link_many([&slate, &slate_caps, &slate_live]).map_err(be)?;
        let slate_pad = compositor.request_pad_simple("sink_%u").ok_or_else(|| be("compositor pad"))?;
        slate_pad.set_property("zorder", 0u32);
        slate_live.static_pad("src").unwrap().link(&slate_pad).map_err(|e| be(format!("{e:?}")))?;
        gst::Element::link_many([&compositor, &vcaps, &venc, &vparse, &vtee]).map_err(be)?;
        silence.link(&amixer).map_err(be)?;
        gst::Element::link_many([&amixer, &acaps, &loud_in, &gain, &loud_out, &aconv, &aenc, &aparse, &atee])
            .map_err(be)?;
        let lower_third =
            LowerThird::build(&pipeline, &compositor, s.width, s.height, s.fps, &s.host_line, s.logo.as_deref())?;

        let cut_at = Arc::new(AtomicU64::new(u64::MAX));
        for mixer in [&compositor, &amixer] {
            let cut = cut_at.clone();
            mixer.static_pad("src").expect("mixers have a src pad").add_probe(
                gst::PadProbeType::BUFFER,
                move |_, info| match &info.data {
                    Some(gst::PadProbeData::Buffer(b))
                        if b.pts().is_some_and(|p| p.nseconds() >= cut.load(Ordering::Relaxed)) =>
                    {
                        gst::PadProbeReturn::Drop
                    }
                    _ => gst::PadProbeReturn::Ok,
                },
            );
        }
        let (events_tx, events_rx) = tokio_mpsc::unbounded_channel();
        let mut outputs = Vec::new();
        for spec in output_specs {
            let tees = Tees { pipeline: &pipeline, video: &vtee, audio: &atee };
            outputs.push(outputs::build(spec, tees, s.fragment, &events_tx)?);
        }
        let mut built = Vec::new();
        for spec in initial_sources {
            built.push(sources::build(
                spec,
                MixerInputs {
                    pipeline: &pipeline,
                    compositor: &compositor,
                    audiomixer: &amixer,
                    offset: Duration::ZERO,
                    iso_dir: s.iso_dir.as_deref(),
                },
            )?);
        }
        apply_layout(&s.layout, &built, s.width, s.height);

        let (terminal_tx, terminal_rx) = mpsc::channel();
        let bus = pipeline.bus().expect("a pipeline has a bus");
        let stop_bus = Arc::new(AtomicBool::new(false));
        let layout = std::sync::Mutex::new(settings.layout.clone());
        let joined: Vec<String> = built.iter().map(|b| b.id.clone()).collect();
        let inner = Arc::new(ProgramInner {
            sources: std::sync::Mutex::new(built),
            layout,
            pipeline: pipeline.clone(),
            lower_third,
            gain,
            loudness: std::sync::Mutex::new(settings.loudness_target_lufs.map(LoudnessControl::new)),
            compositor,
            audiomixer: amixer,
            settings,
            outputs,
            events_tx: events_tx.clone(),
            events_rx: std::sync::Mutex::new(Some(events_rx)),
            terminal_rx: std::sync::Mutex::new(terminal_rx),
            bus_thread: std::sync::Mutex::new(None),
            stop_bus: stop_bus.clone(),
            cut_at,
            iso_done: std::sync::Mutex::new(Vec::new()),
        });
        let bus_thread = std::thread::Builder::new()
            .name("program-bus".into())
            .spawn({
                let weak = Arc::downgrade(&inner);
                move || watch_bus(bus, weak, events_tx, terminal_tx, stop_bus)
            })
            .map_err(be)?;
        *inner.bus_thread.lock().unwrap() = Some(bus_thread);

        pipeline.set_state(gst::State::Playing).map_err(|e| be(format!("cannot start: {e}")))?;
        let _ = inner.events_tx.send(ProgramEvent::Started);
        for id in joined {
            let _ = inner.events_tx.send(ProgramEvent::SourceJoined { source: id });
        }
        Ok(ProgramHandle { inner })
    }
}

impl ProgramInner {
    /// The event stream; can be taken once.
    pub fn take_events(&self) -> Option<tokio_mpsc::UnboundedReceiver<ProgramEvent>> {
        self.events_rx.lock().unwrap().take()
    }

    /// The program's current running time (= the recording's current timestamp).
    pub fn running_time(&self) -> Duration {
        self.pipeline.current_running_time().map(|t| Duration::from_nanos(t.nseconds())).unwrap_or_default()
    }

    /// Shows a question in the lower third and returns the chapter mark (running time) where it appears.
    pub fn show_question(&self, headline: &str, asker: Option<&str>) -> Duration {
        if let Err(e) = self.lower_third.show_question(headline, asker) {
            tracing::error!("lower third: {e}");
        }
        let at = self.running_time();
        let _ = self.events_tx.send(ProgramEvent::ChapterMarked { at, headline: headline.to_owned() });
        at
    }

    /// Adds a source while live; it takes the next layout slot. Ids are unique within a program.
    pub fn add_source(&self, spec: &SourceSpec) -> Result<(), MediaError> {
        if self.sources.lock().unwrap().iter().any(|s| s.id == spec.id()) {
            return Err(be(format!("source {} is already in the program", spec.id())));
        }
        let built = sources::build(
            spec,
            MixerInputs {
                pipeline: &self.pipeline,
                compositor: &self.compositor,
                audiomixer: &self.audiomixer,
                offset: self.running_time(),
                iso_dir: self.settings.iso_dir.as_deref(),
            },
        )?;
        let id = built.id.clone();
        {
            let mut list = self.sources.lock().unwrap();
            list.push(built);
            apply_layout(&self.layout.lock().unwrap(), &list, self.settings.width, self.settings.height);
        }
        let _ = self.events_tx.send(ProgramEvent::SourceJoined { source: id });
        Ok(())
    }

    /// Adds a WHIP (WebRTC) publisher from its SDP offer and returns the SDP answer. Blocks for ICE gathering:
    /// call from a blocking thread.
    pub fn add_whip_source(&self, id: &str, offer_sdp: &str, ice: &sources::IceSettings) -> Result<String, MediaError> {
        if self.sources.lock().unwrap().iter().any(|s| s.id == id) {
            return Err(be(format!("source {id} is already in the program")));
        }
        let inputs = MixerInputs {
            pipeline: &self.pipeline,
            compositor: &self.compositor,
            audiomixer: &self.audiomixer,
            offset: Duration::ZERO,
            iso_dir: self.settings.iso_dir.as_deref(),
        };
        let (built, answer) = sources::whip::build(id, offer_sdp, ice, inputs)?;
        {
            let mut list = self.sources.lock().unwrap();
            list.push(built);
            apply_layout(&self.layout.lock().unwrap(), &list, self.settings.width, self.settings.height);
        }
        let _ = self.events_tx.send(ProgramEvent::SourceJoined { source: id.to_owned() });
        Ok(answer)
    }

    /// Removes a source while live; the others move up in the layout. Unknown ids are an error.
    pub fn remove_source(&self, id: &str) -> Result<(), MediaError> {
        let removed = {
            let mut list = self.sources.lock().unwrap();
            let Some(i) = list.iter().position(|s| s.id == id) else {
                return Err(be(format!("no source {id} in the program")));
            };
            let removed = list.remove(i);
            apply_layout(&self.layout.lock().unwrap(), &list, self.settings.width, self.settings.height);
            removed
        };
        // Outside the lock: finalize its ISO file, then stop the bin (waits for its streaming threads).
        if let Some(iso) = &removed.iso {
            iso.close();
            if !iso.wait(Duration::from_secs(2)) {
                tracing::warn!(source = id, "ISO recording {} not finalized in time", iso.path.display());
            }
            self.iso_done.lock().unwrap().push(iso.path.clone());
        }
        let _ = removed.bin.set_state(gst::State::Null);
        self.compositor.release_request_pad(&removed.video_pad);
        self.audiomixer.release_request_pad(&removed.audio_pad);
        let _ = self.pipeline.remove(&removed.bin);
        let _ = self.events_tx.send(ProgramEvent::SourceLeft { source: id.to_owned() });
        Ok(())
    }

    /// Rebuilds a source that ended (its caller left) so it can be joined again, in the same layout slot.
    fn rejoin(&self, id: &str) {
        let spec = self.sources.lock().unwrap().iter().find(|s| s.id == id).and_then(|s| s.spec.clone());
        let Some(spec) = spec else { return };
        if self.cut_at.load(Ordering::SeqCst) != u64::MAX {
            return; // the program is ending
        }
        let position = self.sources.lock().unwrap().iter().position(|s| s.id == id);
        if let Err(e) = self.remove_source(id) {
            tracing::warn!(source = id, "rejoin: {e}");
            return;
        }
        match self.add_source(&spec) {
            Ok(()) => {
                // Back into its old slot.
                let mut list = self.sources.lock().unwrap();
                if let (Some(pos), Some(now)) = (position, list.iter().position(|s| s.id == id)) {
                    let s = list.remove(now);
                    let at = pos.min(list.len());
                    list.insert(at, s);
                    apply_layout(&self.layout.lock().unwrap(), &list, self.settings.width, self.settings.height);
                }
                tracing::info!(source = id, "source waiting for its caller again");
            }
            Err(e) => tracing::error!(source = id, "rejoin failed: {e}"),
        }
    }

    /// Loudness measurements: the control's input every 100 ms, the program's report every second.
    fn on_loudness(&self, from: &str, s: &gst::StructureRef, events: &tokio_mpsc::UnboundedSender<ProgramEvent>) {
        let shortterm = s.get::<f64>("shortterm-loudness").unwrap_or(f64::NEG_INFINITY);
        if from == Name::program(LOUDNESS_IN) {
            let mut control = self.loudness.lock().unwrap();
            if let Some(c) = control.as_mut() {
                c.step(shortterm);
                self.gain.set_property("volume", c.linear());
            }
        } else if from == Name::program(LOUDNESS_OUT) {
            let gain_db = self.loudness.lock().unwrap().as_ref().map(|c| c.gain_db()).unwrap_or(0.0);
            let integrated_lufs = s.get::<f64>("global-loudness").unwrap_or(f64::NEG_INFINITY);
            let _ = events.send(ProgramEvent::Loudness(LoudnessReport {
                shortterm_lufs: shortterm,
                integrated_lufs,
                gain_db,
            }));
        }
    }

    /// The stall watchdog (run by the bus thread every ≤ 100 ms).
    fn watch_sources(&self) {
        if self.cut_at.load(Ordering::Relaxed) != u64::MAX {
            return;
        }
        let changes: Vec<_> = {
            let list = self.sources.lock().unwrap();
            list.iter()
                .filter_map(|s| sources::watch(s, self.settings.stall_timeout).map(|c| (s.id.clone(), c)))
                .collect()
        };
        for (source, change) in changes {
            match change {
                sources::Stall::Stalled => {
                    tracing::warn!(source = %source, "no video for {:?}: showing the slate", self.settings.stall_timeout);
                    let _ = self.events_tx.send(ProgramEvent::SourceStalled { source });
                }
                sources::Stall::Resumed => {
                    tracing::info!(source = %source, "video is back");
                    let _ = self.events_tx.send(ProgramEvent::SourceResumed { source });
                }
            }
        }
    }

    /// Ids of the sources in the program, in layout order.
    pub fn source_ids(&self) -> Vec<String> {
        self.sources.lock().unwrap().iter().map(|s| s.id.clone()).collect()
    }

    /// Switches the layout live: pad positions change at the next output frame, no restart.
    pub fn set_layout(&self, layout: Layout) {
        let list = self.sources.lock().unwrap();
        apply_layout(&layout, &list, self.settings.width, self.settings.height);
        *self.layout.lock().unwrap() = layout;
    }

    /// Back to the host's name only.
    pub fn clear_question(&self) {
        self.lower_third.clear_question();
    }

    /// Ends the program: EOS once, then waits up to `deadline` for every output to finalize. Outputs that do not
    /// finish in time are reported (and a dot graph is dumped when `GST_DEBUG_DUMP_DOT_DIR` is set); the others
    /// are complete on disk either way. Blocks: call from a blocking thread.
    pub fn end(&self, deadline: Duration) -> Result<FinishReport, MediaError> {
        let duration = self.running_time();
        tracing::info!(seconds = duration.as_secs_f64(), "ending program: sending EOS");
        // The program ends now: mixed output past this point is dropped (mixers run up to their latency ahead,
        // file sources read seconds ahead), and EOS goes straight into every mixer input.
        self.cut_at.store(duration.as_nanos() as u64, Ordering::SeqCst);
        let mut iso_recordings = self.iso_done.lock().unwrap().clone();
        for s in self.sources.lock().unwrap().iter() {
            if let Some(iso) = &s.iso {
                iso.close();
                iso_recordings.push(iso.path.clone());
            }
        }
        for mixer in [&self.compositor, &self.audiomixer] {
            for pad in mixer.sink_pads() {
                pad.send_event(gst::event::Eos::new());
            }
        }
        let until = std::time::Instant::now() + deadline;
        // Done when every output that is still healthy has finalized (an output that failed during the session
        // is not waited for: the pipeline-wide EOS would never come) and every ISO file is closed.
        let mut fatal = None;
        loop {
            match self.terminal_rx.lock().unwrap().recv_timeout(Duration::from_millis(20)) {
                Ok(Terminal::Fatal { element, message }) => {
                    fatal = Some((element, message));
                    break;
                }
                Ok(Terminal::Eos) | Err(_) => {}
            }
            let outputs_done = self.outputs.iter().all(|o| o.is_finished() || o.has_failed());
            let isos_done = self.sources.lock().unwrap().iter().all(|s| s.iso.as_ref().is_none_or(|i| i.is_finished()));
            if (outputs_done && isos_done) || std::time::Instant::now() >= until {
                break;
            }
        }
        let failed_outputs: Vec<String> =
            self.outputs.iter().filter(|o| o.has_failed()).map(|o| o.id.clone()).collect();
        let (finished, unfinished): (Vec<_>, Vec<_>) =
            self.outputs.iter().filter(|o| !failed_outputs.contains(&o.id)).partition(|o| o.is_finished());
        iso_recordings.retain(|p| std::fs::metadata(p).is_ok_and(|m| m.len() > 0));
        let report = FinishReport {
            duration,
            finished_outputs: finished.iter().map(|o| o.id.clone()).collect(),
            unfinished_outputs: unfinished.iter().map(|o| o.id.clone()).collect(),
            failed_outputs,
            iso_recordings,
        };
        if !report.unfinished_outputs.is_empty() {
            self.pipeline.debug_to_dot_file(gst::DebugGraphDetails::all(), "program-frozen");
        }
        self.shutdown();
        if let Some((element, message)) = fatal {
            return Err(MediaError::Runtime { pipeline: PIPELINE.into(), element, message });
        }
        if !report.unfinished_outputs.is_empty() {
            return Err(MediaError::Frozen {
                pipeline: PIPELINE.into(),
                seconds: deadline.as_secs(),
                unfinished: report.unfinished_outputs.join(", "),
            });
        }
        let _ = self.events_tx.send(ProgramEvent::Finished { duration });
        Ok(report)
    }

    fn shutdown(&self) {
        for o in &self.outputs {
            o.stop();
        }
        let _ = self.pipeline.set_state(gst::State::Null);
        self.stop_bus.store(true, Ordering::SeqCst);
        let thread = self.bus_thread.lock().unwrap().take();
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

impl Drop for ProgramHandle {
    fn drop(&mut self) {
        self.inner.shutdown();
    }
}

fn watch_bus(
    bus: gst::Bus,
    program: std::sync::Weak<ProgramInner>,
    events: tokio_mpsc::UnboundedSender<ProgramEvent>,
    terminal: mpsc::Sender<Terminal>,
    stop: Arc<AtomicBool>,
) {
    use gst::MessageView;
    while !stop.load(Ordering::SeqCst) {
        if let Some(p) = program.upgrade() {
            p.watch_sources();
        }
        let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(100)) else { continue };
        match msg.view() {
            MessageView::Eos(_) => {
                let _ = terminal.send(Terminal::Eos);
            }
            // A source joined with a different latency (e.g. WebRTC): redistribute.
            MessageView::Latency(_) => {
                if let Some(p) = program.upgrade() {
                    let _ = p.pipeline.recalculate_latency();
                }
            }
            MessageView::Element(el) if el.structure().is_some_and(|s| s.name() == "ebur128-level") => {
                if let (Some(p), Some(s)) = (program.upgrade(), el.structure()) {
                    let from = msg.src().map(|s| s.name().to_string()).unwrap_or_default();
                    p.on_loudness(&from, s, &events);
                }
            }
            MessageView::Application(app) if app.structure().is_some_and(|s| s.name() == REJOIN_MESSAGE) => {
                let id = app.structure().and_then(|s| s.get::<String>("source").ok()).unwrap_or_default();
                if let Some(p) = program.upgrade() {
                    p.rejoin(&id);
                }
            }
            MessageView::Error(err) => {
                let path = msg.src().map(|s| s.path_string().to_string()).unwrap_or_default();
                let message = format!("{} ({})", err.error(), err.debug().map(|d| d.to_string()).unwrap_or_default());
                match Name::owner_of(&path) {
                    Some(Name { role: Role::Source, id }) => {
                        tracing::warn!(source = %id, "source failed: {message}");
                        let _ = events.send(ProgramEvent::SourceFailed { source: id, message });
                    }
                    Some(Name { role: Role::Output, id }) => {
                        tracing::error!(output = %id, "output failed: {message}");
                        if let Some(p) = program.upgrade()
                            && let Some(o) = p.outputs.iter().find(|o| o.id == id)
                        {
                            o.mark_failed();
                        }
                        let _ =
                            events.send(ProgramEvent::OutputFailed { output: id, message, destination_fault: false });
                    }
                    _ => {
                        tracing::error!(element = %path, "program failed: {message}");
                        let _ = terminal.send(Terminal::Fatal { element: path, message });
                    }
                }
            }
            MessageView::Warning(w) => {
                let path = msg.src().map(|s| s.path_string().to_string()).unwrap_or_default();
                tracing::debug!(element = %path, "warning: {}", w.error());
            }
            _ => {}
        }
    }
}

/// Places every source's compositor pad by the layout: slot i for the i-th source, hidden beyond the last slot.
fn apply_layout(layout: &Layout, sources: &[BuiltSource], width: u32, height: u32) {
    for (i, s) in sources.iter().enumerate() {
        sources::place(s, layout.rect(i, width, height), 1 + i as u32);
    }
}

fn be(e: impl std::fmt::Display) -> MediaError {
    MediaError::build(PIPELINE, e)
}

fn capsfilter(name: &str, caps: gst::Caps) -> Result<gst::Element, MediaError> {
    let f = make(PIPELINE, "capsfilter", name)?;
    f.set_property("caps", caps);
    Ok(f)
}

fn video_caps(s: &ProgramSettings, format: Option<&str>) -> gst::Caps {
    let mut b = gst::Caps::builder("video/x-raw")
        .field("width", s.width as i32)
        .field("height", s.height as i32)
        .field("framerate", gst::Fraction::new(s.fps as i32, 1))
        .field("pixel-aspect-ratio", gst::Fraction::new(1, 1));
    if let Some(f) = format {
        // HD colorimetry for the program; sources in it (decoded H.264 from encoders) need no matrix conversion.
        b = b.field("format", f).field("colorimetry", "bt709").field("chroma-site", "mpeg2");
    }
    b.build()
}

fn audio_caps() -> gst::Caps {
    // Float until the encoder: the loudness gain never clips inside the chain.
    gst::Caps::builder("audio/x-raw")
        .field("format", "F32LE")
        .field("layout", "interleaved")
        .field("rate", 48_000i32)
        .field("channels", 2i32)
        .build()
}
