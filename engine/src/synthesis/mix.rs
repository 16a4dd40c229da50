//! Mixing clips into a track: each placed so its onset falls on its hit's sample, faded in over
//! its pre-roll and out over its last milliseconds so no cut clicks, scaled by its gain, summed;
//! then a look-ahead limiter keeps every sample under the ceiling without clicks of its own.

use std::collections::VecDeque;

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
    place_clip_in_channel(track, 1, 0, clip, onset, at, gain);
}

/// [`place_clip`] into channel `channel` of an interleaved `track` of `channels`, `at` counted
/// in frames.
pub(crate) fn place_clip_in_channel(
    track: &mut [f32],
    channels: usize,
    channel: usize,
    clip: &[f32],
    onset: usize,
    at: i64,
    gain: f32,
) {
    let fade_in = onset.max(1);
    let fade_out = FADE_OUT.min(clip.len() / 4).max(1);
    let start = at - onset as i64;
    for (k, &s) in clip.iter().enumerate() {
        let Ok(i) = usize::try_from(start + k as i64) else { continue };
        let Some(out) = track.get_mut(i * channels + channel) else { break };
        let rise = if k < onset { k as f32 / fade_in as f32 } else { 1.0 };
        let fall = ((clip.len() - k) as f32 / fade_out as f32).min(1.0);
        *out += s * gain * rise * fall;
    }
}

/// Limits `track` in place to [`CEILING`]: the gain falls smoothly over the 5 ms before a peak
/// (look-ahead) and recovers over about 80 ms. A track already under the ceiling is unchanged.
pub fn limit(track: &mut [f32], rate: u32) {
    limit_frames(track, 1, rate);
    if track.iter().any(|s| s.abs() > CEILING) {
        track.iter_mut().for_each(|s| *s = s.clamp(-CEILING, CEILING));
    }
}

/// Scales every frame of an interleaved `track` of `channels` by the limiter's gain for it, read
/// from the frame's loudest channel, in place and in one pass: memory does not grow with the
/// track. Returns whether the limiter had anything to do.
fn limit_frames(track: &mut [f32], channels: usize, rate: u32) -> bool {
    let channels = channels.max(1);
    if track.chunks_exact(channels).all(|f| loudest(f) <= CEILING) {
        return false;
    }
    let n = track.len() / channels;
    let mut pass = LimiterPass::new(n, rate);
    for k in 0..n {
        let control = loudest(&track[k * channels..(k + 1) * channels]);
        // The gain comes 2 attack spans after the frame it is for: that frame was read already.
        if let Some((i, g)) = pass.push(control) {
            track[i * channels..(i + 1) * channels].iter_mut().for_each(|s| *s *= g);
        }
    }
    for (i, g) in pass.finish() {
        track[i * channels..(i + 1) * channels].iter_mut().for_each(|s| *s *= g);
    }
    true
}

/// A frame's loudest channel: what the limiter reads, so that it never moves a sound's place.
pub(super) fn loudest(frame: &[f32]) -> f32 {
    frame.iter().fold(0.0f32, |m, s| m.max(s.abs()))
}

/// The look-ahead limiter as one pass over a control signal (each frame's magnitude). Frame `i`
/// needs the gain `CEILING / |x|` wherever it is over the ceiling; its floor is the smallest
/// need within the attack on either side, and its gain the floor's mean over the same span
/// (which covers the frame the floor protects, so it never exceeds that need), or less while
/// recovering towards 1 at the release rate. Both spans end an attack after the frame, so a
/// frame's gain is known 2 attacks after it: the pass holds about 4 attacks of values, whatever
/// the length.
pub(super) struct LimiterPass {
    n: usize,
    release: f32,
    /// Needs not yet out of every floor window, increasing from the front: (frame, need).
    needs: VecDeque<(usize, f32)>,
    pushed: usize,
    /// Floors from frame `sum_lo` on; the first `sum_hi - sum_lo` are in `sum`.
    floors: VecDeque<f32>,
    sum_lo: usize,
    sum_hi: usize,
    sum: f64,
    gain: f32,
    next_gain: usize,
}

impl LimiterPass {
    pub(super) fn new(n: usize, rate: u32) -> Self {
        Self {
            n,
            release: 1.0 - (-1.0 / (LIMITER_RELEASE_S * rate as f32)).exp(),
            needs: VecDeque::new(),
            pushed: 0,
            floors: VecDeque::new(),
            sum_lo: 0,
            sum_hi: 0,
            sum: 0.0,
            gain: 1.0,
            next_gain: 0,
        }
    }

    /// Takes the next frame's control value; returns the gain of the frame 2 attacks before it
    /// (frame and gain) once that is known.
    pub(super) fn push(&mut self, control: f32) -> Option<(usize, f32)> {
        let k = self.pushed;
        self.pushed += 1;
        let need = if control > CEILING { CEILING / control } else { 1.0 };
        while self.needs.back().is_some_and(|&(_, v)| v >= need) {
            self.needs.pop_back();
        }
        self.needs.push_back((k, need));
        let floor = k.checked_sub(LIMITER_ATTACK)?;
        self.add_floor(floor);
        let frame = floor.checked_sub(LIMITER_ATTACK)?;
        Some((frame, self.gain_of(frame)))
    }

    /// The gains not yet returned, once every frame was pushed.
    pub(super) fn finish(mut self) -> Vec<(usize, f32)> {
        for j in self.sum_lo + self.floors.len()..self.n {
            self.add_floor(j);
        }
        (self.next_gain..self.n).map(|i| (i, self.gain_of(i))).collect()
    }

    /// The floor of frame `j`: every need up to `j + attack` (or the last) has been pushed.
    fn add_floor(&mut self, j: usize) {
        while self.needs.front().is_some_and(|&(i, _)| i + LIMITER_ATTACK < j) {
            self.needs.pop_front();
        }
        self.floors.push_back(self.needs.front().map_or(1.0, |&(_, v)| v));
    }

    /// The gain of frame `i`, the next in order; its floors are all known.
    fn gain_of(&mut self, i: usize) -> f32 {
        let (lo, hi) = (i.saturating_sub(LIMITER_ATTACK), (i + LIMITER_ATTACK + 1).min(self.n));
        while self.sum_hi < hi {
            self.sum += f64::from(self.floors[self.sum_hi - self.sum_lo]);
            self.sum_hi += 1;
        }
        while self.sum_lo < lo {
            self.sum -= f64::from(self.floors.pop_front().unwrap_or(1.0));
            self.sum_lo += 1;
        }
        let smooth = (self.sum / (hi - lo) as f64) as f32;
        self.gain = smooth.min(self.gain + (1.0 - self.gain) * self.release);
        self.next_gain = i + 1;
        self.gain
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The gain per frame that [`limit_frames`] applies to an interleaved `track` of `channels`;
    /// `None` where the track is under the ceiling.
    fn limiter_gain(track: &[f32], channels: usize, rate: u32) -> Option<Vec<f32>> {
        let frames = track.chunks_exact(channels.max(1));
        if frames.clone().all(|f| loudest(f) <= CEILING) {
            return None;
        }
        let mut pass = LimiterPass::new(frames.len(), rate);
        let mut gains = Vec::with_capacity(frames.len());
        gains.extend(frames.filter_map(|f| pass.push(loudest(f)).map(|(_, g)| g)));
        gains.extend(pass.finish().into_iter().map(|(_, g)| g));
        Some(gains)
    }

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

    /// The limiter as first written, with whole-track arrays: the reference the one-pass
    /// limiter must agree with.
    fn reference_gain(track: &[f32], rate: u32) -> Vec<f32> {
        let n = track.len();
        let needed: Vec<f32> = track.iter().map(|s| if s.abs() > CEILING { CEILING / s.abs() } else { 1.0 }).collect();
        let floor: Vec<f32> = (0..n)
            .map(|i| {
                let (lo, hi) = (i.saturating_sub(LIMITER_ATTACK), (i + LIMITER_ATTACK).min(n - 1));
                needed[lo..=hi].iter().copied().fold(f32::INFINITY, f32::min)
            })
            .collect();
        let mut prefix = vec![0.0f64; n + 1];
        for (i, &g) in floor.iter().enumerate() {
            prefix[i + 1] = prefix[i] + f64::from(g);
        }
        let release = 1.0 - (-1.0 / (LIMITER_RELEASE_S * rate as f32)).exp();
        let mut gain = 1.0f32;
        (0..n)
            .map(|i| {
                let (lo, hi) = (i.saturating_sub(LIMITER_ATTACK), (i + LIMITER_ATTACK + 1).min(n));
                let smooth = ((prefix[hi] - prefix[lo]) / (hi - lo) as f64) as f32;
                gain = smooth.min(gain + (1.0 - gain) * release);
                gain
            })
            .collect()
    }

    #[test]
    fn the_one_pass_limiter_agrees_with_the_whole_track_reference() {
        use rand::{RngExt as _, SeedableRng as _};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        // Bursts over the ceiling at random places, near both ends too, and tracks shorter
        // than the look-ahead.
        for n in [1, 7, 300, 481, 20_000] {
            let track: Vec<f32> = (0..n)
                .map(|i| {
                    let loud = i < 30 || i + 30 > n || rng.random_range(0.0..1.0) < 0.01;
                    rng.random_range(-1.0f32..1.0) * if loud { 4.0 } else { 0.5 }
                })
                .collect();
            let want = reference_gain(&track, 48_000);
            let got = limiter_gain(&track, 1, 48_000).unwrap();
            assert_eq!(got.len(), n);
            let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
            assert!(worst < 1e-6, "n {n}: gains differ by {worst}");
            // Applied in place, frame by frame, the same gains.
            let mut stereo: Vec<f32> = track.iter().flat_map(|&s| [s, s * 0.5]).collect();
            assert!(limit_frames(&mut stereo, 2, 48_000));
            for (k, frame) in stereo.chunks_exact(2).enumerate() {
                assert!((frame[0] - track[k] * got[k]).abs() < 1e-6, "frame {k}");
            }
        }
    }
}
