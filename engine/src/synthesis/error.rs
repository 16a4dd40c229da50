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
    #[error("the clip database in {} has no clips of `{material}`; it has: {}", dir.display(), known.join(", "))]
    UnknownMaterial { material: String, dir: PathBuf, known: Vec<String> },
}

impl SynthesisError {
    /// Whether the job stopped because it was asked to, rather than failing.
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        use crate::predict::PredictError;
        use crate::vision::VisionError;
        matches!(
            self,
            Self::Predict(PredictError::Cancelled | PredictError::Vision(VisionError::Cancelled))
                | Self::Retrieval(crate::retrieval::RetrievalError::Cancelled)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::predict::PredictError;
    use crate::vision::VisionError;

    #[test]
    fn only_a_stop_on_request_counts_as_cancelled() {
        assert!(SynthesisError::Predict(PredictError::Cancelled).is_cancelled());
        assert!(SynthesisError::Predict(PredictError::Vision(VisionError::Cancelled)).is_cancelled());
        let failure = PredictError::Data { path: "v.mp4".into(), reason: "no frames".into() };
        assert!(!SynthesisError::Predict(failure).is_cancelled());
        assert!(!SynthesisError::NoDatabase("none".into()).is_cancelled());
    }
}
