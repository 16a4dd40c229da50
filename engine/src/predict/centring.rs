//! Centring a video's space-time features on their running mean. Part of what the space-time
//! features hold stays the same all through a video (its surface, light, noise and compression
//! seen through the frame differences) and differs from one style of picture to another. Taking
//! away each value's running mean over the video so far leaves what changes. The mean runs
//! forward only, so a video streamed a batch of frames at a time is centred as the whole of it
//! would be. Off by default: a model trained so finds more contacts and reads drawn scenes
//! better, but takes things passing by for strokes (README, "On real-looking scenes").

use std::ops::Range;

use super::model::ModelConfig;

/// The running mean of a video's space-time features, and where in a row they lie.
#[derive(Debug, Clone)]
pub struct RowCentring {
    range: Range<usize>,
    width: usize,
    time_constant_s: f64,
    mean: Vec<f32>,
    last_time: Option<f64>,
}

impl RowCentring {
    /// The centring `config` asks for, at the start of a video; `None` for a model that reads
    /// its features as they come.
    #[must_use]
    pub fn for_model(config: &ModelConfig) -> Option<Self> {
        (config.centring_ms > 0).then(|| {
            let space_time = config.layout().space_time_range(config.input);
            Self::new(space_time, config.input, f64::from(config.centring_ms) / 1000.0)
        })
    }

    /// Centres `range` of rows `width` values wide, on a mean whose memory fades with
    /// `time_constant_s` seconds.
    #[must_use]
    pub fn new(range: Range<usize>, width: usize, time_constant_s: f64) -> Self {
        Self { mean: vec![0.0; range.len()], range, width, time_constant_s, last_time: None }
    }

    /// Centres the next `rows` of the video, the frames at `times` (after every earlier one).
    /// The first frame sets the mean, so it is centred to zero; each later frame moves the mean
    /// towards itself by `1 - exp(-dt / time constant)` before it is centred, so the mean is
    /// one of time, whatever the frame rate.
    pub fn apply(&mut self, times: &[f64], rows: &mut [f32]) {
        for (&t, row) in times.iter().zip(rows.chunks_exact_mut(self.width)) {
            let values = &mut row[self.range.clone()];
            let weight = match self.last_time {
                None => 1.0,
                Some(last) => 1.0 - (-(t - last).max(0.0) / self.time_constant_s).exp() as f32,
            };
            self.last_time = Some(t);
            for (m, v) in self.mean.iter_mut().zip(values.iter_mut()) {
                *m += weight * (*v - *m);
                *v -= *m;
            }
        }
    }
}

/// A whole video's rows as the model reads them: centred where its configuration asks for it.
pub fn centre_video(config: &ModelConfig, times: &[f64], rows: &mut [f32]) {
    if let Some(mut centring) = RowCentring::for_model(config) {
        centring.apply(times, rows);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steady_value_is_centred_to_zero_and_a_step_fades_with_the_time_constant() {
        let mut c = RowCentring::new(0..1, 2, 1.0);
        let times: Vec<f64> = (0..4).map(f64::from).collect();
        // Column 0 is centred; column 1 (the look) is left alone.
        let mut rows = vec![5.0, 9.0, 5.0, 9.0, 6.0, 9.0, 6.0, 9.0];
        c.apply(&times, &mut rows);
        let fade = (-1.0f32).exp();
        assert_eq!([rows[0], rows[2]], [0.0, 0.0]);
        assert!((rows[4] - fade).abs() < 1e-6, "{}", rows[4]);
        assert!((rows[6] - fade * fade).abs() < 1e-6, "{}", rows[6]);
        assert!(rows.iter().skip(1).step_by(2).all(|&v| v == 9.0));
    }

    #[test]
    fn rows_centred_in_batches_are_centred_as_a_whole_video_is() {
        let times: Vec<f64> = (0..50).map(|i| f64::from(i) / 29.97).collect();
        let rows: Vec<f32> = (0..150).map(|i| ((i * 37) % 11) as f32 / 3.0).collect();
        let mut whole = rows.clone();
        RowCentring::new(0..2, 3, 0.5).apply(&times, &mut whole);
        let mut batched = rows;
        let mut c = RowCentring::new(0..2, 3, 0.5);
        for (t, r) in times.chunks(7).zip(batched.chunks_mut(21)) {
            c.apply(t, r);
        }
        assert_eq!(whole, batched);
    }
}
