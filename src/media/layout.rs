//! Layouts as data (`pipelines/layouts.toml`): named slot lists in frame fractions.

use serde::Deserialize;
use std::collections::BTreeMap;

pub const BUILTIN_LAYOUTS: &str = include_str!("../../pipelines/layouts.toml");

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    pub slots: Vec<[f64; 4]>,
}

/// A slot in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: i32,
    pub y: i32,
    pub width: i32,
    pub height: i32,
}

#[derive(Debug, Clone)]
pub struct Layouts(BTreeMap<String, Layout>);

impl Layouts {
    pub fn parse(text: &str) -> Result<Layouts, String> {
        let map: BTreeMap<String, Layout> = toml::from_str(text).map_err(|e| format!("layouts: {e}"))?;
        for (name, l) in &map {
            if l.slots.is_empty() {
                return Err(format!("layout {name:?} has no slots"));
            }
            for (i, s) in l.slots.iter().enumerate() {
                let [x, y, w, h] = *s;
                let inside = (0.0..=1.0).contains(&x)
                    && (0.0..=1.0).contains(&y)
                    && w > 0.0
                    && h > 0.0
                    && x + w <= 1.0 + 1e-9
                    && y + h <= 1.0 + 1e-9;
                if !inside {
                    return Err(format!("layout {name:?} slot {i} {s:?} lies outside the frame"));
                }
            }
        }
        Ok(Layouts(map))
    }

    pub fn builtin() -> Layouts {
        Layouts::parse(BUILTIN_LAYOUTS).expect("built-in layouts are valid (tested)")
    }

    pub fn get(&self, name: &str) -> Option<&Layout> {
        self.0.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

impl Layout {
    /// The pixel rectangle of slot `index` in a `width`×`height` frame; `None` if the layout has no such slot.
    pub fn rect(&self, index: usize, width: u32, height: u32) -> Option<Rect> {
        let [x, y, w, h] = *self.slots.get(index)?;
        let even = |v: f64| ((v / 2.0).round() * 2.0) as i32;
        Some(Rect {
            x: even(x * width as f64),
            y: even(y * height as f64),
            width: even(w * width as f64).max(2),
            height: even(h * height as f64).max(2),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_layouts_parse_and_map_to_pixels() {
        let l = Layouts::builtin();
        let names: Vec<_> = l.names().collect();
        assert_eq!(names, ["picture-in-picture", "side-by-side", "solo"]);
        let sbs = l.get("side-by-side").unwrap();
        assert_eq!(sbs.rect(1, 1280, 720), Some(Rect { x: 640, y: 90, width: 640, height: 360 }));
        assert_eq!(sbs.rect(2, 1280, 720), None);
    }

    #[test]
    fn a_slot_outside_the_frame_is_refused_with_its_name() {
        let err = Layouts::parse("[bad]\nslots = [[0.8, 0.0, 0.5, 0.5]]").unwrap_err();
        assert!(err.contains("\"bad\"") && err.contains("outside"), "{err}");
        assert!(Layouts::parse("[x]\nslots = []").is_err());
        assert!(Layouts::parse("[x]\nslotz = []").is_err());
    }
}
