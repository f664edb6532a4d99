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

/// Title of the chapter YouTube needs at 0:00 when the first question comes later.
pub const OPENING_TITLE: &str = "Begrüßung";
/// YouTube's rules for description chapters.
pub const YOUTUBE_MIN_CHAPTERS: usize = 3;
pub const YOUTUBE_MIN_CHAPTER_MS: i64 = 10_000;

/// Chapter lines for a YouTube description ("0:00 Begrüßung\n1:23 Frage …"), following YouTube's rules: the
/// first at 0:00 (an opening chapter is added, or the first question moved there if it starts within 10 s),
/// every chapter at least 10 s long (a shorter one is folded into the one before), at least three. `None`
/// when the session cannot satisfy them (YouTube would then ignore the lines; the description lists no
/// timestamps rather than broken ones).
pub fn youtube_description(entries: &[ChapterEntry], duration_ms: i64) -> Option<String> {
    let mut marks: Vec<(i64, String)> = Vec::new();
    for e in entries {
        let title = e.title.replace(['\r', '\n'], " ").trim().to_owned();
        marks.push((e.start_ms.max(0), title));
    }
    marks.sort_by_key(|m| m.0);
    match marks.first() {
        Some((start, _)) if *start < YOUTUBE_MIN_CHAPTER_MS => marks[0].0 = 0,
        _ => marks.insert(0, (0, OPENING_TITLE.to_owned())),
    }
    // Fold chapters shorter than 10 s into their predecessor (keep the earlier start).
    let mut kept: Vec<(i64, String)> = Vec::new();
    for (i, m) in marks.iter().enumerate() {
        let end = marks.get(i + 1).map(|n| n.0).unwrap_or(duration_ms);
        if end - m.0 < YOUTUBE_MIN_CHAPTER_MS && !kept.is_empty() {
            continue;
        }
        kept.push(m.clone());
    }
    // A kept chapter may now run into a dropped one; re-check lengths against the kept successors.
    let ok = kept.iter().enumerate().all(|(i, m)| {
        let end = kept.get(i + 1).map(|n| n.0).unwrap_or(duration_ms);
        end - m.0 >= YOUTUBE_MIN_CHAPTER_MS
    });
    if kept.len() < YOUTUBE_MIN_CHAPTERS || !ok {
        return None;
    }
    Some(kept.iter().map(|(t, title)| format!("{} {title}", clock(*t))).collect::<Vec<_>>().join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::QuestionId;

    fn entry(start_ms: i64, title: &str) -> ChapterEntry {
        ChapterEntry { index: 0, question_id: 1, start_ms, end_ms: 0, clock: clock(start_ms), title: title.into() }
    }

    #[test]
    fn youtube_chapters_start_at_zero_are_ten_seconds_long_and_at_least_three() {
        let e = [entry(65_000, "Bus"), entry(130_000, "Radweg"), entry(135_000, "Kita"), entry(200_000, "Bad")];
        let d = youtube_description(&e, 300_000).unwrap();
        assert_eq!(d, "0:00 Begrüßung\n1:05 Bus\n2:15 Kita\n3:20 Bad", "Radweg (5 s) folded into Bus");
        // The first question within 10 s becomes the 0:00 chapter.
        let e = [entry(4_000, "Bus"), entry(60_000, "Radweg"), entry(120_000, "Kita")];
        assert!(youtube_description(&e, 180_000).unwrap().starts_with("0:00 Bus\n1:00 Radweg"));
        // Too few chapters: no timestamps at all.
        assert_eq!(youtube_description(&[entry(60_000, "Bus")], 120_000), None);
        assert_eq!(youtube_description(&[], 120_000), None);
        // The last chapter too short to stand: folded, then too few.
        let e = [entry(30_000, "Bus"), entry(115_000, "Radweg")];
        assert_eq!(youtube_description(&e, 120_000), None);
    }

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
