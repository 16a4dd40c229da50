//! Frames onto the 90 Hz step grid: step `i` is at `i / rate` seconds on the video's timeline and
//! holds the features of the frame on screen then (the last frame whose presentation time is at or
//! before it). Placing by timestamps, not by frame index, keeps 25, 29.97, 60 fps and
//! variable-rate video aligned.

/// Steps covering a video whose frames end at `duration_s`.
#[must_use]
pub fn step_count(duration_s: f64, rate_hz: f64) -> usize {
    // The small slack keeps a duration like 10.000000001 s from adding a step.
    ((duration_s * rate_hz) - 1e-6).ceil().max(0.0) as usize
}

/// When the last of frames shown at `times` (ascending) ends: its timestamp plus the shortest frame
/// interval (a single frame is taken to last 1/30 s).
#[must_use]
pub fn frames_end(times: &[f64]) -> f64 {
    let interval = times.windows(2).map(|w| w[1] - w[0]).fold(f64::INFINITY, f64::min);
    times.last().copied().unwrap_or(0.0) + if interval.is_finite() { interval } else { 1.0 / 30.0 }
}

/// For steps `first..first + count`, the index of the frame each holds. `times` are the frames'
/// presentation times, ascending; steps before the first frame hold the first frame.
#[must_use]
pub fn step_frames(times: &[f64], rate_hz: f64, first: usize, count: usize) -> Vec<u32> {
    let mut out = Vec::with_capacity(count);
    let mut frame = 0usize;
    for i in first..first + count {
        // A frame counts as on screen from its timestamp, with slack for timestamp rounding.
        let t = i as f64 / rate_hz + 1e-6;
        while frame + 1 < times.len() && times[frame + 1] <= t {
            frame += 1;
        }
        out.push(u32::try_from(frame).unwrap_or(u32::MAX));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_29_97_fps_each_frame_covers_about_three_steps_without_drift() {
        let times: Vec<f64> = (0..300).map(|i| f64::from(i) * 1001.0 / 30000.0).collect();
        let steps = step_count(300.0 * 1001.0 / 30000.0, 90.0);
        assert_eq!(steps, 901);
        let map = step_frames(&times, 90.0, 0, steps);
        // Frame 1 comes at 33.37 ms, just after step 3 (33.33 ms).
        assert_eq!(&map[..5], &[0, 0, 0, 0, 1]);
        // The last step (10.00 s) is still on the last frame (shown from 9.977 s).
        assert_eq!(*map.last().unwrap_or(&0), 299);
        // Every step holds the frame on screen at its time.
        for (i, &f) in map.iter().enumerate() {
            let t = i as f64 / 90.0;
            assert!(
                times[f as usize] <= t + 1e-6 && (f as usize + 1 == times.len() || times[f as usize + 1] > t + 1e-6)
            );
        }
    }

    #[test]
    fn variable_rate_frames_are_held_for_their_own_duration() {
        // 30 fps, then a frame held for 0.2 s, then 30 fps again.
        let times = [0.0, 1.0 / 30.0, 2.0 / 30.0, 2.0 / 30.0 + 0.2, 2.0 / 30.0 + 0.2 + 1.0 / 30.0];
        let map = step_frames(&times, 90.0, 0, 30);
        let held_by_2 = map.iter().filter(|&&f| f == 2).count();
        assert_eq!(held_by_2, 18, "{map:?}"); // 0.2 s at 90 Hz
        assert_eq!(map[6], 2);
    }

    #[test]
    fn a_chunk_of_steps_maps_like_the_whole() {
        let times: Vec<f64> = (0..50).map(|i| f64::from(i) / 25.0).collect();
        let whole = step_frames(&times, 90.0, 0, 180);
        let part = step_frames(&times, 90.0, 100, 80);
        assert_eq!(&whole[100..], part.as_slice());
    }
}
