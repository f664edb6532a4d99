//! A chapter: one answered question at a point of the recording.

use super::QuestionId;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chapter {
    pub question_id: QuestionId,
    /// Milliseconds from the start of the recording.
    pub start_ms: i64,
    pub title: String,
}

/// Formats milliseconds as a WebVTT timestamp `hh:mm:ss.mmm`.
pub fn vtt_timestamp(ms: i64) -> String {
    let ms = ms.max(0);
    format!("{:02}:{:02}:{:02}.{:03}", ms / 3_600_000, (ms / 60_000) % 60, (ms / 1000) % 60, ms % 1000)
}

/// Formats milliseconds as a human clock `m:ss` or `h:mm:ss` (as YouTube and the chapter list show it).
pub fn clock(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_format_like_webvtt_and_youtube() {
        assert_eq!(vtt_timestamp(3_723_456), "01:02:03.456");
        assert_eq!(vtt_timestamp(-5), "00:00:00.000");
        assert_eq!(clock(65_000), "1:05");
        assert_eq!(clock(3_725_000), "1:02:05");
    }
}
