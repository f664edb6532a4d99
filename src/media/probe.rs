//! Reading media back with GstDiscoverer: durations, stream kinds, sizes.

use super::MediaError;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct VideoInfo {
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub caps: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AudioInfo {
    pub rate: u32,
    pub channels: u32,
    pub caps: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MediaInfo {
    pub duration: Duration,
    pub video: Option<VideoInfo>,
    pub audio: Option<AudioInfo>,
}

pub fn probe(path: &Path) -> Result<MediaInfo, MediaError> {
    use gst_pbutils::prelude::*;
    super::init()?;
    let unreadable = |detail: String| MediaError::Unreadable { path: path.display().to_string(), detail };
    let abs = std::fs::canonicalize(path).map_err(|e| unreadable(e.to_string()))?;
    let uri = gst::glib::filename_to_uri(&abs, None).map_err(|e| unreadable(e.to_string()))?;
    let discoverer =
        gst_pbutils::Discoverer::new(gst::ClockTime::from_seconds(20)).map_err(|e| unreadable(e.to_string()))?;
    let info = discoverer.discover_uri(&uri).map_err(|e| unreadable(e.to_string()))?;
    let video = info.video_streams().first().map(|v| VideoInfo {
        width: v.width(),
        height: v.height(),
        fps: {
            let f = v.framerate();
            if f.denom() == 0 { 0.0 } else { f.numer() as f64 / f.denom() as f64 }
        },
        caps: v.caps().map(|c| c.to_string()).unwrap_or_default(),
    });
    let audio = info.audio_streams().first().map(|a| AudioInfo {
        rate: a.sample_rate(),
        channels: a.channels(),
        caps: a.caps().map(|c| c.to_string()).unwrap_or_default(),
    });
    if video.is_none() && audio.is_none() {
        return Err(unreadable("no audio or video stream".into()));
    }
    Ok(MediaInfo {
        duration: info.duration().map(|d| Duration::from_nanos(d.nseconds())).unwrap_or_default(),
        video,
        audio,
    })
}
