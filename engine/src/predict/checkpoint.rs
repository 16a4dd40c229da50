//! Training checkpoints from which a rerun continues exactly: the weights and Adam's moments in a
//! safetensors file per checkpoint, and the run's state (options, position, history) naming it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::average::WeightAverage;
use super::model::{ModelConfig, Params};
use super::train::{EpochRow, TrainOptions};
use super::{ModelBundle, PredictError};

/// The checkpoint's state file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct CheckpointState {
    pub(super) options: TrainOptions,
    /// Epochs completed.
    pub(super) epoch: usize,
    /// Batches done in the current epoch.
    pub(super) batch: usize,
    /// The current epoch's summed loss so far.
    pub(super) epoch_loss_sum: f64,
    pub(super) adam_step: usize,
    pub(super) weights_file: String,
    pub(super) history: Vec<EpochRow>,
    pub(super) best_val_loss: f64,
    /// The best epoch's validation hit AP (`None` before the first epoch, and in checkpoints
    /// written before epochs were chosen by it).
    #[serde(default)]
    pub(super) best_val_ap: Option<f64>,
    pub(super) epochs_since_best: usize,
    pub(super) stopped_early: bool,
    /// Steps taken into the weight average, where the run keeps one.
    #[serde(default)]
    pub(super) average_updates: usize,
}

/// Adam (Kingma and Ba), with its moments kept by parameter name so they can be checkpointed.
pub(super) struct Adam {
    pub(super) lr: f64,
    pub(super) step: usize,
    pub(super) m: BTreeMap<String, Tensor>,
    pub(super) v: BTreeMap<String, Tensor>,
}

impl Adam {
    const BETA1: f64 = 0.9;
    const BETA2: f64 = 0.999;
    const EPS: f64 = 1e-8;

    pub(super) fn new(params: &Params, lr: f64) -> Result<Self, PredictError> {
        let zeros = |t: &Tensor| t.zeros_like();
        let m = params
            .vars
            .iter()
            .map(|(k, v)| Ok((k.clone(), zeros(v.as_tensor())?)))
            .collect::<Result<_, PredictError>>()?;
        let v = params
            .vars
            .iter()
            .map(|(k, v)| Ok((k.clone(), zeros(v.as_tensor())?)))
            .collect::<Result<_, PredictError>>()?;
        Ok(Self { lr, step: 0, m, v })
    }

    pub(super) fn apply(
        &mut self,
        params: &Params,
        grads: &candle_core::backprop::GradStore,
    ) -> Result<(), PredictError> {
        self.step += 1;
        let t = self.step as i32;
        let (c1, c2) = (1.0 - Self::BETA1.powi(t), 1.0 - Self::BETA2.powi(t));
        for (name, var) in &params.vars {
            let Some(g) = grads.get(var.as_tensor()) else { continue };
            let (Some(m), Some(v)) = (self.m.get_mut(name), self.v.get_mut(name)) else { continue };
            // Detached: a moment computed from a gradient would otherwise keep the whole history
            // of autograd graphs alive, step after step.
            let g = g.detach();
            *m = ((&*m * Self::BETA1)? + (&g * (1.0 - Self::BETA1))?)?.detach();
            *v = ((&*v * Self::BETA2)? + (g.sqr()? * (1.0 - Self::BETA2))?)?.detach();
            let update = ((&*m / c1)? / ((&*v / c2)?.sqrt()? + Self::EPS)?)?;
            var.set(&(var.as_tensor().detach() - (update * self.lr)?)?)?;
        }
        Ok(())
    }
}

pub(super) fn checkpoint_dir(out: &Path) -> PathBuf {
    out.join("checkpoint")
}

pub(super) fn save_checkpoint(
    out: &Path,
    state: &mut CheckpointState,
    params: &Params,
    adam: &Adam,
    average: Option<&WeightAverage>,
) -> Result<(), PredictError> {
    let dir = checkpoint_dir(out);
    std::fs::create_dir_all(&dir).map_err(|source| PredictError::Io { path: dir.clone(), source })?;
    let mut tensors: std::collections::HashMap<String, Tensor> = params.tensors().into_iter().collect();
    for (k, t) in &adam.m {
        tensors.insert(format!("adam.m.{k}"), t.clone());
    }
    for (k, t) in &adam.v {
        tensors.insert(format!("adam.v.{k}"), t.clone());
    }
    if let Some(average) = average {
        for (k, t) in &average.tensors {
            tensors.insert(format!("average.{k}"), t.clone());
        }
        state.average_updates = average.updates;
    }
    // A new file per checkpoint: the state names the one that is complete.
    let name = format!("weights-{}-{}.safetensors", state.epoch, state.batch);
    let temp = dir.join(format!(".{name}.part"));
    candle_core::safetensors::save(&tensors, &temp)?;
    std::fs::rename(&temp, dir.join(&name)).map_err(|source| PredictError::Io { path: dir.join(&name), source })?;
    let old = std::mem::replace(&mut state.weights_file, name);
    state.adam_step = adam.step;
    let json = serde_json::to_vec_pretty(state)
        .map_err(|e| PredictError::BadBundle { path: dir.clone(), reason: e.to_string() })?;
    crate::media::write_bytes_atomically(&dir.join("state.json"), &json)?;
    if old != state.weights_file && !old.is_empty() {
        let _ = std::fs::remove_file(dir.join(old));
    }
    Ok(())
}

/// A run continued in `out` must read the features it started on: the encoder of the model saved
/// there is checked before any feature is computed.
pub(super) fn check_same_encoder(out: &Path, encoder: &crate::vision::EncoderIdentity) -> Result<(), PredictError> {
    if read_checkpoint_state(out)?.is_none() {
        return Ok(());
    }
    let Ok(saved) = ModelBundle::load(out) else { return Ok(()) };
    let before = &saved.manifest.encoder;
    if before.onnx_sha256 == encoder.onnx_sha256 {
        return Ok(());
    }
    Err(PredictError::Data {
        path: checkpoint_dir(out),
        reason: format!(
            "this folder holds a training run on encoder `{}` (ONNX sha256 {}), not `{}` (sha256 {}); use another folder, or delete it to start over",
            before.name, before.onnx_sha256, encoder.name, encoder.onnx_sha256
        ),
    })
}

pub(super) fn read_checkpoint_state(out: &Path) -> Result<Option<CheckpointState>, PredictError> {
    let state_path = checkpoint_dir(out).join("state.json");
    let Ok(text) = std::fs::read_to_string(&state_path) else { return Ok(None) };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| PredictError::BadBundle { path: state_path.clone(), reason: e.to_string() })
}

pub(super) fn load_checkpoint(
    out: &Path,
    state: &CheckpointState,
    config: &ModelConfig,
    lr: f64,
    average_decay: f64,
) -> Result<(Params, Adam, Option<WeightAverage>), PredictError> {
    let weights = checkpoint_dir(out).join(&state.weights_file);
    let bad = |reason: String| PredictError::BadBundle { path: weights.clone(), reason };
    let tensors = candle_core::safetensors::load(&weights, &Device::Cpu)?;
    let params = Params::from_tensors(config, &tensors).map_err(bad)?;
    let mut adam = Adam::new(&params, lr)?;
    for (k, m) in &mut adam.m {
        *m = tensors.get(&format!("adam.m.{k}")).cloned().ok_or_else(|| bad(format!("no Adam moment for {k}")))?;
    }
    for (k, v) in &mut adam.v {
        *v = tensors.get(&format!("adam.v.{k}")).cloned().ok_or_else(|| bad(format!("no Adam moment for {k}")))?;
    }
    adam.step = state.adam_step;
    let average = if average_decay > 0.0 {
        let saved = params
            .vars
            .keys()
            .map(|k| {
                let t = tensors.get(&format!("average.{k}")).cloned();
                t.map(|t| (k.clone(), t)).ok_or_else(|| bad(format!("no weight average for {k}")))
            })
            .collect::<Result<_, _>>()?;
        Some(WeightAverage::from_saved(average_decay, state.average_updates, saved))
    } else {
        None
    };
    Ok((params, adam, average))
}
