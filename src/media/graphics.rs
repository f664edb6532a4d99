//! Program graphics: the lower third — a host bar (the town's logo, the host's name and title) and, while a
//! question is answered, a question panel above it.
//!
//! Each graphic is rendered **once per change** into an I420 card by a short one-shot pipeline
//! (`videotestsrc(1 frame) → gdkpixbufoverlay(logo) → textoverlay → appsink`) and shown through its own
//! compositor pad (`appsrc → imagefreeze(live, allow-replace)`), which repeats the same buffer every frame.
//! The program therefore never renders or blends text per frame: the compositor copies two small opaque
//! rectangles (the old `textoverlay` in the program path cost ≈ 17 % of the live mix's CPU).
//!
//! ```text
//!  appsrc(host card)     ─ imagefreeze ─ caps ─► compositor sink (zorder 1000, always shown)
//!  appsrc(question card) ─ imagefreeze ─ caps ─► compositor sink (zorder 1001, alpha 0 when no question)
//! ```

use super::MediaError;
use super::elements::make;
use super::names::Name;
use gst::prelude::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

const RENDER: &str = "graphics-render";
const PROGRAM: &str = "program";

/// Town blue (the slate's colour) for the host bar; white for the question panel.
const HOST_BAR_ARGB: u32 = 0xff1d_3557;
const HOST_TEXT_ARGB: u32 = 0xffff_ffff;
const QUESTION_BAR_ARGB: u32 = 0xffff_ffff;
const QUESTION_TEXT_ARGB: u32 = 0xff1d_1d1d;

/// Geometry of the lower third for one program size (all even, as I420 needs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geometry {
    pub x: u32,
    pub width: u32,
    pub host_y: u32,
    pub host_height: u32,
    pub question_y: u32,
    pub question_height: u32,
    pub padding: u32,
}

impl Geometry {
    pub fn for_frame(width: u32, height: u32) -> Geometry {
        let even = |v: u32| (v / 2 * 2).max(2);
        let x = even(width / 32);
        let margin_y = even(height / 24);
        let host_height = even(height / 12).max(16);
        let question_height = even(height * 3 / 20).max(24);
        let host_y = height.saturating_sub(margin_y + host_height);
        Geometry {
            x,
            width: even(width - 2 * x),
            host_y,
            host_height,
            question_y: host_y.saturating_sub(question_height),
            question_height,
            padding: even(height / 90).max(2),
        }
    }
}

/// A decodable logo and the size it is drawn at inside the host bar.
#[derive(Debug, Clone)]
struct Logo {
    path: PathBuf,
    width: u32,
    height: u32,
}

/// Reads an image (PNG, JPEG, SVG where the gdk-pixbuf loader is installed) and returns its pixel size.
/// A clear error when it is missing or not an image: checked at start-up, before anything goes live.
pub fn image_size(path: &Path) -> Result<(u32, u32), MediaError> {
    let unreadable = |detail: String| MediaError::Unreadable { path: path.display().to_string(), detail };
    if !path.is_file() {
        return Err(unreadable("no such file".into()));
    }
    match super::probe::probe(path) {
        Ok(info) => match info.video {
            Some(v) if v.width > 0 && v.height > 0 => Ok((v.width, v.height)),
            _ => Err(unreadable("not a readable image".into())),
        },
        Err(MediaError::Unreadable { detail, .. }) => Err(unreadable(format!("not a readable image: {detail}"))),
        Err(e) => Err(e),
    }
}

/// One graphic's compositor input.
struct Layer {
    appsrc: gst_app::AppSrc,
    pad: gst::Pad,
    caps: gst::Caps,
}

impl Layer {
    fn build(
        pipeline: &gst::Pipeline,
        compositor: &gst::Element,
        part: &str,
        (x, y, w, h): (u32, u32, u32, u32),
        fps: u32,
        zorder: u32,
    ) -> Result<Layer, MediaError> {
        let be = |e: &dyn std::fmt::Display| MediaError::build(PROGRAM, e);
        let caps = card_caps(w, h, Some(fps));
        let appsrc = gst_app::AppSrc::builder()
            .name(Name::program(&format!("{part}-src")))
            .caps(&caps)
            .format(gst::Format::Time)
            .is_live(true)
            .max_buffers(2)
            .build();
        let freeze = make(PROGRAM, "imagefreeze", &Name::program(&format!("{part}-live")))?;
        freeze.set_property("is-live", true);
        freeze.set_property("allow-replace", true);
        super::elements::unbounded_max_latency(&freeze);
        let filter = make(PROGRAM, "capsfilter", &Name::program(&format!("{part}-caps")))?;
        filter.set_property("caps", &caps);
        pipeline.add_many([appsrc.upcast_ref(), &freeze, &filter]).map_err(|e| be(&e))?;
        gst::Element::link_many([appsrc.upcast_ref(), &freeze, &filter]).map_err(|e| be(&e))?;
        let pad = compositor.request_pad_simple("sink_%u").ok_or_else(|| be(&"compositor pad"))?;
        pad.set_property("xpos", x as i32);
        pad.set_property("ypos", y as i32);
        pad.set_property("zorder", zorder);
        filter.static_pad("src").expect("capsfilter has a src pad").link(&pad).map_err(|e| be(&format!("{e:?}")))?;
        Ok(Layer { appsrc, pad, caps })
    }

    fn show(&self, card: gst::Buffer) {
        let mut card = card;
        {
            let b = card.make_mut();
            b.set_pts(gst::ClockTime::NONE);
            b.set_dts(gst::ClockTime::NONE);
            b.set_duration(gst::ClockTime::NONE);
        }
        let sample = gst::Sample::builder().buffer(&card).caps(&self.caps).build();
        if let Err(e) = self.appsrc.push_sample(&sample) {
            tracing::warn!("lower third not updated: {e:?}");
        }
        self.pad.set_property("alpha", 1.0f64);
    }

    fn hide(&self) {
        self.pad.set_property("alpha", 0.0f64);
    }
}

/// The lower third of a running program.
pub(crate) struct LowerThird {
    geometry: Geometry,
    host: Layer,
    question: Layer,
    font_px: u32,
}

impl LowerThird {
    /// Adds the host bar (shown from the start) and the hidden question panel to the compositor.
    pub(crate) fn build(
        pipeline: &gst::Pipeline,
        compositor: &gst::Element,
        width: u32,
        height: u32,
        fps: u32,
        host_line: &str,
        logo: Option<&Path>,
    ) -> Result<LowerThird, MediaError> {
        let g = Geometry::for_frame(width, height);
        let host =
            Layer::build(pipeline, compositor, "lower-third-host", (g.x, g.host_y, g.width, g.host_height), fps, 1000)?;
        let question = Layer::build(
            pipeline,
            compositor,
            "lower-third-question",
            (g.x, g.question_y, g.width, g.question_height),
            fps,
            1001,
        )?;
        let logo = logo.and_then(|path| match image_size(path) {
            Ok((w, h)) => {
                let lh = g.host_height.saturating_sub(2 * g.padding).max(2);
                let lw = ((w as u64 * lh as u64) / h.max(1) as u64).clamp(2, (g.width / 4) as u64) as u32;
                Some(Logo { path: path.to_owned(), width: lw, height: lh })
            }
            Err(e) => {
                tracing::warn!("logo left out of the lower third: {e}");
                None
            }
        });
        let this = LowerThird { geometry: g, host, question, font_px: (height / 27).max(6) };
        let host_card = this.host_card(host_line, logo.as_ref())?;
        this.host.show(host_card);
        this.question.show(this.question_card("", None)?);
        this.question.hide();
        Ok(this)
    }

    /// Renders and shows the question panel. Blocks for the render (a few milliseconds).
    pub(crate) fn show_question(&self, headline: &str, asker: Option<&str>) -> Result<(), MediaError> {
        let card = self.question_card(headline, asker)?;
        self.question.show(card);
        Ok(())
    }

    pub(crate) fn clear_question(&self) {
        self.question.hide();
    }

    fn host_card(&self, host_line: &str, logo: Option<&Logo>) -> Result<gst::Buffer, MediaError> {
        let g = &self.geometry;
        let esc = |s: &str| gst::glib::markup_escape_text(s).to_string();
        let text_x = logo.map(|l| g.padding * 3 + l.width).unwrap_or(g.padding * 3);
        render_card(&Card {
            width: g.width,
            height: g.host_height,
            background_argb: HOST_BAR_ARGB,
            text_argb: HOST_TEXT_ARGB,
            markup: format!("<b>{}</b>", esc(&fit(host_line, self.chars_per_line(text_x)))),
            font: format!("Sans {}px", (self.font_px * 9 / 10).max(6)),
            text_x,
            logo: logo.map(|l| (l.path.clone(), g.padding * 2, g.padding, l.width, l.height)),
        })
    }

    fn question_card(&self, headline: &str, asker: Option<&str>) -> Result<gst::Buffer, MediaError> {
        let g = &self.geometry;
        let text_x = g.padding * 3;
        let per_line = self.chars_per_line(text_x);
        render_card(&Card {
            width: g.width,
            height: g.question_height,
            background_argb: QUESTION_BAR_ARGB,
            text_argb: QUESTION_TEXT_ARGB,
            markup: question_markup(headline, asker, per_line),
            font: format!("Sans {}px", self.font_px),
            text_x,
            logo: None,
        })
    }

    /// Characters that fit on one line (average glyph ≈ 0.55 em), so long text is shortened, not clipped.
    fn chars_per_line(&self, text_x: u32) -> usize {
        let usable = self.geometry.width.saturating_sub(2 * text_x);
        ((usable as f64) / (self.font_px as f64 * 0.55)).max(8.0) as usize
    }
}

/// Pango markup for the question panel: who asks (bold) and the question, at most two lines; all citizen text
/// is escaped.
pub fn question_markup(headline: &str, asker: Option<&str>, chars_per_line: usize) -> String {
    let esc = |s: &str| gst::glib::markup_escape_text(s).to_string();
    let who = match asker {
        Some(a) => format!("Frage von {}:", fit(a, chars_per_line / 2)),
        None => "Frage:".to_owned(),
    };
    let room = (2 * chars_per_line).saturating_sub(who.chars().count() + 1).max(8);
    format!("<b>{}</b> {}", esc(&who), esc(&fit(headline, room)))
}

/// Shortens text to at most `max` characters at a word boundary, with an ellipsis.
pub fn fit(text: &str, max: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= max {
        return text;
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > max / 2 => cut[..i].to_owned(),
        _ => cut,
    };
    format!("{}…", cut.trim_end_matches([' ', ',', '.', ';', ':']))
}

struct Card {
    width: u32,
    height: u32,
    background_argb: u32,
    text_argb: u32,
    markup: String,
    font: String,
    text_x: u32,
    /// Logo file and its rectangle (x, y, w, h) inside the card.
    logo: Option<(PathBuf, u32, u32, u32, u32)>,
}

fn card_caps(width: u32, height: u32, fps: Option<u32>) -> gst::Caps {
    gst::Caps::builder("video/x-raw")
        .field("format", "I420")
        .field("width", width as i32)
        .field("height", height as i32)
        .field("framerate", gst::Fraction::new(fps.unwrap_or(1) as i32, 1))
        .field("pixel-aspect-ratio", gst::Fraction::new(1, 1))
        .field("colorimetry", "bt709")
        .field("chroma-site", "mpeg2")
        .field("interlace-mode", "progressive")
        .build()
}

/// Renders one card: a solid background, an optional logo and wrapped, vertically centred text.
fn render_card(card: &Card) -> Result<gst::Buffer, MediaError> {
    let be = |e: &dyn std::fmt::Display| MediaError::build(RENDER, e);
    let pipeline = gst::Pipeline::with_name(RENDER);
    let src = make(RENDER, "videotestsrc", "card-background")?;
    src.set_property("num-buffers", 1i32);
    src.set_property_from_str("pattern", "solid-color");
    src.set_property("foreground-color", card.background_argb);
    let caps = make(RENDER, "capsfilter", "card-caps")?;
    caps.set_property("caps", card_caps(card.width, card.height, None));
    let text = make(RENDER, "textoverlay", "card-text")?;
    text.set_property_from_str("valignment", "center");
    text.set_property_from_str("halignment", "left");
    text.set_property_from_str("line-alignment", "left");
    text.set_property_from_str("wrap-mode", "wordchar");
    text.set_property("xpad", card.text_x as i32);
    text.set_property("ypad", 0i32);
    text.set_property("shaded-background", false);
    text.set_property("draw-shadow", false);
    text.set_property("draw-outline", false);
    text.set_property("color", card.text_argb);
    text.set_property("font-desc", &card.font);
    text.set_property("text", &card.markup);
    let sink = gst_app::AppSink::builder().name("card-sink").sync(false).build();
    let mut chain = vec![src, caps];
    if let Some((path, x, y, w, h)) = &card.logo {
        let logo = make(RENDER, "gdkpixbufoverlay", "card-logo")?;
        logo.set_property("location", path);
        logo.set_property("offset-x", *x as i32);
        logo.set_property("offset-y", *y as i32);
        logo.set_property("overlay-width", *w as i32);
        logo.set_property("overlay-height", *h as i32);
        chain.push(logo);
    }
    chain.push(text);
    chain.push(sink.clone().upcast());
    pipeline.add_many(&chain).map_err(|e| be(&e))?;
    gst::Element::link_many(&chain).map_err(|e| be(&e))?;
    pipeline.set_state(gst::State::Playing).map_err(|e| be(&e))?;
    let sample = sink.try_pull_sample(gst::ClockTime::from_seconds(5));
    let error = pipeline.bus().and_then(|b| b.pop_filtered(&[gst::MessageType::Error]));
    let _ = pipeline.set_state(gst::State::Null);
    if let Some(msg) = error
        && let gst::MessageView::Error(e) = msg.view()
    {
        return Err(be(&format!("rendering the lower third: {}", e.error())));
    }
    sample
        .and_then(|s| s.buffer_owned())
        .ok_or_else(|| be(&format!("rendering the lower third took longer than {:?}", Duration::from_secs(5))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_is_even_and_inside_the_frame() {
        for (w, h) in [(1280, 720), (1920, 1080), (320, 180), (640, 360)] {
            let g = Geometry::for_frame(w, h);
            for v in [g.x, g.width, g.host_y, g.host_height, g.question_y, g.question_height] {
                assert_eq!(v % 2, 0, "{w}x{h}: {g:?}");
            }
            assert!(g.x + g.width <= w && g.host_y + g.host_height < h, "{g:?}");
            assert_eq!(g.question_y + g.question_height, g.host_y);
        }
    }

    #[test]
    fn long_text_is_shortened_at_a_word_and_marked() {
        assert_eq!(fit("kurz", 10), "kurz");
        assert_eq!(fit("  viele   Leerzeichen ", 40), "viele Leerzeichen");
        let f = fit("Wann wird die Buslinie sieben wieder im Zwanzig-Minuten-Takt fahren", 30);
        assert!(f.ends_with('…') && f.chars().count() <= 30, "{f}");
        assert!(f.starts_with("Wann wird die Buslinie"), "{f}");
    }

    #[test]
    fn question_markup_escapes_citizen_text() {
        let m = question_markup("<script>alert(1)</script> & Co?", Some("Ben & <b>Jo</b>"), 80);
        assert!(m.contains("&lt;script&gt;") && m.contains("Ben &amp; &lt;b&gt;Jo"), "{m}");
        assert!(!m.contains("<script>") && !m.contains("<b>Jo"), "{m}");
    }

    #[test]
    fn the_sample_logo_is_read_and_a_non_image_is_refused() {
        let logo = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/logo.png");
        assert_eq!(image_size(&logo).unwrap(), (96, 96));
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("x.png");
        std::fs::write(&bad, vec![0u8; 4096]).unwrap();
        assert!(matches!(image_size(&bad), Err(MediaError::Unreadable { .. })));
    }

    #[test]
    fn a_card_is_rendered_with_its_background_and_text() {
        crate::media::init().unwrap();
        let card = Card {
            width: 320,
            height: 40,
            background_argb: HOST_BAR_ARGB,
            text_argb: HOST_TEXT_ARGB,
            markup: "<b>Dr. Anna Beispiel · Bürgermeisterin</b>".into(),
            font: "Sans 14px".into(),
            text_x: 8,
            logo: None,
        };
        let buf = render_card(&card).unwrap();
        let map = buf.map_readable().unwrap();
        assert_eq!(map.len(), 320 * 40 * 3 / 2);
        let luma = &map[..320 * 40];
        // Background luma of #1d3557 (BT.709, limited range) ≈ 50; white text ≈ 235.
        assert!((40..=62).contains(&luma[0]), "background luma {}", luma[0]);
        let bright = luma.iter().filter(|&&y| y > 180).count();
        assert!(bright > 100, "text pixels: {bright}");
    }
}
