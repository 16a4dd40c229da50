//! Mixing clips into a track: each placed so its onset falls on its hit's sample, faded in over
//! its pre-roll and out over its last milliseconds so no cut clicks, scaled by its gain, summed;
//! then a look-ahead limiter keeps every sample under the ceiling without clicks of its own.

/// Fade-out at the end of a clip, samples (10 ms at 48 kHz).
const FADE_OUT: usize = 480;
/// Limiter ceiling: -1 dBFS.
pub const CEILING: f32 = 0.891_250_9;
/// Limiter look-ahead and attack, samples (5 ms).
const LIMITER_ATTACK: usize = 240;
/// Limiter release time constant, seconds.
const LIMITER_RELEASE_S: f32 = 0.08;

/// Adds `clip` into `track` with its sample `onset` on `at` (which may lie before 0 or past the end:
/// what falls outside is dropped), scaled by `gain`.
pub fn place_clip(track: &mut [f32], clip: &[f32], onset: usize, at: i64, gain: f32) {
    let fade_in = onset.max(1);
    let fade_out = FADE_OUT.min(clip.len() / 4).max(1);
    let start = at - onset as i64;
    for (k, &s) in clip.iter().enumerate() {
        let Ok(i) = usize::try_from(start + k as i64) else { continue };
        let Some(out) = track.get_mut(i) else { break };
        let rise = if k < onset { k as f32 / fade_in as f32 } else { 1.0 };
        let fall = ((clip.len() - k) as f32 / fade_out as f32).min(1.0);
        *out += s * gain * rise * fall;
    }
}

/// Limits `track` in place to [`CEILING`]: the gain falls smoothly over the 5 ms before a peak
/// (look-ahead) and recovers over about 80 ms. A track already under the ceiling is unchanged.
pub fn limit(track: &mut [f32], rate: u32) {
    if let Some(gain) = limiter_gain(track, rate) {
        for (s, g) in track.iter_mut().zip(gain) {
            *s = (*s * g).clamp(-CEILING, CEILING);
        }
    }
}

/// The gain per sample that [`limit`] applies to `track`; `None` where the track is under the
/// ceiling. Stems multiplied by their mix's gain sum to the limited mix.
#[must_use]
pub fn limiter_gain(track: &[f32], rate: u32) -> Option<Vec<f32>> {
    let peak = track.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    if peak <= CEILING {
        return None;
    }
    let n = track.len();
    let needed: Vec<f32> = track.iter().map(|s| if s.abs() > CEILING { CEILING / s.abs() } else { 1.0 }).collect();
    // The smallest gain needed within the attack on either side, then its moving average over the
    // same span: every average covers the sample it must protect, so it never exceeds that need.
    let floor = sliding_min(&needed, LIMITER_ATTACK);
    let mut prefix = vec![0.0f64; n + 1];
    for (i, &g) in floor.iter().enumerate() {
        prefix[i + 1] = prefix[i] + f64::from(g);
    }
    let release = 1.0 - (-1.0 / (LIMITER_RELEASE_S * rate as f32)).exp();
    let mut gain = 1.0f32;
    Some(
        (0..n)
            .map(|i| {
                let (lo, hi) = (i.saturating_sub(LIMITER_ATTACK), (i + LIMITER_ATTACK + 1).min(n));
                let smooth = ((prefix[hi] - prefix[lo]) / (hi - lo) as f64) as f32;
                gain = smooth.min(gain + (1.0 - gain) * release);
                gain
            })
            .collect(),
    )
}

/// For each `i`, the minimum of `values[i - radius ..= i + radius]` (clipped to the ends).
fn sliding_min(values: &[f32], radius: usize) -> Vec<f32> {
    let n = values.len();
    let mut out = vec![0.0; n];
    let mut window: std::collections::VecDeque<usize> = std::collections::VecDeque::new();
    let mut next = 0;
    for (i, o) in out.iter_mut().enumerate() {
        while next < n && next <= i + radius {
            while window.back().is_some_and(|&b| values[b] >= values[next]) {
                window.pop_back();
            }
            window.push_back(next);
            next += 1;
        }
        while window.front().is_some_and(|&f| f + radius < i) {
            window.pop_front();
        }
        *o = window.front().map_or(1.0, |&f| values[f]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_onset_lands_on_its_sample_and_the_edges_fade() {
        let mut track = vec![0.0f32; 1000];
        let clip = vec![0.5f32; 200];
        place_clip(&mut track, &clip, 10, 300, 2.0);
        // Sample `onset` of the clip is on sample 300, at full gain.
        assert_eq!(track[300], 1.0);
        assert_eq!(track[289], 0.0);
        assert!(track[291] > 0.0 && track[291] < 0.2);
        // The tail fades to (almost) nothing: the last sample is 1/50 of full.
        assert!(track[489] < 0.03 && track[489] > 0.0);
        assert_eq!(track[490], 0.0);
    }

    #[test]
    fn clips_past_either_end_are_cut_not_wrapped() {
        let mut track = vec![0.0f32; 100];
        place_clip(&mut track, &[1.0; 50], 5, -20, 1.0);
        place_clip(&mut track, &[1.0; 50], 5, 90, 1.0);
        assert!(track[0] > 0.0 && track[40] == 0.0 && track[99] > 0.0);
    }

    #[test]
    fn the_limiter_keeps_peaks_under_the_ceiling_and_leaves_quiet_tracks_alone() {
        let rate = 48_000;
        let mut quiet: Vec<f32> = (0..4800).map(|i| 0.5 * (i as f32 * 0.05).sin()).collect();
        let before = quiet.clone();
        limit(&mut quiet, rate);
        assert_eq!(quiet, before);

        let original: Vec<f32> =
            (0..48_000).map(|i| (i as f32 * 0.05).sin() * if i > 20_000 { 3.0 } else { 0.5 }).collect();
        let mut loud = original.clone();
        limit(&mut loud, rate);
        assert!(loud.iter().all(|s| s.abs() <= CEILING));
        // Well before the loud part, nothing changed.
        assert_eq!(loud[10_000], original[10_000]);
        // The gain moves smoothly, never by more than 1% from one sample to the next.
        let gains: Vec<(usize, f32)> = original
            .iter()
            .zip(&loud)
            .enumerate()
            .filter(|(_, (o, _))| o.abs() > 0.05)
            .map(|(i, (o, l))| (i, l / o))
            .collect();
        for w in gains.windows(2) {
            if w[1].0 - w[0].0 <= 2 {
                assert!((w[1].1 - w[0].1).abs() < 0.01, "gain jumps at {}: {} -> {}", w[1].0, w[0].1, w[1].1);
            }
        }
    }

    #[test]
    fn sliding_min_matches_the_definition() {
        let v = [5.0, 3.0, 4.0, 1.0, 6.0, 7.0, 2.0, 8.0];
        let got = sliding_min(&v, 2);
        for (i, g) in got.iter().enumerate() {
            let lo = i.saturating_sub(2);
            let hi = (i + 2).min(v.len() - 1);
            let want = v[lo..=hi].iter().copied().fold(f32::INFINITY, f32::min);
            assert_eq!(*g, want, "{i}");
        }
    }
}
