//! Inference with the trained network: the same arithmetic as the training graph, with the
//! batched products in candle and the recurrence as plain loops (`predict::kernels`), so a long
//! video goes through in chunks with the LSTM state carried across, its layers pipelined on
//! threads. A model may be an ensemble: several networks of one shape whose raw outputs are
//! averaged step by step.

use std::sync::mpsc;

use candle_core::{Device, Tensor};

use super::PredictError;
use super::kernels::{add_products, add_recurrent, sigmoid, update_state};
use super::model::{ModelConfig, Params};
use super::predicted::PredictedSound;
use crate::sound::Cochleagram;

/// Weights as plain arrays for inference: one network, or an ensemble of networks of the same
/// shape whose raw outputs (cochleagram and contact logit) are averaged step by step.
#[derive(Debug, Clone)]
pub struct InferenceWeights {
    pub config: ModelConfig,
    members: Vec<Network>,
}

/// One network's weights.
#[derive(Debug, Clone)]
struct Network {
    proj_w: Tensor,
    proj_b: Tensor,
    /// The rows of `proj_w` that multiply a features row's own values and its shared tail (the
    /// first colour frame's features, the same in every row of a video).
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

/// A chunk's frames after the state-free part of each network: see [`InferenceWeights::prepare`].
#[derive(Debug)]
pub struct PreparedFrames(Vec<Tensor>);

/// Steps a layer hands on to the next at a time.
const PIPELINE_BLOCK: usize = 90;

/// The LSTMs' state between chunks.
#[derive(Debug, Clone)]
pub struct State(Vec<NetworkState>);

/// One network's state: each layer's hidden and cell values.
#[derive(Debug, Clone)]
struct NetworkState {
    hidden: Vec<Vec<f32>>,
    cell: Vec<Vec<f32>>,
}

/// `step_frame` followed by `more` steps that hold its last frame (none if it is empty).
#[must_use]
pub fn extend_steps(step_frame: &[u32], more: usize) -> Vec<u32> {
    let mut out = step_frame.to_vec();
    if let Some(&last) = step_frame.last() {
        out.resize(step_frame.len() + more, last);
    }
    out
}

/// The step-by-step mean of raw outputs for the same steps (one run is returned as it is).
#[must_use]
pub fn mean_outputs(mut runs: Vec<Vec<f32>>) -> Vec<f32> {
    let count = runs.len();
    if count == 0 {
        return Vec::new();
    }
    let mut mean = runs.swap_remove(0);
    if count > 1 {
        for run in &runs {
            for (m, v) in mean.iter_mut().zip(run) {
                *m += v;
            }
        }
        let scale = 1.0 / count as f32;
        mean.iter_mut().for_each(|m| *m *= scale);
    }
    mean
}

/// The contact probabilities of a contact head's logits, as they would be with the head's bias
/// moved by `shift`.
#[must_use]
pub fn contact_probabilities(logits: &[f32], shift: f32) -> Vec<f32> {
    logits.iter().map(|&l| sigmoid(l + shift)).collect()
}

impl InferenceWeights {
    /// One network's weights.
    pub fn new(config: &ModelConfig, params: &Params) -> Result<Self, PredictError> {
        Self::ensemble(config, std::slice::from_ref(params))
    }

    /// An ensemble of networks of shape `config`, their outputs averaged (at least one).
    pub fn ensemble(config: &ModelConfig, members: &[Params]) -> Result<Self, PredictError> {
        if members.is_empty() {
            return Err(PredictError::Tensor(candle_core::Error::Msg("a model needs at least one network".to_owned())));
        }
        let members = members.iter().map(|params| Network::new(config, params)).collect::<Result<_, _>>()?;
        Ok(Self { config: config.clone(), members })
    }

    /// How many networks' outputs are averaged.
    #[must_use]
    pub fn members(&self) -> usize {
        self.members.len()
    }

    /// The state before the first step.
    #[must_use]
    pub fn initial_state(&self) -> State {
        let h = self.config.hidden;
        let layers = self.config.layers;
        State(
            self.members
                .iter()
                .map(|_| NetworkState { hidden: vec![vec![0.0; h]; layers], cell: vec![vec![0.0; h]; layers] })
                .collect(),
        )
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

    /// A whole video's outputs from the start: `frames` rows of features, `step_frame[i]` the row
    /// step `i` holds. The network runs on past the last step for its
    /// [`lookahead`](ModelConfig::lookahead), holding the last frame, and step `i`'s output is the
    /// one it gives that many steps later. Returns `step_frame.len() * outputs` values.
    pub fn run_video(&self, frames: &[f32], step_frame: &[u32]) -> Result<Vec<f32>, PredictError> {
        let extended = extend_steps(step_frame, self.config.lookahead);
        let raw = self.run(frames, &extended, &mut self.initial_state())?;
        Ok(self.drop_lookahead(raw, step_frame.len()))
    }

    /// The outputs of `steps` steps from raw outputs that start at step 0 and run at least
    /// [`lookahead`](ModelConfig::lookahead) steps past them: each step's from that many steps
    /// later.
    #[must_use]
    pub fn drop_lookahead(&self, mut raw: Vec<f32>, steps: usize) -> Vec<f32> {
        let width = self.config.outputs();
        raw.drain(..(self.config.lookahead * width).min(raw.len()));
        raw.truncate(steps * width);
        raw
    }

    /// The part of a chunk that does not depend on the state: per network and frame, the first
    /// layer's input product (or, without an LSTM, the projection). It can run while the previous
    /// chunk's recurrence does.
    pub fn prepare(&self, frames: &[f32]) -> Result<PreparedFrames, PredictError> {
        Ok(PreparedFrames(self.members.iter().map(|m| m.prepare(&self.config, frames)).collect::<Result<_, _>>()?))
    }

    /// Runs a chunk whose frames were [`prepare`](Self::prepare)d; as [`run`](Self::run).
    pub fn run_prepared(
        &self,
        prepared: &PreparedFrames,
        step_frame: &[u32],
        state: &mut State,
    ) -> Result<Vec<f32>, PredictError> {
        let runs = self
            .members
            .iter()
            .zip(&prepared.0)
            .zip(&mut state.0)
            .map(|((member, prepared), state)| member.run_prepared(&self.config, prepared, step_frame, state))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(mean_outputs(runs))
    }
}

impl Network {
    fn new(config: &ModelConfig, params: &Params) -> Result<Self, PredictError> {
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
            proj_w: params.get("proj.w")?.detach(),
            proj_b: params.get("proj.b")?.detach(),
            proj_w_halves: {
                let w = params.get("proj.w")?;
                let head = config.look_range().start;
                (head > 0 && head < config.input)
                    .then(|| -> Result<_, PredictError> {
                        Ok((w.narrow(0, 0, head)?.contiguous()?, w.narrow(0, head, config.input - head)?.contiguous()?))
                    })
                    .transpose()?
            },
            layers,
            out_w,
            out_b,
        })
    }

    /// The input projection of `n` rows of features, `[n, projection]`.
    fn project(&self, config: &ModelConfig, frames: &[f32], n: usize) -> Result<Tensor, PredictError> {
        let input = config.input;
        let head = config.look_range().start;
        // A video's rows end in the same values, its first colour frame's features: their
        // product is taken once, which halves the work.
        if let Some((head_w, tail_w)) = &self.proj_w_halves
            && n > 1
            && frames.chunks_exact(input).all(|row| row[head..] == frames[head..input])
        {
            let heads: Vec<f32> = frames.chunks_exact(input).flat_map(|row| &row[..head]).copied().collect();
            let heads = Tensor::from_vec(heads, (n, head), &Device::Cpu)?;
            let tail = Tensor::from_slice(&frames[head..input], (1, input - head), &Device::Cpu)?;
            let shared = tail.matmul(tail_w)?.broadcast_add(&self.proj_b)?;
            return Ok(heads.matmul(head_w)?.broadcast_add(&shared)?.relu()?);
        }
        let x = Tensor::from_slice(frames, (n, input), &Device::Cpu)?;
        Ok(x.matmul(&self.proj_w)?.broadcast_add(&self.proj_b)?.relu()?)
    }

    fn prepare(&self, config: &ModelConfig, frames: &[f32]) -> Result<Tensor, PredictError> {
        let n = frames.len() / config.input;
        let projected = self.project(config, frames, n)?;
        Ok(match self.layers.first() {
            // The first layer's input is the same for every step of a frame: its product is taken
            // once per frame and looked up per step.
            Some(first) => projected.matmul(&first.w_ih)?.broadcast_add(&first.b)?,
            None => projected,
        })
    }

    fn run_prepared(
        &self,
        config: &ModelConfig,
        prepared: &Tensor,
        step_frame: &[u32],
        state: &mut NetworkState,
    ) -> Result<Vec<f32>, PredictError> {
        let h = config.hidden;
        let steps = step_frame.len();
        if steps == 0 {
            return Ok(Vec::new());
        }
        let Some(first) = self.layers.first() else {
            // No recurrence: each step reads its frame's projection.
            let index = Tensor::from_slice(step_frame, steps, &Device::Cpu)?;
            let x = prepared.index_select(&index, 0)?;
            return Ok(x.matmul(&self.out_w)?.broadcast_add(&self.out_b)?.flatten_all()?.to_vec1()?);
        };
        let gates_in: Vec<f32> = prepared.flatten_all()?.to_vec1()?;
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
                                update_state(&mut gates, cell, hidden);
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
                    update_state(&mut gates, cell, hidden);
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
