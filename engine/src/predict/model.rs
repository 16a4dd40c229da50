//! The sound predictor (DESIGN section 1): per-frame CNN features, projected to a smaller width,
//! held over the 90 Hz steps their frame covers, run through a stack of LSTM layers, and mapped
//! to the 42 cochleagram bands of each step.
//!
//! Training runs the network in candle with autograd; inference runs the same arithmetic with the
//! batched products in candle and the recurrence as plain loops, so a long video goes through in
//! chunks with the LSTM state carried across.

use std::collections::BTreeMap;

use candle_core::{DType, Device, Tensor, Var};
use rand::RngExt as _;
use serde::{Deserialize, Serialize};

use super::PredictError;

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
}

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
            let mut data = if name == "out.b" { vec![0.0; n] } else { uniform(rng, n, 1.0 / (fan_in as f32).sqrt()) };
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
    pub batch: usize,
    pub steps: usize,
}

/// The network's output for a batch, `[batch, steps, bands]`, with autograd. `dropout` zeroes
/// that share of the projected features (scaled to keep the mean); `mask_rng` draws which.
pub fn forward(
    params: &Params,
    config: &ModelConfig,
    batch: &Batch,
    dropout: f32,
    mask_rng: Option<&mut rand_chacha::ChaCha8Rng>,
) -> Result<Tensor, PredictError> {
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
    Ok(y.reshape((batch.batch, batch.steps, config.bands))?)
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
    layers: Vec<LayerWeights>,
    out_w: Tensor,
    out_b: Tensor,
}

#[derive(Debug, Clone)]
struct LayerWeights {
    w_ih: Tensor,
    b: Tensor,
    /// `[hidden][4 * hidden]`, row-major.
    w_hh: Vec<f32>,
}

/// The LSTM's state between chunks.
#[derive(Debug, Clone)]
pub struct State {
    hidden: Vec<Vec<f32>>,
    cell: Vec<Vec<f32>>,
}

/// `gates += hidden . w_hh` (`w_hh` row-major `[hidden][gates]`), row by row so the inner loop runs
/// along memory; with AVX2 and FMA where the processor has them.
fn add_recurrent(gates: &mut [f32], hidden: &[f32], w_hh: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the features the function is compiled for were just detected.
            unsafe { add_recurrent_avx2(gates, hidden, w_hh) };
            return;
        }
    }
    add_recurrent_plain(gates, hidden, w_hh);
}

fn add_recurrent_plain(gates: &mut [f32], hidden: &[f32], w_hh: &[f32]) {
    let width = gates.len();
    for (row, &hj) in w_hh.chunks_exact(width).zip(hidden) {
        for (g, w) in gates.iter_mut().zip(row) {
            *g += hj * w;
        }
    }
}

/// The same sum compiled for AVX2 with fused multiply-adds, 64 gates at a time held in registers
/// while every row adds into them.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn add_recurrent_avx2(gates: &mut [f32], hidden: &[f32], w_hh: &[f32]) {
    const TILE: usize = 64;
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

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

impl InferenceWeights {
    pub fn new(config: &ModelConfig, params: &Params) -> Result<Self, PredictError> {
        let layers = (0..config.layers)
            .map(|l| {
                Ok(LayerWeights {
                    w_ih: params.get(&format!("lstm{l}.w_ih"))?.detach(),
                    b: params.get(&format!("lstm{l}.b"))?.detach(),
                    w_hh: params.get(&format!("lstm{l}.w_hh"))?.flatten_all()?.to_vec1()?,
                })
            })
            .collect::<Result<Vec<_>, PredictError>>()?;
        Ok(Self {
            config: config.clone(),
            proj_w: params.get("proj.w")?.detach(),
            proj_b: params.get("proj.b")?.detach(),
            layers,
            out_w: params.get("out.w")?.detach(),
            out_b: params.get("out.b")?.detach(),
        })
    }

    /// The state before the first step.
    #[must_use]
    pub fn initial_state(&self) -> State {
        let h = self.config.hidden;
        State { hidden: vec![vec![0.0; h]; self.config.layers], cell: vec![vec![0.0; h]; self.config.layers] }
    }

    /// Runs a chunk: `frames` rows of features (`[n, input]`), `step_frame[i]` the row step `i`
    /// holds. Returns `step_frame.len() * bands` values and advances `state`.
    pub fn run(&self, frames: &[f32], step_frame: &[u32], state: &mut State) -> Result<Vec<f32>, PredictError> {
        let c = &self.config;
        let h = c.hidden;
        let n = frames.len() / c.input;
        let steps = step_frame.len();
        if steps == 0 {
            return Ok(Vec::new());
        }
        let x = Tensor::from_slice(frames, (n, c.input), &Device::Cpu)?;
        let projected = x.matmul(&self.proj_w)?.broadcast_add(&self.proj_b)?.relu()?;
        if self.layers.is_empty() {
            // No recurrence: each step reads its frame's projection.
            let index = Tensor::from_slice(step_frame, steps, &Device::Cpu)?;
            let x = projected.index_select(&index, 0)?;
            return Ok(x.matmul(&self.out_w)?.broadcast_add(&self.out_b)?.flatten_all()?.to_vec1()?);
        }
        let mut x = projected;
        for (l, layer) in self.layers.iter().enumerate() {
            let gates_in: Vec<f32> = x.matmul(&layer.w_ih)?.broadcast_add(&layer.b)?.flatten_all()?.to_vec1()?;
            // The first layer's input is the same for every step of a frame: its product is taken
            // once per frame and looked up per step.
            let row_of = |t: usize| if l == 0 { step_frame[t] as usize } else { t };
            let hidden = &mut state.hidden[l];
            let cell = &mut state.cell[l];
            let mut out = Vec::with_capacity(steps * h);
            let mut gates = vec![0.0f32; 4 * h];
            for t in 0..steps {
                let r = row_of(t);
                gates.copy_from_slice(&gates_in[r * 4 * h..(r + 1) * 4 * h]);
                add_recurrent(&mut gates, hidden, &layer.w_hh);
                for k in 0..h {
                    let i = sigmoid(gates[k]);
                    let f = sigmoid(gates[h + k]);
                    let g = gates[2 * h + k].tanh();
                    let o = sigmoid(gates[3 * h + k]);
                    cell[k] = f * cell[k] + i * g;
                    hidden[k] = o * cell[k].tanh();
                }
                out.extend_from_slice(hidden);
            }
            x = Tensor::from_vec(out, (steps, h), &Device::Cpu)?;
        }
        Ok(x.matmul(&self.out_w)?.broadcast_add(&self.out_b)?.flatten_all()?.to_vec1()?)
    }
}
