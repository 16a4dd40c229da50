//! How far a test set's hit figures would move with other test videos of the same kind: the
//! percentile bootstrap over videos (drawn with replacement, then pooled as the figures are),
//! for one model's figures and, on the same draws, for the difference between two models run
//! on the same videos. Pairing the draws takes out what the videos share (a hard video is hard
//! for both), so a difference can be told from noise where two separate intervals overlap.
//! It measures the test set's share of the noise only: a second training seed moves a model's
//! figures too.

use rand::RngExt as _;
use rand::SeedableRng as _;
use serde::Serialize;

use crate::metrics::average_precision;

/// Draws of the test videos.
pub const RESAMPLES: usize = 1000;
/// Share of the draws an interval holds.
pub const COVERAGE: f64 = 0.95;

/// One test video's hits, as the pooled figures need them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VideoHits {
    pub contacts: usize,
    pub placed: usize,
    /// Placed hits matched one to one with a contact.
    pub matched: usize,
    /// The candidates that rank for AP: confidence, and whether it matched a contact.
    pub ranked: Vec<(f32, bool)>,
}

/// Pooled hit figures of a set of videos.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HitFigures {
    pub hit_ap: f64,
    pub hit_accuracy: f64,
    pub hit_f1: f64,
}

impl HitFigures {
    /// The figures of `videos[i]` for each `i` of `picks` (a video picked twice counts twice).
    #[must_use]
    pub fn pooled(videos: &[VideoHits], picks: impl IntoIterator<Item = usize>) -> Self {
        let (mut contacts, mut placed, mut matched, mut ranked) = (0, 0, 0, Vec::new());
        for i in picks {
            let v = &videos[i];
            contacts += v.contacts;
            placed += v.placed;
            matched += v.matched;
            ranked.extend_from_slice(&v.ranked);
        }
        let precision = matched as f64 / placed.max(1) as f64;
        let recall = matched as f64 / contacts.max(1) as f64;
        Self {
            hit_ap: average_precision(&mut ranked, contacts),
            hit_accuracy: recall,
            hit_f1: super::track_scores::f1(precision, recall),
        }
    }

    fn minus(self, other: Self) -> Self {
        Self {
            hit_ap: self.hit_ap - other.hit_ap,
            hit_accuracy: self.hit_accuracy - other.hit_accuracy,
            hit_f1: self.hit_f1 - other.hit_f1,
        }
    }
}

/// Where the middle [`COVERAGE`] of the draws fell.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

impl Interval {
    /// The central `coverage` of `values` (sorted here).
    fn of(values: &mut [f64], coverage: f64) -> Self {
        values.sort_by(f64::total_cmp);
        let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
        let tail = (1.0 - coverage) / 2.0;
        Self { low: at(tail), high: at(1.0 - tail) }
    }

    #[must_use]
    pub fn contains(&self, v: f64) -> bool {
        self.low <= v && v <= self.high
    }
}

/// A set of figures with the interval of each.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HitIntervals {
    /// The figures of all the videos (for a difference: the first model's less the second's).
    pub figures: HitFigures,
    pub hit_ap: Interval,
    pub hit_accuracy: Interval,
    pub hit_f1: Interval,
    pub resamples: usize,
    pub coverage: f64,
}

/// One model's figures over `videos` with their intervals; `None` without videos.
#[must_use]
pub fn intervals(videos: &[VideoHits], resamples: usize, seed: u64) -> Option<HitIntervals> {
    bootstrap(videos.len(), resamples, seed, |picks| HitFigures::pooled(videos, picks.iter().copied()))
}

/// The difference between two models' figures (`first` less `second`) over the same videos (in
/// the same order), with its intervals from the same draws for both; `None` without videos or
/// where the two do not cover as many.
#[must_use]
pub fn difference_intervals(
    first: &[VideoHits],
    second: &[VideoHits],
    resamples: usize,
    seed: u64,
) -> Option<HitIntervals> {
    if first.len() != second.len() {
        return None;
    }
    bootstrap(first.len(), resamples, seed, |picks| {
        HitFigures::pooled(first, picks.iter().copied()).minus(HitFigures::pooled(second, picks.iter().copied()))
    })
}

fn bootstrap(
    videos: usize,
    resamples: usize,
    seed: u64,
    figures_of: impl Fn(&[usize]) -> HitFigures,
) -> Option<HitIntervals> {
    if videos == 0 || resamples == 0 {
        return None;
    }
    let all: Vec<usize> = (0..videos).collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut picks = vec![0; videos];
    let (mut ap, mut accuracy, mut f1) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..resamples {
        picks.iter_mut().for_each(|p| *p = rng.random_range(0..videos));
        let f = figures_of(&picks);
        ap.push(f.hit_ap);
        accuracy.push(f.hit_accuracy);
        f1.push(f.hit_f1);
    }
    Some(HitIntervals {
        figures: figures_of(&all),
        hit_ap: Interval::of(&mut ap, COVERAGE),
        hit_accuracy: Interval::of(&mut accuracy, COVERAGE),
        hit_f1: Interval::of(&mut f1, COVERAGE),
        resamples,
        coverage: COVERAGE,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Videos of 5 contacts each where a model finds `found[v]` of them among 6 placed hits,
    /// its matched candidates ranked above its unmatched ones when `sure`.
    fn videos(found: &[usize], sure: bool) -> Vec<VideoHits> {
        found
            .iter()
            .map(|&k| {
                let ranked =
                    (0..6).map(|j| ((if (j < k) == sure { 0.9 } else { 0.1 }) - j as f32 * 0.01, j < k)).collect();
                VideoHits { contacts: 5, placed: 6, matched: k, ranked }
            })
            .collect()
    }

    #[test]
    fn pooled_figures_count_a_video_picked_twice_twice() {
        let v = videos(&[5, 1], true);
        // Both: 6 of 10 contacts found with 12 placed.
        let both = HitFigures::pooled(&v, [0, 1]);
        assert!((both.hit_accuracy - 0.6).abs() < 1e-12);
        let (p, r) = (6.0 / 12.0, 0.6);
        assert!((both.hit_f1 - 2.0 * p * r / (p + r)).abs() < 1e-12);
        // The first twice: 10 of 10.
        assert!((HitFigures::pooled(&v, [0, 0]).hit_accuracy - 1.0).abs() < 1e-12);
        // Ranked matched-first, the first video alone has AP 1.
        assert!((HitFigures::pooled(&v, [0]).hit_ap - 1.0).abs() < 1e-12);
    }

    #[test]
    fn intervals_hold_the_figures_and_narrow_with_more_videos() {
        let found = [5, 1, 3, 4, 0, 2, 5, 3];
        let few = intervals(&videos(&found, true), RESAMPLES, 7).unwrap();
        for (v, i) in [
            (few.figures.hit_ap, few.hit_ap),
            (few.figures.hit_accuracy, few.hit_accuracy),
            (few.figures.hit_f1, few.hit_f1),
        ] {
            assert!(i.contains(v), "{v} outside {i:?}");
            assert!(i.high > i.low, "{i:?}");
        }
        // The same videos four times over: the figures stay, the interval halves or so.
        let many: Vec<usize> = found.iter().copied().cycle().take(found.len() * 4).collect();
        let many = intervals(&videos(&many, true), RESAMPLES, 7).unwrap();
        assert!((many.figures.hit_accuracy - few.figures.hit_accuracy).abs() < 1e-12);
        let width = |i: Interval| i.high - i.low;
        assert!(width(many.hit_accuracy) < 0.7 * width(few.hit_accuracy), "{many:?} {few:?}");
        // The same seed draws the same videos.
        assert_eq!(intervals(&videos(&found, true), RESAMPLES, 7), Some(few));
        assert_eq!(intervals(&[], RESAMPLES, 7), None);
    }

    #[test]
    fn paired_draws_tell_a_model_better_on_every_video_from_one_alike() {
        let found = [5, 1, 3, 4, 0, 2, 5, 3];
        let base = videos(&found, true);
        // The same model against itself: no difference in any draw.
        let same = difference_intervals(&base, &base, RESAMPLES, 3).unwrap();
        assert_eq!((same.hit_f1.low, same.hit_f1.high, same.hit_ap.low, same.hit_ap.high), (0.0, 0.0, 0.0, 0.0));
        // One more contact found on every video: better in every draw, although the videos
        // differ far more among themselves than the two models do.
        let better = videos(&found.map(|k| (k + 1).min(5)), true);
        let d = difference_intervals(&better, &base, RESAMPLES, 3).unwrap();
        assert!(d.hit_accuracy.low > 0.0 && d.hit_f1.low > 0.0, "{d:?}");
        let apart = (intervals(&better, RESAMPLES, 3).unwrap(), intervals(&base, RESAMPLES, 3).unwrap());
        assert!(apart.0.hit_accuracy.low < apart.1.hit_accuracy.high, "unpaired intervals overlap: {apart:?}");
        // Ranking its unmatched candidates first costs AP in every draw.
        let unsure = difference_intervals(&videos(&found, false), &base, RESAMPLES, 3).unwrap();
        assert!(unsure.hit_ap.high < 0.0, "{unsure:?}");
        assert_eq!(difference_intervals(&base, &base[1..], RESAMPLES, 3), None);
    }
}
