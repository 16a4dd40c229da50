//! The `FrameEncoder` trait: a batch of images in, one feature vector per image out. Two
//! implementations run the same ONNX graph: [`super::OrtEncoder`] (ONNX Runtime, CPU) and
//! [`super::WgpuEncoder`] (foley's own WGSL compute shaders on any wgpu adapter).

use serde::{Deserialize, Serialize};

use super::{EncoderSpec, ImageBatch, VisionError};

/// Turns images into feature vectors.
pub trait FrameEncoder: Send {
    /// The model and its manifest.
    fn spec(&self) -> &EncoderSpec;

    /// Where it runs, for people: e.g. "ONNX Runtime 1.32.0 on the CPU (2 threads)".
    fn device(&self) -> String;

    /// How many images it prefers per call; larger batches are split.
    fn preferred_batch(&self) -> usize;

    /// The feature vectors of `batch`, `batch.len() * feature_size` values, image after image.
    fn encode(&mut self, batch: &ImageBatch) -> Result<Vec<f32>, VisionError>;

    /// Length of one feature vector.
    fn feature_size(&self) -> usize {
        self.spec().manifest.output.size
    }
}

/// Which implementation runs the CNN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// ONNX Runtime on the CPU.
    #[default]
    Ort,
    /// foley's WGSL compute shaders on a wgpu adapter (a GPU, or a software one).
    Wgpu,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Ort => "ort",
            Backend::Wgpu => "wgpu",
        })
    }
}

/// Opens `spec` on `backend`.
pub fn open_encoder(backend: Backend, spec: EncoderSpec) -> Result<Box<dyn FrameEncoder>, VisionError> {
    Ok(match backend {
        Backend::Ort => Box::new(super::OrtEncoder::new(spec)?),
        Backend::Wgpu => Box::new(super::WgpuEncoder::new(spec)?),
    })
}
