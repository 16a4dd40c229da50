//! Predicting a video's cochleagram: features (pipelined), then the LSTM in chunks of steps with
//! its state carried across, so memory stays flat for long videos.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use super::PredictError;
use super::align::{frames_end, step_count, step_frames};
use super::bundle::ModelBundle;
use super::predicted::PredictedSound;
use crate::media::VideoInfo;
use crate::sound::Cochleagram;
use crate::vision::{FrameEncoder, FrameMotion, VideoFeatures, features::FeaturesProgress};

/// Steps per LSTM chunk (10 s).
const CHUNK_STEPS: usize = 900;

/// The predicted cochleagram of features already computed; step `i` at `i / rate` s.
pub fn predict_features(bundle: &ModelBundle, features: &VideoFeatures) -> Result<Cochleagram, PredictError> {
    let mut stream = StreamingPredictor::new(bundle)?;
    stream.push(&features.times, &features.rows)?;
    Ok(stream.finish()?.sound.cochleagram)
}

/// A video's predicted sound and its length.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub sound: PredictedSound,
    /// The end of the last frame, seconds.
    pub duration_s: f64,
    pub frames: usize,
    /// Where things moved in each frame (empty where the frames were not seen, as from cached features).
    pub motion: FrameMotion,
    /// The video's facts, where it was read (not for cached features).
    pub video: Option<VideoInfo>,
}

/// Encodes `video` and predicts its cochleagram while the features come: only the frames the
/// next steps still need are kept, so memory does not grow with the video's length.
pub fn predict_video_streaming(
    video: &Path,
    bundle: &ModelBundle,
    encoder: &mut dyn FrameEncoder,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(FeaturesProgress),
) -> Result<Prediction, PredictError> {
    bundle.check_compatible(&encoder.spec().identity, &encoder.spec().manifest.input)?;
    let mut stream = StreamingPredictor::new(bundle)?;
    let mut failure = None;
    let layout = bundle.manifest.config.layout();
    let summary =
        crate::vision::encode_video_streaming(video, encoder, layout, cancel, progress, &mut |times, rows| {
            stream.push(times, rows).map_err(|e| {
                let message = e.to_string();
                failure = Some(e);
                crate::vision::VisionError::Gpu(message)
            })
        });
    if let Some(e) = failure {
        return Err(e);
    }
    let summary = summary?;
    Ok(Prediction { motion: summary.motion, video: Some(summary.video), ..stream.finish()? })
}

/// Runs the LSTM over features pushed a batch at a time. A step is run once a frame later than its
/// time has arrived (so the frame it holds is known); the rest run at [`StreamingPredictor::finish`].
#[derive(Debug)]
pub struct StreamingPredictor {
    /// The model's folder, named in errors.
    dir: std::path::PathBuf,
    weights: crate::predict::inference::InferenceWeights,
    /// The running mean the rows are centred on, where the model reads them centred.
    centring: Option<super::centring::RowCentring>,
    state: crate::predict::inference::State,
    rate: f64,
    width: usize,
    /// Every frame's time (8 bytes a frame).
    times: Vec<f64>,
    /// Rows of frames `first_kept..`.
    rows: Vec<f32>,
    first_kept: usize,
    next_step: usize,
    /// The raw outputs so far, [`ModelConfig::outputs`](super::model::ModelConfig::outputs) a step.
    data: Vec<f32>,
}

/// Steps gathered before the LSTM runs (1 s), so each run's matrix products are worth their setup.
const MIN_RUN_STEPS: usize = 90;

impl StreamingPredictor {
    pub fn new(bundle: &ModelBundle) -> Result<Self, PredictError> {
        let weights = bundle.inference()?;
        let state = weights.initial_state();
        let width = weights.config.input;
        Ok(Self {
            dir: bundle.dir.clone(),
            centring: super::centring::RowCentring::for_model(&weights.config),
            weights,
            state,
            rate: bundle.manifest.cochleagram.step_rate_hz,
            width,
            times: Vec::new(),
            rows: Vec::new(),
            first_kept: 0,
            next_step: 0,
            data: Vec::new(),
        })
    }

    /// Adds frames: their times (ascending, after every earlier frame) and rows.
    pub fn push(&mut self, times: &[f64], rows: &[f32]) -> Result<(), PredictError> {
        if rows.len() != times.len() * self.width {
            return Err(PredictError::Incompatible {
                path: self.dir.clone(),
                reason: format!(
                    "it reads rows of {} values, the features have {}",
                    self.width,
                    rows.len() / times.len().max(1)
                ),
            });
        }
        self.times.extend_from_slice(times);
        let start = self.rows.len();
        self.rows.extend_from_slice(rows);
        if let Some(centring) = &mut self.centring {
            centring.apply(times, &mut self.rows[start..]);
        }
        let Some(&last) = self.times.last() else { return Ok(()) };
        // Steps strictly before the newest frame hold a frame already here.
        let ready = step_count(last - 1e-6, self.rate);
        if ready >= self.next_step + MIN_RUN_STEPS {
            self.run(ready - self.next_step)?;
        }
        Ok(())
    }

    /// Runs the next `count` steps, at most [`CHUNK_STEPS`] at a time. While one chunk's
    /// recurrence runs, a `lstm-input` thread prepares the next chunk's frames.
    fn run(&mut self, count: usize) -> Result<(), PredictError> {
        if count == 0 {
            return Ok(());
        }
        let mut chunks = Vec::new();
        let mut step = self.next_step;
        while step < self.next_step + count {
            let steps = CHUNK_STEPS.min(self.next_step + count - step);
            let map = step_frames(&self.times, self.rate, step, steps);
            let (lo, hi) = (map[0] as usize, map[steps - 1] as usize);
            let local: Vec<u32> = map.iter().map(|&f| f - lo as u32).collect();
            chunks.push((lo, hi, local));
            step += steps;
        }
        let (weights, rows, width, first_kept) = (&self.weights, &self.rows, self.width, self.first_kept);
        let prepare = |&(lo, hi, _): &(usize, usize, Vec<u32>)| {
            weights.prepare(&rows[(lo - first_kept) * width..(hi + 1 - first_kept) * width])
        };
        let (state, data) = (&mut self.state, &mut self.data);
        std::thread::scope(|scope| -> Result<(), PredictError> {
            let mut prepared = prepare(&chunks[0])?;
            for (i, chunk) in chunks.iter().enumerate() {
                let next = match chunks.get(i + 1) {
                    Some(next) => Some(
                        std::thread::Builder::new()
                            .name("lstm-input".to_owned())
                            .spawn_scoped(scope, move || prepare(next))
                            .map_err(PredictError::Thread)?,
                    ),
                    None => None,
                };
                data.extend(weights.run_prepared(&prepared, &chunk.2, state)?);
                if let Some(next) = next {
                    prepared = next
                        .join()
                        .map_err(|_| PredictError::Thread(std::io::Error::other("the LSTM input thread panicked")))??;
                }
            }
            Ok(())
        })?;
        self.next_step += count;
        // Later steps hold the last chunk's last frame or later. The rows before it go once they
        // are the larger part, so the rows left are moved at most as often as they were added.
        let hi = chunks.last().map_or(self.first_kept, |c| c.1);
        let done = (hi - self.first_kept) * self.width;
        if done >= self.rows.len() / 2 {
            self.rows.drain(..done);
            self.first_kept = hi;
        }
        Ok(())
    }

    /// Runs the remaining steps, up to the end of the last frame and on for the model's
    /// lookahead (those steps hold the last frame).
    pub fn finish(mut self) -> Result<Prediction, PredictError> {
        let duration_s = frames_end(&self.times);
        let steps = step_count(duration_s, self.rate);
        if !self.times.is_empty() {
            self.run((steps + self.weights.config.lookahead).saturating_sub(self.next_step))?;
        }
        let data = self.weights.drop_lookahead(self.data, steps);
        Ok(Prediction {
            sound: self.weights.predicted_sound(data, self.rate),
            duration_s,
            frames: self.times.len(),
            motion: FrameMotion::default(),
            video: None,
        })
    }
}
