use std::path::PathBuf;

/// What can go wrong reading or writing media. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("{}: no such file", path.display())]
    NotFound { path: PathBuf },
    #[error("{}: is a directory, not a media file", path.display())]
    IsDirectory { path: PathBuf },
    #[error("{}: the file is empty", path.display())]
    Empty { path: PathBuf },
    #[error("{}: cannot read the file: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}: not a media file FFmpeg can read ({reason})", path.display())]
    NotMedia { path: PathBuf, reason: String },
    #[error("{}: has no video stream (is it an audio-only file?)", path.display())]
    NoVideoStream { path: PathBuf },
    #[error("{}: has no audio stream", path.display())]
    NoAudioStream { path: PathBuf },
    #[error("{}: the video stream has no frames", path.display())]
    NoFrames { path: PathBuf },
    #[error("{}: the file is truncated or damaged: {detail}", path.display())]
    Damaged { path: PathBuf, detail: String },
    #[error("{}: {what}: {source}", path.display())]
    Codec { path: PathBuf, what: String, source: ffmpeg_next::Error },
    #[error("{}: cannot write: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{}: {reason}", path.display())]
    Unsupported { path: PathBuf, reason: String },
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl MediaError {
    pub(crate) fn codec(path: &std::path::Path, what: impl Into<String>, source: ffmpeg_next::Error) -> Self {
        Self::Codec { path: path.to_path_buf(), what: what.into(), source }
    }
}
