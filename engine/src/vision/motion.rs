//! Where in the picture things move, frame by frame: how much the gray image changed since the
//! frame before, and the horizontal centre of that change. Stereo placement reads it around each
//! hit to pan the hit to where the contact happened.
//!
//! A stick's whole length moves as it strikes, and the hand and arm above it move too. The
//! contact is where the tip meets the surface, which in a camera looking down on a surface is
//! low in what moves; so each frame's change is read in a band of rows around the row above
//! which 80% of the change lies. `tests/dataset_synth.rs` measures it on generated scenes whose
//! contact positions are known.

/// Changes of a gray level smaller than this are taken as noise and compression, not motion.
const NOISE_LEVEL: f32 = 6.0;
/// The band's centre: the row above which this share of the frame's change lies.
const BAND_QUANTILE: f32 = 0.8;
/// The band's half height, as a share of the frame's height.
const BAND_HALF_HEIGHT: f32 = 0.1;
/// Frames read around a hit: the one nearest its time and the ones after it (the tip stops on
/// the surface, then rebounds).
const FRAMES_AFTER_HIT: usize = 2;

/// One frame's change from the frame before.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Change {
    time_s: f64,
    /// Summed change in the band (gray levels).
    energy: f32,
    /// The same sum, each pixel's share times its column's centre (0..1 of the width).
    moment: f32,
}

/// The motion of a whole video, 16 bytes a frame.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FrameMotion {
    changes: Vec<Change>,
    previous: Option<Vec<f32>>,
}

impl FrameMotion {
    /// Adds the next frame, at `time_s` (after every earlier frame), as a gray image of `width`
    /// columns. The first frame records no change.
    pub fn push(&mut self, time_s: f64, gray: &[f32], width: usize) {
        let width = width.max(1);
        let rows = gray.len() / width;
        let (mut energy, mut moment) = (0.0f32, 0.0f32);
        if let Some(previous) = self.previous.as_mut().filter(|p| p.len() == gray.len() && rows > 0) {
            // The previous frame's buffer takes each pixel's change (it gets this frame's gray
            // levels below), so every difference is computed once.
            for (p, &g) in previous.iter_mut().zip(gray) {
                let d = (g - *p).abs();
                *p = if d > NOISE_LEVEL { d } else { 0.0 };
            }
            let diffs: &[f32] = previous;
            let row_sums: Vec<f32> = diffs.chunks_exact(width).map(|row| row.iter().sum()).collect();
            let total: f32 = row_sums.iter().sum();
            if total > 0.0 {
                let mut above = 0.0;
                let centre = row_sums
                    .iter()
                    .position(|s| {
                        above += s;
                        above >= BAND_QUANTILE * total
                    })
                    .unwrap_or(rows - 1);
                let half = (BAND_HALF_HEIGHT * rows as f32).round() as usize;
                let band = centre.saturating_sub(half)..(centre + half).min(rows);
                let mut columns = vec![0.0f32; width];
                for r in band.filter(|&r| row_sums[r] > 0.0) {
                    for (column, d) in columns.iter_mut().zip(&diffs[r * width..(r + 1) * width]) {
                        *column += d;
                    }
                }
                energy = columns.iter().sum();
                moment = columns.iter().enumerate().map(|(c, e)| e * (c as f32 + 0.5) / width as f32).sum();
            }
        }
        self.changes.push(Change { time_s, energy, moment });
        match &mut self.previous {
            Some(p) if p.len() == gray.len() => p.copy_from_slice(gray),
            _ => self.previous = Some(gray.to_vec()),
        }
    }

    /// The motion of every frame pushed, without the last frame kept for the next change.
    #[must_use]
    pub fn finish(mut self) -> Self {
        self.previous = None;
        self
    }

    /// Frames pushed.
    #[must_use]
    pub fn len(&self) -> usize {
        self.changes.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Where a hit at `time_s` happened: the horizontal centre (0 left .. 1 right) of the change
    /// in the frame nearest the hit and the two after it; `None` where nothing moved there.
    #[must_use]
    pub fn x_at(&self, time_s: f64) -> Option<f64> {
        let after = self.changes.partition_point(|c| c.time_s < time_s);
        let nearest = match (after.checked_sub(1), self.changes.get(after)) {
            (Some(before), Some(next)) if time_s - self.changes[before].time_s < next.time_s - time_s => before,
            (Some(before), None) => before,
            _ => after,
        };
        let window = self.changes.get(nearest..(nearest + 1 + FRAMES_AFTER_HIT).min(self.changes.len()))?;
        let energy: f32 = window.iter().map(|c| c.energy).sum();
        let moment: f32 = window.iter().map(|c| c.moment).sum();
        (energy > 0.0).then(|| f64::from(moment / energy).clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 40x20 gray frame with a bright 4x4 square whose left column is `x` (none: blank).
    fn frame(x: Option<usize>) -> Vec<f32> {
        let mut f = vec![20.0; 40 * 20];
        if let Some(x) = x {
            for r in 8..12 {
                for c in x..x + 4 {
                    f[r * 40 + c] = 200.0;
                }
            }
        }
        f
    }

    #[test]
    fn a_change_is_placed_where_it_happens() {
        let mut motion = FrameMotion::default();
        // Still, then a square appears on the left at 1/3 s, then stays still.
        for (k, x) in [None, None, None, None, None, Some(4), Some(4), Some(4), Some(4)].into_iter().enumerate() {
            motion.push(k as f64 / 15.0, &frame(x), 40);
        }
        assert_eq!(motion.len(), 9);
        // Centre of columns 4..8 of 40: 0.15.
        let x = motion.x_at(5.0 / 15.0).expect("the square's change");
        assert!((x - 0.15).abs() < 1e-4, "{x}");
        // A hit just before the change reads it in the frames after; far from it nothing moved.
        assert!((motion.x_at(4.1 / 15.0).unwrap() - 0.15).abs() < 1e-4);
        assert_eq!(motion.x_at(0.0), None);
        assert_eq!(motion.x_at(8.0 / 15.0), None);
        // Past the end: the last frames.
        assert_eq!(motion.x_at(100.0), None);
    }

    #[test]
    fn noise_below_the_threshold_is_not_motion_and_the_lower_change_is_read() {
        let mut motion = FrameMotion::default();
        motion.push(0.0, &frame(None), 40);
        let noisy: Vec<f32> = frame(None).iter().enumerate().map(|(i, v)| v + (i % 5) as f32).collect();
        motion.push(0.1, &noisy, 40);
        assert_eq!(motion.x_at(0.1), None, "changes under {NOISE_LEVEL} levels count");

        // Two equal changes, one high on the right, one low on the left: the low one wins.
        let mut motion = FrameMotion::default();
        let blank = vec![0.0f32; 40 * 20];
        let mut both = blank.clone();
        for c in 30..34 {
            both[2 * 40 + c] = 100.0; // high, right
            both[17 * 40 + c - 26] = 100.0; // low, left
        }
        motion.push(0.0, &blank, 40);
        motion.push(0.1, &both, 40);
        let x = motion.x_at(0.1).unwrap();
        assert!(x < 0.5, "{x}");
    }
}
