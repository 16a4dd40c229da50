//! The time axis every stage of the pipeline shares.
//!
//! Everything is placed by presentation timestamps in seconds, never by frame index alone, so
//! 29.97 fps, 25, 60 and variable-rate video never drift. Time 0 is the first frame of the video
//! stream; an audio track that starts earlier has a negative start time.

/// The rate of the sound features (cochleagram steps) on the timeline, in steps per second.
pub const FEATURE_RATE_HZ: f64 = 90.0;

/// The rate of every audio track foley writes, in samples per second.
pub const OUTPUT_SAMPLE_RATE: u32 = 48_000;

/// Index of the sample at `time_s` for a signal of `rate` Hz that starts at `start_s`.
///
/// Rounds to the nearest sample so that a time that was produced from a sample index maps back to
/// exactly that index.
#[must_use]
pub fn sample_at(time_s: f64, start_s: f64, rate: u32) -> i64 {
    ((time_s - start_s) * f64::from(rate)).round() as i64
}

/// Time in seconds of sample `index` of a signal of `rate` Hz that starts at `start_s`.
#[must_use]
pub fn time_of_sample(index: i64, start_s: f64, rate: u32) -> f64 {
    start_s + index as f64 / f64::from(rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_time_round_trip_is_exact() {
        for rate in [44_100, 48_000, 96_000] {
            for index in [0_i64, 1, 47_999, 1_234_567] {
                let t = time_of_sample(index, -0.021, rate);
                assert_eq!(sample_at(t, -0.021, rate), index, "rate {rate} index {index}");
            }
        }
    }
}
