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
//! steps of L-BFGS on the exact gradient of the analysis, see [`crate::sound::gradient`]), then scales
//! the bands by the gains measured after the descent. The descent sees levels far below
//! [`DESCENT_SMOOTHING`] only faintly (the compression is infinitely steep at silence); the gains
//! then correct those step by step.
//!
//! Impacts start abruptly, which a level interpolated between 90 Hz steps cannot: it would rise
//! over a whole step and fill the quiet step before the attack. The envelopes therefore jump at
//! the target's onsets ([`detect_hits`](crate::sound::detect_hits) on the target itself, which places
//! them to within a few milliseconds), see [`bands::band_envelope`].
//!
//! [`Carrier::ModulatedTones`] skips the band splitting and the descent: each band's sinusoid is
//! multiplied by its envelope directly, several times faster and further from the target.
//!
//! The report gives the relative error of the re-analysed cochleagram after each iteration.

mod bands;
#[cfg(test)]
mod tests;
mod tones;

use serde::{Deserialize, Serialize};

use crate::media::AudioTrack;
use crate::sound::{Cochleagram, CochleagramAnalyzer, CochleagramParams, SoundError};

use bands::impose_by_band;
use tones::{modulate_tones, tones};

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
        let onsets = crate::sound::detect_hits(target, &crate::sound::HitParams::default())
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
