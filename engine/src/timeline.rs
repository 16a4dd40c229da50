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

/// Seconds from midnight of a SMPTE timecode `HH:MM:SS:FF` (or `HH:MM:SS;FF`, drop-frame) on a
/// video of `fps` frames per second; `None` for anything else. Frames count at the nominal rate
/// (30 for 29.97) and last `1 / fps` each, so 01:00:00:00 at 29.97 non-drop is 3603.6 s of real
/// time; drop-frame timecode skips frame numbers 0 and 1 (0-3 at 59.94) of every minute but each
/// tenth, so it stays on the clock.
#[must_use]
pub fn timecode_seconds(timecode: &str, fps: f64) -> Option<f64> {
    let drop = timecode.contains(';');
    let parts: Vec<u64> = timecode.split([':', ';', '.']).map(|p| p.trim().parse().ok()).collect::<Option<_>>()?;
    let [h, m, s, f] = parts[..] else { return None };
    let nominal = fps.round();
    if !(fps > 0.0 && nominal >= 1.0) || m >= 60 || s >= 60 || f as f64 >= nominal {
        return None;
    }
    let nominal = nominal as u64;
    let mut frames = ((h * 60 + m) * 60 + s) * nominal + f;
    if drop {
        let dropped_per_minute = (nominal / 30) * 2;
        let minutes = h * 60 + m;
        frames = frames.checked_sub(dropped_per_minute * (minutes - minutes / 10))?;
    }
    Some(frames as f64 / fps)
}

/// The SMPTE timecode of `seconds` from midnight on a video of `fps` frames per second: the
/// frame showing then (the nearest frame start), as `HH:MM:SS:FF`, or `HH:MM:SS;FF` drop-frame
/// (29.97 and 59.94 only). The inverse of [`timecode_seconds`].
#[must_use]
pub fn timecode(seconds: f64, fps: f64, drop_frame: bool) -> String {
    let nominal = fps.round().max(1.0) as u64;
    let mut frames = (seconds.max(0.0) * fps).round() as u64;
    let dropping = drop_frame && nominal.is_multiple_of(30) && (fps - nominal as f64).abs() > 1e-3;
    if dropping {
        // Frame numbers skipped so far: per ten minutes, those of nine minutes.
        let drop = nominal / 30 * 2;
        let per_ten = nominal * 600 - drop * 9;
        let per_minute = nominal * 60 - drop;
        let (tens, rest) = (frames / per_ten, frames % per_ten);
        let minutes_in = if rest < drop { 0 } else { (rest - drop) / per_minute };
        frames += drop * 9 * tens + drop * minutes_in;
    }
    let (ff, total_s) = (frames % nominal, frames / nominal);
    let separator = if dropping { ';' } else { ':' };
    format!("{:02}:{:02}:{:02}{separator}{:02}", total_s / 3600, total_s / 60 % 60, total_s % 60, ff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timecodes_are_written_as_they_are_read() {
        assert_eq!(timecode(3600.0, 25.0, false), "01:00:00:00");
        assert_eq!(timecode(1.5, 24.0, false), "00:00:01:12");
        let ntsc = 30_000.0 / 1001.0;
        // Drop-frame skips ;00 and ;01 at each minute but the tenth.
        assert_eq!(timecode(1800.0 / ntsc, ntsc, true), "00:01:00;02");
        assert_eq!(timecode(600.0, ntsc, true), "00:10:00;00");
        for fps in [24.0, 25.0, ntsc, 50.0, 60_000.0 / 1001.0] {
            for drop in [false, true] {
                for frame in [0_u64, 1, 29, 1_799, 1_800, 17_982, 107_892, 215_784] {
                    let t = frame as f64 / fps;
                    let tc = timecode(t, fps, drop);
                    let back = timecode_seconds(&tc, fps).unwrap();
                    assert!((back - t).abs() < 1e-6, "{fps} {drop} frame {frame}: {tc} reads back as {back}, not {t}");
                }
            }
        }
    }

    #[test]
    fn timecodes_are_read_at_the_video_rate() {
        assert_eq!(timecode_seconds("01:00:00:00", 25.0), Some(3600.0));
        assert_eq!(timecode_seconds("00:00:01:12", 24.0), Some(1.5));
        let ntsc = 30_000.0 / 1001.0;
        // Non-drop counts 30 a second while 29.97 go by; drop-frame keeps to the clock.
        assert!((timecode_seconds("01:00:00:00", ntsc).unwrap() - 3603.6).abs() < 1e-9);
        assert!((timecode_seconds("01:00:00;00", ntsc).unwrap() - 3600.0).abs() < 0.01);
        assert!((timecode_seconds("00:10:00;00", ntsc).unwrap() - 600.0).abs() < 0.01);
        for bad in ["", "01:00:00", "01:00:00:25", "01:61:00:00", "a:b:c:d", "00:00:00;00:00"] {
            assert_eq!(timecode_seconds(bad, 25.0), None, "{bad}");
        }
    }

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
