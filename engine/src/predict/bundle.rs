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

/// The newest bundle format this build reads, and the one it writes for an ensemble. A single
/// network's bundle is written as version 1, which foley read before ensembles.
pub const BUNDLE_VERSION: u32 = 2;
/// The format of a single network's bundle.
const SINGLE_NETWORK_VERSION: u32 = 1;
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
    /// The validation figures of the model as it predicts: of the ensemble's mean for an ensemble.
    pub validation: ValidationMetrics,
    /// An ensemble's networks, whose raw outputs the model averages step by step (empty for a
    /// single network): each trained alone from its own seed on the same videos.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<MemberSummary>,
}

/// One network of an ensemble.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberSummary {
    pub seed: u64,
    /// Its validation figures alone, at its best epoch.
    pub validation: ValidationMetrics,
}

impl BundleManifest {
    /// How many networks the model averages.
    #[must_use]
    pub fn network_count(&self) -> usize {
        self.members.len().max(1)
    }
}

/// A loaded model.
#[derive(Debug, Clone)]
pub struct ModelBundle {
    pub dir: PathBuf,
    pub manifest: BundleManifest,
    /// Each network's weights ([`BundleManifest::network_count`] of them), the first alone for a
    /// single network.
    pub networks: Vec<Params>,
}

/// Where an ensemble's networks after the first keep their tensors in `model.safetensors`: the
/// first network's names, prefixed.
fn member_prefix(index: usize) -> String {
    format!("member{index}.")
}

impl ModelBundle {
    /// Writes a single network's `params` and `manifest` into `dir` (each file atomically).
    pub fn save(dir: &Path, manifest: &BundleManifest, params: &Params) -> Result<(), PredictError> {
        Self::save_networks(dir, manifest, std::slice::from_ref(params))
    }

    /// Writes the networks and `manifest` into `dir` (each file atomically): an ensemble when
    /// there are several, whose manifest lists each in [`BundleManifest::members`].
    pub fn save_networks(dir: &Path, manifest: &BundleManifest, networks: &[Params]) -> Result<(), PredictError> {
        let bad = |reason: String| PredictError::BadBundle { path: dir.to_owned(), reason };
        if networks.is_empty() || manifest.network_count() != networks.len() {
            return Err(bad(format!(
                "{} networks for a manifest that lists {}",
                networks.len(),
                manifest.network_count()
            )));
        }
        std::fs::create_dir_all(dir).map_err(|source| PredictError::Io { path: dir.to_owned(), source })?;
        let weights = dir.join(WEIGHTS_FILE);
        let mut tensors = HashMap::new();
        for (index, params) in networks.iter().enumerate() {
            let prefix = if index == 0 { String::new() } else { member_prefix(index) };
            for (name, t) in params.tensors() {
                // An ensemble's weights are kept as half floats, so that two networks take the
                // room of one: their outputs move by far less than the networks differ.
                let t = if networks.len() > 1 { t.to_dtype(candle_core::DType::F16)? } else { t };
                tensors.insert(format!("{prefix}{name}"), t);
            }
        }
        let temp = dir.join(format!(".{WEIGHTS_FILE}.part"));
        candle_core::safetensors::save(&tensors, &temp)?;
        crate::media::publish(&temp, &weights).map_err(|source| PredictError::Io { path: weights.clone(), source })?;
        let manifest = BundleManifest {
            version: if networks.len() == 1 { SINGLE_NETWORK_VERSION } else { BUNDLE_VERSION },
            ..manifest.clone()
        };
        let json = serde_json::to_vec_pretty(&manifest).map_err(|e| bad(e.to_string()))?;
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
        if !(SINGLE_NETWORK_VERSION..=BUNDLE_VERSION).contains(&manifest.version) {
            return Err(bad(format!(
                "bundle version {} is not one this foley reads ({SINGLE_NETWORK_VERSION} to {BUNDLE_VERSION}); a newer foley wrote it",
                manifest.version
            )));
        }
        if manifest.members.len() == 1 {
            return Err(bad("an ensemble of one network: a single network lists no members".to_owned()));
        }
        let weights = dir.join(WEIGHTS_FILE);
        let bad_weights = |reason: String| PredictError::BadBundle { path: weights.clone(), reason };
        let mut tensors = candle_core::safetensors::load(&weights, &candle_core::Device::Cpu)
            .map_err(|e| bad_weights(e.to_string()))?;
        let mut networks = Vec::with_capacity(manifest.network_count());
        for index in 1..manifest.network_count() {
            let prefix = member_prefix(index);
            let own: HashMap<String, candle_core::Tensor> = tensors
                .iter()
                .filter_map(|(name, t)| name.strip_prefix(&prefix).map(|n| (n.to_owned(), t.clone())))
                .collect();
            tensors.retain(|name, _| !name.starts_with(&prefix));
            networks.push(
                Params::from_tensors(&manifest.config, &own)
                    .map_err(|e| bad_weights(format!("network {}: {e}", index + 1)))?,
            );
        }
        if let Some(stray) = tensors.keys().find(|name| name.starts_with("member")) {
            return Err(bad_weights(format!(
                "`{stray}` belongs to no network the manifest lists ({})",
                manifest.network_count()
            )));
        }
        networks.insert(0, Params::from_tensors(&manifest.config, &tensors).map_err(bad_weights)?);
        Ok(Self { dir, manifest, networks })
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

    /// The weights ready for inference: every network's, their outputs averaged.
    pub fn inference(&self) -> Result<InferenceWeights, PredictError> {
        InferenceWeights::ensemble(&self.manifest.config, &self.networks)
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
