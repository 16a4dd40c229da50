//! The resynthesis against real targets: the error falls, silence stays silent, attacks stay sharp.

use super::bands::{band_envelope, descend};
use super::*;
use crate::sound::cochleagram_of;
use crate::sound::gradient::WholeAnalysis;

/// The cochleagram of a real signal: a decaying knock after silence.
fn knock_target(params: &CochleagramParams) -> Cochleagram {
    let samples: Vec<f32> = (0..48_000)
        .map(|k| {
            let t = k as f32 / 48_000.0;
            if t < 0.2 { 0.0 } else { 0.8 * (-(t - 0.2) * 25.0).exp() * (2.0 * std::f32::consts::PI * 900.0 * t).sin() }
        })
        .collect();
    cochleagram_of(&AudioTrack { rate: 48_000, start_s: 0.0, samples }, params).unwrap()
}

#[test]
fn the_error_falls_and_a_silent_target_gives_silence() {
    let params = CochleagramParams::default();
    let target = knock_target(&params);
    let (track, report) =
        resynthesize(&target, &params, &ResynthParams { iterations: 4, seed: 3, carrier: Carrier::Noise }).unwrap();
    assert_eq!(track.samples.len(), 48_000);
    assert_eq!(report.relative_error.len(), 4);
    assert!(report.relative_error[3] < report.relative_error[0], "{:?}", report.relative_error);

    // Tone carriers get closer, and what is returned is the closest iteration.
    let (tones, report) =
        resynthesize(&target, &params, &ResynthParams { iterations: 4, seed: 3, carrier: Carrier::Tones }).unwrap();
    assert_eq!(tones.samples.len(), 48_000);
    let best = report.relative_error.iter().copied().fold(f64::INFINITY, f64::min);
    let again = cochleagram_of(&tones, &params).unwrap();
    let diff: Vec<f32> = again.data.iter().zip(&target.data).map(|(a, b)| a - b).collect();
    assert!((norm(&diff) / norm(&target.data) - best).abs() < 1e-9);
    assert!(best < 0.3, "{:?}", report.relative_error);

    // The later iterations (scaling the bands by gains) keep bringing the error down.
    assert!(report.relative_error[3] < report.relative_error[1], "{:?}", report.relative_error);

    // A single iteration replaces the envelopes once.
    let (once, report) =
        resynthesize(&target, &params, &ResynthParams { iterations: 1, seed: 3, carrier: Carrier::Tones }).unwrap();
    assert_eq!(report.relative_error.len(), 1);
    assert!(report.relative_error[0] < 1.0 && once.samples.iter().any(|&s| s != 0.0), "{report:?}");

    // Imposing band by band from tones gets closer than modulating the tones directly.
    let (_, modulated) =
        resynthesize(&target, &params, &ResynthParams { iterations: 4, seed: 3, carrier: Carrier::ModulatedTones })
            .unwrap();
    let modulated_best = modulated.relative_error.iter().copied().fold(f64::INFINITY, f64::min);
    eprintln!("knock: tones {best:.4}, modulated tones {modulated_best:.4}");
    assert!(best < modulated_best, "{best} vs {modulated_best}");

    let silent = Cochleagram { start_s: 0.0, rate_hz: 90.0, bands: 42, data: vec![0.0; 42 * 30] };
    let (quiet, report) = resynthesize(&silent, &params, &ResynthParams::default()).unwrap();
    assert!(quiet.samples.iter().all(|&s| s == 0.0));
    assert!(report.relative_error.is_empty());
}

#[test]
fn the_descent_brings_the_audible_steps_closer() {
    let params = CochleagramParams::default();
    let target = knock_target(&params);
    let settings = ResynthParams { iterations: 1, seed: 3, carrier: Carrier::Tones };
    let (start, _) = resynthesize(&target, &params, &settings).unwrap();
    let whole = WholeAnalysis::new(&params, start.samples.len(), target.steps(), DESCENT_SMOOTHING);
    let descended = descend(&whole, &target.data, start.samples.clone());
    // The squared error over the steps and bands above the smoothing level.
    let audible_error = |samples: &[f32]| -> f64 {
        let track = AudioTrack { rate: 48_000, start_s: 0.0, samples: samples.to_vec() };
        let analysed = cochleagram_of(&track, &params).unwrap();
        let loud = DESCENT_SMOOTHING.powf(params.compression) as f32;
        analysed.data.iter().zip(&target.data).filter(|(_, t)| **t > loud).map(|(a, t)| f64::from(a - t).powi(2)).sum()
    };
    let (before, after) = (audible_error(&start.samples), audible_error(&descended));
    eprintln!("audible error before the descent {before:.5}, after {after:.5}");
    assert!(after < 0.6 * before, "{before} -> {after}");
}

#[test]
fn levels_jump_at_an_onset_instead_of_rising_over_the_step() {
    let params = CochleagramParams::default();
    let per_step = 48_000.0 / 90.0;
    // One band: quiet, then an attack decaying by half a step.
    let levels = [1e-4, 1e-4, 1e-4, 1e-1, 5e-2, 2.5e-2];
    let n = (levels.len() as f64 * per_step) as usize;
    let at = |envelope: &[f32], steps: f64| f64::from(envelope[(steps * per_step).round() as usize]);

    // Without an onset, the level rises geometrically from step 2 to step 3.
    let smooth = band_envelope(&levels, 1, 0, &params, n, &[]);
    assert!((at(&smooth, 2.5) - (1e-4_f64 * 1e-1).sqrt()).abs() < 1e-4);

    // An onset late in the interval: quiet until it, then the decay after step 3 extrapolated
    // back (capped at a quarter per step).
    let late = band_envelope(&levels, 1, 0, &params, n, &[2.75]);
    assert!((at(&late, 2.7) - 1e-4).abs() < 1e-6, "{}", at(&late, 2.7));
    assert!((at(&late, 2.8) - 1e-1 * 2f64.powf(0.2)).abs() < 1e-3, "{}", at(&late, 2.8));
    assert!((at(&late, 3.5) - (1e-1_f64 * 5e-2).sqrt()).abs() < 1e-4);

    // An onset early in the interval after step 3: step 3's level moves to it, and the
    // interval before stays quiet.
    let early = band_envelope(&levels, 1, 0, &params, n, &[3.25]);
    assert!((at(&early, 3.0) - 1e-4).abs() < 1e-6, "{}", at(&early, 3.0));
    assert!((at(&early, 3.2) - 1e-4).abs() < 1e-6);
    assert!((at(&early, 3.26) - 1e-1).abs() < 2e-3, "{}", at(&early, 3.26));
    assert!((at(&early, 4.0) - 5e-2).abs() < 1e-3);

    // A band that falls across the onset keeps its geometric course.
    let falling = [1e-1, 1e-2, 1e-3, 1e-4];
    let m = (falling.len() as f64 * per_step) as usize;
    assert_eq!(band_envelope(&falling, 1, 0, &params, m, &[1.75]), band_envelope(&falling, 1, 0, &params, m, &[]));
}
