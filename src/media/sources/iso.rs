//! ISO recordings: each network source's own stream, recorded as it arrives (no re-encode) for later editing.
//!
//! ```text
//!  WHIP:  webrtcbin ─ rtp ─ tee ─ decodebin …                     (the program)
//!                             └ queue(leaky) ─ depay ─ [h264parse] ─┐
//!                                                                   matroskamux ─ filesink  {id}-{ms}ms.mkv
//!  SRT:   srtsrc ─ tee ─ decodebin …                                (the program)
//!                     └ queue(leaky) ─ filesink                     {id}-{ms}ms.ts   (the MPEG-TS as sent)
//! ```
//!
//! The file name carries the program time at which the source joined, so an editor can line it up with the
//! program recording. The branch never holds up the program: its queue leaks when the disk is slow, and a
//! failing ISO file is logged, not fatal. At the end of the source (or the program) [`IsoRecorder::close`]
//! sends EOS through it so the muxer finalizes the file; a crash leaves a file that still plays (Matroska
//! clusters, MPEG-TS packets).

use crate::media::{MediaError, elements::make};
use gst::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// An ISO branch inside a source's bin.
#[derive(Debug)]
pub(crate) struct IsoRecorder {
    pub path: PathBuf,
    /// Sink pads of the branch's queues (where EOS goes in).
    heads: Vec<gst::Pad>,
    closing: Arc<AtomicBool>,
    finished: Arc<AtomicBool>,
}

/// The path for a source joining at `at` (program running time).
pub(crate) fn path_for(dir: &Path, id: &str, at: Duration, extension: &str) -> PathBuf {
    dir.join(format!("{id}-{:08}ms.{extension}", at.as_millis()))
}

impl IsoRecorder {
    /// A leaky queue feeding `next`; buffers are dropped once the recorder is closing, so the tee upstream
    /// never sees a flow error from this branch.
    /// Returns (the element to link the tee to, the element to link onwards from).
    fn head(&mut self, bin: &gst::Bin, name: &str) -> Result<(gst::Element, gst::Element), MediaError> {
        // A failing ISO file (disk full) must not stop the source: its flow error becomes "not linked".
        let shield = make("program", "errorignore", &format!("{name}-shield"))?;
        let q = make("program", "queue", name)?;
        q.set_property_from_str("leaky", "downstream");
        q.set_property("max-size-time", 3_000_000_000u64);
        q.set_property("max-size-buffers", 0u32);
        q.set_property("max-size-bytes", 0u32);
        bin.add_many([&shield, &q]).map_err(|e| MediaError::build("program", e))?;
        shield.link(&q).map_err(|e| MediaError::build("program", e))?;
        let pad = shield.static_pad("sink").expect("errorignore has a sink pad");
        let closing = self.closing.clone();
        pad.add_probe(gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST, move |_, _| {
            if closing.load(Ordering::SeqCst) { gst::PadProbeReturn::Drop } else { gst::PadProbeReturn::Ok }
        });
        self.heads.push(pad);
        Ok((shield, q))
    }

    fn sink(&mut self, bin: &gst::Bin) -> Result<gst::Element, MediaError> {
        let sink = make("program", "filesink", "iso-file")?;
        sink.set_property("location", &self.path);
        sink.set_property("async", false);
        sink.set_property("sync", false);
        bin.add(&sink).map_err(|e| MediaError::build("program", e))?;
        self.finished = crate::media::elements::eos_flag(&sink.static_pad("sink").expect("filesink has a sink pad"));
        Ok(sink)
    }

    fn empty(path: PathBuf) -> IsoRecorder {
        IsoRecorder {
            path,
            heads: Vec::new(),
            closing: Arc::new(AtomicBool::new(false)),
            finished: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The MPEG-TS as it arrives (SRT): returns the recorder and the element to link the tee to.
    pub(crate) fn transport_stream(bin: &gst::Bin, path: PathBuf) -> Result<(IsoRecorder, gst::Element), MediaError> {
        let mut r = IsoRecorder::empty(path);
        let (entry, q) = r.head(bin, "iso-queue")?;
        let sink = r.sink(bin)?;
        q.link(&sink).map_err(|e| MediaError::build("program", e))?;
        Ok((r, entry))
    }

    /// Depayloaded RTP into Matroska (WHIP): one input per planned stream, `(media, encoding-name)`.
    /// Returns the recorder and, per media kind, the element the RTP tee links to.
    pub(crate) fn rtp_matroska(
        bin: &gst::Bin,
        path: PathBuf,
        streams: &[(&str, String)],
    ) -> Result<(IsoRecorder, Vec<(String, gst::Element)>), MediaError> {
        let b = |e: &dyn std::fmt::Display| MediaError::build("program", e);
        let mut r = IsoRecorder::empty(path);
        let mux = make("program", "matroskamux", "iso-mux")?;
        bin.add(&mux).map_err(|e| b(&e))?;
        let sink = r.sink(bin)?;
        mux.link(&sink).map_err(|e| b(&e))?;
        let mut entries = Vec::new();
        for (media, encoding) in streams {
            let chain: &[&str] = match encoding.as_str() {
                "VP8" => &["rtpvp8depay"],
                "VP9" => &["rtpvp9depay"],
                "H264" => &["rtph264depay", "h264parse"],
                "OPUS" => &["rtpopusdepay"],
                other => {
                    tracing::warn!("no ISO recording for {media} in {other}");
                    continue;
                }
            };
            let (entry, q) = r.head(bin, &format!("iso-queue-{media}"))?;
            let mut prev = q;
            for (i, factory) in chain.iter().enumerate() {
                let el = make("program", factory, &format!("iso-{media}-{i}"))?;
                bin.add(&el).map_err(|e| b(&e))?;
                prev.link(&el).map_err(|e| b(&e))?;
                prev = el;
            }
            let template = if *media == "video" { "video_%u" } else { "audio_%u" };
            let mux_pad = mux.request_pad_simple(template).ok_or_else(|| b(&"matroskamux refused a pad"))?;
            prev.static_pad("src").unwrap().link(&mux_pad).map_err(|e| b(&format!("{e:?}")))?;
            entries.push((media.to_string(), entry));
        }
        Ok((r, entries))
    }

    /// Ends the branch: EOS through every head so the file is finalized. Does not block.
    pub(crate) fn close(&self) {
        if self.closing.swap(true, Ordering::SeqCst) {
            return;
        }
        for pad in &self.heads {
            pad.send_event(gst::event::Eos::new());
        }
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.finished.load(Ordering::SeqCst)
    }

    /// Waits until the file is finalized (EOS reached the file sink), up to `timeout`.
    pub(crate) fn wait(&self, timeout: Duration) -> bool {
        let until = Instant::now() + timeout;
        while !self.finished.load(Ordering::SeqCst) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.finished.load(Ordering::SeqCst)
    }
}
