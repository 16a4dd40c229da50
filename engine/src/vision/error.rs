//! What can go wrong turning frames into features.

use std::path::PathBuf;

use crate::media::MediaError;
use crate::paths::LocateError;

/// Errors of the vision stage: the encoder's files, its runtimes, and the frames fed to it.
#[derive(Debug, thiserror::Error)]
pub enum VisionError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: not a valid encoder manifest: {reason}", path.display())]
    Manifest { path: PathBuf, reason: String },
    #[error("{}: not an ONNX model ({reason}); the encoder manifest must name an .onnx file", path.display())]
    NotOnnx { path: PathBuf, reason: String },
    #[error("{}: {reason}", path.display())]
    BadModel { path: PathBuf, reason: String },
    #[error(
        "{}: input `{input}` has shape {found}, but the manifest describes {expected}; fix the manifest's `input` or export the model with that input",
        path.display()
    )]
    InputShape { path: PathBuf, input: String, expected: String, found: String },
    #[error("{}: the wgpu encoder cannot run op `{op}` (node `{node}`); it runs Conv, Clip, Relu, Add, GlobalAveragePool, Flatten and Gemm. Use --backend ort for this model", path.display())]
    UnsupportedOp { path: PathBuf, op: String, node: String },
    #[error(transparent)]
    RuntimeMissing(#[from] LocateError),
    #[error("could not load ONNX Runtime from {}: {reason}. Run scripts/setup.sh, or set ORT_DYLIB_PATH to libonnxruntime.so.{}", path.display(), crate::paths::ONNXRUNTIME_VERSION)]
    RuntimeLoad { path: PathBuf, reason: String },
    #[error("ONNX Runtime failed on {}: {reason}", path.display())]
    Inference { path: PathBuf, reason: String },
    #[error(
        "no GPU adapter for wgpu ({reason}); install a Vulkan driver (on Debian: mesa-vulkan-drivers) or use --backend ort"
    )]
    NoAdapter { reason: String },
    #[error("wgpu failed: {0}")]
    Gpu(String),
    #[error("images of {got} do not fit the encoder's input of {expected}")]
    BatchShape { expected: String, got: String },
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error("{}: the video has no frames", path.display())]
    NoFrames { path: PathBuf },
    #[error("cancelled")]
    Cancelled,
}
