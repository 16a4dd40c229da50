//! Parametric resynthesis: a waveform whose cochleagram is a given one.
//!
//! After McDermott and Simoncelli (2011): start from a signal (a sinusoid at each band's centre,
//! or noise); then, each iteration, split the signal into the filterbank's bands, keep each
//! band's fine structure (the phase of its analytic signal) but impose the target envelope (the
//! cochleagram decompressed and interpolated to the audio rate), filter each band again and sum.
//! Because the squared filter responses sum to one, analysis followed by this synthesis
//! reconstructs a signal exactly, so each iteration moves the signal's envelopes toward the
//! target, and filtering each band on the way back keeps what an envelope change spreads in
//! frequency inside that band's own range.
//!
//! The target is a 90 Hz average of envelopes, so imposing it as it is would be averaged a second
//! time by the analysis (attacks would come out blunter than the target), and neighbouring bands
//! overlap. Each iteration therefore also re-analyses the result and corrects the envelope it
//! imposes, step by step and band by band, by the ratio of target to achieved level: fully where
//! the result is too loud (a step before an attack, where the analysis filters' spread of the
//! attack already supplies the target, must go quiet quickly), by half where it is too quiet
//! (so that neighbouring steps, which share the averaging window, do not overshoot each other).
//!
//! Replacing the envelope also removes the fine structure it had inside each step, such as how
//! the bands' spreads of an attack cancel in the sum. The second half of the iterations therefore
//! keep each band as it is and scale it by a gain: the ratio of target to achieved level (see
//! [`GAIN_EXPONENT`]), interpolated like the levels. A signal with the target cochleagram is left
//! as it is, and the error keeps falling where replacing envelopes stalls.
//!
//! What neither can reach is how each step depends on the waveform around it: before an attack,
//! the target holds only the analysis filters' spread of the attack, and how far a synthesised
//! attack spreads depends on its fine structure, not on the levels imposed before it. So each of
//! those later iterations first descends the error on the waveform itself ([`DESCENT_STEPS`]
//! steps of L-BFGS on the exact gradient of the analysis, see [`super::gradient`]), then scales
//! the bands by the gains measured after the descent. The descent sees levels far below
//! [`DESCENT_SMOOTHING`] only faintly (the compression is infinitely steep at silence); the gains
//! then correct those step by step.
//!
//! Impacts start abruptly, which a level interpolated between 90 Hz steps cannot: it would rise
//! over a whole step and fill the quiet step before the attack. The envelopes therefore jump at
//! the target's onsets ([`detect_hits`](super::detect_hits) on the target itself, which places
//! them to within a few milliseconds), see [`band_envelope`].
//!
//! [`Carrier::ModulatedTones`] skips the band splitting and the descent: each band's sinusoid is
//! multiplied by its envelope directly, several times faster and further from the target.
//!
//! The report gives the relative error of the re-analysed cochleagram after each iteration.

use rustfft::FftPlanner;
use rustfft::num_complex::Complex;
use serde::{Deserialize, Serialize};

use super::gradient::WholeAnalysis;
use super::lbfgs::{Lbfgs, Point};
use super::{Cochleagram, CochleagramAnalyzer, CochleagramParams, SoundError};
use crate::media::AudioTrack;

/// What the iterations start from, and how the envelopes are imposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Carrier {
    /// A sinusoid at each band's centre frequency (where every neighbouring filter is zero, so
    /// each band starts with only its own carrier), then band-by-band imposition: the closest.
    Tones,
    /// Noise, then band-by-band imposition (McDermott and Simoncelli): natural for textures,
    /// slower to converge.
    Noise,
    /// Each band's sinusoid multiplied by its envelope, without splitting into bands or the
    /// descent: several times faster, further from the target.
    ModulatedTones,
}

/// Resynthesis settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResynthParams {
    pub iterations: usize,
    /// Seed of the starting noise (or the carriers' phases): the same seed gives the same
    /// waveform.
    pub seed: u64,
    pub carrier: Carrier,
}

impl Default for ResynthParams {
    fn default() -> Self {
        Self { iterations: 10, seed: 1, carrier: Carrier::Tones }
    }
}

/// How close the resynthesis came.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResynthReport {
    /// `||C(x) - C_target|| / ||C_target||` after each iteration (Frobenius norms over all steps
    /// and bands of the compressed cochleagrams).
    pub relative_error: Vec<f64>,
}

/// A waveform at `params.sample_rate` whose cochleagram approximates `target`, starting at the
/// target's start time: the closest of the iterations. A silent target gives silence.
pub fn resynthesize(
    target: &Cochleagram,
    params: &CochleagramParams,
    settings: &ResynthParams,
) -> Result<(AudioTrack, ResynthReport), SoundError> {
    resynthesize_with_progress(target, params, settings, &mut |_| {})
}

/// [`resynthesize`], calling `progress` with the number of iterations done after each one.
pub fn resynthesize_with_progress(
    target: &Cochleagram,
    params: &CochleagramParams,
    settings: &ResynthParams,
    progress: &mut dyn FnMut(usize),
) -> Result<(AudioTrack, ResynthReport), SoundError> {
    if target.bands != params.bands() {
        return Err(SoundError::InvalidParameter(format!(
            "the cochleagram has {} bands; expected {}",
            target.bands,
            params.bands()
        )));
    }
    if (target.rate_hz - params.step_rate_hz).abs() > 1e-9 {
        return Err(SoundError::InvalidParameter(format!(
            "the cochleagram is at {} Hz; expected {}",
            target.rate_hz, params.step_rate_hz
        )));
    }
    if settings.iterations == 0 {
        return Err(SoundError::InvalidParameter("the resynthesis needs at least one iteration".into()));
    }
    let sr = f64::from(params.sample_rate);
    let n = (target.steps() as f64 * sr / params.step_rate_hz).round() as usize;
    let silent = AudioTrack { rate: params.sample_rate, start_s: target.start_s, samples: vec![0.0; n] };
    let target_norm = norm(&target.data);
    if n == 0 || target_norm == 0.0 {
        return Ok((silent, ResynthReport { relative_error: Vec::new() }));
    }
    let mut fit = Fit::new(target, params, target_norm, progress)?;
    match settings.carrier {
        Carrier::ModulatedTones => modulate_tones(&mut fit, settings, n)?,
        Carrier::Tones => impose_by_band(&mut fit, settings, tones(n, &params.centres_hz(), sr, settings.seed))?,
        Carrier::Noise => impose_by_band(&mut fit, settings, noise(n, settings.seed))?,
    }
    let samples = if fit.best.1.is_empty() { silent.samples.clone() } else { std::mem::take(&mut fit.best.1) };
    Ok((AudioTrack { samples, ..silent }, fit.report))
}

/// The state shared by the iterations: the levels imposed, the error so far, the closest result.
struct Fit<'a> {
    target: &'a Cochleagram,
    params: &'a CochleagramParams,
    target_norm: f64,
    /// The level imposed at each step and band, in linear units: the target, then corrected.
    imposed: Vec<f64>,
    /// Onsets of the target, in steps from its start.
    onsets: Vec<f64>,
    report: ResynthReport,
    best: (f64, Vec<f32>),
    /// The gain that would bring each step and band of the last result to the target (see
    /// [`GAIN_EXPONENT`]).
    gains: Vec<f64>,
    progress: &'a mut dyn FnMut(usize),
    /// One analyser for every iteration: building its filterbank and FFT plans takes longer
    /// than an analysis.
    analyzer: CochleagramAnalyzer,
}

impl<'a> Fit<'a> {
    fn new(
        target: &'a Cochleagram,
        params: &'a CochleagramParams,
        target_norm: f64,
        progress: &'a mut dyn FnMut(usize),
    ) -> Result<Self, SoundError> {
        let inv = 1.0 / params.compression;
        let onsets = super::detect_hits(target, &super::HitParams::default())
            .iter()
            .map(|h| (h.time_s - target.start_s) * target.rate_hz)
            .collect();
        Ok(Self {
            analyzer: CochleagramAnalyzer::new(params.clone())?,
            target,
            params,
            target_norm,
            imposed: target.data.iter().map(|c| f64::from(c.max(0.0)).powf(inv)).collect(),
            onsets,
            report: ResynthReport { relative_error: Vec::new() },
            best: (f64::INFINITY, Vec::new()),
            gains: vec![1.0; target.data.len()],
            progress,
        })
    }

    /// The cochleagram of `signal`.
    fn analyse(&mut self, signal: &[f32]) -> Vec<f32> {
        self.analyzer.analyse(signal)
    }

    /// Records the error of an iteration's result, whose cochleagram is `analysed`, keeping the
    /// result if it is the closest yet.
    fn record(&mut self, signal: &[f32], analysed: &[f32]) {
        let diff: Vec<f32> = analysed.iter().zip(&self.target.data).map(|(a, b)| a - b).collect();
        let error = norm(&diff) / self.target_norm;
        self.report.relative_error.push(error);
        if error < self.best.0 {
            self.best = (error, signal.to_vec());
        }
        (self.progress)(self.report.relative_error.len());
    }

    /// Each step and band's target and achieved levels, linear.
    fn level_pairs<'b>(&'b self, analysed: &'b [f32]) -> impl Iterator<Item = (f64, f64)> + 'b {
        let inv = 1.0 / self.params.compression;
        analysed
            .iter()
            .zip(&self.target.data)
            .map(move |(got, want)| (f64::from(want.max(0.0)).powf(inv), f64::from(got.max(0.0)).powf(inv)))
    }

    /// Corrects the imposed levels by the ratio of target to achieved level raised to `up` where
    /// the result is too quiet and `down` where it is too loud.
    fn correct_levels(&mut self, analysed: &[f32], up: f64, down: f64) {
        let ratios: Vec<f64> = self
            .level_pairs(analysed)
            // Bounded, so one badly placed step cannot run away.
            .map(|(want, got)| ((want + 1e-9) / (got + 1e-9)).clamp(0.25, 4.0))
            .collect();
        for (level, ratio) in self.imposed.iter_mut().zip(ratios) {
            *level *= ratio.powf(if ratio < 1.0 { down } else { up });
        }
    }

    /// Sets the gains that would bring a signal whose cochleagram is `analysed` to the target.
    fn set_gains(&mut self, analysed: &[f32]) {
        let gains: Vec<f64> = self
            .level_pairs(analysed)
            .map(|(want, got)| ((want + 1e-12) / (got + 1e-12)).clamp(0.1, 10.0).powf(GAIN_EXPONENT))
            .collect();
        self.gains = gains;
    }
}

/// Band-by-band imposition (see the module notes), starting from `signal`.
fn impose_by_band(fit: &mut Fit<'_>, settings: &ResynthParams, mut signal: Vec<f32>) -> Result<(), SoundError> {
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
        let shares = super::workers::run_shares("resynth", |w, workers| {
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
fn descend(whole: &WholeAnalysis, target: &[f32], signal: Vec<f32>) -> Vec<f32> {
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
        response: &super::filterbank::BandResponse,
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

/// Envelopes multiplied onto sinusoidal carriers, with the levels corrected after each analysis.
fn modulate_tones(fit: &mut Fit<'_>, settings: &ResynthParams, n: usize) -> Result<(), SoundError> {
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
fn tones(n: usize, centres_hz: &[f64], sample_rate: f64, seed: u64) -> Vec<f32> {
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

fn norm(values: &[f32]) -> f64 {
    values.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>().sqrt()
}

/// The exponent of the ratio of target to achieved level that the gains of the later iterations
/// apply: a little past the ratio itself, since each band's share of a step is spread over its
/// neighbours by the filters and the averaging, so a plain ratio falls short.
const GAIN_EXPONENT: f64 = 1.5;

/// Steps of descent on the waveform in each iteration that scales the bands by gains (each takes
/// one evaluation of the analysis and its gradient, rarely more).
const DESCENT_STEPS: usize = 20;
/// Steps the descent's L-BFGS remembers.
const DESCENT_MEMORY: usize = 6;
/// The length of the descent's first step, relative to the signal's norm (the line search
/// shortens it as needed; later steps take theirs from the curvature measured).
const DESCENT_FIRST_STEP: f64 = 0.01;
/// The level (linear, -60 dBFS) added to every level before the compression in the descent's
/// error, see [`WholeAnalysis::new`]: steps well above it count as in the error itself, steps
/// far below it hardly at all.
const DESCENT_SMOOTHING: f64 = 1e-3;

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
fn band_envelope(
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

/// Deterministic Gaussian-ish noise (sum of uniforms) from a small xorshift generator.
fn noise(n: usize, seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1_u64 << 53) as f64
    };
    (0..n).map(|_| ((next() + next() + next() + next() - 2.0) * 0.1) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sound::cochleagram_of;

    /// The cochleagram of a real signal: a decaying knock after silence.
    fn knock_target(params: &CochleagramParams) -> Cochleagram {
        let samples: Vec<f32> = (0..48_000)
            .map(|k| {
                let t = k as f32 / 48_000.0;
                if t < 0.2 {
                    0.0
                } else {
                    0.8 * (-(t - 0.2) * 25.0).exp() * (2.0 * std::f32::consts::PI * 900.0 * t).sin()
                }
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
            analysed
                .data
                .iter()
                .zip(&target.data)
                .filter(|(_, t)| **t > loud)
                .map(|(a, t)| f64::from(a - t).powi(2))
                .sum()
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
}
