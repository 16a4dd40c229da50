//! The sound predictor (DESIGN section 1): per-frame CNN features, projected to a smaller width,
//! held over the 90 Hz steps their frame covers, run through a stack of LSTM layers, and mapped
//! to the 42 cochleagram bands of each step. A model may also have a contact head: one more
//! output per step, the logit of "the stick touches something at this step", from which hits are
//! timed (a quiet contact is as clear to it as a loud one, which the cochleagram's rise is not).
//!
//! Training runs the network in candle with autograd; inference runs the same arithmetic with the
//! batched products in candle and the recurrence as plain loops, so a long video goes through in
//! chunks with the LSTM state carried across.

use std::collections::BTreeMap;
use std::sync::mpsc;

use candle_core::{DType, Device, Tensor, Var};
use rand::RngExt as _;
use serde::{Deserialize, Serialize};

use super::PredictError;
use super::predicted::PredictedSound;
use crate::sound::Cochleagram;

/// The network's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Values per input row (space-time features then colour features).
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
}

impl ModelConfig {
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

/// One training batch: `batch` windows of `steps` steps.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The frames the windows cover, `[frames_total, input]`, window after window.
    pub frames: Tensor,
    /// For each of `batch * steps` steps, the row of `frames` it holds.
    pub step_frame: Tensor,
    /// Target cochleagrams, `[batch, steps, bands]`.
    pub targets: Tensor,
    /// Target contact probabilities, `[batch, steps]`.
    pub contacts: Tensor,
    pub batch: usize,
    pub steps: usize,
}

/// The network's output for a batch, with autograd.
#[derive(Debug)]
pub struct Output {
    /// `[batch, steps, bands]`.
    pub sound: Tensor,
    /// `[batch, steps]` contact logits, if the model has the head.
    pub contact_logits: Option<Tensor>,
}

/// The network's output for a batch. `dropout` zeroes that share of the projected features
/// (scaled to keep the mean); `mask_rng` draws which.
pub fn forward(
    params: &Params,
    config: &ModelConfig,
    batch: &Batch,
    dropout: f32,
    mask_rng: Option<&mut rand_chacha::ChaCha8Rng>,
) -> Result<Output, PredictError> {
    let h = config.hidden;
    let projected = batch.frames.matmul(params.get("proj.w")?)?.broadcast_add(params.get("proj.b")?)?.relu()?;
    let projected = match mask_rng {
        Some(rng) if dropout > 0.0 => {
            let keep = 1.0 - dropout;
            let mask: Vec<f32> = (0..projected.elem_count())
                .map(|_| if rng.random::<f32>() < keep { 1.0 / keep } else { 0.0 })
                .collect();
            (projected
                * Tensor::from_vec(mask, batch.frames.dims()[0] * config.projection, &Device::Cpu)?
                    .reshape((batch.frames.dims()[0], config.projection))?)?
        }
        _ => projected,
    };
    let mut x = projected.index_select(&batch.step_frame, 0)?; // [batch * steps, projection]
    for l in 0..config.layers {
        let gates_in =
            x.matmul(params.get(&format!("lstm{l}.w_ih"))?)?.broadcast_add(params.get(&format!("lstm{l}.b"))?)?;
        let gates_in = gates_in.reshape((batch.batch, batch.steps, 4 * h))?;
        let w_hh = params.get(&format!("lstm{l}.w_hh"))?;
        let mut hidden = Tensor::zeros((batch.batch, h), DType::F32, &Device::Cpu)?;
        let mut cell = hidden.clone();
        let mut outputs = Vec::with_capacity(batch.steps);
        for t in 0..batch.steps {
            let gates = (gates_in.narrow(1, t, 1)?.squeeze(1)? + hidden.matmul(w_hh)?)?;
            let i = candle_nn::ops::sigmoid(&gates.narrow(1, 0, h)?)?;
            let f = candle_nn::ops::sigmoid(&gates.narrow(1, h, h)?)?;
            let g = gates.narrow(1, 2 * h, h)?.tanh()?;
            let o = candle_nn::ops::sigmoid(&gates.narrow(1, 3 * h, h)?)?;
            cell = ((f * &cell)? + (i * g)?)?;
            hidden = (o * cell.tanh()?)?;
            outputs.push(hidden.clone());
        }
        x = Tensor::stack(&outputs, 1)?.reshape((batch.batch * batch.steps, h))?;
    }
    let y = x.matmul(params.get("out.w")?)?.broadcast_add(params.get("out.b")?)?;
    let contact_logits = if config.contact_head {
        let z = x.matmul(params.get("contact.w")?)?.broadcast_add(params.get("contact.b")?)?;
        Some(z.reshape((batch.batch, batch.steps))?)
    } else {
        None
    };
    Ok(Output { sound: y.reshape((batch.batch, batch.steps, config.bands))?, contact_logits })
}

/// Binary cross-entropy of contact logits against target probabilities, averaged over steps:
/// `max(z, 0) - z y + log(1 + e^-|z|)`, which never overflows.
pub fn contact_loss(logits: &Tensor, target: &Tensor) -> Result<Tensor, PredictError> {
    let softplus_tail = logits.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?;
    Ok(((logits.relu()? - (logits * target)?)? + softplus_tail)?.mean_all()?)
}

/// The robust loss of the paper, `log(eps + ||s_pred - s_true||^2)` per step, averaged over steps.
pub fn robust_loss(pred: &Tensor, target: &Tensor, eps: f64) -> Result<Tensor, PredictError> {
    let squared = (pred - target)?.sqr()?.sum(2)?;
    Ok(squared.affine(1.0, eps)?.log()?.mean_all()?)
}

/// Weights as plain arrays for inference.
#[derive(Debug, Clone)]
pub struct InferenceWeights {
    pub config: ModelConfig,
    proj_w: Tensor,
    proj_b: Tensor,
    /// The rows of `proj_w` that multiply the first and the second half of a features row.
    proj_w_halves: Option<(Tensor, Tensor)>,
    layers: Vec<LayerWeights>,
    out_w: Tensor,
    out_b: Tensor,
}

#[derive(Debug, Clone)]
struct LayerWeights {
    w_ih: Tensor,
    b: Tensor,
    /// `w_ih` as `[input][4 * hidden]`, row-major.
    w_ih_rows: Vec<f32>,
    b_values: Vec<f32>,
    /// `[hidden][4 * hidden]`, row-major.
    w_hh: Vec<f32>,
}

/// A chunk's frames after the state-free part of the network: see [`InferenceWeights::prepare`].
#[derive(Debug)]
pub struct PreparedFrames(Tensor);

/// Steps a layer hands on to the next at a time.
const PIPELINE_BLOCK: usize = 90;

/// The LSTM's state between chunks.
#[derive(Debug, Clone)]
pub struct State {
    hidden: Vec<Vec<f32>>,
    cell: Vec<Vec<f32>>,
}

/// `gates += hidden . w_hh` (`w_hh` row-major `[hidden][gates]`), row by row so the inner loop runs
/// along memory; with AVX-512 or AVX2 and FMA where the processor has them.
fn add_recurrent(gates: &mut [f32], hidden: &[f32], w_hh: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the features the function is compiled for were just detected.
            unsafe { add_recurrent_avx512(gates, hidden, w_hh) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: as above.
            unsafe { add_recurrent_avx2(gates, hidden, w_hh) };
            return;
        }
    }
    add_recurrent_plain(gates, hidden, w_hh);
}

/// Without FMA in hardware `mul_add` would be a slow library call: plain products instead.
fn add_recurrent_plain(gates: &mut [f32], hidden: &[f32], w_hh: &[f32]) {
    let width = gates.len();
    for (row, &hj) in w_hh.chunks_exact(width).zip(hidden) {
        for (g, w) in gates.iter_mut().zip(row) {
            *g += hj * w;
        }
    }
}

/// 128 gates (eight 16-lane registers) at a time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
fn add_recurrent_avx512(gates: &mut [f32], hidden: &[f32], w_hh: &[f32]) {
    add_recurrent_tiled::<128>(gates, hidden, w_hh);
}

/// 64 gates (eight 8-lane registers) at a time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn add_recurrent_avx2(gates: &mut [f32], hidden: &[f32], w_hh: &[f32]) {
    add_recurrent_tiled::<64>(gates, hidden, w_hh);
}

/// `TILE` gates are held in registers while every row of `w_hh` adds into them.
#[inline(always)]
fn add_recurrent_tiled<const TILE: usize>(gates: &mut [f32], hidden: &[f32], w_hh: &[f32]) {
    let width = gates.len();
    let mut start = 0;
    while start + TILE <= width {
        let mut acc = [0.0f32; TILE];
        acc.copy_from_slice(&gates[start..start + TILE]);
        for (j, &hj) in hidden.iter().enumerate() {
            let row = &w_hh[j * width + start..j * width + start + TILE];
            for (a, w) in acc.iter_mut().zip(row) {
                *a = hj.mul_add(*w, *a);
            }
        }
        gates[start..start + TILE].copy_from_slice(&acc);
        start += TILE;
    }
    if start < width {
        for (j, &hj) in hidden.iter().enumerate() {
            for (g, w) in gates[start..].iter_mut().zip(&w_hh[j * width + start..(j + 1) * width]) {
                *g = hj.mul_add(*w, *g);
            }
        }
    }
}

/// `out[s] += x[s] . w` for every row `s` (`x` rows of `w.len() / out_width` values, `w`
/// row-major `[input][out_width]`): a small matrix product. Several rows share each load of a
/// weight, so it moves a fraction of the bytes that one product per row would.
fn add_products(out: &mut [f32], x: &[f32], w: &[f32], out_width: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the features the function is compiled for were just detected.
            unsafe { add_products_avx512(out, x, w, out_width) };
            return;
        }
    }
    for (o, xr) in out.chunks_exact_mut(out_width).zip(x.chunks_exact(w.len() / out_width)) {
        add_recurrent(o, xr, w);
    }
}

/// Four rows of 64 outputs (sixteen 16-lane registers) at a time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
fn add_products_avx512(out: &mut [f32], x: &[f32], w: &[f32], out_width: usize) {
    const ROWS: usize = 4;
    const TILE: usize = 64;
    let k = w.len() / out_width;
    let rows = out.len() / out_width;
    let grouped = rows - rows % ROWS;
    if out_width.is_multiple_of(TILE) {
        for g in (0..grouped).step_by(ROWS) {
            for start in (0..out_width).step_by(TILE) {
                let mut acc = [[0.0f32; TILE]; ROWS];
                for (r, a) in acc.iter_mut().enumerate() {
                    a.copy_from_slice(&out[(g + r) * out_width + start..][..TILE]);
                }
                for j in 0..k {
                    let row = &w[j * out_width + start..][..TILE];
                    for (r, a) in acc.iter_mut().enumerate() {
                        let xr = x[(g + r) * k + j];
                        for (a, w) in a.iter_mut().zip(row) {
                            *a = xr.mul_add(*w, *a);
                        }
                    }
                }
                for (r, a) in acc.iter().enumerate() {
                    out[(g + r) * out_width + start..][..TILE].copy_from_slice(a);
                }
            }
        }
    } else {
        for r in 0..grouped {
            add_recurrent_tiled::<128>(&mut out[r * out_width..][..out_width], &x[r * k..][..k], w);
        }
    }
    for r in grouped..rows {
        add_recurrent_tiled::<128>(&mut out[r * out_width..][..out_width], &x[r * k..][..k], w);
    }
}

/// One LSTM step's gate nonlinearities and state update, from `gates` (`[i, f, g, o]`, each
/// `hidden.len()` long, the pre-activations); with AVX2 and FMA where the processor has them.
fn update_state(gates: &[f32], cell: &mut [f32], hidden: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the features the function is compiled for were just detected.
            unsafe { update_state_avx2(gates, cell, hidden) };
            return;
        }
    }
    update_state_plain(gates, cell, hidden);
}

/// The same update compiled for AVX2: branch-free `exp` lets the compiler run eight lanes at once.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn update_state_avx2(gates: &[f32], cell: &mut [f32], hidden: &mut [f32]) {
    update_state_plain(gates, cell, hidden);
}

#[inline(always)]
fn update_state_plain(gates: &[f32], cell: &mut [f32], hidden: &mut [f32]) {
    let h = hidden.len();
    let (i, rest) = gates.split_at(h);
    let (f, rest) = rest.split_at(h);
    let (g, o) = rest.split_at(h);
    for k in 0..h {
        let c = sigmoid(f[k]) * cell[k] + sigmoid(i[k]) * tanh(g[k]);
        cell[k] = c;
        hidden[k] = sigmoid(o[k]) * tanh(c);
    }
}

/// `e^x` within 2 ulp over the whole `f32` range that does not overflow (Cephes' `expf`: a
/// degree-6 polynomial on `x` reduced by multiples of ln 2), written without branches so that it
/// vectorises; libm's `expf`/`tanhf` calls were a third of the LSTM's time.
#[inline(always)]
fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // ln 2 in two parts, so that `x - n ln 2` loses nothing for |n| up to 127.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * LOG2E + 0.5).floor();
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let e = p * r * r + r + 1.0;
    // 2^n from its exponent bits, n + 127 (within [1, 254] after the clamp) read from the low
    // mantissa bits of n + 127 + 1.5 * 2^23: no float-to-integer conversion, which would not
    // vectorise.
    let biased = n + (127.0 + 12_582_912.0);
    e * f32::from_bits(biased.to_bits() << 23)
}

#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// The contact probabilities of a contact head's logits, as they would be with the head's bias
/// moved by `shift`.
#[must_use]
pub fn contact_probabilities(logits: &[f32], shift: f32) -> Vec<f32> {
    logits.iter().map(|&l| sigmoid(l + shift)).collect()
}

/// `tanh(x) = 2 sigmoid(2x) - 1`: within 1e-7 absolute, which is what the state needs.
#[inline(always)]
fn tanh(x: f32) -> f32 {
    2.0 * sigmoid(2.0 * x) - 1.0
}

impl InferenceWeights {
    pub fn new(config: &ModelConfig, params: &Params) -> Result<Self, PredictError> {
        let layers = (0..config.layers)
            .map(|l| {
                let w_ih = params.get(&format!("lstm{l}.w_ih"))?.detach();
                let b = params.get(&format!("lstm{l}.b"))?.detach();
                Ok(LayerWeights {
                    w_ih_rows: w_ih.flatten_all()?.to_vec1()?,
                    b_values: b.flatten_all()?.to_vec1()?,
                    w_ih,
                    b,
                    w_hh: params.get(&format!("lstm{l}.w_hh"))?.flatten_all()?.to_vec1()?,
                })
            })
            .collect::<Result<Vec<_>, PredictError>>()?;
        // The contact head is one more output column: one product gives both.
        let (out_w, out_b) = if config.contact_head {
            (
                Tensor::cat(&[params.get("out.w")?, params.get("contact.w")?], 1)?,
                Tensor::cat(&[params.get("out.b")?, params.get("contact.b")?], 0)?,
            )
        } else {
            (params.get("out.w")?.clone(), params.get("out.b")?.clone())
        };
        let (out_w, out_b) = (out_w.detach(), out_b.detach());
        Ok(Self {
            config: config.clone(),
            proj_w: params.get("proj.w")?.detach(),
            proj_b: params.get("proj.b")?.detach(),
            proj_w_halves: if config.input.is_multiple_of(2) {
                let w = params.get("proj.w")?;
                let half = config.input / 2;
                Some((w.narrow(0, 0, half)?.contiguous()?, w.narrow(0, half, half)?.contiguous()?))
            } else {
                None
            },
            layers,
            out_w,
            out_b,
        })
    }

    /// The state before the first step.
    #[must_use]
    pub fn initial_state(&self) -> State {
        let h = self.config.hidden;
        State { hidden: vec![vec![0.0; h]; self.config.layers], cell: vec![vec![0.0; h]; self.config.layers] }
    }

    /// The input projection of `n` rows of features, `[n, projection]`.
    fn project(&self, frames: &[f32], n: usize) -> Result<Tensor, PredictError> {
        let input = self.config.input;
        let half = input / 2;
        // A video's rows end in the same values, its first colour frame's features: their
        // product is taken once, which halves the work.
        if let Some((head_w, tail_w)) = &self.proj_w_halves
            && n > 1
            && frames.chunks_exact(input).all(|row| row[half..] == frames[half..input])
        {
            let heads: Vec<f32> = frames.chunks_exact(input).flat_map(|row| &row[..half]).copied().collect();
            let heads = Tensor::from_vec(heads, (n, half), &Device::Cpu)?;
            let tail = Tensor::from_slice(&frames[half..input], (1, half), &Device::Cpu)?;
            let shared = tail.matmul(tail_w)?.broadcast_add(&self.proj_b)?;
            return Ok(heads.matmul(head_w)?.broadcast_add(&shared)?.relu()?);
        }
        let x = Tensor::from_slice(frames, (n, input), &Device::Cpu)?;
        Ok(x.matmul(&self.proj_w)?.broadcast_add(&self.proj_b)?.relu()?)
    }

    /// Splits raw output rows ([`ModelConfig::outputs`] values a step) into the cochleagram's
    /// `steps * bands` values and, with a contact head, each step's contact logit.
    #[must_use]
    pub fn split_outputs(&self, raw: Vec<f32>) -> (Vec<f32>, Option<Vec<f32>>) {
        let (bands, width) = (self.config.bands, self.config.outputs());
        if !self.config.contact_head {
            return (raw, None);
        }
        let sound = raw.chunks_exact(width).flat_map(|row| &row[..bands]).copied().collect();
        let logits = raw.chunks_exact(width).map(|row| row[bands]).collect();
        (sound, Some(logits))
    }

    /// The predicted sound of raw output rows, step `i` at `i / rate_hz` s.
    #[must_use]
    pub fn predicted_sound(&self, raw: Vec<f32>, rate_hz: f64) -> PredictedSound {
        let (data, logits) = self.split_outputs(raw);
        PredictedSound {
            cochleagram: Cochleagram { start_s: 0.0, rate_hz, bands: self.config.bands, data },
            contact: logits.map(|l| contact_probabilities(&l, 0.0)),
        }
    }

    /// Runs a chunk: `frames` rows of features (`[n, input]`), `step_frame[i]` the row step `i`
    /// holds. Returns `step_frame.len() * outputs` values (see [`ModelConfig::outputs`]) and
    /// advances `state`.
    pub fn run(&self, frames: &[f32], step_frame: &[u32], state: &mut State) -> Result<Vec<f32>, PredictError> {
        self.run_prepared(&self.prepare(frames)?, step_frame, state)
    }

    /// The part of a chunk that does not depend on the state: per frame, the first layer's input
    /// product (or, without an LSTM, the projection). It can run while the previous chunk's
    /// recurrence does.
    pub fn prepare(&self, frames: &[f32]) -> Result<PreparedFrames, PredictError> {
        let n = frames.len() / self.config.input;
        let projected = self.project(frames, n)?;
        Ok(PreparedFrames(match self.layers.first() {
            // The first layer's input is the same for every step of a frame: its product is taken
            // once per frame and looked up per step.
            Some(first) => projected.matmul(&first.w_ih)?.broadcast_add(&first.b)?,
            None => projected,
        }))
    }

    /// Runs a chunk whose frames were [`prepare`](Self::prepare)d; as [`run`](Self::run).
    pub fn run_prepared(
        &self,
        prepared: &PreparedFrames,
        step_frame: &[u32],
        state: &mut State,
    ) -> Result<Vec<f32>, PredictError> {
        let h = self.config.hidden;
        let steps = step_frame.len();
        if steps == 0 {
            return Ok(Vec::new());
        }
        let Some(first) = self.layers.first() else {
            // No recurrence: each step reads its frame's projection.
            let index = Tensor::from_slice(step_frame, steps, &Device::Cpu)?;
            let x = prepared.0.index_select(&index, 0)?;
            return Ok(x.matmul(&self.out_w)?.broadcast_add(&self.out_b)?.flatten_all()?.to_vec1()?);
        };
        let gates_in: Vec<f32> = prepared.0.flatten_all()?.to_vec1()?;
        let out = std::thread::scope(|scope| -> Result<Vec<f32>, PredictError> {
            let mut hiddens = state.hidden.iter_mut();
            let mut cells = state.cell.iter_mut();
            let (Some(hidden), Some(cell)) = (hiddens.next(), cells.next()) else {
                return Err(PredictError::Thread(std::io::Error::other("the state has no layers")));
            };
            // Every later layer runs on a thread of its own, a block of steps behind the layer
            // before it: on two cores two recurrences overlap, each with its weights in its own
            // core's cache. The arithmetic is the same however the steps are split.
            let (first_tx, mut input) = mpsc::sync_channel::<Vec<f32>>(8);
            let mut forward = Vec::new();
            let mut last = None;
            let count = self.layers.len();
            for (((l, layer), hidden), cell) in self.layers.iter().enumerate().skip(1).zip(hiddens).zip(cells) {
                let (tx, rx) = mpsc::sync_channel::<Vec<f32>>(8);
                let blocks = std::mem::replace(&mut input, rx);
                let is_last = l + 1 == count;
                let handle = std::thread::Builder::new()
                    .name(format!("lstm-layer-{l}"))
                    .spawn_scoped(scope, move || {
                        let mut gates = vec![0.0f32; 4 * h];
                        // The last layer keeps its output; the others hand it on.
                        let mut kept = Vec::with_capacity(if is_last { steps * h } else { 0 });
                        for block in blocks {
                            let mut out = Vec::with_capacity(block.len());
                            let mut block_gates: Vec<f32> =
                                layer.b_values.iter().copied().cycle().take(block.len() / h * 4 * h).collect();
                            add_products(&mut block_gates, &block, &layer.w_ih_rows, 4 * h);
                            for step_gates in block_gates.chunks_exact(4 * h) {
                                gates.copy_from_slice(step_gates);
                                add_recurrent(&mut gates, hidden, &layer.w_hh);
                                update_state(&gates, cell, hidden);
                                out.extend_from_slice(hidden);
                            }
                            if is_last {
                                kept.extend(out);
                            } else if tx.send(out).is_err() {
                                break;
                            }
                        }
                        kept
                    })
                    .map_err(PredictError::Thread)?;
                if is_last {
                    last = Some(handle);
                } else {
                    forward.push(handle);
                }
            }
            let mut gates = vec![0.0f32; 4 * h];
            let mut own = Vec::new();
            for block in step_frame.chunks(PIPELINE_BLOCK) {
                let mut out = Vec::with_capacity(block.len() * h);
                for &r in block {
                    let r = r as usize;
                    gates.copy_from_slice(&gates_in[r * 4 * h..(r + 1) * 4 * h]);
                    add_recurrent(&mut gates, hidden, &first.w_hh);
                    update_state(&gates, cell, hidden);
                    out.extend_from_slice(hidden);
                }
                if count == 1 {
                    own.extend(out);
                } else if first_tx.send(out).is_err() {
                    break;
                }
            }
            drop(first_tx);
            let panicked = || PredictError::Thread(std::io::Error::other("an LSTM layer's thread panicked"));
            for handle in forward {
                handle.join().map_err(|_| panicked())?;
            }
            match last {
                Some(handle) => handle.join().map_err(|_| panicked()),
                None => Ok(own),
            }
        })?;
        let x = Tensor::from_vec(out, (steps, h), &Device::Cpu)?;
        Ok(x.matmul(&self.out_w)?.broadcast_add(&self.out_b)?.flatten_all()?.to_vec1()?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fast_exp_sigmoid_and_tanh_match_libm() {
        let mut worst_exp = 0.0_f64;
        let mut worst_tanh = 0.0_f64;
        let mut worst_sigmoid = 0.0_f64;
        for k in -200_000..=200_000 {
            let x = k as f32 * 4.35e-4; // -87 ... 87
            let want = f64::from(x).exp();
            worst_exp = worst_exp.max((f64::from(super::exp(x)) - want).abs() / want);
            let y = x / 8.0;
            worst_tanh = worst_tanh.max((f64::from(super::tanh(y)) - f64::from(y).tanh()).abs());
            worst_sigmoid =
                worst_sigmoid.max((f64::from(super::sigmoid(y)) - 1.0 / (1.0 + (-f64::from(y)).exp())).abs());
        }
        assert!(worst_exp < 3e-7, "exp relative error {worst_exp}");
        assert!(worst_tanh < 3e-7, "tanh error {worst_tanh}");
        assert!(worst_sigmoid < 2e-7, "sigmoid error {worst_sigmoid}");
        // Far out of range, the results saturate instead of turning into NaN or infinity.
        assert!((0.0..1e-30).contains(&super::sigmoid(-1e6)) && super::sigmoid(1e6) == 1.0);
        assert!(super::tanh(1e6) == 1.0 && super::tanh(-1e6) == -1.0);
        assert!(super::exp(1e6).is_finite());
    }
}
