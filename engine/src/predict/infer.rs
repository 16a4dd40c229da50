//! Predicting a video's cochleagram: features (pipelined), then the LSTM in chunks of steps with
//! its state carried across, so memory stays flat for long videos.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use super::PredictError;
use super::align::{frames_end, step_count, step_frames};
use super::bundle::ModelBundle;
use crate::sound::Cochleagram;
use crate::vision::{FrameEncoder, VideoFeatures, features::FeaturesProgress};

/// Steps per LSTM chunk (10 s).
const CHUNK_STEPS: usize = 900;

/// The predicted cochleagram of features already computed; step `i` at `i / rate` s.
pub fn predict_features(bundle: &ModelBundle, features: &VideoFeatures) -> Result<Cochleagram, PredictError> {
    let weights = bundle.inference()?;
    let rate = bundle.manifest.cochleagram.step_rate_hz;
    let width = features.width();
    if width != weights.config.input {
        return Err(PredictError::Incompatible {
            path: bundle.dir.clone(),
            reason: format!("it reads rows of {} values, the features have {width}", weights.config.input),
        });
    }
    let steps = step_count(frames_end(&features.times), rate);
    let mut state = weights.initial_state();
    let mut data = Vec::with_capacity(steps * weights.config.bands);
    let mut first = 0;
    while first < steps {
        let count = CHUNK_STEPS.min(steps - first);
        let map = step_frames(&features.times, rate, first, count);
        let (lo, hi) = (map[0] as usize, map[count - 1] as usize);
        let local: Vec<u32> = map.iter().map(|&f| f - lo as u32).collect();
        data.extend(weights.run(&features.rows[lo * width..(hi + 1) * width], &local, &mut state)?);
        first += count;
    }
    Ok(Cochleagram { start_s: 0.0, rate_hz: rate, bands: weights.config.bands, data })
}

/// Encodes `video` and predicts its cochleagram.
pub fn predict_video(
    video: &Path,
    bundle: &ModelBundle,
    encoder: &mut dyn FrameEncoder,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(FeaturesProgress),
) -> Result<Cochleagram, PredictError> {
    bundle.check_compatible(&encoder.spec().identity, &encoder.spec().manifest.input)?;
    let features = crate::vision::encode_video(video, encoder, cancel, progress)?;
    predict_features(bundle, &features)
}
