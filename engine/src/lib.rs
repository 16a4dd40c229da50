//! The foley engine: everything that turns a silent video into sound, with no GUI dependency.
//!
//! Modules, one job each:
//! - [`media`]: decoding video and audio (FFmpeg), writing WAV, muxing a new audio track into a video.
//! - [`timeline`]: the shared time axis (seconds, presentation timestamps) every stage is placed on.
//! - [`data`]: training data in the Greatest Hits layout.
//! - [`metrics`]: onsets matched within a tolerance, average precision, correlation (a leaf).
//! - [`eval`]: the evaluation of tracks against ground truth, and the material it is measured on.
//! - [`sound`]: the cochleagram, hit detection on it, and its parametric resynthesis.
//! - [`vision`]: the CNN's input images, frame encoders (ONNX Runtime and wgpu), video features.
//! - [`predict`]: the LSTM sound predictor: training, model bundles, prediction.
//! - [`retrieval`]: the database of real recorded clips and its nearest-neighbour search.
//! - [`synthesis`]: from a predicted cochleagram to a sound track (retrieval or parametric).
//! - [`study`]: the real-vs-predicted study: trials, answers, report.
//! - [`figures`]: charts and pictures as PNG files (plotters, a built-in font).
//! - [`paths`]: where the set-up's cache and the ONNX Runtime library are found.

pub mod colour;
pub mod data;
pub mod digest;
pub mod eval;
pub mod figures;
pub mod media;
pub mod metrics;
pub mod paths;
pub mod predict;
pub mod retrieval;
pub mod sound;
pub mod study;
pub mod synthesis;
pub mod timeline;
pub mod vision;
