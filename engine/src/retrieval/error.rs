use std::path::PathBuf;

/// What can go wrong building, reading or searching a clip database.
#[derive(Debug, thiserror::Error)]
pub enum RetrievalError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: not a foley clip database: {reason}", path.display())]
    BadDatabase { path: PathBuf, reason: String },
    #[error("{}: the clip database does not fit the model: {reason}", path.display())]
    Incompatible { path: PathBuf, reason: String },
    #[error("{}: no labelled contacts to build a clip database from", path.display())]
    NoClips { path: PathBuf },
    #[error("tensor computation failed: {0}")]
    Tensor(#[from] candle_core::Error),
    #[error(transparent)]
    Sound(#[from] crate::sound::SoundError),
    #[error(transparent)]
    Media(#[from] crate::media::MediaError),
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    #[error(transparent)]
    Vision(#[from] crate::vision::VisionError),
    #[error("cancelled")]
    Cancelled,
}
