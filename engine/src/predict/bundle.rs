//! The model bundle: `model.safetensors` (the weights) and `model.json` (what they are: format
//! version, network shape, the encoder whose features they read, the feature layout, the
//! cochleagram they predict, the training data and the validation metrics). Loading checks that
//! the bundle fits the encoder at hand and says exactly what does not.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::PredictError;
use super::dataset::DataSummary;
use super::inference::InferenceWeights;
use super::model::{ModelConfig, Params};
use crate::sound::CochleagramParams;
use crate::vision::{EncoderIdentity, EncoderManifest, EncoderSpec, InputSpec};

/// The bundle format this build writes and reads.
pub const BUNDLE_VERSION: u32 = 1;
/// The weights file inside a bundle folder.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// The manifest inside a bundle folder.
pub const MANIFEST_FILE: &str = "model.json";
/// The folder inside a bundle that holds a copy of the encoder it was trained on, when that is
/// not the set-up's default: its manifest (`encoder.json`) and ONNX file.
pub const ENCODER_DIR: &str = "encoder";

/// Validation figures of the saved weights.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ValidationMetrics {
    pub epoch: usize,
    /// The training loss on the validation videos.
    pub loss: f64,
    /// Mean squared error per step (summed over bands).
    pub mse_per_step: f64,
    /// Mean over bands of the correlation of predicted and real envelopes.
    pub band_correlation: f64,
    /// Hit detection on the predicted cochleagram against the labelled contacts, +-0.1 s.
    pub hit_f1: f64,
    /// Matched contacts over labelled contacts, +-0.1 s.
    #[serde(default)]
    pub hit_accuracy: f64,
    /// Average precision, +-0.1 s, of the hit detector's candidates ranked by prominence: the
    /// detector's margin swept.
    #[serde(default)]
    pub hit_ap: f64,
    /// `None` when no hit matched.
    pub hit_median_error_ms: Option<f64>,
}

/// How the model was trained.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainingSummary {
    pub data: String,
    pub seed: u64,
    pub epochs: usize,
    pub summary: DataSummary,
    /// Videos held out of training for validation.
    pub validation_videos: Vec<String>,
}

/// `model.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleManifest {
    /// Always `"foley-model"`.
    pub format: String,
    pub version: u32,
    pub config: ModelConfig,
    pub encoder: EncoderIdentity,
    /// The encoder's input normalisation, so a mismatch is visible in the file.
    pub encoder_input: InputSpec,
    /// What each input row holds.
    pub feature_layout: String,
    pub cochleagram: CochleagramParams,
    pub training: TrainingSummary,
    pub validation: ValidationMetrics,
}

/// A loaded model.
#[derive(Debug, Clone)]
pub struct ModelBundle {
    pub dir: PathBuf,
    pub manifest: BundleManifest,
    pub params: Params,
}

impl ModelBundle {
    /// Writes `params` and `manifest` into `dir` (each file atomically).
    pub fn save(dir: &Path, manifest: &BundleManifest, params: &Params) -> Result<(), PredictError> {
        std::fs::create_dir_all(dir).map_err(|source| PredictError::Io { path: dir.to_owned(), source })?;
        let weights = dir.join(WEIGHTS_FILE);
        let tensors: HashMap<String, candle_core::Tensor> = params.tensors().into_iter().collect();
        let temp = dir.join(format!(".{WEIGHTS_FILE}.part"));
        candle_core::safetensors::save(&tensors, &temp)?;
        crate::media::publish(&temp, &weights).map_err(|source| PredictError::Io { path: weights.clone(), source })?;
        let json = serde_json::to_vec_pretty(manifest)
            .map_err(|e| PredictError::BadBundle { path: dir.to_owned(), reason: e.to_string() })?;
        crate::media::write_bytes_atomically(&dir.join(MANIFEST_FILE), &json)?;
        Ok(())
    }

    /// The encoder whose features the model reads: the copy in its [`ENCODER_DIR`] where it was
    /// trained on another encoder than the default, else the set-up's default.
    pub fn encoder_spec(&self) -> Result<EncoderSpec, PredictError> {
        encoder_spec_in(&self.dir)
    }

    /// Reads a bundle folder (or its `model.json`).
    pub fn load(path: &Path) -> Result<Self, PredictError> {
        let dir = if path.is_dir() { path.to_owned() } else { path.parent().unwrap_or(Path::new(".")).to_owned() };
        let manifest_path = dir.join(MANIFEST_FILE);
        let bad = |reason: String| PredictError::BadBundle { path: manifest_path.clone(), reason };
        let text = std::fs::read_to_string(&manifest_path)
            .map_err(|source| PredictError::Io { path: manifest_path.clone(), source })?;
        let manifest: BundleManifest = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if manifest.format != "foley-model" {
            return Err(bad(format!("format is {:?}, expected \"foley-model\"", manifest.format)));
        }
        if manifest.version != BUNDLE_VERSION {
            return Err(bad(format!(
                "bundle version {} is not the version this foley reads ({BUNDLE_VERSION})",
                manifest.version
            )));
        }
        let weights = dir.join(WEIGHTS_FILE);
        let tensors = candle_core::safetensors::load(&weights, &candle_core::Device::Cpu)
            .map_err(|e| PredictError::BadBundle { path: weights.clone(), reason: e.to_string() })?;
        let params = Params::from_tensors(&manifest.config, &tensors)
            .map_err(|reason| PredictError::BadBundle { path: weights.clone(), reason })?;
        Ok(Self { dir, manifest, params })
    }

    /// Checks the bundle reads features of `encoder` with the cochleagram `params`; the error
    /// lists every difference.
    pub fn check_compatible(&self, encoder: &EncoderIdentity, input: &InputSpec) -> Result<(), PredictError> {
        let m = &self.manifest;
        let mut differences = Vec::new();
        if m.encoder.onnx_sha256 != encoder.onnx_sha256 {
            differences.push(format!(
                "it was trained on features of encoder `{}` (ONNX sha256 {}), but the encoder is `{}` (sha256 {})",
                m.encoder.name, m.encoder.onnx_sha256, encoder.name, encoder.onnx_sha256
            ));
        }
        if m.config.layout().width(m.encoder.feature_size) != m.config.input
            || encoder.feature_size != m.encoder.feature_size
        {
            differences.push(format!(
                "it reads rows of {} values ({} of them a motion grid), the encoder gives {} per image (x2 with the colour frame)",
                m.config.input, m.config.motion, encoder.feature_size
            ));
        }
        if (m.encoder.input_width, m.encoder.input_height) != (encoder.input_width, encoder.input_height) {
            differences.push(format!(
                "its encoder input was {}x{}, this one is {}x{}",
                m.encoder.input_width, m.encoder.input_height, encoder.input_width, encoder.input_height
            ));
        }
        if m.encoder_input.mean != input.mean || m.encoder_input.std != input.std {
            differences.push(format!(
                "its encoder normalised with mean {:?} std {:?}, this one with mean {:?} std {:?}",
                m.encoder_input.mean, m.encoder_input.std, input.mean, input.std
            ));
        }
        if differences.is_empty() {
            Ok(())
        } else {
            Err(PredictError::Incompatible { path: self.dir.clone(), reason: differences.join("; ") })
        }
    }

    /// The weights ready for inference.
    pub fn inference(&self) -> Result<InferenceWeights, PredictError> {
        InferenceWeights::new(&self.manifest.config, &self.params)
    }
}

/// Where `foley` finds its default model ([`crate::paths::locate_default_model`]); where it is
/// nowhere, the checkout's folder, so that the error of reading it names a path.
#[must_use]
pub fn default_model_dir() -> PathBuf {
    crate::paths::locate_default_model()
        .map(|f| f.path)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/models/default"))
}

/// The encoder kept in the model folder `dir` ([`ENCODER_DIR`]), or the set-up's default where
/// there is none.
pub fn encoder_spec_in(dir: &Path) -> Result<EncoderSpec, PredictError> {
    let kept = dir.join(ENCODER_DIR).join(crate::vision::MANIFEST_NAME);
    Ok(if kept.is_file() { EncoderSpec::load(&kept)? } else { EncoderSpec::default_encoder()? })
}

/// Makes the model folder `dir` carry the encoder `spec`, so that the model can be used where
/// only the folder is: nothing for the set-up's default encoder (every installation has it),
/// else a copy of its manifest and ONNX file in [`ENCODER_DIR`], replacing any other. The copy is
/// made in a hidden temporary folder inside `dir` and renamed into place, so a failure leaves no
/// half-copied encoder.
pub fn keep_encoder(dir: &Path, spec: &EncoderSpec) -> Result<(), PredictError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| PredictError::Io { path, source }
    };
    let target = dir.join(ENCODER_DIR);
    let same_file = |a: &Path, b: &Path| matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b);
    if same_file(&spec.manifest_path, &crate::vision::default_manifest_path()) {
        if target.exists() {
            std::fs::remove_dir_all(&target).map_err(io(&target))?;
        }
        return Ok(());
    }
    if let Ok(kept) = EncoderSpec::load(&target.join(crate::vision::MANIFEST_NAME))
        && kept.identity == spec.identity
    {
        return Ok(());
    }
    let temp = tempfile::Builder::new().prefix(".encoder").tempdir_in(dir).map_err(io(dir))?;
    let onnx_name = spec.onnx_path.file_name().map_or_else(|| "model.onnx".into(), std::ffi::OsStr::to_owned);
    let onnx = temp.path().join(&onnx_name);
    std::fs::copy(&spec.onnx_path, &onnx).map_err(io(&onnx))?;
    let manifest = EncoderManifest { onnx: onnx_name.into(), ..spec.manifest.clone() };
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| PredictError::BadBundle { path: dir.to_owned(), reason: e.to_string() })?;
    let manifest_path = temp.path().join(crate::vision::MANIFEST_NAME);
    std::fs::write(&manifest_path, json).map_err(io(&manifest_path))?;
    if target.exists() {
        std::fs::remove_dir_all(&target).map_err(io(&target))?;
    }
    std::fs::rename(temp.path(), &target).map_err(io(&target))?;
    // Renamed away: nothing is left for the guard to delete.
    let _ = temp.keep();
    Ok(())
}
