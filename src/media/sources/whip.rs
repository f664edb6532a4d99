//! WHIP source (RFC 9725): a browser or OBS publishes over WebRTC; `webrtcbin` receives, `decodebin`
//! depayloads and decodes, and the streams join the mixers like any other source.
//!
//! ```text
//! [source-{id}]  webrtcbin ─(RTP video)─ decodebin ─ videoconvert ─ videoscale ─ capsfilter(slot) ─ queue ─(ghost video)─► compositor
//!                          ─(RTP audio)─ decodebin ─ audioconvert ─ audioresample ─ queue ─(ghost audio)─► audiomixer
//! ```
//! Negotiation follows `../shared/notes/webrtc.md`: receive transceivers are created from the offer's first
//! decodable payload types (with their fmtp and extmaps) and NACK on, so the answer carries rtx/nack/TWCC;
//! no trickle ICE (the answer waits for gathering); libnice UPnP off; loopback allowed for local tests.

use super::file::decode_into_mixers;
use super::{BuiltSource, MixerInputs, audio_pad, video_pad};
use crate::media::{MediaError, elements::make, names::Name};
use gst::prelude::*;
use std::time::{Duration, Instant};

/// Video codecs we take, in order of preference (all decodable on Debian 12's GStreamer 1.22).
const VIDEO_CODECS: &[&str] = &["VP8", "H264", "VP9"];
const AUDIO_CODECS: &[&str] = &["OPUS"];

#[derive(Debug, Clone)]
pub struct IceSettings {
    /// Local addresses ICE may use besides the host's interfaces (e.g. "127.0.0.1" for tests).
    pub extra_local_addresses: Vec<String>,
    pub stun_server: Option<String>,
    pub gather_timeout: Duration,
}

impl Default for IceSettings {
    fn default() -> Self {
        IceSettings {
            extra_local_addresses: vec!["127.0.0.1".into()],
            stun_server: None,
            gather_timeout: Duration::from_secs(3),
        }
    }
}

/// Attributes OBS (libdatachannel) puts at session level that webrtcbin 1.22 only reads per media section.
const SESSION_LEVEL_ATTRIBUTES: &[&str] = &["setup", "ice-ufrag", "ice-pwd", "fingerprint", "ice-options"];

/// Copies session-level DTLS/ICE attributes into every media section that lacks them and drops them from the
/// session (RFC 8839/8842: a session-level value applies to all media). OBS ≥ 30 sends `a=setup`, the ICE
/// credentials and the fingerprint only at session level; webrtcbin 1.22 rejects a media section without its
/// own `a=setup` ("could not answer the offer").
fn move_session_attributes_into_media(offer: &mut gst_sdp::SDPMessage) {
    for key in SESSION_LEVEL_ATTRIBUTES {
        let Some(value) = offer.attribute_val(key).map(str::to_owned) else { continue };
        for i in 0..offer.medias_len() {
            if let Some(m) = offer.media_mut(i)
                && m.attribute_val(key).is_none()
            {
                m.add_attribute(key, Some(&value));
            }
        }
        while let Some(idx) = offer.attributes().position(|a| a.key() == *key) {
            if offer.remove_attribute(idx as u32).is_err() {
                break;
            }
        }
    }
}

/// Chooses the first payload type of `media` whose encoding is in `wanted` and returns its RTP caps
/// (with fmtp, rtcp-fb and extmap fields copied from the offer, as webrtcbin 1.22 compares them as strings).
fn receive_caps(media: &gst_sdp::SDPMediaRef, wanted: &[&str]) -> Option<gst::Caps> {
    for codec in wanted {
        for fmt in media.formats() {
            let Ok(pt) = fmt.parse::<i32>() else { continue };
            let Some(mut caps) = media.caps_from_media(pt) else { continue };
            let name = caps.structure(0).and_then(|s| s.get::<&str>("encoding-name").ok()).unwrap_or("").to_uppercase();
            if name != *codec {
                continue;
            }
            // H.264 must be packetization-mode 1 (what browsers send by default and we depayload).
            if name == "H264"
                && caps.structure(0).and_then(|s| s.get::<&str>("packetization-mode").ok()).unwrap_or("0") != "1"
            {
                continue;
            }
            {
                let s = caps.make_mut().structure_mut(0)?;
                s.set_name("application/x-rtp");
                // Only the header extensions (transport-cc above all): copying every attribute would echo the
                // offer's ICE and DTLS lines into our answer.
                for a in media.attributes().filter(|a| a.key() == "extmap") {
                    if let Some((id, uri)) = a.value().and_then(|v| v.split_once(' '))
                        && let Ok(id) = id.split('/').next().unwrap_or("").parse::<u32>()
                    {
                        s.set(format!("extmap-{id}"), uri.split_whitespace().next().unwrap_or(uri));
                    }
                }
            }
            return Some(caps);
        }
    }
    None
}

/// Builds the source from a WHIP offer and returns it with the SDP answer. Blocks up to the ICE gather timeout.
pub(crate) fn build(
    id: &str,
    offer_sdp: &str,
    ice: &IceSettings,
    inputs: MixerInputs<'_>,
) -> Result<(BuiltSource, String), MediaError> {
    let bad = |d: String| MediaError::Unreadable { path: format!("WHIP offer for {id}"), detail: d };
    let mut offer =
        gst_sdp::SDPMessage::parse_buffer(offer_sdp.as_bytes()).map_err(|e| bad(format!("malformed SDP: {e}")))?;
    move_session_attributes_into_media(&mut offer);
    let mut plans = Vec::new();
    for media in offer.medias() {
        match media.media() {
            Some("video") => plans.push(("video", receive_caps(media, VIDEO_CODECS))),
            Some("audio") => plans.push(("audio", receive_caps(media, AUDIO_CODECS))),
            _ => {}
        }
    }
    if !plans.iter().any(|(_, c)| c.is_some()) {
        return Err(
            bad("no supported codec offered (video: VP8, H.264 packetization-mode 1, VP9; audio: Opus)".into()),
        );
    }

    let bin = gst::Bin::with_name(&Name::source(id));
    let webrtc = make("program", "webrtcbin", "webrtc")?;
    webrtc.set_property_from_str("bundle-policy", "max-bundle");
    if let Some(stun) = &ice.stun_server {
        webrtc.set_property("stun-server", stun);
    }
    // libnice on Debian defaults to UPnP: it binds port 1900 and slows gathering. Off.
    webrtc.connect("deep-element-added", false, |args| {
        if let Some(el) = args.get(2).and_then(|v| v.get::<gst::Element>().ok())
            && el.find_property("agent").is_some()
        {
            let agent = el.property::<gst::glib::Object>("agent");
            if agent.find_property("upnp").is_some() {
                agent.set_property("upnp", false);
            }
        }
        None
    });
    bin.add(&webrtc).map_err(|e| MediaError::build("program", e))?;
    let ice_agent = webrtc.property::<gst::glib::Object>("ice-agent");
    if ice_agent.find_property("ice-tcp").is_some() {
        ice_agent.set_property("ice-tcp", false);
    }
    for addr in &ice.extra_local_addresses {
        let _ = ice_agent.emit_by_name::<bool>("add-local-ip-address", &[addr]);
    }
    for (_, caps) in &plans {
        if let Some(caps) = caps {
            let t = webrtc.emit_by_name::<gst_webrtc::WebRTCRTPTransceiver>(
                "add-transceiver",
                &[&gst_webrtc::WebRTCRTPTransceiverDirection::Recvonly, caps],
            );
            t.set_property("do-nack", true);
        }
    }

    // ISO: the depayloaded streams as sent, into Matroska.
    let streams: Vec<(&str, String)> = plans
        .iter()
        .filter_map(|(media, caps)| {
            let enc = caps.as_ref()?.structure(0)?.get::<&str>("encoding-name").ok()?.to_uppercase();
            Some((*media, enc))
        })
        .collect();
    let (iso, iso_heads) = match inputs.iso_path(id, "mkv") {
        Some(path) => {
            let (rec, heads) = super::iso::IsoRecorder::rtp_matroska(&bin, path, &streams)?;
            (Some(rec), heads)
        }
        None => (None, Vec::new()),
    };

    inputs.pipeline.add(&bin).map_err(|e| MediaError::build("program", e))?;
    let vpad = video_pad(&inputs)?;
    let apad = audio_pad(&inputs)?;
    let (vpad2, apad2) = (vpad.clone(), apad.clone());
    let bin_weak = bin.downgrade();
    webrtc.connect_pad_added(move |_, pad| {
        let Some(bin) = bin_weak.upgrade() else { return };
        if pad.direction() != gst::PadDirection::Src {
            return;
        }
        // RTP in, decoded media out: decodebin picks depayloader and decoder.
        let Ok(dec) = gst::ElementFactory::make("decodebin").build() else { return };
        let Ok(tee) = gst::ElementFactory::make("tee").property("allow-not-linked", true).build() else { return };
        if bin.add_many([&tee, &dec]).is_err() {
            return;
        }
        let _ = dec.sync_state_with_parent();
        let _ = tee.sync_state_with_parent();
        if pad.link(&tee.static_pad("sink").unwrap()).is_err() || tee.link(&dec).is_err() {
            tracing::warn!(source = %bin.name(), "cannot link WebRTC pad to decodebin");
            return;
        }
        let media = pad
            .current_caps()
            .or_else(|| Some(pad.query_caps(None)))
            .and_then(|c| c.structure(0).and_then(|s| s.get::<String>("media").ok()));
        if let Some((_, head)) = iso_heads.iter().find(|(m, _)| Some(m) == media.as_ref()) {
            let _ = head.sync_state_with_parent();
            if tee.link(head).is_err() {
                tracing::warn!(source = %bin.name(), "ISO recording of {media:?} not linked");
            }
        }
        decode_into_mixers(&bin, &dec, &vpad2, &apad2, 0);
    });
    bin.sync_state_with_parent().map_err(|e| MediaError::build("program", e))?;

    // Offer → answer, without trickle: wait for gathering, then the local description holds the candidates.
    let desc = gst_webrtc::WebRTCSessionDescription::new(gst_webrtc::WebRTCSDPType::Offer, offer);
    let fail = |what: &str| {
        let _ = bin.set_state(gst::State::Null);
        let _ = inputs.pipeline.remove(&bin);
        inputs.compositor.release_request_pad(&vpad);
        inputs.audiomixer.release_request_pad(&apad);
        bad(what.to_owned())
    };
    let promise = gst::Promise::new();
    webrtc.emit_by_name::<()>("set-remote-description", &[&desc, &promise]);
    promise.wait();
    let promise = gst::Promise::new();
    webrtc.emit_by_name::<()>("create-answer", &[&None::<gst::Structure>, &promise]);
    promise.wait();
    let answer = match promise
        .get_reply()
        .and_then(|r| r.value("answer").ok().and_then(|v| v.get::<gst_webrtc::WebRTCSessionDescription>().ok()))
    {
        Some(a) => a,
        None => return Err(fail("webrtcbin could not answer the offer")),
    };
    let promise = gst::Promise::new();
    webrtc.emit_by_name::<()>("set-local-description", &[&answer, &promise]);
    promise.wait();
    let until = Instant::now() + ice.gather_timeout;
    while webrtc.property::<gst_webrtc::WebRTCICEGatheringState>("ice-gathering-state")
        != gst_webrtc::WebRTCICEGatheringState::Complete
        && Instant::now() < until
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    let local = webrtc.property::<Option<gst_webrtc::WebRTCSessionDescription>>("local-description");
    let Some(local) = local else { return Err(fail("no local description")) };
    let text = local.sdp().as_text().map_err(|e| bad(e.to_string()))?;
    Ok((BuiltSource::new(id, None, bin, vpad, apad, iso), text))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROMIUM_LIKE_OFFER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\n\
a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\na=setup:actpass\r\n\
a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n\
m=video 9 UDP/TLS/RTP/SAVPF 45 96 102\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendonly\r\na=rtcp-mux\r\n\
a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\na=setup:actpass\r\n\
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n\
a=rtpmap:45 AV1/90000\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 transport-cc\r\n\
a=rtpmap:102 H264/90000\r\na=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n";

    #[test]
    fn obs_session_level_dtls_and_ice_attributes_move_into_each_media_section() {
        crate::media::init().unwrap();
        // OBS ≥ 30 (libdatachannel): setup, ICE and fingerprint only at session level.
        let obs = CHROMIUM_LIKE_OFFER
            .replace("a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n", "")
            .replace("a=setup:actpass\r\n", "")
            .replacen(
                "a=group:BUNDLE 0 1\r\n",
                "a=group:BUNDLE 0 1\r\na=group:LS 0 1\r\na=setup:actpass\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n",
                1,
            );
        let mut offer = gst_sdp::SDPMessage::parse_buffer(obs.as_bytes()).unwrap();
        assert!(offer.medias().all(|m| m.attribute_val("setup").is_none()));
        move_session_attributes_into_media(&mut offer);
        for m in offer.medias() {
            assert_eq!(m.attribute_val("setup"), Some("actpass"));
            assert_eq!(m.attribute_val("ice-ufrag"), Some("abcd"));
            assert_eq!(m.attribute_val("ice-pwd"), Some("abcdefghijklmnopqrstuvwx"));
        }
        assert!(offer.attribute_val("setup").is_none() && offer.attribute_val("ice-ufrag").is_none());
        assert_eq!(offer.attribute_val("group"), Some("BUNDLE 0 1"), "other session attributes stay");
    }

    #[test]
    fn the_first_decodable_payload_types_are_chosen_with_their_attributes() {
        crate::media::init().unwrap();
        let offer = gst_sdp::SDPMessage::parse_buffer(CHROMIUM_LIKE_OFFER.as_bytes()).unwrap();
        let video = offer.medias().find(|m| m.media() == Some("video")).unwrap();
        let caps = receive_caps(video, VIDEO_CODECS).unwrap();
        let s = caps.structure(0).unwrap();
        assert_eq!(s.name(), "application/x-rtp");
        assert_eq!(s.get::<i32>("payload").unwrap(), 96, "AV1 skipped (no depayloader on 1.22), VP8 chosen");
        assert!(s.has_field("extmap-3"), "{s}");
        let caps = receive_caps(video, &["H264"]).unwrap();
        assert_eq!(caps.structure(0).unwrap().get::<i32>("payload").unwrap(), 102);
        let audio = offer.medias().find(|m| m.media() == Some("audio")).unwrap();
        assert_eq!(
            receive_caps(audio, AUDIO_CODECS).unwrap().structure(0).unwrap().get::<i32>("payload").unwrap(),
            111
        );
        assert!(receive_caps(audio, VIDEO_CODECS).is_none());
    }
}
