//! The sound predictor (DESIGN section 1): per-frame CNN features, projected to a smaller width,
//! held over the 90 Hz steps their frame covers, run through a stack of LSTM layers, and mapped
//! to the 42 cochleagram bands of each step. A model may also have a contact head: one more
//! output per step, the logit of "the stick touches something at this step", from which hits are
//! timed (a quiet contact is as clear to it as a loud one, which the cochleagram's rise is not).
//!
//! This file holds the configuration, the parameters and the training graph with its losses
//! (candle with autograd); [`super::inference`] runs the same arithmetic for inference.

use std::collections::BTreeMap;

use candle_core::{DType, Device, Tensor, Var};
use rand::RngExt as _;
use serde::{Deserialize, Serialize};

use super::PredictError;
use super::recurrence::lstm_recurrence;
use crate::vision::RowLayout;

/// The network's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Values per input row (space-time features, the motion grid if any, colour features).
    pub input: usize,
    /// Width of the input projection.
    pub projection: usize,
    /// LSTM hidden size.
    pub hidden: usize,
    /// Number of stacked LSTM layers.
    pub layers: usize,
    /// Output bands (the cochleagram's).
    pub bands: usize,
    /// Whether the model also predicts each step's contact logit.
    #[serde(default)]
    pub contact_head: bool,
    /// Values of each row's motion grid (between the space-time and the colour features); 0
    /// for a model that reads none.
    #[serde(default)]
    pub motion: usize,
    /// Steps the network runs past a step before it gives that step's output, so that it sees
    /// what follows (a stick rebounding from a contact, or held where a swing stopped short);
    /// 0 for a model whose output at a step comes from what it has seen up to that step.
    #[serde(default)]
    pub lookahead: usize,
    /// The time constant of the running mean the space-time features are centred on
    /// ([`super::centring`]), in ms; 0 for a model that reads them as they come.
    #[serde(default)]
    pub centring_ms: u32,
}

impl ModelConfig {
    /// What the model's features rows hold. Grid values that make no square grid read as no
    /// grid, so that the row width disagrees and `ModelBundle::check_compatible` says so.
    #[must_use]
    pub fn layout(&self) -> RowLayout {
        RowLayout::with_grid_values(self.motion).unwrap_or_default()
    }

    /// Where each row holds the first colour frame's features (the video's look): its last
    /// values.
    #[must_use]
    pub fn look_range(&self) -> std::ops::Range<usize> {
        self.layout().colour_range(self.input)
    }

    /// Values per step in the raw output: the bands, then the contact logit if there is a head.
    #[must_use]
    pub fn outputs(&self) -> usize {
        self.bands + usize::from(self.contact_head)
    }
}

/// A contact logit's starting bias: a contact lies on about 3% of the steps.
const CONTACT_PRIOR_LOGIT: f32 = -3.5;

/// The trainable tensors by name, in a fixed order.
#[derive(Debug, Clone)]
pub struct Params {
    pub vars: BTreeMap<String, Var>,
}

fn uniform(rng: &mut impl rand::Rng, n: usize, bound: f32) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-bound..bound)).collect()
}

/// Every parameter's name and shape, in a fixed order.
#[must_use]
pub fn parameter_shapes(config: &ModelConfig) -> Vec<(String, Vec<usize>)> {
    let (d, p, h, b) = (config.input, config.projection, config.hidden, config.bands);
    let mut shapes = vec![("proj.w".to_owned(), vec![d, p]), ("proj.b".to_owned(), vec![p])];
    for l in 0..config.layers {
        let input = if l == 0 { p } else { h };
        shapes.push((format!("lstm{l}.w_ih"), vec![input, 4 * h]));
        shapes.push((format!("lstm{l}.w_hh"), vec![h, 4 * h]));
        shapes.push((format!("lstm{l}.b"), vec![4 * h]));
    }
    shapes.push(("out.w".to_owned(), vec![h, b]));
    shapes.push(("out.b".to_owned(), vec![b]));
    if config.contact_head {
        shapes.push(("contact.w".to_owned(), vec![h, 1]));
        shapes.push(("contact.b".to_owned(), vec![1]));
    }
    shapes
}

impl Params {
    /// Fresh weights from `rng`: uniform in +-1/sqrt(fan-in) (PyTorch's Linear and LSTM), output
    /// bias 0, and the forget gate's bias raised by 1 so early training keeps the cell's memory.
    pub fn init(config: &ModelConfig, rng: &mut impl rand::Rng) -> Result<Self, PredictError> {
        let h = config.hidden;
        let mut vars = BTreeMap::new();
        for (name, shape) in parameter_shapes(config) {
            let n: usize = shape.iter().product();
            let fan_in = if name.starts_with("proj") { config.input } else { h };
            let mut data = match name.as_str() {
                "out.b" => vec![0.0; n],
                "contact.b" => vec![CONTACT_PRIOR_LOGIT; n],
                _ => uniform(rng, n, 1.0 / (fan_in as f32).sqrt()),
            };
            if name.ends_with(".b") && name.starts_with("lstm") {
                data[h..2 * h].iter_mut().for_each(|v| *v += 1.0);
            }
            vars.insert(name, Var::from_tensor(&Tensor::from_vec(data, shape, &Device::Cpu)?)?);
        }
        Ok(Self { vars })
    }

    pub fn get(&self, name: &str) -> Result<&Tensor, PredictError> {
        self.vars
            .get(name)
            .map(Var::as_tensor)
            .ok_or_else(|| PredictError::Tensor(candle_core::Error::Msg(format!("no parameter `{name}`"))))
    }

    /// A copy whose contact head's bias is moved by `by` (every contact logit moves by as much).
    pub fn with_contact_bias_moved(&self, by: f32) -> Result<Self, PredictError> {
        let mut vars = BTreeMap::new();
        for (name, var) in &self.vars {
            let t = var.as_tensor().detach();
            let t = if name == "contact.b" { t.affine(1.0, f64::from(by))? } else { t.copy()? };
            vars.insert(name.clone(), Var::from_tensor(&t)?);
        }
        Ok(Self { vars })
    }

    /// Total number of weights.
    #[must_use]
    pub fn count(&self) -> usize {
        self.vars.values().map(|v| v.elem_count()).sum()
    }

    /// The tensors, for saving.
    #[must_use]
    pub fn tensors(&self) -> BTreeMap<String, Tensor> {
        self.vars.iter().map(|(k, v)| (k.clone(), v.as_tensor().clone())).collect()
    }

    /// Parameters from saved tensors, checked against `config`; the error says what differs.
    pub fn from_tensors(
        config: &ModelConfig,
        tensors: &std::collections::HashMap<String, Tensor>,
    ) -> Result<Self, String> {
        let mut vars = BTreeMap::new();
        for (name, shape) in parameter_shapes(config) {
            let t = tensors.get(&name).ok_or_else(|| format!("the weights lack `{name}`"))?;
            if t.dims() != shape.as_slice() {
                return Err(format!("`{name}` has shape {:?}, the configuration needs {shape:?}", t.dims()));
            }
            let t = t.to_dtype(DType::F32).map_err(|e| e.to_string())?;
            vars.insert(name, Var::from_tensor(&t).map_err(|e| e.to_string())?);
        }
        Ok(Self { vars })
    }
}

/// One training batch: `batch` windows of `steps` steps the network runs; the model's
/// [`lookahead`](ModelConfig::lookahead) first of them give no output, so each window predicts
/// its `steps - lookahead` first steps, each from the steps up to `lookahead` after it.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The frames the windows cover, `[frames_total, input]`, window after window.
    pub frames: Tensor,
    /// For each of `batch * steps` steps, the row of `frames` it holds.
    pub step_frame: Tensor,
    /// Target cochleagrams, `[batch, steps - lookahead, bands]`.
    pub targets: Tensor,
    /// Target contact probabilities, `[batch, steps - lookahead]`.
    pub contacts: Tensor,
    /// How much each step's contact loss counts, the shape of `contacts`; `None`: all alike.
    pub contact_weights: Option<Tensor>,
    pub batch: usize,
    pub steps: usize,
}

/// The network's output for a batch, with autograd.
#[derive(Debug)]
pub struct Output {
    /// `[batch, steps - lookahead, bands]`.
    pub sound: Tensor,
    /// `[batch, steps - lookahead]` contact logits, if the model has the head.
    pub contact_logits: Option<Tensor>,
}

/// What training zeroes at random (each kept value scaled to keep the mean): shares of the
/// input rows' values and of the projected features.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Dropout {
    /// Share of each row's input values: features of a frame the network cannot lean on alone,
    /// so that it learns what many of them agree on rather than the few that single out the
    /// training videos.
    pub input: f32,
    /// Share of the projected features.
    pub projected: f32,
}

impl Dropout {
    /// Nothing dropped: inference, and validation.
    pub const NONE: Self = Self { input: 0.0, projected: 0.0 };
}

/// `x` with a `share` of its values zeroed (drawn from `rng`) and the rest scaled by
/// `1 / (1 - share)`.
fn drop_values(x: Tensor, share: f32, rng: &mut rand_chacha::ChaCha8Rng) -> Result<Tensor, PredictError> {
    if share <= 0.0 {
        return Ok(x);
    }
    let keep = 1.0 - share;
    let mask: Vec<f32> =
        (0..x.elem_count()).map(|_| if rng.random::<f32>() < keep { 1.0 / keep } else { 0.0 }).collect();
    let mask = Tensor::from_vec(mask, x.dims(), &Device::Cpu)?;
    Ok((x * mask)?)
}

/// The network's output for a batch, with `dropout` drawn from `mask_rng` (none without one).
pub fn forward(
    params: &Params,
    config: &ModelConfig,
    batch: &Batch,
    dropout: Dropout,
    mut mask_rng: Option<&mut rand_chacha::ChaCha8Rng>,
) -> Result<Output, PredictError> {
    let h = config.hidden;
    let frames = match mask_rng.as_deref_mut() {
        Some(rng) => drop_values(batch.frames.clone(), dropout.input, rng)?,
        None => batch.frames.clone(),
    };
    let projected = frames.matmul(params.get("proj.w")?)?.broadcast_add(params.get("proj.b")?)?.relu()?;
    let projected = match mask_rng {
        Some(rng) => drop_values(projected, dropout.projected, rng)?,
        None => projected,
    };
    let mut x = projected.index_select(&batch.step_frame, 0)?; // [batch * steps, projection]
    for l in 0..config.layers {
        let gates_in =
            x.matmul(params.get(&format!("lstm{l}.w_ih"))?)?.broadcast_add(params.get(&format!("lstm{l}.b"))?)?;
        let gates_in = gates_in.reshape((batch.batch, batch.steps, 4 * h))?;
        let w_hh = params.get(&format!("lstm{l}.w_hh"))?;
        x = lstm_recurrence(&gates_in, w_hh)?.reshape((batch.batch * batch.steps, h))?;
    }
    // A step's output is the one `lookahead` steps later.
    let ahead = config.lookahead;
    let Some(scored) = batch.steps.checked_sub(ahead).filter(|&n| n > 0) else {
        return Err(PredictError::Tensor(candle_core::Error::Msg(format!(
            "a window of {} steps is no longer than the lookahead of {ahead} steps",
            batch.steps
        ))));
    };
    let width = x.dims()[1];
    let x = x
        .reshape((batch.batch, batch.steps, width))?
        .narrow(1, ahead, scored)?
        .reshape((batch.batch * scored, width))?;
    let y = x.matmul(params.get("out.w")?)?.broadcast_add(params.get("out.b")?)?;
    let contact_logits = if config.contact_head {
        let z = x.matmul(params.get("contact.w")?)?.broadcast_add(params.get("contact.b")?)?;
        Some(z.reshape((batch.batch, scored))?)
    } else {
        None
    };
    Ok(Output { sound: y.reshape((batch.batch, scored, config.bands))?, contact_logits })
}

/// Binary cross-entropy of contact logits against target probabilities, averaged over steps:
/// `max(z, 0) - z y + log(1 + e^-|z|)`, which never overflows; with `weights` (the logits'
/// shape), each step's term counts that many times.
pub fn contact_loss(logits: &Tensor, target: &Tensor, weights: Option<&Tensor>) -> Result<Tensor, PredictError> {
    let softplus_tail = logits.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?;
    let per_step = ((logits.relu()? - (logits * target)?)? + softplus_tail)?;
    Ok(match weights {
        Some(w) => (per_step * w)?.mean_all()?,
        None => per_step.mean_all()?,
    })
}

/// The robust loss of the paper, `log(eps + ||s_pred - s_true||^2)` per step, averaged over steps.
pub fn robust_loss(pred: &Tensor, target: &Tensor, eps: f64) -> Result<Tensor, PredictError> {
    let squared = (pred - target)?.sqr()?.sum(2)?;
    Ok(squared.affine(1.0, eps)?.log()?.mean_all()?)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng as _;

    use super::*;

    #[test]
    fn weighted_contact_loss_counts_each_step_its_weight_times() {
        let logits = Tensor::new(&[[2.0f32, -1.0, 0.5]], &Device::Cpu).unwrap();
        let target = Tensor::new(&[[1.0f32, 0.0, 0.0]], &Device::Cpu).unwrap();
        // Per step, -y log p - (1 - y) log (1 - p) with p the sigmoid of the logit.
        let bce = |z: f64, y: f64| {
            let p = 1.0 / (1.0 + (-z).exp());
            -y * p.ln() - (1.0 - y) * (1.0 - p).ln()
        };
        let terms = [bce(2.0, 1.0), bce(-1.0, 0.0), bce(0.5, 0.0)];
        let plain = f64::from(contact_loss(&logits, &target, None).unwrap().to_scalar::<f32>().unwrap());
        assert!((plain - terms.iter().sum::<f64>() / 3.0).abs() < 1e-6, "{plain}");
        let weights = Tensor::new(&[[1.0f32, 1.0, 5.0]], &Device::Cpu).unwrap();
        let weighted = f64::from(contact_loss(&logits, &target, Some(&weights)).unwrap().to_scalar::<f32>().unwrap());
        assert!((weighted - (terms[0] + terms[1] + 5.0 * terms[2]) / 3.0).abs() < 1e-6, "{weighted}");
        let ones = Tensor::ones((1, 3), candle_core::DType::F32, &Device::Cpu).unwrap();
        let same = f64::from(contact_loss(&logits, &target, Some(&ones)).unwrap().to_scalar::<f32>().unwrap());
        assert!((same - plain).abs() < 1e-7);
    }

    #[test]
    fn dropping_zeroes_about_the_share_and_keeps_the_mean() {
        let x = Tensor::ones((100, 200), DType::F32, &Device::Cpu).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let dropped: Vec<f32> =
            drop_values(x.clone(), 0.3, &mut rng).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        let zeros = dropped.iter().filter(|&&v| v == 0.0).count() as f64 / dropped.len() as f64;
        assert!((zeros - 0.3).abs() < 0.02, "{zeros} of the values zeroed");
        assert!(dropped.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.7).abs() < 1e-6));
        let mean = dropped.iter().map(|&v| f64::from(v)).sum::<f64>() / dropped.len() as f64;
        assert!((mean - 1.0).abs() < 0.03, "mean {mean}");
        // A share of 0 leaves the values as they are and draws nothing.
        let before = rng.clone();
        let same: Vec<f32> = drop_values(x, 0.0, &mut rng).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        assert!(same.iter().all(|&v| v == 1.0));
        assert_eq!(rng, before);
    }
}
