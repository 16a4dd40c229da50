//! The cochleagram of a whole signal together with the gradient of its squared distance from a
//! target: what the resynthesis's refinement descends.
//!
//! The analysis is [`CochleagramAnalyzer`](super::CochleagramAnalyzer)'s (each band's analytic
//! signal from its own FFT bins at a reduced rate, its magnitude averaged with Hann weights over
//! +-1/90 s around each step, compressed), done in one FFT over the whole zero-padded signal
//! rather than in blocks, so that it can be differentiated exactly: the gradient runs through the
//! adjoint of each stage in reverse order. Only the filters' sampling on a longer FFT differs from
//! the analyser's, so its steps agree with the analyser's to a small fraction of a percent.

use std::sync::Arc;

use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

use super::CochleagramParams;

/// The finest spacing, in input samples, at which a band's envelope is sampled for the averaging,
/// as in the analyser.
const MAX_SPACING: usize = 32;

/// One band: its gains on the whole signal's FFT bins and its reduced-rate transforms.
struct Band {
    first_bin: usize,
    /// Filter gains with the analytic signal's factor 2 (1 at DC and Nyquist) folded in.
    gains: Vec<f32>,
    /// The reduced FFT length; its samples are `spacing` input samples apart.
    len: usize,
    spacing: usize,
    forward: Arc<dyn Fft<f32>>,
    inverse: Arc<dyn Fft<f32>>,
}

/// The analysis of signals of one length, `n` samples, planned once and run many times.
pub(super) struct WholeAnalysis {
    n: usize,
    /// Zeros before the signal in the FFT buffer (a multiple of every band's spacing).
    pad: usize,
    len: usize,
    steps: usize,
    samples_per_step: f64,
    compression: f64,
    /// Added to every level (the target's and the signal's) before the compression in the loss.
    smoothing: f64,
    forward: Arc<dyn Fft<f32>>,
    inverse: Arc<dyn Fft<f32>>,
    bands: Vec<Band>,
}

impl WholeAnalysis {
    /// Plans the analysis of `n` samples into `steps` steps. The loss compresses `level +
    /// smoothing` rather than the level: the compression's slope grows without bound toward
    /// silence, so without it the loss is so sharply curved at inaudible levels that a step
    /// which improves everything audible is refused for what it does there.
    pub(super) fn new(params: &CochleagramParams, n: usize, steps: usize, smoothing: f64) -> Self {
        let sr = f64::from(params.sample_rate);
        // Room on both sides for the filters' impulse responses and the averaging window, so the
        // circular FFT does not wrap the ends onto each other.
        let reach = ((super::filterbank::IMPULSE_RESPONSE_HALF_S + 0.05) * sr) as usize;
        let pad = reach.div_ceil(MAX_SPACING) * MAX_SPACING;
        let len = (n + 2 * pad).next_power_of_two().max(MAX_SPACING * 64);
        let filterbank = params.filterbank(len);
        let mut planner = FftPlanner::<f32>::new();
        let bands = filterbank
            .bands
            .iter()
            .map(|band| {
                let size = (2 * band.gains.len()).next_power_of_two().clamp(len / MAX_SPACING, len);
                Band {
                    first_bin: band.first_bin,
                    gains: band.analytic_gains(len),
                    len: size,
                    spacing: len / size,
                    forward: planner.plan_fft_forward(size),
                    inverse: planner.plan_fft_inverse(size),
                }
            })
            .collect();
        Self {
            n,
            pad,
            len,
            steps,
            samples_per_step: sr / params.step_rate_hz,
            compression: params.compression,
            smoothing,
            forward: planner.plan_fft_forward(len),
            inverse: planner.plan_fft_inverse(len),
            bands,
        }
    }

    /// The cochleagram of `signal` (`steps x bands`, row-major).
    #[cfg(test)]
    pub(super) fn analyse(&self, signal: &[f32]) -> Vec<f32> {
        let mut cochleagram = vec![0.0; self.steps * self.bands.len()];
        let spectrum = self.spectrum(signal);
        let mut buffer = vec![Complex::default(); self.bands.iter().map(|b| b.len).max().unwrap_or(0)];
        for b in 0..self.bands.len() {
            let envelope = self.band_envelope(b, &spectrum, &mut buffer);
            for (i, value) in self.step_levels(b, &envelope).into_iter().enumerate() {
                cochleagram[i * self.bands.len() + b] = value.powf(self.compression) as f32;
            }
        }
        cochleagram
    }

    /// `0.5 * ||C(signal) - target||^2` over all steps and bands of the compressed cochleagram
    /// (with the smoothing, see [`new`](Self::new)); its gradient with respect to each sample
    /// goes into `gradient`.
    pub(super) fn loss_and_gradient(&self, signal: &[f32], target: &[f32], gradient: &mut [f32]) -> f64 {
        // Without smoothing, the slope at a silent step would be infinite.
        debug_assert!(self.smoothing > 0.0, "the gradient needs a positive smoothing level");
        debug_assert_eq!(target.len(), self.steps * self.bands.len());
        let spectrum = self.spectrum(signal);
        let bands = self.bands.len();
        // The bands hold only non-negative frequencies, so each share's gradient does too.
        let half = self.len / 2 + 1;
        let longest = self.bands.iter().map(|b| b.len).max().unwrap_or(0);
        let shares = super::workers::run_shares("cochleagram-gradient", |w, workers| {
            let mut spectrum_gradient = vec![Complex::<f32>::default(); half];
            let mut buffer = vec![Complex::default(); longest];
            let mut loss = 0.0;
            for b in (w..bands).step_by(workers) {
                loss += self.band_backward(b, &spectrum, target, &mut buffer, &mut spectrum_gradient);
            }
            (loss, spectrum_gradient)
        });
        let mut loss = 0.0;
        let mut spectrum_gradient = vec![Complex::<f32>::default(); self.len];
        for (part_loss, part) in shares {
            loss += part_loss;
            spectrum_gradient.iter_mut().zip(&part).for_each(|(x, y)| *x += y);
        }
        // The spectrum is the forward DFT of the real padded signal, whose adjoint (for a real
        // input) is the real part of the unnormalised inverse DFT.
        self.inverse.process(&mut spectrum_gradient);
        for (g, s) in gradient.iter_mut().zip(&spectrum_gradient[self.pad..self.pad + self.n]) {
            *g = s.re;
        }
        loss
    }

    /// The DFT of the zero-padded signal.
    fn spectrum(&self, signal: &[f32]) -> Vec<Complex<f32>> {
        let mut spectrum = vec![Complex::default(); self.len];
        for (s, x) in spectrum[self.pad..self.pad + self.n].iter_mut().zip(signal) {
            s.re = *x;
        }
        self.forward.process(&mut spectrum);
        spectrum
    }

    /// Band `b`'s analytic signal at its reduced rate, left in `buffer` (times the DFT length),
    /// and its magnitude.
    fn band_envelope(&self, b: usize, spectrum: &[Complex<f32>], buffer: &mut [Complex<f32>]) -> Vec<f32> {
        let band = &self.bands[b];
        let buffer = &mut buffer[..band.len];
        buffer.fill(Complex::default());
        for (i, g) in band.gains.iter().enumerate() {
            buffer[i] = spectrum[band.first_bin + i] * *g;
        }
        band.inverse.process(buffer);
        let scale = 1.0 / self.len as f32;
        buffer.iter().map(|c| c.norm() * scale).collect()
    }

    /// The envelope samples that step `i` averages and their Hann weights, normalised to sum to
    /// one, counting only samples inside the signal.
    fn step_weights(&self, band: &Band, i: usize, weights: &mut Vec<(usize, f64)>) {
        weights.clear();
        let half = self.samples_per_step;
        let centre = i as f64 * self.samples_per_step;
        let spacing = band.spacing as f64;
        let pad = self.pad as f64;
        let lo = ((centre - half + pad) / spacing).ceil().max(0.0) as usize;
        let hi = (((centre + half + pad) / spacing).floor() as usize).min(band.len - 1);
        let step_angle = std::f64::consts::PI * spacing / half;
        let first_angle = std::f64::consts::PI * (lo as f64 * spacing - pad - centre) / half;
        let mut total = 0.0;
        for (m, w) in (lo..=hi).zip(super::cochleagram::hann_weights(first_angle, step_angle)) {
            let position = m as f64 * spacing - pad;
            if position >= 0.0 && position < self.n as f64 {
                weights.push((m, w));
                total += w;
            }
        }
        if total > 0.0 {
            weights.iter_mut().for_each(|(_, w)| *w /= total);
        }
    }

    /// The averaged (not yet compressed) level of band `b` at each step.
    #[cfg(test)]
    fn step_levels(&self, b: usize, envelope: &[f32]) -> Vec<f64> {
        let mut weights = Vec::new();
        (0..self.steps)
            .map(|i| {
                self.step_weights(&self.bands[b], i, &mut weights);
                weights.iter().map(|&(m, w)| w * f64::from(envelope[m])).sum()
            })
            .collect()
    }

    /// Band `b`'s share of the loss; adds its gradient with respect to the spectrum to
    /// `spectrum_gradient`.
    fn band_backward(
        &self,
        b: usize,
        spectrum: &[Complex<f32>],
        target: &[f32],
        buffer: &mut [Complex<f32>],
        spectrum_gradient: &mut [Complex<f32>],
    ) -> f64 {
        let band = &self.bands[b];
        let bands = self.bands.len();
        let envelope = self.band_envelope(b, spectrum, buffer);
        let mut envelope_gradient = vec![0.0_f64; band.len];
        let mut weights = Vec::new();
        let mut loss = 0.0;
        for i in 0..self.steps {
            self.step_weights(band, i, &mut weights);
            let level: f64 = weights.iter().map(|&(m, w)| w * f64::from(envelope[m])).sum();
            let c = self.compression;
            let want = (f64::from(target[i * bands + b]).max(0.0).powf(1.0 / c) + self.smoothing).powf(c);
            let residual = (level + self.smoothing).powf(c) - want;
            loss += 0.5 * residual * residual;
            let slope = c * (level + self.smoothing).powf(c - 1.0);
            for &(m, w) in &weights {
                envelope_gradient[m] += residual * slope * w;
            }
        }
        // Through the magnitude (its gradient is the unit phasor) and the reduced inverse DFT
        // (whose adjoint is the forward DFT), back onto the band's bins.
        let buffer = &mut buffer[..band.len];
        for (c, g) in buffer.iter_mut().zip(&envelope_gradient) {
            let magnitude = c.norm();
            *c = if magnitude > 0.0 { *c * (*g as f32 / magnitude) } else { Complex::default() };
        }
        band.forward.process(buffer);
        let scale = 1.0 / self.len as f32;
        for (i, g) in band.gains.iter().enumerate() {
            spectrum_gradient[band.first_bin + i] += buffer[i] * (g * scale);
        }
        loss
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::AudioTrack;
    use crate::sound::cochleagram_of;

    /// A decaying knock after some quiet, and a little noise under it.
    fn knock(n: usize) -> Vec<f32> {
        let mut state = 7_u32;
        (0..n)
            .map(|k| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = (state >> 8) as f32 / (1 << 24) as f32 - 0.5;
                let t = k as f32 / 48_000.0;
                let knock = if t < 0.1 {
                    0.0
                } else {
                    0.8 * (-(t - 0.1) * 30.0).exp() * (2.0 * std::f32::consts::PI * 700.0 * t).sin()
                };
                knock + 1e-3 * noise
            })
            .collect()
    }

    #[test]
    fn the_whole_analysis_agrees_with_the_analyser() {
        let params = CochleagramParams::default();
        let signal = knock(24_000);
        let reference =
            cochleagram_of(&AudioTrack { rate: 48_000, start_s: 0.0, samples: signal.clone() }, &params).unwrap();
        let whole = WholeAnalysis::new(&params, signal.len(), reference.steps(), 0.0);
        let ours = whole.analyse(&signal);
        let diff: f64 = ours.iter().zip(&reference.data).map(|(a, b)| f64::from(a - b).powi(2)).sum();
        let relative = (diff / reference.data.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>()).sqrt();
        assert!(relative < 2e-3, "{relative}");
    }

    #[test]
    fn the_gradient_matches_finite_differences() {
        let params = CochleagramParams::default();
        let n = 9_600;
        let signal = knock(n);
        let steps = 18;
        let whole = WholeAnalysis::new(&params, n, steps, 1e-6);
        // A target the signal misses: its own cochleagram, reshaped.
        let target: Vec<f32> = whole
            .analyse(&signal)
            .iter()
            .enumerate()
            .map(|(i, v)| v * (1.0 + 0.3 * ((i % 7) as f32 - 3.0) / 3.0))
            .collect();
        let mut gradient = vec![0.0; n];
        let loss = whole.loss_and_gradient(&signal, &target, &mut gradient);
        assert!(loss > 0.0);
        // A random direction: the directional derivative against a central difference.
        let mut state = 11_u32;
        let direction: Vec<f32> = (0..n)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 8) as f32 / (1 << 24) as f32 - 0.5
            })
            .collect();
        let predicted: f64 = gradient.iter().zip(&direction).map(|(g, d)| f64::from(g * d)).sum();
        let moved = |sign: f32, h: f32| -> f64 {
            let x: Vec<f32> = signal.iter().zip(&direction).map(|(x, d)| x + sign * h * d).collect();
            let mut unused = vec![0.0; n];
            whole.loss_and_gradient(&x, &target, &mut unused)
        };
        // The compression makes the loss strongly curved near quiet steps: a small step.
        let h = 1e-5;
        let measured = (moved(1.0, h) - moved(-1.0, h)) / (2.0 * f64::from(h));
        assert!((predicted - measured).abs() < 0.01 * measured.abs(), "{predicted} vs {measured}");
    }
}
