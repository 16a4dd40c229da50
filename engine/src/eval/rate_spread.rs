//! Whether hit F1 differs between frame rates by more than chance: with a few dozen test videos
//! at each rate, some spread comes from which videos happen to be at which rate. Dealing the
//! rates out again at random among the same videos (each rate keeping its count of videos) shows
//! the spread that chance alone gives.

use rand::SeedableRng as _;
use rand::seq::SliceRandom as _;
use serde::Serialize;

use super::track_scores::f1;

/// Hit counts of one test video.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    contacts: usize,
    placed: usize,
    matched: usize,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Self) {
        self.contacts += o.contacts;
        self.placed += o.placed;
        self.matched += o.matched;
    }
}

/// The spread of hit F1 across frame rates, beside the spreads of random deals.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SpreadScores {
    /// Highest less lowest F1 of the rates with contacts; `None` with fewer than two such rates.
    pub spread: Option<f64>,
    /// How many random deals were made.
    pub deals: usize,
    /// The median and 95th percentile of the deals' spreads.
    pub chance_median: Option<f64>,
    pub chance_p95: Option<f64>,
    /// The share of deals (counting the real one) with a spread at least the real one's: small
    /// where the rates truly differ.
    pub p_value: Option<f64>,
}

/// Collects each test video's frame rate and hit counts.
#[derive(Debug, Clone, Default)]
pub struct RateSpread {
    rates: Vec<String>,
    counts: Vec<Counts>,
}

impl RateSpread {
    /// Counts one video at frame rate `rate`: its contacts, the hits placed and those matched.
    pub fn add(&mut self, rate: &str, contacts: usize, placed: usize, matched: usize) {
        self.rates.push(rate.to_owned());
        self.counts.push(Counts { contacts, placed, matched });
    }

    /// The real spread and `deals` random ones, seeded.
    #[must_use]
    pub fn scores(&self, deals: usize, seed: u64) -> SpreadScores {
        let Some(real) = spread(&self.rates, &self.counts) else {
            return SpreadScores::default();
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut rates = self.rates.clone();
        let mut chance: Vec<f64> = (0..deals)
            .filter_map(|_| {
                rates.shuffle(&mut rng);
                spread(&rates, &self.counts)
            })
            .collect();
        chance.sort_by(f64::total_cmp);
        let quantile = |q: f64| (!chance.is_empty()).then(|| chance[((chance.len() - 1) as f64 * q).round() as usize]);
        let at_least = chance.iter().filter(|&&s| s >= real).count();
        SpreadScores {
            spread: Some(real),
            deals: chance.len(),
            chance_median: quantile(0.5),
            chance_p95: quantile(0.95),
            p_value: Some((1 + at_least) as f64 / (1 + chance.len()) as f64),
        }
    }
}

/// Highest less lowest F1 over the rates with contacts, F1 counted as `TrackScorer` counts it.
fn spread(rates: &[String], counts: &[Counts]) -> Option<f64> {
    let mut by_rate: std::collections::BTreeMap<&str, Counts> = std::collections::BTreeMap::new();
    for (rate, &c) in rates.iter().zip(counts) {
        *by_rate.entry(rate).or_default() += c;
    }
    let f1s: Vec<f64> = by_rate
        .values()
        .filter(|c| c.contacts > 0)
        .map(|c| f1(c.matched as f64 / c.placed.max(1) as f64, c.matched as f64 / c.contacts as f64))
        .collect();
    (f1s.len() >= 2).then(|| {
        let hi = f1s.iter().copied().fold(f64::MIN, f64::max);
        let lo = f1s.iter().copied().fold(f64::MAX, f64::min);
        hi - lo
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spread_is_the_gap_between_the_best_and_worst_rate() {
        let mut s = RateSpread::default();
        // 24 fps: 8 of 10 contacts found with 10 hits (F1 0.8); 60 fps: 5 of 10 with 5 (F1 0.667);
        // a video without contacts counts its hits but gives its rate no F1 of its own.
        s.add("24", 10, 10, 8);
        s.add("60", 10, 5, 5);
        s.add("30", 0, 3, 0);
        let scores = s.scores(0, 1);
        assert!((scores.spread.unwrap() - (0.8 - 2.0 / 3.0)).abs() < 1e-12, "{scores:?}");
        assert_eq!((scores.deals, scores.chance_median, scores.p_value), (0, None, Some(1.0)));
        let mut one = RateSpread::default();
        one.add("24", 4, 4, 4);
        assert_eq!(one.scores(100, 1), SpreadScores::default());
    }

    #[test]
    fn rates_that_truly_differ_stand_out_from_random_deals_and_alike_ones_do_not() {
        // 40 videos at each of two rates: every contact found at one, half of them at the other.
        let mut apart = RateSpread::default();
        let mut alike = RateSpread::default();
        for k in 0..40 {
            apart.add("25", 4, 4, 4);
            apart.add("50", 4, 2, 2);
            // Alike: the same mix of good and bad videos at both rates.
            let (placed, matched) = if k % 2 == 0 { (4, 4) } else { (2, 2) };
            alike.add("25", 4, placed, matched);
            alike.add("50", 4, placed, matched);
        }
        let apart = apart.scores(500, 7);
        assert_eq!(apart.deals, 500);
        assert!(apart.spread.unwrap() > 0.3 && apart.p_value.unwrap() < 0.01, "{apart:?}");
        assert!(apart.chance_p95.unwrap() < apart.spread.unwrap(), "{apart:?}");
        let alike = alike.scores(500, 7);
        assert!(alike.spread.unwrap() < 1e-12 && alike.p_value.unwrap() > 0.99, "{alike:?}");
        assert!(alike.chance_median.unwrap() > 0.0, "{alike:?}");
        // The same seed deals the same.
        assert_eq!(apart, {
            let mut again = RateSpread::default();
            for _ in 0..40 {
                again.add("25", 4, 4, 4);
                again.add("50", 4, 2, 2);
            }
            again.scores(500, 7)
        });
    }
}
