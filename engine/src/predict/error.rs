//! What can go wrong training, loading or running the sound predictor.

use std::path::PathBuf;

/// Errors of the predictor.
#[derive(Debug, thiserror::Error)]
pub enum PredictError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: not a foley model: {reason}", path.display())]
    BadBundle { path: PathBuf, reason: String },
    #[error("{}: the model does not fit: {reason}", path.display())]
    Incompatible { path: PathBuf, reason: String },
    #[error("{}: {reason}", path.display())]
    Data { path: PathBuf, reason: String },
    #[error("tensor computation failed: {0}")]
    Tensor(#[from] candle_core::Error),
    #[error(transparent)]
    Vision(#[from] crate::vision::VisionError),
    #[error(transparent)]
    Sound(#[from] crate::sound::SoundError),
    #[error(transparent)]
    Dataset(#[from] crate::data::DataError),
    #[error(transparent)]
    Media(#[from] crate::media::MediaError),
    #[error(transparent)]
    Figure(#[from] crate::figures::FigureError),
    #[error("cannot run the predictor's threads: {0}")]
    Thread(std::io::Error),
    #[error("cancelled")]
    Cancelled,
}
