use std::path::PathBuf;

/// What can go wrong reading a dataset.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{}: cannot read: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}: not a folder", path.display())]
    NotAFolder { path: PathBuf },
    #[error("{}: no videos in the Greatest Hits layout ({{id}}_denoised.mp4 or {{id}}_mic.mp4)", path.display())]
    Empty { path: PathBuf },
    #[error(transparent)]
    Media(#[from] crate::media::MediaError),
    #[error(transparent)]
    Figure(#[from] crate::figures::FigureError),
    #[error("{}, line {line}: {problem}", path.display())]
    Line { path: PathBuf, line: usize, problem: String },
}
