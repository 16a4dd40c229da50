//! The modulated-tones carrier, the parametric track `foley synth` makes: each band's sinusoid
//! multiplied by its envelope, without band splitting or descent.

use rustfft::num_complex::Complex;

use crate::sound::SoundError;

use super::bands::band_envelope;
use super::{Fit, ResynthParams, noise};

/// Envelopes multiplied onto sinusoidal carriers, with the levels corrected after each analysis.
pub(super) fn modulate_tones(fit: &mut Fit<'_>, settings: &ResynthParams, n: usize) -> Result<(), SoundError> {
    let sr = f64::from(fit.params.sample_rate);
    let centres = fit.params.centres_hz();
    let phases = noise(centres.len(), settings.seed);
    let mut signal = vec![0.0_f32; n];
    for _ in 0..settings.iterations {
        // Without band splitting, a jump at an onset spreads into the neighbouring bands, so the
        // envelopes stay geometric between steps here.
        signal.fill(0.0);
        for (b, (centre, phase)) in centres.iter().zip(&phases).enumerate() {
            let envelope = band_envelope(&fit.imposed, fit.target.bands, b, fit.params, n, &[]);
            let mut carrier = Phasor::new(*centre, sr, *phase);
            for (x, e) in signal.iter_mut().zip(&envelope) {
                *x += e * carrier.next();
            }
        }
        // Half-steps either way keep neighbouring steps from overshooting each other.
        let analysed = fit.analyse(&signal);
        fit.record(&signal, &analysed);
        fit.correct_levels(&analysed, 0.5, 0.5);
    }
    Ok(())
}

/// A sinusoid at `hz`, sample by sample: a rotating phasor, one complex multiply per sample
/// instead of a cosine.
struct Phasor {
    step: Complex<f64>,
    now: Complex<f64>,
}

impl Phasor {
    fn new(hz: f64, sample_rate: f64, phase_seed: f32) -> Self {
        Self {
            step: Complex::from_polar(1.0, 2.0 * std::f64::consts::PI * hz / sample_rate),
            now: Complex::from_polar(1.0, f64::from(phase_seed) * 40.0),
        }
    }

    fn next(&mut self) -> f32 {
        let value = self.now.re as f32;
        self.now *= self.step;
        value
    }
}

/// A unit sinusoid at each of `centres_hz`, summed, with phases drawn from `seed`.
pub(super) fn tones(n: usize, centres_hz: &[f64], sample_rate: f64, seed: u64) -> Vec<f32> {
    let phases = noise(centres_hz.len(), seed);
    let mut signal = vec![0.0_f32; n];
    for (centre, phase) in centres_hz.iter().zip(&phases) {
        let mut carrier = Phasor::new(*centre, sample_rate, *phase);
        for x in &mut signal {
            *x += carrier.next();
        }
    }
    signal
}
