//! The full model's hits at other contact thresholds than the synthesis's: what `foley synth
//! --hit-threshold` trades, contacts found against hits placed where nothing is struck.

use serde::Serialize;

use super::track_scores::TOLERANCE_S;
use crate::metrics::match_onsets;

/// The thresholds reported, 0.1 to 0.9.
pub const SWEPT_THRESHOLDS: [f32; 9] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/// The hits at one threshold over every test video.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThresholdScores {
    pub threshold: f32,
    pub hits_placed: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Hits a minute on the videos without any labelled contact; `None` without such videos.
    pub silent_hits_per_minute: Option<f64>,
}

/// Accumulates the detector's candidates video by video.
#[derive(Debug, Clone, Default)]
pub struct ThresholdSweep {
    videos: usize,
    contacts: usize,
    silent_minutes: f64,
    /// Per threshold of [`SWEPT_THRESHOLDS`]: hits placed, matched, and placed on silent videos.
    counts: [(usize, usize, usize); SWEPT_THRESHOLDS.len()],
}

impl ThresholdSweep {
    /// Adds one video of `duration_s`: its contacts' times and every candidate hit of the
    /// detector as `(time, probability)`; at a threshold the hits are the candidates that reach it.
    pub fn add(&mut self, truth: &[f64], candidates: &[(f64, f32)], duration_s: f64) {
        self.videos += 1;
        self.contacts += truth.len();
        if truth.is_empty() {
            self.silent_minutes += duration_s / 60.0;
        }
        for (count, &threshold) in self.counts.iter_mut().zip(&SWEPT_THRESHOLDS) {
            let hits: Vec<f64> = candidates.iter().filter(|(_, p)| *p >= threshold).map(|(t, _)| *t).collect();
            count.0 += hits.len();
            count.1 += match_onsets(truth, &hits, TOLERANCE_S).n_matched;
            if truth.is_empty() {
                count.2 += hits.len();
            }
        }
    }

    /// One row per threshold, lowest first; none before any video was added.
    #[must_use]
    pub fn scores(&self) -> Vec<ThresholdScores> {
        if self.videos == 0 {
            return Vec::new();
        }
        self.counts
            .iter()
            .zip(SWEPT_THRESHOLDS)
            .map(|(&(placed, matched, silent), threshold)| {
                let precision = matched as f64 / placed.max(1) as f64;
                let recall = matched as f64 / self.contacts.max(1) as f64;
                let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
                ThresholdScores {
                    threshold,
                    hits_placed: placed,
                    precision,
                    recall,
                    f1,
                    silent_hits_per_minute: (self.silent_minutes > 0.0).then(|| silent as f64 / self.silent_minutes),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_threshold_keeps_the_candidates_that_reach_it() {
        let mut sweep = ThresholdSweep::default();
        assert!(sweep.scores().is_empty());
        // Contacts at 1 and 2 s; candidates on them (0.85 and 0.45) and a stray one at 3 s (0.65).
        sweep.add(&[1.0, 2.0], &[(1.01, 0.85), (2.0, 0.45), (3.0, 0.65)], 10.0);
        // A video of 30 s where nothing is struck, with candidates of 0.35 and 0.75.
        sweep.add(&[], &[(5.0, 0.35), (9.0, 0.75)], 30.0);
        let rows = sweep.scores();
        let row = |t: f32| rows.iter().find(|r| (r.threshold - t).abs() < 1e-6).unwrap();
        // 0.3: every candidate: 5 placed, 2 matched, 2 in 0.5 min of silence.
        assert_eq!(row(0.3).hits_placed, 5);
        assert!((row(0.3).precision - 0.4).abs() < 1e-9 && (row(0.3).recall - 1.0).abs() < 1e-9);
        assert!((row(0.3).silent_hits_per_minute.unwrap() - 4.0).abs() < 1e-9);
        // 0.5: 0.85, 0.65 and 0.75: one contact found of two, one hit in the silence.
        assert_eq!(row(0.5).hits_placed, 3);
        assert!((row(0.5).recall - 0.5).abs() < 1e-9 && (row(0.5).f1 - 0.4).abs() < 1e-9);
        assert!((row(0.5).silent_hits_per_minute.unwrap() - 2.0).abs() < 1e-9);
        // 0.9: nothing.
        assert_eq!((row(0.9).hits_placed, row(0.9).f1), (0, 0.0));
        assert_eq!(row(0.9).silent_hits_per_minute, Some(0.0));
    }
}
