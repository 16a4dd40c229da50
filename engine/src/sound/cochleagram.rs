//! The cochleagram: per-band Hilbert envelopes of an ERB-spaced filterbank, at 90 Hz, compressed.
//!
//! Choices, and why:
//! - **Working rate 48 kHz**, the rate of every track foley reads and writes; other rates are
//!   resampled first ([`crate::media::resample`]).
//! - **40 band-pass filters from 20 Hz to 16 kHz**, half-cosines on the ERB scale (McDermott and
//!   Simoncelli's filters, which the paper's features came from), **plus a low-pass band below
//!   the first centre and a high-pass band above the last** (42 bands). 20 Hz is the bottom of
//!   hearing; above 16 kHz impacts carry little energy and many recordings (and AAC) none, so the
//!   high-pass band collects whatever is there. The squared responses sum to one, so the
//!   resynthesis can invert the analysis.
//! - **Hilbert envelope** of each band (the magnitude of its analytic signal).
//! - **90 Hz**: step `i` is at `start + i/90` s; its value is the mean of the envelope over
//!   +-1/90 s around that time with Hann weights (an anti-aliasing low-pass before decimation),
//!   counting only samples inside the signal.
//! - **Compression** `x^0.3` after the averaging, as in the paper.
//!
//! Long audio streams through [`CochleagramAnalyzer`] in FFT blocks that overlap by a margin
//! longer than the filters' impulse responses plus the averaging window, so block edges do not
//! show. Each band's analytic signal is computed at a reduced rate from only its own FFT bins
//! (the envelope does not depend on where the band sits in frequency), which makes the analysis
//! a few FFTs per block in all.

use std::sync::{Arc, Mutex, PoisonError};

use realfft::{RealFftPlanner, RealToComplex};
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};
use serde::{Deserialize, Serialize};

use super::SoundError;
use super::filterbank::ErbCosineFilterbank;
use crate::media::AudioTrack;

/// The cochleagram's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CochleagramParams {
    /// Rate of the analysed audio, Hz.
    pub sample_rate: u32,
    /// Number of band-pass filters (the low-pass and high-pass bands come on top).
    pub bandpass: usize,
    /// Centre of the first band-pass filter's lower neighbour, Hz.
    pub low_hz: f64,
    /// Centre of the last band-pass filter's upper neighbour, Hz.
    pub high_hz: f64,
    /// Steps per second.
    pub step_rate_hz: f64,
    /// Exponent applied to the averaged envelopes.
    pub compression: f64,
}

impl Default for CochleagramParams {
    fn default() -> Self {
        Self {
            sample_rate: 48_000,
            bandpass: 40,
            low_hz: 20.0,
            high_hz: 16_000.0,
            step_rate_hz: 90.0,
            compression: 0.3,
        }
    }
}

impl CochleagramParams {
    /// Total number of bands.
    #[must_use]
    pub fn bands(&self) -> usize {
        self.bandpass + 2
    }

    /// The filterbank these parameters describe, on a real FFT of `fft_len` samples.
    #[must_use]
    pub fn filterbank(&self, fft_len: usize) -> ErbCosineFilterbank {
        ErbCosineFilterbank::new(self.bandpass, self.low_hz, self.high_hz, self.sample_rate, fft_len)
    }

    /// Band centres in Hz (see [`ErbCosineFilterbank::centres_hz`]).
    #[must_use]
    pub fn centres_hz(&self) -> Vec<f64> {
        self.filterbank(1024).centres_hz
    }

    fn validate(&self) -> Result<(), SoundError> {
        let nyquist = f64::from(self.sample_rate) / 2.0;
        let ok = self.bandpass >= 1
            && self.low_hz > 0.0
            && self.low_hz < self.high_hz
            && self.high_hz < nyquist
            && self.step_rate_hz > 0.0
            && self.step_rate_hz < nyquist / 4.0
            && self.compression > 0.0;
        if ok { Ok(()) } else { Err(SoundError::InvalidParameter(format!("{self:?}"))) }
    }
}

/// A cochleagram: `steps x bands` compressed envelopes, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Cochleagram {
    /// Time of step 0 on the video's timeline, seconds.
    pub start_s: f64,
    /// Steps per second.
    pub rate_hz: f64,
    /// Values per step.
    pub bands: usize,
    /// `steps * bands` values.
    pub data: Vec<f32>,
}

impl Cochleagram {
    /// Number of steps.
    #[must_use]
    pub fn steps(&self) -> usize {
        self.data.len() / self.bands.max(1)
    }

    /// The bands of step `i`.
    #[must_use]
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.bands..(i + 1) * self.bands]
    }

    /// Time of step `i`, seconds.
    #[must_use]
    pub fn time_of(&self, i: usize) -> f64 {
        self.start_s + i as f64 / self.rate_hz
    }
}

/// The cochleagram of a whole track (which must be at `params.sample_rate`).
pub fn cochleagram_of(track: &AudioTrack, params: &CochleagramParams) -> Result<Cochleagram, SoundError> {
    if track.rate != params.sample_rate {
        return Err(SoundError::SampleRate { got: track.rate, expected: params.sample_rate });
    }
    let data = CochleagramAnalyzer::new(params.clone())?.analyse(&track.samples);
    Ok(Cochleagram { start_s: track.start_s, rate_hz: params.step_rate_hz, bands: params.bands(), data })
}

/// The cochleagram of the first audio stream of a file (an audio file or a video's track),
/// decoded and analysed block by block so memory does not grow with the length. `progress` gets
/// the seconds analysed so far. Step 0 sits at the track's start on the video's timeline.
pub fn cochleagram_of_file(
    path: &std::path::Path,
    params: &CochleagramParams,
    progress: &mut dyn FnMut(f64),
) -> Result<Cochleagram, SoundError> {
    let mut reader = crate::media::AudioReader::open(path, params.sample_rate)?;
    let start_s = reader.info().start_s;
    let mut analyzer = CochleagramAnalyzer::new(params.clone())?;
    let mut data = Vec::new();
    let mut seconds = 0.0;
    while let Some(block) = reader.next_block()? {
        seconds += block.len() as f64 / f64::from(params.sample_rate);
        data.extend(analyzer.push(&block));
        progress(seconds);
    }
    data.extend(analyzer.finish());
    Ok(Cochleagram { start_s, rate_hz: params.step_rate_hz, bands: params.bands(), data })
}

/// FFT block length.
const BLOCK: usize = 1 << 16;
/// Samples of context on each side of a block's core: longer than the lowest filter's impulse
/// response (about 0.1 s) plus the averaging half-window (1/90 s).
const MARGIN: usize = 8192;
/// The part of each block whose steps it computes.
const HOP: usize = BLOCK - 2 * MARGIN;
/// The lowest rate at which a band's analytic signal is sampled.
const MIN_BAND_LEN: usize = 2048;

/// Which steps a block computes, and how.
struct StepWindow {
    block_start: i64,
    first_step: u64,
    steps: usize,
    samples_per_step: f64,
    signal_len: i64,
    compression: f32,
}

/// Hann weights `0.5 * (1 + cos(angle))` at the angles `first_angle + k * step_angle`, k = 0, 1,
/// ...: the cosine advances by the recurrence `cos(a + s) = 2 cos(s) cos(a) - cos(a - s)`, one
/// multiply-add a sample instead of a cosine call.
pub(super) fn hann_weights(first_angle: f64, step_angle: f64) -> impl Iterator<Item = f64> {
    let two_cos_step = 2.0 * step_angle.cos();
    let mut cosines = ((first_angle - step_angle).cos(), first_angle.cos());
    std::iter::repeat_with(move || {
        let (previous, now) = cosines;
        cosines = (now, two_cos_step * now - previous);
        0.5 * (1.0 + now)
    })
}

/// One band's compressed, averaged envelope at the block's steps.
fn band_column(band: &BandPlan, spectrum: &[Complex<f32>], scratch: &mut Scratch, window: &StepWindow) -> Vec<f32> {
    let buf = &mut scratch.band[..band.len];
    buf.fill(Complex::default());
    for (i, g) in band.gains.iter().enumerate() {
        buf[i] = spectrum[band.first_bin + i] * *g;
    }
    band.inverse.process_with_scratch(buf, &mut scratch.fft);
    let scale = 1.0 / BLOCK as f32;
    let envelope = &mut scratch.envelope[..band.len];
    for (e, c) in envelope.iter_mut().zip(buf.iter()) {
        *e = c.norm() * scale;
    }

    let half_window = window.samples_per_step; // +-1/90 s
    let spacing = (BLOCK / band.len) as f64;
    let block_start = window.block_start as f64;
    let mut column = Vec::with_capacity(window.steps);
    for i in 0..window.steps {
        let centre = (window.first_step + i as u64) as f64 * window.samples_per_step;
        let lo = ((centre - half_window - block_start) / spacing).ceil().max(0.0) as usize;
        let hi = (((centre + half_window - block_start) / spacing).floor() as usize).min(band.len - 1);
        let step_angle = std::f64::consts::PI * spacing / half_window;
        let first_angle = std::f64::consts::PI * (block_start + lo as f64 * spacing - centre) / half_window;
        let (mut sum, mut weights) = (0.0_f64, 0.0_f64);
        let samples = envelope.iter().enumerate().take(hi + 1).skip(lo);
        for ((m, e), w) in samples.zip(hann_weights(first_angle, step_angle)) {
            let position = block_start + m as f64 * spacing;
            if position >= 0.0 && position < window.signal_len as f64 {
                sum += w * f64::from(*e);
                weights += w;
            }
        }
        let mean = if weights > 0.0 { (sum / weights) as f32 } else { 0.0 };
        column.push(mean.max(0.0).powf(window.compression));
    }
    column
}

struct BandPlan {
    first_bin: usize,
    /// Filter gains with the analytic signal's factor 2 (1 at DC and Nyquist) folded in.
    gains: Vec<f32>,
    /// The band's reduced FFT length; its samples are `BLOCK / len` input samples apart.
    len: usize,
    inverse: Arc<dyn Fft<f32>>,
}

/// The band plans of `params`' filterbank, built once per process: building them (42 bands of
/// `BLOCK` bins, two FFTs each) costs more than analysing a clip of a few seconds, and a run
/// analyses many clips with the same parameters.
fn band_plans(params: &CochleagramParams) -> Arc<Vec<BandPlan>> {
    type Key = (usize, u64, u64, u32);
    static BUILT: Mutex<Vec<(Key, Arc<Vec<BandPlan>>)>> = Mutex::new(Vec::new());
    let key = (params.bandpass, params.low_hz.to_bits(), params.high_hz.to_bits(), params.sample_rate);
    let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, plans)) = built.iter().find(|(k, _)| *k == key) {
        return Arc::clone(plans);
    }
    let mut planner = FftPlanner::<f32>::new();
    let plans: Arc<Vec<BandPlan>> = Arc::new(
        params
            .filterbank(BLOCK)
            .bands
            .iter()
            .map(|band| {
                let len = (2 * band.gains.len()).next_power_of_two().clamp(MIN_BAND_LEN, BLOCK);
                let gains = band.analytic_gains(BLOCK);
                BandPlan { first_bin: band.first_bin, gains, len, inverse: planner.plan_fft_inverse(len) }
            })
            .collect(),
    );
    built.push((key, Arc::clone(&plans)));
    plans
}

/// Streams audio in and cochleagram steps out. Feed samples with [`push`](Self::push) in as many
/// pieces as convenient; [`finish`](Self::finish) emits the rest. The steps are identical to a
/// whole-signal analysis whatever the pieces.
pub struct CochleagramAnalyzer {
    params: CochleagramParams,
    forward: Arc<dyn RealToComplex<f32>>,
    bands: Arc<Vec<BandPlan>>,
    /// Input samples from absolute index `history_start` on (negative indices are the zero
    /// padding before the signal).
    history: Vec<f32>,
    history_start: i64,
    pushed: u64,
    next_block: u64,
    next_step: u64,
    // Scratch, reused across blocks.
    input: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    /// One per worker thread; the bands are split between them.
    workers: Vec<Scratch>,
}

/// A worker's buffers: a band's spectrum and its FFT's scratch.
struct Scratch {
    band: Vec<Complex<f32>>,
    fft: Vec<Complex<f32>>,
    envelope: Vec<f32>,
}

impl std::fmt::Debug for CochleagramAnalyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CochleagramAnalyzer")
            .field("params", &self.params)
            .field("pushed", &self.pushed)
            .finish_non_exhaustive()
    }
}

impl CochleagramAnalyzer {
    pub fn new(params: CochleagramParams) -> Result<Self, SoundError> {
        params.validate()?;
        let forward = RealFftPlanner::<f32>::new().plan_fft_forward(BLOCK);
        let bands = band_plans(&params);
        let scratch_len = bands.iter().map(|b| b.inverse.get_inplace_scratch_len()).max().unwrap_or(0);
        let workers = (0..super::workers::worker_count())
            .map(|_| Scratch {
                band: vec![Complex::default(); BLOCK],
                fft: vec![Complex::default(); scratch_len],
                envelope: vec![0.0; BLOCK],
            })
            .collect();
        Ok(Self {
            spectrum: forward.make_output_vec(),
            input: forward.make_input_vec(),
            forward,
            bands,
            history: vec![0.0; MARGIN],
            history_start: -(MARGIN as i64),
            pushed: 0,
            next_block: 0,
            next_step: 0,
            workers,
            params,
        })
    }

    /// The parameters.
    #[must_use]
    pub fn params(&self) -> &CochleagramParams {
        &self.params
    }

    /// Adds samples; returns the rows (`bands` values each) that are now complete.
    pub fn push(&mut self, samples: &[f32]) -> Vec<f32> {
        self.history.extend_from_slice(samples);
        self.pushed += samples.len() as u64;
        let mut out = Vec::new();
        // A block can run once the input reaches the end of its right margin.
        while self.history_start + self.history.len() as i64 >= self.block_end(self.next_block) {
            self.run_block(None, &mut out);
        }
        out
    }

    /// Ends the signal and returns the remaining rows. The cochleagram has
    /// `ceil(samples * step_rate / sample_rate)` steps in all.
    pub fn finish(mut self) -> Vec<f32> {
        self.finish_signal()
    }

    /// Forgets the signal pushed so far: the next sample pushed is sample 0 of a new signal. The
    /// filterbank and the FFT plans are kept, which is what makes analysing many signals with one
    /// analyser cheaper than with a new one each.
    pub fn reset(&mut self) {
        self.history.clear();
        self.history.resize(MARGIN, 0.0);
        self.history_start = -(MARGIN as i64);
        self.pushed = 0;
        self.next_block = 0;
        self.next_step = 0;
    }

    /// The cochleagram rows of a whole signal; the analyser is reset before and after.
    pub fn analyse(&mut self, samples: &[f32]) -> Vec<f32> {
        self.reset();
        let mut rows = self.push(samples);
        rows.extend(self.finish_signal());
        self.reset();
        rows
    }

    fn finish_signal(&mut self) -> Vec<f32> {
        let total_steps =
            (self.pushed as f64 * self.params.step_rate_hz / f64::from(self.params.sample_rate)).ceil() as u64;
        let mut out = Vec::new();
        while self.next_step < total_steps {
            let end = self.block_end(self.next_block);
            let have = self.history_start + self.history.len() as i64;
            if have < end {
                self.history.resize(self.history.len() + (end - have) as usize, 0.0);
            }
            self.run_block(Some((self.pushed as i64, total_steps)), &mut out);
        }
        out
    }

    fn block_end(&self, block: u64) -> i64 {
        (block as i64 + 1) * HOP as i64 + MARGIN as i64
    }

    /// Analyses block `next_block` and appends the rows of the steps in its core. `end` is the
    /// signal's length and step count once known.
    fn run_block(&mut self, end: Option<(i64, u64)>, out: &mut Vec<f32>) {
        let core_start = self.next_block as i64 * HOP as i64;
        let block_start = core_start - MARGIN as i64;
        let offset = (block_start - self.history_start) as usize;
        self.input.copy_from_slice(&self.history[offset..offset + BLOCK]);
        // realfft only fails on wrongly sized buffers, which are sized by its own planner.
        let _ = self.forward.process(&mut self.input, &mut self.spectrum);

        let sr = f64::from(self.params.sample_rate);
        let samples_per_step = sr / self.params.step_rate_hz;
        let signal_len = end.map_or(i64::MAX, |(n, _)| n);
        let step_limit = end.map_or(u64::MAX, |(_, s)| s);
        let core_end = (core_start + HOP as i64) as f64;
        let first_step = self.next_step;
        let mut last_step = first_step;
        while last_step < step_limit && (last_step as f64 * samples_per_step) < core_end {
            last_step += 1;
        }
        let window = StepWindow {
            block_start,
            first_step,
            steps: (last_step - first_step) as usize,
            samples_per_step,
            signal_len,
            compression: self.params.compression as f32,
        };

        // Each worker takes an interleaved share of the bands (wide and narrow alike).
        let spectrum = &self.spectrum;
        let bands = &self.bands;
        let workers = self.workers.len();
        let mut columns: Vec<Vec<f32>> = vec![Vec::new(); bands.len()];
        std::thread::scope(|scope| {
            let handles: Vec<_> = self
                .workers
                .iter_mut()
                .enumerate()
                .map(|(w, scratch)| {
                    let window = &window;
                    scope.spawn(move || {
                        (w..bands.len())
                            .step_by(workers)
                            .map(|b| (b, band_column(&bands[b], spectrum, scratch, window)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for handle in handles {
                // A worker only panics on a bug; re-raise it here rather than lose its bands.
                for (b, column) in handle.join().unwrap_or_else(|e| std::panic::resume_unwind(e)) {
                    columns[b] = column;
                }
            }
        });
        for i in 0..window.steps {
            out.extend(columns.iter().map(|c| c[i]));
        }
        self.next_step = last_step;
        self.next_block += 1;
        // Keep only what the next block needs.
        let next_block_start = self.next_block as i64 * HOP as i64 - MARGIN as i64;
        let drop = (next_block_start - self.history_start).clamp(0, self.history.len() as i64) as usize;
        self.history.drain(..drop);
        self.history_start += drop as i64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(samples: Vec<f32>) -> AudioTrack {
        AudioTrack { rate: 48_000, start_s: 0.25, samples }
    }

    fn tone(freq: f64, amplitude: f32, seconds: f64) -> Vec<f32> {
        (0..(seconds * 48_000.0) as usize)
            .map(|n| amplitude * (2.0 * std::f64::consts::PI * freq * n as f64 / 48_000.0).sin() as f32)
            .collect()
    }

    #[test]
    fn a_tone_lights_its_band_at_its_level() {
        let params = CochleagramParams::default();
        let centres = params.centres_hz();
        let band = 25;
        let c = cochleagram_of(&track(tone(centres[band], 0.5, 2.0)), &params).unwrap();
        assert_eq!(c.bands, 42);
        assert_eq!(c.steps(), 180);
        assert!((c.time_of(90) - 1.25).abs() < 1e-12);
        let row = c.row(90);
        let loudest = row.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
        assert_eq!(loudest, band);
        // At the centre the filter's gain is 1: the envelope is the tone's amplitude.
        assert!((row[band] - 0.5_f32.powf(0.3)).abs() < 0.01, "{}", row[band]);
    }

    #[test]
    fn silence_is_zero_and_the_step_count_follows_the_length() {
        let c = cochleagram_of(&track(vec![0.0; 48_000 * 3 + 7]), &CochleagramParams::default()).unwrap();
        assert_eq!(c.steps(), 271); // ceil((144007 / 48000) * 90)
        assert!(c.data.iter().all(|&x| x == 0.0));
        let empty = cochleagram_of(&track(Vec::new()), &CochleagramParams::default()).unwrap();
        assert_eq!(empty.steps(), 0);
    }

    #[test]
    fn any_split_into_pieces_gives_the_same_steps() {
        // Longer than several blocks, with clicks on the block edges.
        let mut samples = tone(1000.0, 0.1, 7.0);
        for k in 0..samples.len() / 20_000 {
            samples[k * 20_000] += 0.9;
        }
        let params = CochleagramParams::default();
        let whole = cochleagram_of(&track(samples.clone()), &params).unwrap();
        let mut analyzer = CochleagramAnalyzer::new(params).unwrap();
        let mut streamed = Vec::new();
        for piece in samples.chunks(12_345) {
            streamed.extend(analyzer.push(piece));
        }
        streamed.extend(analyzer.finish());
        assert_eq!(streamed.len(), whole.data.len());
        let worst = streamed.iter().zip(&whole.data).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(worst < 1e-6, "{worst}");

        // An analyser reset halfway through another signal starts afresh, and one analyser can
        // analyse signal after signal.
        let other = tone(300.0, 0.5, 2.0);
        let mut reused = CochleagramAnalyzer::new(CochleagramParams::default()).unwrap();
        assert!(!reused.push(&other).is_empty());
        reused.reset();
        let mut again = reused.push(&samples);
        again.extend(reused.finish());
        assert_eq!(again, whole.data);
        let mut reused = CochleagramAnalyzer::new(CochleagramParams::default()).unwrap();
        assert_eq!(reused.analyse(&other).len(), 180 * 42);
        assert_eq!(reused.analyse(&samples), whole.data);
    }

    /// The same features computed the slow, obvious way: one FFT over the whole (zero-padded)
    /// signal, full-rate analytic signals, and the Hann average over every sample.
    fn reference(samples: &[f32], params: &CochleagramParams) -> Vec<f32> {
        let pad = 48_000;
        let n = samples.len() + 2 * pad;
        let mut planner = FftPlanner::<f64>::new();
        let mut spectrum: Vec<Complex<f64>> = (0..n)
            .map(|i| {
                Complex::new(if i >= pad && i < pad + samples.len() { f64::from(samples[i - pad]) } else { 0.0 }, 0.0)
            })
            .collect();
        planner.plan_fft_forward(n).process(&mut spectrum);
        let fb = params.filterbank(n);
        let steps = (samples.len() as f64 * 90.0 / 48_000.0).ceil() as usize;
        let mut out = vec![0.0_f32; steps * fb.bands.len()];
        let inverse = planner.plan_fft_inverse(n);
        for (b, band) in fb.bands.iter().enumerate() {
            let mut analytic = vec![Complex::new(0.0, 0.0); n];
            for (i, g) in band.gains.iter().enumerate() {
                let bin = band.first_bin + i;
                let factor = if bin == 0 || 2 * bin == n { 1.0 } else { 2.0 };
                analytic[bin] = spectrum[bin] * f64::from(*g) * factor;
            }
            inverse.process(&mut analytic);
            for step in 0..steps {
                let centre = step as f64 * 48_000.0 / 90.0;
                let (mut sum, mut weights) = (0.0, 0.0);
                let lo = (centre - 48_000.0 / 90.0).ceil().max(0.0) as usize;
                let hi = ((centre + 48_000.0 / 90.0).floor() as usize).min(samples.len() - 1);
                for s in lo..=hi {
                    let w = 0.5 * (1.0 + (std::f64::consts::PI * (s as f64 - centre) * 90.0 / 48_000.0).cos());
                    sum += w * analytic[s + pad].norm() / n as f64;
                    weights += w;
                }
                out[step * fb.bands.len() + b] = (sum / weights).powf(0.3) as f32;
            }
        }
        out
    }

    #[test]
    fn blocks_and_reduced_band_rates_match_a_whole_signal_analysis() {
        // Knocks of several sizes (an impulse and a ringing partial), two on block edges, over
        // a faint tone: 3 blocks' worth.
        let mut samples = tone(440.0, 0.01, 3.5);
        for (at, size) in [(10_000, 0.9), (HOP - 3, 0.5), (2 * HOP + 7, 0.7), (150_000, 0.05)] {
            samples[at] += size;
            for k in 0..2_000 {
                let ring =
                    (-(k as f32) / 300.0).exp() * (2.0 * std::f32::consts::PI * 2_300.0 * k as f32 / 48_000.0).sin();
                samples[at + k] += 0.5 * size * ring;
            }
        }
        let params = CochleagramParams::default();
        let ours = cochleagram_of(&track(samples.clone()), &params).unwrap();
        let slow = reference(&samples, &params);
        assert_eq!(ours.data.len(), slow.len());
        // Compare levels, not compressed values: x^0.3 magnifies differences that are
        // inaudibly small near silence.
        let linear = |x: f32| x.powf(1.0 / 0.3);
        let peak = slow.iter().fold(0.0_f32, |m, x| m.max(linear(*x)));
        let worst = ours.data.iter().zip(&slow).map(|(a, b)| (linear(*a) - linear(*b)).abs()).fold(0.0, f32::max);
        assert!(worst < 1e-3 * peak, "largest difference {worst} (peak {peak})");
    }

    #[test]
    fn the_wrong_rate_is_refused() {
        let t = AudioTrack { rate: 44_100, start_s: 0.0, samples: vec![0.0; 100] };
        assert!(matches!(cochleagram_of(&t, &CochleagramParams::default()), Err(SoundError::SampleRate { .. })));
    }
}
