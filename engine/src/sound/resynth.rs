//! Parametric resynthesis: a waveform whose cochleagram is a given one.
//!
//! After McDermott and Simoncelli (2011): start from noise; then, each iteration, split the
//! signal into the filterbank's bands, keep each band's fine structure (the phase of its analytic
//! signal) but impose the target envelope (the cochleagram decompressed and interpolated to the
//! audio rate), filter each band again and sum. Because the squared filter responses sum to one,
//! analysis followed by this synthesis reconstructs a signal exactly, so each iteration moves the
//! signal's envelopes toward the target.
//!
//! The target is a 90 Hz average of envelopes, so imposing it as it is would be averaged a second
//! time by the analysis (attacks would come out blunter than the target), and neighbouring bands
//! overlap. Each iteration therefore also re-analyses the result and corrects the envelope it
//! imposes, step by step and band by band, by the ratio of target to achieved level. The report
//! gives the relative error of the re-analysed cochleagram after each iteration.

use rustfft::FftPlanner;
use rustfft::num_complex::Complex;
use serde::{Deserialize, Serialize};

use super::{Cochleagram, CochleagramParams, SoundError, cochleagram_of};
use crate::media::AudioTrack;

/// What carries each band's envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Carrier {
    /// Noise, reshaped band by band (McDermott and Simoncelli): natural for textures, slower to
    /// converge.
    Noise,
    /// One sinusoid at each band's centre frequency, where every neighbouring filter is zero, so
    /// each band sees only its own carrier and the levels converge quickly.
    Tones,
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
    let sr = f64::from(params.sample_rate);
    let n = (target.steps() as f64 * sr / params.step_rate_hz).round() as usize;
    let silent = AudioTrack { rate: params.sample_rate, start_s: target.start_s, samples: vec![0.0; n] };
    let target_norm = norm(&target.data);
    if n == 0 || target_norm == 0.0 {
        return Ok((silent, ResynthReport { relative_error: Vec::new() }));
    }

    if settings.carrier == Carrier::Tones {
        return Ok(resynthesize_tones(target, params, settings, n, target_norm));
    }
    // Room on both sides so the circular FFT does not wrap the ends onto each other.
    let pad = (sr * 0.25) as usize;
    let len = (n + 2 * pad).next_power_of_two();
    let filterbank = params.filterbank(len);
    let inv = 1.0 / params.compression;
    // The level imposed at each step and band, in linear units: the target, then corrected.
    let mut imposed: Vec<f64> = target.data.iter().map(|c| f64::from(c.max(0.0)).powf(inv)).collect();
    let mut planner = FftPlanner::<f32>::new();
    let forward = planner.plan_fft_forward(len);
    let inverse = planner.plan_fft_inverse(len);

    let mut signal = noise(n, settings.seed);
    let mut best = (f64::INFINITY, Vec::new());
    let mut report = ResynthReport { relative_error: Vec::with_capacity(settings.iterations) };
    let mut spectrum = vec![Complex::<f32>::default(); len];
    let mut band = vec![Complex::<f32>::default(); len];
    let mut sum = vec![Complex::<f32>::default(); len];
    for _ in 0..settings.iterations {
        let envelopes = interpolate_levels(&imposed, target.bands, params, n);
        spectrum.fill(Complex::default());
        for (s, x) in spectrum[pad..pad + n].iter_mut().zip(&signal) {
            s.re = *x;
        }
        forward.process(&mut spectrum);
        sum.fill(Complex::default());
        for (response, envelope) in filterbank.bands.iter().zip(&envelopes) {
            // The band's analytic signal: its filtered positive frequencies, doubled.
            band.fill(Complex::default());
            for (i, g) in response.gains.iter().enumerate() {
                let bin = response.first_bin + i;
                let factor = if bin == 0 || 2 * bin == len { 1.0 } else { 2.0 };
                band[bin] = spectrum[bin] * (g * factor);
            }
            inverse.process(&mut band);
            // Keep the phase, impose the envelope; the band becomes real.
            for (k, c) in band.iter_mut().enumerate() {
                let target_env = if k >= pad && k < pad + n { envelope[k - pad] } else { 0.0 };
                let magnitude = c.norm();
                let re = if magnitude > 0.0 { c.re / magnitude * target_env } else { 0.0 };
                *c = Complex::new(re, 0.0);
            }
            forward.process(&mut band);
            // Filter again on the way back; the inverse FFT's 1/len is applied once below.
            for (i, g) in response.gains.iter().enumerate() {
                let bin = response.first_bin + i;
                sum[bin] += band[bin] * *g;
                let mirror = (len - bin) % len;
                if mirror != bin {
                    sum[mirror] += band[mirror] * *g;
                }
            }
        }
        inverse.process(&mut sum);
        let scale = 1.0 / len as f32;
        for (x, s) in signal.iter_mut().zip(&sum[pad..pad + n]) {
            *x = s.re * scale;
        }
        let analysed = cochleagram_of(
            &AudioTrack { rate: params.sample_rate, start_s: target.start_s, samples: signal.clone() },
            params,
        )?;
        let diff: Vec<f32> = analysed.data.iter().zip(&target.data).map(|(a, b)| a - b).collect();
        let error = norm(&diff) / target_norm;
        report.relative_error.push(error);
        for ((level, got), want) in imposed.iter_mut().zip(&analysed.data).zip(&target.data) {
            let (got, want) = (f64::from(got.max(0.0)).powf(inv), f64::from(want.max(0.0)).powf(inv));
            // Bounded, so one badly placed step cannot run away.
            *level *= ((want + 1e-9) / (got + 1e-9)).clamp(0.25, 4.0);
        }
        if error < best.0 {
            best = (error, signal.clone());
        }
    }
    let samples = if best.1.is_empty() { signal } else { best.1 };
    Ok((AudioTrack { samples, ..silent }, report))
}

/// Envelopes on sinusoidal carriers, with the levels corrected after each analysis.
fn resynthesize_tones(
    target: &Cochleagram,
    params: &CochleagramParams,
    settings: &ResynthParams,
    n: usize,
    target_norm: f64,
) -> (AudioTrack, ResynthReport) {
    let inv = 1.0 / params.compression;
    let sr = f64::from(params.sample_rate);
    let centres = params.centres_hz();
    let phases = noise(centres.len(), settings.seed);
    let mut imposed: Vec<f64> = target.data.iter().map(|c| f64::from(c.max(0.0)).powf(inv)).collect();
    let mut report = ResynthReport { relative_error: Vec::with_capacity(settings.iterations) };
    let mut signal = vec![0.0_f32; n];
    let mut best = (f64::INFINITY, Vec::new());
    for _ in 0..settings.iterations.max(1) {
        let envelopes = interpolate_levels(&imposed, target.bands, params, n);
        signal.fill(0.0);
        for ((centre, phase), envelope) in centres.iter().zip(&phases).zip(&envelopes) {
            // A rotating phasor: one complex multiply per sample instead of a cosine.
            let step = Complex::from_polar(1.0, 2.0 * std::f64::consts::PI * centre / sr);
            let mut carrier = Complex::from_polar(1.0, f64::from(*phase) * 40.0);
            for (x, e) in signal.iter_mut().zip(envelope) {
                *x += e * carrier.re as f32;
                carrier *= step;
            }
        }
        let track = AudioTrack { rate: params.sample_rate, start_s: target.start_s, samples: signal.clone() };
        let Ok(analysed) = cochleagram_of(&track, params) else { break };
        let diff: Vec<f32> = analysed.data.iter().zip(&target.data).map(|(a, b)| a - b).collect();
        let error = norm(&diff) / target_norm;
        report.relative_error.push(error);
        if error < best.0 {
            best = (error, signal.clone());
        }
        if report.relative_error.len() == settings.iterations {
            break;
        }
        for ((level, got), want) in imposed.iter_mut().zip(&analysed.data).zip(&target.data) {
            let (got, want) = (f64::from(got.max(0.0)).powf(inv), f64::from(want.max(0.0)).powf(inv));
            *level *= ((want + 1e-9) / (got + 1e-9)).clamp(0.25, 4.0).sqrt();
        }
    }
    // Half-steps in the level corrections keep neighbouring steps from overshooting each other;
    // the iteration that came closest is the one returned.
    (AudioTrack { rate: params.sample_rate, start_s: target.start_s, samples: best.1 }, report)
}

fn norm(values: &[f32]) -> f64 {
    values.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>().sqrt()
}

/// Levels given per step (`steps x bands`, linear) at the audio rate: geometric between steps
/// (linear in the logarithm, above a floor of -140 dBFS so silence stays silent), each step at its
/// own time (`i / rate`).
fn interpolate_levels(levels: &[f64], bands: usize, params: &CochleagramParams, n: usize) -> Vec<Vec<f32>> {
    const FLOOR: f64 = 1e-7;
    let per_step = f64::from(params.sample_rate) / params.step_rate_hz;
    let steps = levels.len() / bands;
    let logs: Vec<f64> = levels.iter().map(|l| (l + FLOOR).ln()).collect();
    (0..bands)
        .map(|b| {
            let log_level = |i: usize| logs[i.min(steps - 1) * bands + b];
            (0..n)
                .map(|k| {
                    let pos = k as f64 / per_step;
                    let i = pos.floor() as usize;
                    let frac = pos - i as f64;
                    // Geometric: an impact's envelope rises and decays exponentially, so a
                    // straight line between a loud step and a quiet one overfills the quiet one.
                    ((log_level(i) * (1.0 - frac) + log_level(i + 1) * frac).exp() - FLOOR).max(0.0) as f32
                })
                .collect()
        })
        .collect()
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

    #[test]
    fn the_error_falls_and_a_silent_target_gives_silence() {
        // A target made from a real signal: a decaying knock.
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
        let params = CochleagramParams::default();
        let target = cochleagram_of(&AudioTrack { rate: 48_000, start_s: 0.0, samples }, &params).unwrap();
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

        let silent = Cochleagram { start_s: 0.0, rate_hz: 90.0, bands: 42, data: vec![0.0; 42 * 30] };
        let (quiet, report) = resynthesize(&silent, &params, &ResynthParams::default()).unwrap();
        assert!(quiet.samples.iter().all(|&s| s == 0.0));
        assert!(report.relative_error.is_empty());
    }
}
