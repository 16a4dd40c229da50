//! Frames to features: the space-time and colour images the CNN reads, the encoder manifest, the
//! [`FrameEncoder`] trait with its ONNX Runtime and wgpu implementations, and the pipelined job
//! that turns a whole video into a features file.

mod encoder;
mod error;
pub mod features;
mod gpu;
mod images;
mod look;
mod manifest;
mod motion;
mod motion_grid;
pub mod onnx;
mod ort_encoder;
mod throughput;

pub use encoder::{Backend, FrameEncoder, open_encoder};
pub use error::VisionError;
pub use features::{
    CnnDecode, FeaturesSidecar, VideoFeatures, encode_video, encode_video_as, encode_video_streaming,
    encode_video_streaming_with, read_features, write_features, write_features_and_grid,
};
pub use gpu::{OpTime, SUPPORTED_OPS, WgpuEncoder};
pub use images::{ImageBatch, SpaceTime, colour_image, gray, normalise_planes, space_time_image};
pub use look::{first_frame_features, video_look};
pub use manifest::{
    EncoderIdentity, EncoderManifest, EncoderSpec, InputSpec, Layout, MANIFEST_NAME, OutputSpec, default_manifest_path,
};
pub use motion::FrameMotion;
pub use motion_grid::{DEFAULT_GRID_SIDE, RowLayout, RowParts, grid_values, motion_grid, motion_grid_of_video};
pub use ort_encoder::OrtEncoder;
pub use throughput::{Throughput, time_encoder};
