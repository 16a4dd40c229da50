//! The ERB-spaced half-cosine filterbank of McDermott and Simoncelli (2011), as used by the
//! paper's sound features.
//!
//! `bandpass` filters are spaced evenly on the ERB-number scale (Glasberg and Moore) between
//! `low_hz` and `high_hz`; each is half a cosine period wide in ERB space, spanning from its lower
//! to its upper neighbour's centre, so adjacent filters overlap by half. A low-pass band (below
//! the first centre) and a high-pass band (above the last centre) complete the set so that the
//! squared responses sum to exactly 1 at every frequency: analysing with the filters and
//! synthesising with them again reconstructs the signal, which the parametric resynthesis needs.
//! The filters are zero-phase and defined on FFT bins.
//!
//! A half-cosine has corners where it meets zero, so its impulse response has long tails; when a
//! long signal is analysed in overlapping blocks, those tails reach from an event into blocks
//! that cannot see it and leave steps there (after compression, which magnifies tiny values)
//! with a visible jump. Each impulse response is therefore tapered to zero within
//! [`IMPULSE_RESPONSE_HALF_S`] of its centre (flat for the first half, a raised-cosine taper
//! after), which rounds the corners off by a few hertz and keeps the squared sum within a fraction
//! of a percent of one.

use std::sync::Arc;

use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

/// Half-length of every filter's impulse response, seconds (see the module notes).
pub const IMPULSE_RESPONSE_HALF_S: f64 = 0.15;

/// ERB-number of a frequency (Glasberg and Moore 1990).
#[must_use]
pub fn freq_to_erb(hz: f64) -> f64 {
    9.265 * (1.0 + hz / (24.7 * 9.265)).ln()
}

/// Frequency of an ERB-number.
#[must_use]
pub fn erb_to_freq(erb: f64) -> f64 {
    24.7 * 9.265 * ((erb / 9.265).exp() - 1.0)
}

/// One band's response on a run of FFT bins (zero elsewhere).
#[derive(Debug, Clone)]
pub struct BandResponse {
    /// The first bin with a non-zero gain.
    pub first_bin: usize,
    /// Gains from `first_bin` on.
    pub gains: Vec<f32>,
}

impl BandResponse {
    /// One past the last non-zero bin.
    #[must_use]
    pub fn end_bin(&self) -> usize {
        self.first_bin + self.gains.len()
    }

    /// The gains that turn the band's bins of a real signal's FFT of `fft_len` samples into its
    /// analytic signal's: doubled, except at DC and Nyquist, which have no negative twin.
    #[must_use]
    pub fn analytic_gains(&self, fft_len: usize) -> Vec<f32> {
        (self.first_bin..)
            .zip(&self.gains)
            .map(|(bin, g)| if bin == 0 || 2 * bin == fft_len { *g } else { 2.0 * g })
            .collect()
    }
}

/// The filterbank for one FFT length and sample rate.
#[derive(Debug, Clone)]
pub struct ErbCosineFilterbank {
    /// Low-pass, band-pass filters from low to high, high-pass.
    pub bands: Vec<BandResponse>,
    /// Nominal centre of each band in Hz: the band-pass centres, and for the low-pass and
    /// high-pass bands the middle of their pass region.
    pub centres_hz: Vec<f64>,
    pub fft_len: usize,
    pub sample_rate: u32,
}

impl ErbCosineFilterbank {
    /// `bandpass` cosine filters between `low_hz` and `high_hz` (plus the two edge bands) on the
    /// bins of a real FFT of `fft_len` samples at `sample_rate`.
    #[must_use]
    pub fn new(bandpass: usize, low_hz: f64, high_hz: f64, sample_rate: u32, fft_len: usize) -> Self {
        let nyquist = f64::from(sample_rate) / 2.0;
        let bins = fft_len / 2 + 1;
        let bin_hz = f64::from(sample_rate) / fft_len as f64;
        let (erb_lo, erb_hi) = (freq_to_erb(low_hz), freq_to_erb(high_hz));
        let cutoffs: Vec<f64> = (0..bandpass + 2)
            .map(|k| erb_to_freq(erb_lo + (erb_hi - erb_lo) * k as f64 / (bandpass + 1) as f64))
            .collect();
        let mut dense = vec![vec![0.0_f64; bins]; bandpass + 2];
        for k in 0..bandpass {
            let (lo, hi) = (cutoffs[k], cutoffs[k + 2]);
            let (erb_l, erb_h) = (freq_to_erb(lo), freq_to_erb(hi));
            let (mid, range) = ((erb_l + erb_h) / 2.0, erb_h - erb_l);
            for (j, gain) in dense[k + 1].iter_mut().enumerate() {
                let f = j as f64 * bin_hz;
                if f > lo && f < hi {
                    *gain = ((freq_to_erb(f) - mid) / range * std::f64::consts::PI).cos();
                }
            }
        }
        // The edge bands take whatever the first and last cosines leave, so that the squared
        // responses sum to one.
        let complement = |g: f64| (1.0 - g * g).max(0.0).sqrt();
        let first: Vec<f64> = dense[1].clone();
        for (j, (low, g)) in dense[0].iter_mut().zip(&first).enumerate() {
            if (j as f64 * bin_hz) < cutoffs[1] {
                *low = complement(*g);
            }
        }
        let last: Vec<f64> = dense[bandpass].clone();
        for (j, (high, g)) in dense[bandpass + 1].iter_mut().zip(&last).enumerate() {
            if (j as f64 * bin_hz) > cutoffs[bandpass] {
                *high = complement(*g);
            }
        }
        let half = ((IMPULSE_RESPONSE_HALF_S * f64::from(sample_rate)) as usize).min(fft_len / 2);
        // One pair of plans for every band: planning a long transform costs more than running it.
        let mut planner = RealFftPlanner::<f64>::new();
        let plans = (planner.plan_fft_inverse(fft_len), planner.plan_fft_forward(fft_len));
        for response in &mut dense {
            taper_impulse_response(response, &plans, half);
        }
        let bands = dense
            .iter()
            .map(|g| {
                let first = g.iter().position(|&x| x.abs() > 1e-5).unwrap_or(0);
                let last = g.iter().rposition(|&x| x.abs() > 1e-5).unwrap_or(0);
                BandResponse { first_bin: first, gains: g[first..=last.max(first)].iter().map(|&x| x as f32).collect() }
            })
            .collect();
        let mut centres_hz = Vec::with_capacity(bandpass + 2);
        centres_hz.push(cutoffs[1] / 2.0);
        centres_hz.extend_from_slice(&cutoffs[1..=bandpass]);
        centres_hz.push(f64::midpoint(cutoffs[bandpass], nyquist));
        Self { bands, centres_hz, fft_len, sample_rate }
    }
}

/// An inverse and a forward real FFT of one length.
type RealFftPair = (Arc<dyn ComplexToReal<f64>>, Arc<dyn RealToComplex<f64>>);

/// Replaces a zero-phase response on the bins of a real FFT (of the plans' length) by the
/// response of its impulse response tapered to zero `half` samples either side of the centre.
fn taper_impulse_response(response: &mut [f64], (inverse, forward): &RealFftPair, half: usize) {
    let fft_len = inverse.len();
    let mut spectrum: Vec<realfft::num_complex::Complex<f64>> =
        response.iter().map(|&g| realfft::num_complex::Complex::new(g, 0.0)).collect();
    let mut impulse = inverse.make_output_vec();
    // The planners' own buffers are the right sizes, so neither transform can fail.
    let _ = inverse.process(&mut spectrum, &mut impulse);
    let flat = half / 2;
    for (n, h) in impulse.iter_mut().enumerate() {
        let distance = n.min(fft_len - n);
        let w = if distance <= flat {
            1.0
        } else if distance < half {
            0.5 * (1.0 + (std::f64::consts::PI * (distance - flat) as f64 / (half - flat) as f64).cos())
        } else {
            0.0
        };
        *h *= w / fft_len as f64;
    }
    let _ = forward.process(&mut impulse, &mut spectrum);
    for (g, c) in response.iter_mut().zip(&spectrum) {
        *g = c.re;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squared_responses_sum_to_one_everywhere() {
        let fb = ErbCosineFilterbank::new(40, 20.0, 16_000.0, 48_000, 1 << 16);
        assert_eq!(fb.bands.len(), 42);
        let mut sum = vec![0.0_f64; (1 << 16) / 2 + 1];
        for band in &fb.bands {
            for (i, g) in band.gains.iter().enumerate() {
                sum[band.first_bin + i] += f64::from(*g).powi(2);
            }
        }
        // Exactly one before the taper; within half a percent after it.
        for (j, s) in sum.iter().enumerate() {
            assert!((s - 1.0).abs() < 5e-3, "bin {j}: {s}");
        }
    }

    #[test]
    fn centres_are_erb_spaced_between_the_limits() {
        let fb = ErbCosineFilterbank::new(40, 20.0, 16_000.0, 48_000, 8192);
        let erbs: Vec<f64> = fb.centres_hz[1..41].iter().map(|&f| freq_to_erb(f)).collect();
        let step = erbs[1] - erbs[0];
        assert!(erbs.windows(2).all(|w| ((w[1] - w[0]) - step).abs() < 1e-9));
        assert!(fb.centres_hz[1] > 20.0 && fb.centres_hz[40] < 16_000.0);
        assert!((erb_to_freq(freq_to_erb(1234.5)) - 1234.5).abs() < 1e-9);
    }
}
