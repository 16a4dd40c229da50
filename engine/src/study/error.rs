use std::path::PathBuf;

/// What can go wrong preparing, running or reporting a study.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}, line {line}: {problem}", path.display())]
    Line { path: PathBuf, line: usize, problem: String },
    #[error("{}: {reason}", path.display())]
    Refused { path: PathBuf, reason: String },
    #[error(transparent)]
    Synthesis(#[from] crate::synthesis::SynthesisError),
    #[error(transparent)]
    Predict(#[from] crate::predict::PredictError),
    #[error(transparent)]
    Media(#[from] crate::media::MediaError),
    #[error(transparent)]
    Figure(#[from] crate::figures::FigureError),
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    #[error(transparent)]
    Vision(#[from] crate::vision::VisionError),
    #[error("cancelled")]
    Cancelled,
}
