//! Chapter files: WebVTT (`kind="chapters"` track), JSON for the page and API, and YouTube description lines.

use crate::domain::Chapter;
use crate::domain::chapter::{clock, vtt_timestamp};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChapterEntry {
    pub index: usize,
    pub question_id: i64,
    pub start_ms: i64,
    pub end_ms: i64,
    /// "m:ss" as shown in lists and YouTube descriptions.
    pub clock: String,
    pub title: String,
}

/// Chapters with end times: each ends where the next begins, the last at `duration_ms`.
pub fn entries(chapters: &[Chapter], duration_ms: i64) -> Vec<ChapterEntry> {
    let mut sorted = chapters.to_vec();
    sorted.sort_by_key(|c| c.start_ms);
    sorted
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let start = c.start_ms.clamp(0, duration_ms.max(0));
            let end = sorted.get(i + 1).map(|n| n.start_ms).unwrap_or(duration_ms).clamp(start, duration_ms.max(start));
            ChapterEntry {
                index: i + 1,
                question_id: c.question_id.0,
                start_ms: start,
                end_ms: end,
                clock: clock(start),
                title: c.title.clone(),
            }
        })
        .collect()
}

/// WebVTT chapters. Cue text cannot contain "-->" or blank lines; both are neutralized.
pub fn webvtt(entries: &[ChapterEntry]) -> String {
    let mut out = String::from("WEBVTT\n\n");
    for e in entries {
        let title = e.title.replace("-->", "→").replace(['\r', '\n'], " ");
        out.push_str(&format!(
            "{}\n{} --> {}\n{}\n\n",
            e.index,
            vtt_timestamp(e.start_ms),
            vtt_timestamp(e.end_ms),
            title.trim()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::QuestionId;

    fn ch(id: i64, ms: i64, t: &str) -> Chapter {
        Chapter { question_id: QuestionId(id), start_ms: ms, title: t.into() }
    }

    #[test]
    fn chapters_get_end_times_and_a_valid_webvtt() {
        let e = entries(&[ch(2, 20_000, "B"), ch(1, 5_000, "A --> x\nneue Zeile")], 60_000);
        assert_eq!(e[0].question_id, 1);
        assert_eq!((e[0].start_ms, e[0].end_ms), (5_000, 20_000));
        assert_eq!((e[1].start_ms, e[1].end_ms), (20_000, 60_000));
        let vtt = webvtt(&e);
        assert!(vtt.starts_with("WEBVTT\n\n1\n00:00:05.000 --> 00:00:20.000\nA → x neue Zeile\n\n"), "{vtt}");
        assert_eq!(vtt.matches("-->").count(), 2);
    }
}
