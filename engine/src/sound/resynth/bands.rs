//! The iterations that split the signal into the filterbank's bands: envelopes imposed on each
//! band's fine structure, then gains, each after a descent on the waveform.

use rustfft::FftPlanner;
use rustfft::num_complex::Complex;

use crate::sound::gradient::WholeAnalysis;
use crate::sound::lbfgs::{Lbfgs, Point};
use crate::sound::{CochleagramParams, SoundError};

use super::{DESCENT_FIRST_STEP, DESCENT_MEMORY, DESCENT_SMOOTHING, DESCENT_STEPS, Fit, ResynthParams};

/// Band-by-band imposition (see the module notes), starting from `signal`.
pub(super) fn impose_by_band(
    fit: &mut Fit<'_>,
    settings: &ResynthParams,
    mut signal: Vec<f32>,
) -> Result<(), SoundError> {
    let n = signal.len();
    let sr = f64::from(fit.params.sample_rate);
    // Room on both sides so the circular FFT does not wrap the ends onto each other.
    let pad = (sr * 0.25) as usize;
    let len = (n + 2 * pad).next_power_of_two();
    let filterbank = fit.params.filterbank(len);
    let mut planner = FftPlanner::<f32>::new();
    let plan = BandPlan { forward: planner.plan_fft_forward(len), inverse: planner.plan_fft_inverse(len), len, pad, n };
    let mut spectrum = vec![Complex::<f32>::default(); len];
    // The first iteration always replaces the envelopes: gains need an analysis to come from.
    let refine_from = (settings.iterations / 2).max(1);
    let whole = (settings.iterations > refine_from)
        .then(|| WholeAnalysis::new(fit.params, n, fit.target.steps(), DESCENT_SMOOTHING));
    for iteration in 0..settings.iterations {
        if let Some(whole) = whole.as_ref().filter(|_| iteration >= refine_from) {
            signal = descend(whole, &fit.target.data, signal);
            let analysed = fit.analyse(&signal);
            fit.set_gains(&analysed);
        }
        spectrum.fill(Complex::default());
        for (s, x) in spectrum[pad..pad + n].iter_mut().zip(&signal) {
            s.re = *x;
        }
        plan.forward.process(&mut spectrum);
        // Each worker takes an interleaved share of the bands (wide and narrow alike) and sums
        // them.
        let (plan, spectrum, filterbank, onsets) = (&plan, &spectrum, &filterbank, &fit.onsets);
        let (gains, imposed, bands, params) = (&fit.gains, &fit.imposed, fit.target.bands, fit.params);
        let shares = crate::sound::workers::run_shares("resynth", |w, workers| {
            let mut sum = vec![Complex::<f32>::default(); len];
            let mut band = vec![Complex::<f32>::default(); len];
            for b in (w..filterbank.bands.len()).step_by(workers) {
                let imposition = if iteration >= refine_from {
                    Imposition::Gain(band_envelope(gains, bands, b, params, n, onsets))
                } else {
                    Imposition::Envelope(band_envelope(imposed, bands, b, params, n, onsets))
                };
                plan.impose(&filterbank.bands[b], &imposition, spectrum, &mut band, &mut sum);
            }
            sum
        });
        let mut total = vec![Complex::<f32>::default(); len];
        for part in shares {
            total.iter_mut().zip(&part).for_each(|(x, y)| *x += y);
        }
        plan.inverse.process(&mut total);
        let scale = 1.0 / len as f32;
        for (x, s) in signal.iter_mut().zip(&total[pad..pad + n]) {
            *x = s.re * scale;
        }
        let analysed = fit.analyse(&signal);
        fit.record(&signal, &analysed);
        // The imposed levels only serve the iterations that replace envelopes.
        if iteration + 1 < refine_from {
            fit.correct_levels(&analysed, 0.5, 1.0);
        }
    }
    Ok(())
}

/// Up to [`DESCENT_STEPS`] steps of L-BFGS from `signal` on the error of its cochleagram;
/// returns where the descent stopped.
pub(super) fn descend(whole: &WholeAnalysis, target: &[f32], signal: Vec<f32>) -> Vec<f32> {
    let mut gradient = vec![0.0; signal.len()];
    let loss = whole.loss_and_gradient(&signal, target, &mut gradient);
    let mut point = Point { x: signal, loss, gradient };
    let mut lbfgs = Lbfgs::new(DESCENT_MEMORY, DESCENT_FIRST_STEP);
    let mut evaluate = |x: &[f32], gradient: &mut [f32]| whole.loss_and_gradient(x, target, gradient);
    for _ in 0..DESCENT_STEPS {
        if lbfgs.step(&mut point, &mut evaluate).is_none() {
            break;
        }
    }
    point.x
}

/// What an iteration does to each band, at the audio rate.
enum Imposition {
    /// Keep the phase, replace the envelope by this one.
    Envelope(Vec<f32>),
    /// Keep the band as it is, scaled by this gain.
    Gain(Vec<f32>),
}

/// The transforms of band-by-band imposition: FFTs of `len` samples, the signal's `n` samples
/// at `pad`.
struct BandPlan {
    forward: std::sync::Arc<dyn rustfft::Fft<f32>>,
    inverse: std::sync::Arc<dyn rustfft::Fft<f32>>,
    len: usize,
    pad: usize,
    n: usize,
}

impl BandPlan {
    /// Imposes `imposition` on one band of the signal whose FFT is `spectrum` and adds the band,
    /// filtered again, to `sum` (a spectrum; the inverse FFT's 1/len is left to the caller).
    fn impose(
        &self,
        response: &crate::sound::filterbank::BandResponse,
        imposition: &Imposition,
        spectrum: &[Complex<f32>],
        band: &mut [Complex<f32>],
        sum: &mut [Complex<f32>],
    ) {
        let (len, pad, n) = (self.len, self.pad, self.n);
        // The band's analytic signal: its filtered positive frequencies, doubled.
        band.fill(Complex::default());
        for (bin, g) in (response.first_bin..).zip(response.analytic_gains(len)) {
            band[bin] = spectrum[bin] * g;
        }
        self.inverse.process(band);
        // The band becomes real: its phase kept and the envelope imposed, or scaled by the gain
        // (the analytic signal is `len` times too large here: the inverse FFT is unnormalised).
        let inside = |k: usize| (k >= pad && k < pad + n).then(|| k - pad);
        match imposition {
            Imposition::Envelope(envelope) => {
                for (k, c) in band.iter_mut().enumerate() {
                    let magnitude = c.norm();
                    let re = match inside(k) {
                        Some(i) if magnitude > 0.0 => c.re / magnitude * envelope[i],
                        _ => 0.0,
                    };
                    *c = Complex::new(re, 0.0);
                }
            }
            Imposition::Gain(gain) => {
                let scale = 1.0 / len as f32;
                for (k, c) in band.iter_mut().enumerate() {
                    let re = inside(k).map_or(0.0, |i| c.re * gain[i] * scale);
                    *c = Complex::new(re, 0.0);
                }
            }
        }
        self.forward.process(band);
        // Filter again on the way back.
        for (i, g) in response.gains.iter().enumerate() {
            let bin = response.first_bin + i;
            sum[bin] += band[bin] * *g;
            let mirror = (len - bin) % len;
            if mirror != bin {
                sum[mirror] += band[mirror] * *g;
            }
        }
    }
}

/// Below this, a level is silence (-140 dBFS).
const FLOOR: f64 = 1e-7;
/// The steepest decay extrapolated back from the steps after an onset to the onset itself,
/// natural log per step: a quarter per step (12 dB), so a decay measured over one step cannot
/// put an outsized peak at the onset.
const MAX_DECAY_BACK: f64 = std::f64::consts::LN_2 * 2.0;

/// The levels of band `b` given per step (`steps x bands`, linear) at the audio rate, each step
/// at its own time (`i / rate`): geometric between steps (linear in the logarithm, above
/// [`FLOOR`] so silence stays silent), since an impact's envelope rises and decays exponentially and a straight line
/// between a loud step and a quiet one would overfill the quiet one.
///
/// Where a band rises across an onset (in steps, fractional), the level jumps there instead:
/// before it, the decay of the step before goes on (or the level holds); if the onset comes in
/// the first half of a step's interval, that step's level is placed at the onset and the level
/// falls geometrically from it to the next step; if in the second half, the level from the onset
/// is the following decay extrapolated back (at most [`MAX_DECAY_BACK`] per step).
pub(super) fn band_envelope(
    levels: &[f64],
    bands: usize,
    b: usize,
    params: &CochleagramParams,
    n: usize,
    onsets: &[f64],
) -> Vec<f32> {
    let per_step = f64::from(params.sample_rate) / params.step_rate_hz;
    let steps = levels.len() / bands;
    let logs: Vec<f64> = (0..steps).map(|i| (levels[i * bands + b] + FLOOR).ln()).collect();
    let log_level = |i: usize| logs[i.min(steps - 1)];
    let rises = |i: usize| log_level(i + 1) > log_level(i);
    // The onset in each step's interval (i, i + 1], if any (hits are at least 30 ms apart, so
    // never two).
    let mut onset_after = vec![None; steps + 2];
    for &o in onsets {
        if let Some(slot) = (o > 0.0).then(|| o.ceil() as usize - 1).and_then(|i| onset_after.get_mut(i)) {
            *slot = Some(o);
        }
    }
    let onset_in = |lo: f64, hi: f64| {
        let i = lo.floor().max(0.0) as usize;
        onset_after.get(i).copied().flatten().filter(|&o| o > lo && o <= hi)
    };
    // The slope (per step) with which step `j`'s decay goes on, if it was decaying.
    let decay_slope = |j: usize| if j > 0 { (log_level(j) - log_level(j - 1)).min(0.0) } else { 0.0 };

    let mut envelope = vec![0.0_f32; n];
    // Every piece is linear in the logarithm: `log = at + slope * (pos - from)` over the samples
    // from `from` (in steps) up to `to`, filled by a running product rather than an `exp` per
    // sample.
    let mut fill = |from: f64, to: f64, at: f64, slope: f64| {
        let first = (from * per_step).ceil().max(0.0) as usize;
        let end = ((to * per_step).ceil().max(0.0) as usize).min(n);
        if first >= end {
            return;
        }
        let mut value = (at + slope * (first as f64 / per_step - from)).exp();
        let factor = (slope / per_step).exp();
        for e in &mut envelope[first..end] {
            *e = (value - FLOOR).max(0.0) as f32;
            value *= factor;
        }
    };
    for i in 0..=steps {
        let start = i as f64;
        let end = start + 1.0;
        if onset_in(end, end + 0.5).is_some() && rises(i) {
            // The next step's level sits at an onset early in its interval.
            fill(start, end, log_level(i), decay_slope(i));
        } else if let Some(onset) = onset_in(start, start + 0.5).filter(|_| i > 0 && rises(i - 1)) {
            fill(start, onset, log_level(i - 1) + decay_slope(i - 1), decay_slope(i - 1));
            fill(onset, end, log_level(i), (log_level(i + 1) - log_level(i)) / (end - onset));
        } else if let Some(onset) = onset_in(start + 0.5, end).filter(|_| rises(i)) {
            fill(start, onset, log_level(i), decay_slope(i));
            let back = (log_level(i + 1) - log_level(i + 2)).clamp(0.0, MAX_DECAY_BACK);
            fill(onset, end, log_level(i + 1) + back * (end - onset), -back);
        } else {
            fill(start, end, log_level(i), log_level(i + 1) - log_level(i));
        }
    }
    envelope
}
