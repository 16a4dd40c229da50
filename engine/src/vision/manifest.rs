//! The encoder manifest: a small JSON file that says how to feed an ONNX CNN and which output is
//! its feature vector, so any ImageNet-style model can be used, not only the default.
//!
//! ```json
//! {
//!   "name": "efficientnet-lite0",
//!   "onnx": "efficientnet-lite0.onnx",
//!   "input": {"name": "image", "width": 224, "height": 224, "layout": "NCHW",
//!             "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
//!   "output": {"name": "features", "size": 1280},
//!   "logits": "logits"
//! }
//! ```
//! Pixels are RGB scaled to 0..1, then `(x - mean) / std` per channel. `onnx` is relative to the
//! manifest's folder.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::VisionError;
use super::onnx::{self, Dim};

/// Memory order of the input tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Layout {
    /// Batch, channel, row, column (PyTorch's order).
    #[serde(rename = "NCHW")]
    Nchw,
    /// Batch, row, column, channel (TensorFlow's order).
    #[serde(rename = "NHWC")]
    Nhwc,
}

/// How the model's input is named, sized and normalised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSpec {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub layout: Layout,
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

/// Which output is the feature vector, and its length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputSpec {
    pub name: String,
    pub size: usize,
}

/// The manifest file as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncoderManifest {
    pub name: String,
    pub onnx: PathBuf,
    pub input: InputSpec,
    pub output: OutputSpec,
    /// The class scores, when the model has them (used to check the weights, not as features).
    #[serde(default)]
    pub logits: Option<String>,
}

/// Who made a set of features: enough to tell features of different encoders apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncoderIdentity {
    pub name: String,
    /// sha256 of the ONNX file, hex.
    pub onnx_sha256: String,
    pub input_width: u32,
    pub input_height: u32,
    pub feature_size: usize,
}

/// A manifest checked against its ONNX file: the file exists, is ONNX, has the named input with a
/// matching shape and the named outputs.
#[derive(Debug, Clone)]
pub struct EncoderSpec {
    pub manifest: EncoderManifest,
    pub manifest_path: PathBuf,
    pub onnx_path: PathBuf,
    pub identity: EncoderIdentity,
}

/// The file name of an encoder manifest where foley writes one.
pub const MANIFEST_NAME: &str = "encoder.json";

/// Where `foley` finds the default encoder's manifest ([`crate::paths::locate_default_encoder`]);
/// where it is nowhere, where the set-up puts it, so that the error of reading it names a path.
#[must_use]
pub fn default_manifest_path() -> PathBuf {
    crate::paths::locate_default_encoder()
        .map(|f| f.path)
        .unwrap_or_else(|_| crate::paths::cache_dir().join("assets").join("efficientnet-lite0").join(MANIFEST_NAME))
}

impl EncoderSpec {
    /// The default encoder (EfficientNet-Lite0, exported by the set-up).
    pub fn default_encoder() -> Result<Self, VisionError> {
        let path = default_manifest_path();
        if !path.is_file() {
            return Err(VisionError::Manifest {
                path,
                reason: "the default encoder is missing; run scripts/setup.sh (it exports the CNN to ONNX)".to_owned(),
            });
        }
        Self::load(&path)
    }

    /// Reads and checks a manifest and its ONNX file.
    pub fn load(manifest_path: &Path) -> Result<Self, VisionError> {
        let bad = |reason: String| VisionError::Manifest { path: manifest_path.to_owned(), reason };
        let text = std::fs::read_to_string(manifest_path)
            .map_err(|source| VisionError::Io { path: manifest_path.to_owned(), source })?;
        let manifest: EncoderManifest = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if manifest.input.width == 0 || manifest.input.height == 0 || manifest.output.size == 0 {
            return Err(bad("input width/height and output size must be positive".to_owned()));
        }
        if manifest.input.std.iter().any(|s| !s.is_finite() || *s <= 0.0) {
            return Err(bad("input std must be positive".to_owned()));
        }
        let dir = manifest_path.parent().unwrap_or(Path::new("."));
        let onnx_path = dir.join(&manifest.onnx);
        let bytes = read_file(&onnx_path)?;
        let model = onnx::decode_model(&onnx_path, &bytes)?;
        check_interface(&onnx_path, &model, &manifest)?;
        let identity = EncoderIdentity {
            name: manifest.name.clone(),
            onnx_sha256: crate::digest::sha256_hex(&bytes),
            input_width: manifest.input.width,
            input_height: manifest.input.height,
            feature_size: manifest.output.size,
        };
        Ok(Self { manifest, manifest_path: manifest_path.to_owned(), onnx_path, identity })
    }

    /// The input's `(width, height)`.
    #[must_use]
    pub fn input_size(&self) -> (u32, u32) {
        (self.manifest.input.width, self.manifest.input.height)
    }

    /// Values per image in the input tensor.
    #[must_use]
    pub fn image_len(&self) -> usize {
        3 * self.manifest.input.width as usize * self.manifest.input.height as usize
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, VisionError> {
    let io = |source| VisionError::Io { path: path.to_owned(), source };
    let mut bytes = Vec::new();
    std::fs::File::open(path).map_err(io)?.read_to_end(&mut bytes).map_err(io)?;
    Ok(bytes)
}

/// The model's declared input must be a 4-d float tensor whose fixed sizes match the manifest,
/// and the named outputs must exist.
fn check_interface(path: &Path, model: &onnx::ModelProto, manifest: &EncoderManifest) -> Result<(), VisionError> {
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| VisionError::NotOnnx { path: path.to_owned(), reason: "it holds no graph".to_owned() })?;
    let initializers: std::collections::HashSet<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let real_inputs: Vec<&str> =
        graph.input.iter().map(|i| i.name.as_str()).filter(|n| !initializers.contains(n)).collect();
    let spec = &manifest.input;
    let Some(input) = graph.input.iter().find(|i| i.name == spec.name) else {
        return Err(VisionError::BadModel {
            path: path.to_owned(),
            reason: format!("has no input named `{}` (its inputs: {})", spec.name, real_inputs.join(", ")),
        });
    };
    let (w, h) = (i64::from(spec.width), i64::from(spec.height));
    let expected = match spec.layout {
        super::Layout::Nchw => [Dim::Free, Dim::Fixed(3), Dim::Fixed(h), Dim::Fixed(w)],
        super::Layout::Nhwc => [Dim::Free, Dim::Fixed(h), Dim::Fixed(w), Dim::Fixed(3)],
    };
    let found = input.dims().unwrap_or_default();
    let matches = found.len() == 4
        && found.iter().zip(&expected).skip(1).all(|(f, e)| *f == Dim::Free || f == e)
        && found.iter().skip(1).all(|d| *d != Dim::Free);
    if !matches {
        return Err(VisionError::InputShape {
            path: path.to_owned(),
            input: spec.name.clone(),
            expected: onnx::format_shape(&expected),
            found: onnx::format_shape(&found),
        });
    }
    for name in std::iter::once(&manifest.output.name).chain(manifest.logits.as_ref()) {
        if !graph.output.iter().any(|o| &o.name == name) {
            let outputs: Vec<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
            return Err(VisionError::BadModel {
                path: path.to_owned(),
                reason: format!("has no output named `{name}` (its outputs: {})", outputs.join(", ")),
            });
        }
    }
    Ok(())
}
