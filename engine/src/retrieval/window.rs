//! Hit-centred cochleagram windows: 45 steps x all bands at 90 Hz with the hit on step 22, the
//! shape of the features released with the Greatest Hits dataset. The windows are what retrieval
//! compares, and their level after the hit is what the gain of a placed clip is matched to.

use crate::sound::Cochleagram;

/// Steps in a window.
pub const WINDOW_STEPS: usize = 45;
/// The step of a window the hit is on.
pub const HIT_STEP: usize = 22;
/// Steps from the hit over which a window's loudness is measured (about 0.1 s).
const LOUDNESS_STEPS: usize = 9;

/// The window of `c` around the hit at `time_s` (`WINDOW_STEPS * c.bands` values). Steps before
/// the first or after the last repeat the edge step, so a hit near either end compares by what
/// is there, not by an invented silence.
#[must_use]
pub fn hit_window(c: &Cochleagram, time_s: f64) -> Vec<f32> {
    let centre = ((time_s - c.start_s) * c.rate_hz).round() as i64;
    let last = c.steps() as i64 - 1;
    let mut out = Vec::with_capacity(WINDOW_STEPS * c.bands);
    for k in 0..WINDOW_STEPS as i64 {
        if last < 0 {
            out.extend(std::iter::repeat_n(0.0, c.bands));
            continue;
        }
        let step = (centre + k - HIT_STEP as i64).clamp(0, last) as usize;
        out.extend_from_slice(c.row(step));
    }
    out
}

/// The root-mean-square envelope amplitude of the ~0.1 s from the hit, undoing the cochleagram's
/// compression: proportional to the sound's amplitude, so the ratio of two windows' loudness is the
/// gain that makes one as loud as the other.
#[must_use]
pub fn loudness(window: &[f32], bands: usize, compression: f64) -> f32 {
    let inverse = 1.0 / compression;
    let rows = &window[HIT_STEP * bands..(HIT_STEP + LOUDNESS_STEPS) * bands];
    let power: f64 = rows.iter().map(|&v| f64::from(v.max(0.0)).powf(inverse).powi(2)).sum();
    (power / rows.len() as f64).sqrt() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(steps: usize, bands: usize) -> Cochleagram {
        let data = (0..steps).flat_map(|i| std::iter::repeat_n(i as f32, bands)).collect();
        Cochleagram { start_s: 1.0, rate_hz: 90.0, bands, data }
    }

    #[test]
    fn the_hit_lands_on_step_22_and_edges_repeat() {
        let c = ramp(100, 3);
        // 1.5 s is step 45 of a cochleagram starting at 1 s.
        let w = hit_window(&c, 1.5);
        assert_eq!(w.len(), WINDOW_STEPS * 3);
        assert_eq!(w[HIT_STEP * 3], 45.0);
        assert_eq!(w[0], 23.0);
        let early = hit_window(&c, 1.0);
        assert_eq!(&early[..3], &[0.0; 3]);
        assert_eq!(early[HIT_STEP * 3], 0.0);
        assert_eq!(early[(HIT_STEP + 1) * 3], 1.0);
        let late = hit_window(&c, 2.1);
        assert_eq!(late[(WINDOW_STEPS - 1) * 3], 99.0);
    }

    #[test]
    fn loudness_scales_with_amplitude() {
        let bands = 4;
        let quiet: Vec<f32> = vec![0.1_f32.powf(0.3); WINDOW_STEPS * bands];
        let loud: Vec<f32> = vec![0.4_f32.powf(0.3); WINDOW_STEPS * bands];
        let ratio = loudness(&loud, bands, 0.3) / loudness(&quiet, bands, 0.3);
        assert!((ratio - 4.0).abs() < 1e-3, "{ratio}");
    }
}
