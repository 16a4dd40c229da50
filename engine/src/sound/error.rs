use std::path::PathBuf;

/// What can go wrong computing, reading or writing sound features.
#[derive(Debug, thiserror::Error)]
pub enum SoundError {
    #[error("the audio is at {got} Hz; the cochleagram works at {expected} Hz (resample first)")]
    SampleRate { got: u32, expected: u32 },
    #[error("{}: not a float32 .npy cochleagram: {reason}", path.display())]
    BadArray { path: PathBuf, reason: String },
    #[error("{}: value {value} at step {step}, band {band} is not a finite number", path.display())]
    NotFinite { path: PathBuf, step: usize, band: usize, value: f32 },
    #[error("{}: cannot read: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Media(#[from] crate::media::MediaError),
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
}
