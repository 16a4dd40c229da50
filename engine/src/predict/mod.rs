//! The sound predictor: an LSTM from per-frame CNN features to the cochleagram at 90 Hz on the
//! video's timeline. Training (`train`), the model bundle on disk (`bundle`), and prediction
//! (`infer`).

pub mod align;
mod average;
mod bundle;
pub mod centring;
mod checkpoint;
pub mod contacts;
pub mod dataset;
mod ensemble;
mod error;
mod evaluate;
mod infer;
pub mod inference;
mod kernels;
pub mod model;
mod plot;
mod predicted;
mod recurrence;
mod train;

pub use bundle::{
    BUNDLE_VERSION, BundleManifest, ENCODER_DIR, MemberSummary, ModelBundle, TrainingSummary, ValidationMetrics,
    default_model_dir, encoder_spec_in, keep_encoder,
};
pub use ensemble::{NETWORKS_DIR, network_dir};
pub use error::PredictError;
pub use evaluate::{HIT_TOLERANCE_S, evaluate_split};
pub use infer::{Prediction, StreamingPredictor, predict_features, predict_video_streaming};
pub use predicted::{PredictedSound, predicted_hits};
pub use train::{EpochRow, LearningRateSchedule, TrainOptions, TrainProgress, TrainReport, time_training_steps, train};
