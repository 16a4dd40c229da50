//! Hit (onset) detection on a cochleagram, real or predicted.
//!
//! The onset strength of step `i` is the summed rise of the compressed band levels from step
//! `i-1` (positive differences only). A hit is a local maximum of that strength that stands above
//! a running median by a margin: the larger of a fixed floor (so silence and very quiet noise give
//! nothing) and a multiple of the strength's median absolute deviation (so a steady noise floor
//! does not either). Peaks closer than `min_gap_s` keep the stronger one. The time is refined
//! between steps by a parabola through the peak and its neighbours; since the strength at step
//! `i` measures the rise between steps `i-1` and `i`, it is centred half a step earlier.
//!
//! The steepest rise of the smoothed, compressed envelope comes a few milliseconds before the
//! physical onset: the +-1/90 s averaging window starts rising that much earlier, and
//! compression steepens the foot of the rise. [`ONSET_LAG_S`] moves the estimate back by the
//! median of that lead, measured on exponentially decaying noise bursts with decay times of 5,
//! 20 and 80 ms (the range of impacts), whose onsets are known to the sample (the test
//! `onset_times_of_synthetic_bursts` below measures it).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Cochleagram, SoundError};

/// How far the steepest rise of the cochleagram leads the physical onset of an impact.
pub const ONSET_LAG_S: f64 = 0.006;

/// One detected hit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// Time on the video's timeline, seconds.
    pub time_s: f64,
    /// Onset strength: the summed rise of the compressed band levels at the hit.
    pub strength: f32,
}

/// Hit detection settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HitParams {
    /// The smallest onset strength that can be a hit.
    pub min_strength: f32,
    /// How many median absolute deviations above the running median a hit must rise.
    pub mad_factor: f32,
    /// Half-width of the running median, seconds.
    pub median_window_s: f64,
    /// Hits closer than this keep only the stronger, seconds.
    pub min_gap_s: f64,
}

impl Default for HitParams {
    fn default() -> Self {
        Self { min_strength: 0.25, mad_factor: 8.0, median_window_s: 0.25, min_gap_s: 0.03 }
    }
}

/// The onset strength of every step. Before step 0 there is no level to rise from, so step 0's
/// strength is how far each band stands above its median over the next quarter second: a sound
/// that starts on its attack (a trimmed recording) has a hit there; a steady background, however
/// it fluctuates, does not.
#[must_use]
pub fn onset_strength(c: &Cochleagram) -> Vec<f32> {
    let mut out = vec![0.0; c.steps()];
    if c.steps() > 1 {
        let horizon = ((0.25 * c.rate_hz).round() as usize).clamp(1, c.steps() - 1);
        out[0] = (0..c.bands)
            .map(|b| {
                let later: Vec<f32> = (1..=horizon).map(|k| c.row(k)[b]).collect();
                (c.row(0)[b] - median(&later)).max(0.0)
            })
            .sum();
    }
    for (i, strength) in out.iter_mut().enumerate().skip(1) {
        *strength = c.row(i).iter().zip(c.row(i - 1)).map(|(now, before)| (now - before).max(0.0)).sum();
    }
    out
}

/// The hits in `c`, in time order.
#[must_use]
pub fn detect_hits(c: &Cochleagram, params: &HitParams) -> Vec<Hit> {
    let strength = onset_strength(c);
    let global_median = median(&strength);
    let mad = median(&strength.iter().map(|s| (s - global_median).abs()).collect::<Vec<_>>());
    let margin = params.min_strength.max(params.mad_factor * 1.4826 * mad);
    peaks(c, &strength, params, margin).into_iter().map(|p| p.hit).collect()
}

/// A peak of the onset strength that could be a hit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HitCandidate {
    pub hit: Hit,
    /// How far the peak rises above its running median: what [`detect_hits`] compares with its
    /// margin, so ranking candidates by it and cutting anywhere gives the detector at that margin.
    pub prominence: f32,
}

/// Every peak of the onset strength that reaches its running median, in time order: the
/// detector's hits at every margin at once, for a precision-recall curve. Peaks closer than
/// `min_gap_s` keep the stronger one, as in [`detect_hits`].
#[must_use]
pub fn hit_candidates(c: &Cochleagram, params: &HitParams) -> Vec<HitCandidate> {
    peaks(c, &onset_strength(c), params, 0.0)
}

/// The detections of a cochleagram that rank for average precision, as `(time, confidence)`:
/// every hit candidate with its prominence, so the ranking sweeps the detector's margin.
#[must_use]
pub fn candidate_detections(c: &Cochleagram, params: &HitParams) -> Vec<(f64, f32)> {
    hit_candidates(c, params).iter().map(|h| (h.hit.time_s, h.prominence)).collect()
}

fn peaks(c: &Cochleagram, strength: &[f32], params: &HitParams, margin: f32) -> Vec<HitCandidate> {
    let n = strength.len();
    if n < 3 {
        return Vec::new();
    }
    let half = ((params.median_window_s * c.rate_hz).round() as usize).max(1);

    // (step, strength, prominence)
    let mut peaks: Vec<(usize, f32, f32)> = Vec::new();
    for i in 0..n - 1 {
        let s = strength[i];
        // A plateau counts once, at its first step.
        let is_peak = (i == 0 || s > strength[i - 1])
            && s >= strength[i + 1]
            && (i < 2 || s >= strength[i - 2])
            && (i + 2 >= n || s >= strength[i + 2]);
        if !is_peak {
            continue;
        }
        let local = median(&strength[i.saturating_sub(half)..(i + half + 1).min(n)]);
        if s < local + margin {
            continue;
        }
        match peaks.last_mut() {
            Some((j, t, p)) if (i - *j) as f64 / c.rate_hz < params.min_gap_s => {
                if s > *t {
                    (*j, *t, *p) = (i, s, s - local);
                }
            }
            _ => peaks.push((i, s, s - local)),
        }
    }
    peaks
        .into_iter()
        .map(|(i, s, prominence)| {
            let time_s = if i == 0 {
                // The attack is where the signal begins.
                c.start_s
            } else {
                let (a, b, d) = (f64::from(strength[i - 1]), f64::from(s), f64::from(strength[i + 1]));
                let curvature = a - 2.0 * b + d;
                let offset = if curvature < 0.0 { (0.5 * (a - d) / curvature).clamp(-0.5, 0.5) } else { 0.0 };
                c.time_of(i) + (offset - 0.5) / c.rate_hz + ONSET_LAG_S
            };
            HitCandidate { hit: Hit { time_s, strength: s }, prominence }
        })
        .collect()
}

/// When a sound has no sharp attack (a soft footstep in snow), where it begins: the first step
/// whose total level (the sum over bands of the decompressed envelopes) reaches `fraction` of
/// its largest. `None` for silence.
#[must_use]
pub fn level_onset(c: &Cochleagram, compression: f64, fraction: f64) -> Option<f64> {
    let levels: Vec<f64> =
        (0..c.steps()).map(|i| c.row(i).iter().map(|v| f64::from(v.max(0.0)).powf(1.0 / compression)).sum()).collect();
    let peak = levels.iter().copied().fold(0.0, f64::max);
    if peak <= 0.0 {
        return None;
    }
    levels.iter().position(|l| *l >= fraction * peak).map(|i| c.time_of(i))
}

fn median(values: &[f32]) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f32::total_cmp);
    *m
}

/// Writes `time_s,strength`, one hit a row, sorted by time, atomically.
pub fn write_hits_csv(path: &Path, hits: &[Hit]) -> Result<(), SoundError> {
    let mut sorted = hits.to_vec();
    sorted.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
    crate::media::write_atomically(path, |file| {
        let mut w = csv::Writer::from_writer(std::io::BufWriter::new(file));
        w.write_record(["time_s", "strength"])?;
        for h in &sorted {
            w.write_record([format!("{:.6}", h.time_s), format!("{:.6}", h.strength)])?;
        }
        w.flush()
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cochleagram(rows: &[f32]) -> Cochleagram {
        // One band whose level steps up at the given steps.
        Cochleagram { start_s: 1.0, rate_hz: 90.0, bands: 1, data: rows.to_vec() }
    }

    #[test]
    fn steps_up_are_hits_and_flat_or_falling_is_not() {
        let mut rows = vec![0.0; 60];
        for (i, r) in rows.iter_mut().enumerate() {
            *r = if i >= 40 {
                0.8
            } else if i >= 10 {
                0.5 * 0.9_f32.powi(i as i32 - 10)
            } else {
                0.0
            };
        }
        let hits = detect_hits(&cochleagram(&rows), &HitParams::default());
        assert_eq!(hits.len(), 2, "{hits:?}");
        // A jump between steps 9 and 10 is half a step before step 10.
        assert!((hits[0].time_s - (1.0 + 9.5 / 90.0 + ONSET_LAG_S)).abs() < 1e-9, "{hits:?}");
        assert!((hits[1].time_s - (1.0 + 39.5 / 90.0 + ONSET_LAG_S)).abs() < 1e-9, "{hits:?}");
    }

    #[test]
    fn candidates_hold_every_hit_and_cutting_them_at_the_margin_gives_the_hits() {
        // Steps up of decreasing size over a faint ripple: the big ones are hits, the small ones
        // only candidates.
        let mut rows = vec![0.0_f32; 200];
        for (i, r) in rows.iter_mut().enumerate() {
            *r = 0.02 * ((i * 7) % 5) as f32;
        }
        for (k, step) in [20, 60, 100, 140, 180].into_iter().enumerate() {
            for r in &mut rows[step..(step + 10)] {
                *r += 0.8 / 2_f32.powi(k as i32);
            }
        }
        let c = cochleagram(&rows);
        let params = HitParams::default();
        let hits = detect_hits(&c, &params);
        let candidates = hit_candidates(&c, &params);
        assert!(hits.len() >= 2 && candidates.len() > hits.len(), "{hits:?} {candidates:?}");
        // Within one cochleagram the margin is one number: the hits are the most prominent
        // candidates.
        let prominence =
            |h: &Hit| candidates.iter().find(|c| c.hit == *h).expect("every hit is a candidate").prominence;
        let weakest = hits.iter().map(prominence).fold(f32::INFINITY, f32::min);
        assert!(weakest >= params.min_strength);
        let cut: Vec<Hit> = candidates.iter().filter(|c| c.prominence >= weakest).map(|c| c.hit).collect();
        assert_eq!(cut, hits);
    }

    #[test]
    fn silence_and_tiny_wiggles_give_nothing() {
        assert!(detect_hits(&cochleagram(&[0.0; 100]), &HitParams::default()).is_empty());
        let wiggle: Vec<f32> = (0..100).map(|i| 0.01 * ((i * 7) % 5) as f32).collect();
        assert!(detect_hits(&cochleagram(&wiggle), &HitParams::default()).is_empty());
        assert!(detect_hits(&cochleagram(&[]), &HitParams::default()).is_empty());
        // A steady level from the first step is a background, not a hit.
        assert!(detect_hits(&cochleagram(&[0.6; 100]), &HitParams::default()).is_empty());
    }

    #[test]
    fn a_recording_that_starts_on_its_attack_has_a_hit_at_its_start() {
        let rows: Vec<f32> = (0..60).map(|i| 0.9 * 0.85_f32.powi(i)).collect();
        let hits = detect_hits(&cochleagram(&rows), &HitParams::default());
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].time_s, 1.0);
    }

    /// Decaying noise bursts at sample-exact times: every one is found, and within 2 ms (median)
    /// of its onset, for impact-like decay times.
    #[test]
    fn onset_times_of_synthetic_bursts() {
        use crate::media::AudioTrack;
        use crate::sound::{CochleagramParams, cochleagram_of};
        for decay_ms in [5.0_f32, 20.0, 80.0] {
            let mut samples = vec![0.0_f32; 48_000 * 12];
            let mut truth = Vec::new();
            let mut state = 12_345_u64;
            let mut t = 0.5;
            while t < 11.0 {
                let start = (t * 48_000.0) as usize + (state % 97) as usize;
                truth.push(start as f64 / 48_000.0);
                for k in 0..24_000 {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let white = (state >> 40) as f32 / (1_u64 << 24) as f32 - 0.5;
                    samples[start + k] += 0.8 * white * (-(k as f32) / (decay_ms * 48.0)).exp();
                }
                t += 0.61;
            }
            let track = AudioTrack { rate: 48_000, start_s: 0.0, samples };
            let hits =
                detect_hits(&cochleagram_of(&track, &CochleagramParams::default()).unwrap(), &HitParams::default());
            assert_eq!(hits.len(), truth.len(), "decay {decay_ms} ms");
            let mut errors: Vec<f64> = hits.iter().zip(&truth).map(|(h, t)| (h.time_s - t).abs()).collect();
            errors.sort_by(f64::total_cmp);
            let median = errors[errors.len() / 2];
            assert!(median < 0.002, "decay {decay_ms} ms: median error {median}");
        }
    }
}
