use std::path::PathBuf;

/// What can go wrong making a sound track.
#[derive(Debug, thiserror::Error)]
pub enum SynthesisError {
    #[error(transparent)]
    Predict(#[from] crate::predict::PredictError),
    #[error(transparent)]
    Retrieval(#[from] crate::retrieval::RetrievalError),
    #[error(transparent)]
    Sound(#[from] crate::sound::SoundError),
    #[error(transparent)]
    Media(#[from] crate::media::MediaError),
    #[error("{}: {reason}", path.display())]
    BadHits { path: PathBuf, reason: String },
    #[error("retrieval needs a clip database; {0}")]
    NoDatabase(String),
}
