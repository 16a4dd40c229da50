//! Hits from a model's contact head: the peaks of its per-step contact probability.
//!
//! A peak is a step at least as likely as the two steps on either side and likelier than the one
//! before (a plateau counts once, at its first step); peaks closer than `min_gap_s` keep the
//! likelier. Its time is refined between steps by a parabola through the log-probabilities of the
//! peak and its neighbours, which is exact for the Gaussian bump the head is trained to give
//! around a contact.

use serde::{Deserialize, Serialize};

use crate::sound::Hit;

/// Contact detection settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactParams {
    /// The smallest peak probability that is a hit. Training moves the head's bias so that 0.5
    /// is the highest threshold within 0.01 of the best F1 on its validation videos.
    pub threshold: f32,
    /// Peaks closer than this keep only the likelier, seconds.
    pub min_gap_s: f64,
}

impl Default for ContactParams {
    fn default() -> Self {
        Self { threshold: 0.5, min_gap_s: 0.03 }
    }
}

/// Every peak of `probability` (one value per step at `rate_hz`, step `i` at `i / rate_hz` s), in
/// time order, with its probability as the strength: the detector at every threshold at once.
#[must_use]
pub fn contact_candidates(probability: &[f32], rate_hz: f64, min_gap_s: f64) -> Vec<Hit> {
    let p = probability;
    let n = p.len();
    let mut peaks: Vec<usize> = Vec::new();
    for i in 0..n {
        let at = |k: Option<usize>| k.and_then(|k| p.get(k)).copied().unwrap_or(f32::NEG_INFINITY);
        // At the first step there is no rise to see: it must stand above the next.
        let rises = if i == 0 { p[i] > at(Some(1)) } else { p[i] > p[i - 1] };
        let is_peak = rises && p[i] >= at(Some(i + 1)) && p[i] >= at(i.checked_sub(2)) && p[i] >= at(Some(i + 2));
        if !is_peak {
            continue;
        }
        match peaks.last_mut() {
            Some(j) if (i - *j) as f64 / rate_hz < min_gap_s => {
                if p[i] > p[*j] {
                    *j = i;
                }
            }
            _ => peaks.push(i),
        }
    }
    peaks
        .into_iter()
        .map(|i| {
            let offset = match (i.checked_sub(1).map(|k| p[k]), p.get(i + 1)) {
                (Some(a), Some(&c)) => {
                    let (a, b, c) = (ln(a), ln(p[i]), ln(c));
                    let curvature = a - 2.0 * b + c;
                    if curvature < 0.0 { (0.5 * (a - c) / curvature).clamp(-0.5, 0.5) } else { 0.0 }
                }
                _ => 0.0,
            };
            Hit { time_s: (i as f64 + offset) / rate_hz, strength: p[i] }
        })
        .collect()
}

fn ln(p: f32) -> f64 {
    f64::from(p.max(1e-9)).ln()
}

/// The hits: peaks of `probability` that reach the threshold, in time order.
#[must_use]
pub fn detect_contacts(probability: &[f32], rate_hz: f64, params: &ContactParams) -> Vec<Hit> {
    let mut hits = contact_candidates(probability, rate_hz, params.min_gap_s);
    hits.retain(|h| h.strength >= params.threshold);
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Contact;
    use crate::predict::dataset::contact_target;

    fn contact(time_s: f64) -> Contact {
        Contact { time_s, material: None, action: None, reaction: None }
    }

    #[test]
    fn peaks_of_the_training_target_give_back_the_contacts_to_the_millisecond() {
        let times = [0.0, 0.5012, 0.5567, 1.2345, 2.0];
        let contacts: Vec<Contact> = times.iter().map(|&t| contact(t)).collect();
        let target = contact_target(&contacts, 200, 90.0);
        let hits = detect_contacts(&target, 90.0, &ContactParams::default());
        let found: Vec<f64> = hits.iter().map(|h| h.time_s).collect();
        assert_eq!(found.len(), times.len(), "{found:?}");
        for (f, t) in found.iter().zip(&times) {
            assert!((f - t).abs() < 1e-3, "found {f} for {t}");
        }
    }

    #[test]
    fn weak_peaks_are_candidates_but_not_hits_and_close_peaks_keep_the_likelier() {
        let mut p = vec![0.01f32; 100];
        p[20] = 0.9;
        p[50] = 0.3;
        p[80] = 0.6;
        p[83] = 0.7; // 33 ms after the peak at 80: with a 50 ms gap only the likelier stays
        let candidates = contact_candidates(&p, 90.0, 0.05);
        let steps: Vec<usize> = candidates.iter().map(|h| (h.time_s * 90.0).round() as usize).collect();
        assert_eq!(steps, vec![20, 50, 83]);
        let hits = detect_contacts(&p, 90.0, &ContactParams { threshold: 0.5, min_gap_s: 0.05 });
        assert_eq!(hits.len(), 2);
        assert!((hits[1].strength - 0.7).abs() < 1e-6);
        assert!(detect_contacts(&[], 90.0, &ContactParams::default()).is_empty());
        assert!(detect_contacts(&[0.2; 50], 90.0, &ContactParams::default()).is_empty());
    }
}
