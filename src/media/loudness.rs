//! Program loudness: measured by EBU R 128 (`ebur128level`) and kept near a target by a slow gain control.
//!
//! ```text
//!  audiomixer ─ caps(F32) ─ ebur128level(in, 100 ms) ─ volume(gain) ─ ebur128level(out, 1 s) ─ audioconvert ─ AAC
//! ```
//!
//! The control reads the *short-term* loudness (3 s window) of the mix before the gain and moves the gain
//! towards `target − loudness` by at most [`SLEW_DB_PER_STEP`] per 100 ms step, so speech is not pumped. Below
//! the gate (silence, pauses) the gain holds. The gain stays within [`MAX_CUT_DB`, `MAX_BOOST_DB`]: a
//! whisper is lifted, but room noise is never boosted into the program. No look-ahead, so no extra latency
//! (an `audioloudnorm` would delay the live outputs and the crash-safe fragments by its 3 s window).

/// Short-term loudness below this is treated as silence: the gain holds.
pub const GATE_LUFS: f64 = -45.0;
pub const MAX_BOOST_DB: f64 = 12.0;
pub const MAX_CUT_DB: f64 = -20.0;
/// Per 100 ms measurement: at most 5 dB/s.
pub const SLEW_DB_PER_STEP: f64 = 0.5;

/// The gain control's state.
#[derive(Debug, Clone, PartialEq)]
pub struct LoudnessControl {
    target_lufs: f64,
    gain_db: f64,
}

impl LoudnessControl {
    pub fn new(target_lufs: f64) -> LoudnessControl {
        LoudnessControl { target_lufs, gain_db: 0.0 }
    }

    /// One measurement of the ungained mix's short-term loudness (LUFS, may be −∞); returns the new gain in dB.
    pub fn step(&mut self, shortterm_lufs: f64) -> f64 {
        if !shortterm_lufs.is_finite() || shortterm_lufs < GATE_LUFS {
            return self.gain_db;
        }
        let wanted = (self.target_lufs - shortterm_lufs).clamp(MAX_CUT_DB, MAX_BOOST_DB);
        self.gain_db += (wanted - self.gain_db).clamp(-SLEW_DB_PER_STEP, SLEW_DB_PER_STEP);
        self.gain_db
    }

    pub fn gain_db(&self) -> f64 {
        self.gain_db
    }

    /// The `volume` element's linear factor for the current gain.
    pub fn linear(&self) -> f64 {
        10f64.powf(self.gain_db / 20.0)
    }
}

/// What the program reports about its loudness once per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoudnessReport {
    /// Short-term (3 s) loudness of the program as sent, LUFS.
    pub shortterm_lufs: f64,
    /// Integrated (gated, since the start) loudness of the program as sent, LUFS.
    pub integrated_lufs: f64,
    /// The gain the control applies now, dB.
    pub gain_db: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quiet_mix_is_lifted_slowly_and_no_further_than_the_boost_limit() {
        let mut c = LoudnessControl::new(-16.0);
        assert_eq!(c.step(-26.0), 0.5, "one slew step");
        for _ in 0..100 {
            c.step(-26.0);
        }
        assert!((c.gain_db() - 10.0).abs() < 1e-9, "{}", c.gain_db());
        for _ in 0..100 {
            c.step(-40.0);
        }
        assert_eq!(c.gain_db(), MAX_BOOST_DB);
        assert!((c.linear() - 3.981).abs() < 0.01);
    }

    #[test]
    fn a_loud_mix_is_cut_and_silence_holds_the_gain() {
        let mut c = LoudnessControl::new(-16.0);
        for _ in 0..100 {
            c.step(-3.0);
        }
        assert!((c.gain_db() + 13.0).abs() < 1e-9);
        for s in [f64::NEG_INFINITY, -70.0, -50.0, f64::NAN] {
            assert!((c.step(s) + 13.0).abs() < 1e-9, "silence ({s}) must not move the gain");
        }
        for _ in 0..100 {
            c.step(20.0);
        }
        assert_eq!(c.gain_db(), MAX_CUT_DB);
    }
}
