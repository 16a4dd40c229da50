//! The LSTM's recurrence for training: one candle op that runs every step of a batch of windows,
//! with its own gradient (backpropagation through time). Written as candle's per-step operations,
//! the graph held some twenty nodes a step, and their allocations, zero-padded slice gradients and
//! thread hand-offs cost several times the arithmetic. Here each thread takes whole windows
//! (rows of the batch), so the result does not depend on how many threads there are.

use std::sync::Mutex;

use candle_core::{CpuStorage, CustomOp2, Layout, Shape, Tensor};

use super::kernels::{activate_and_update, add_products, tanh};

/// Every step's hidden state, `[batch, steps, hidden]`, of an LSTM layer started from zero state,
/// from `gates_in` `[batch, steps, 4 hidden]` (each step's input product plus bias, gates in the
/// order input, forget, cell, output) and the recurrent weights `w_hh` `[hidden, 4 hidden]`.
/// Differentiable in both.
pub(super) fn lstm_recurrence(gates_in: &Tensor, w_hh: &Tensor) -> candle_core::Result<Tensor> {
    gates_in.contiguous()?.apply_op2(&w_hh.contiguous()?, Recurrence::default())
}

#[derive(Debug, Default)]
struct Recurrence {
    /// What the forward pass keeps for the backward.
    saved: Mutex<Option<Saved>>,
}

/// Each step's gate activations (`[i, f, g, o]`, `[batch, steps, 4 hidden]`) and cell state
/// (`[batch, steps, hidden]`).
#[derive(Debug)]
struct Saved {
    gates: Vec<f32>,
    cells: Vec<f32>,
}

/// The sizes of one window: steps, hidden width.
#[derive(Debug, Clone, Copy)]
struct Dims {
    steps: usize,
    hidden: usize,
}

fn f32_slice<'a>(storage: &'a CpuStorage, layout: &Layout, what: &str) -> candle_core::Result<&'a [f32]> {
    let CpuStorage::F32(values) = storage else {
        candle_core::bail!("the LSTM recurrence takes f32 {what}");
    };
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("the LSTM recurrence takes contiguous {what}");
    };
    Ok(&values[start..end])
}

/// How many threads share `batch` windows: as many as candle uses, each with a window at least.
fn thread_count(batch: usize) -> usize {
    candle_core::utils::get_num_threads().clamp(1, batch.max(1))
}

/// The first window of each of `threads` shares of `batch` windows, and `batch` last.
fn shares(batch: usize, threads: usize) -> Vec<usize> {
    (0..=threads).map(|k| k * batch / threads).collect()
}

/// Cuts `values` (`per_row` values a window) at the share boundaries.
fn cut_mut<'a>(mut values: &'a mut [f32], bounds: &[usize], per_row: usize) -> Vec<&'a mut [f32]> {
    let mut parts = Vec::with_capacity(bounds.len() - 1);
    for pair in bounds.windows(2) {
        let (part, rest) = values.split_at_mut((pair[1] - pair[0]) * per_row);
        parts.push(part);
        values = rest;
    }
    parts
}

/// Runs `work(share)` for every share, the first on this thread and the others on named
/// threads of their own.
fn run_shares<T: Send>(name: &str, jobs: Vec<T>, work: impl Fn(T) + Sync) -> candle_core::Result<()> {
    let mut jobs = jobs.into_iter();
    let Some(first) = jobs.next() else {
        return Ok(());
    };
    std::thread::scope(|scope| {
        let work = &work;
        let handles = jobs
            .map(|job| std::thread::Builder::new().name(name.to_owned()).spawn_scoped(scope, move || work(job)))
            .collect::<Result<Vec<_>, _>>();
        work(first);
        let handles = handles.map_err(|e| candle_core::Error::Msg(format!("cannot start a {name} thread: {e}")))?;
        for handle in handles {
            handle.join().map_err(|_| candle_core::Error::Msg(format!("a {name} thread panicked")))?;
        }
        Ok(())
    })
}

impl CustomOp2 for Recurrence {
    fn name(&self) -> &'static str {
        "lstm-recurrence"
    }

    fn cpu_fwd(
        &self,
        gates_storage: &CpuStorage,
        gates_layout: &Layout,
        w_storage: &CpuStorage,
        w_layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (batch, steps, width) = gates_layout.shape().dims3()?;
        let hidden = width / 4;
        if width % 4 != 0 || w_layout.shape().dims2()? != (hidden, width) {
            candle_core::bail!(
                "the LSTM recurrence takes gates [batch, steps, 4 hidden] and weights [hidden, 4 hidden], not {:?} and {:?}",
                gates_layout.shape(),
                w_layout.shape()
            );
        }
        let gates_in = f32_slice(gates_storage, gates_layout, "gates")?;
        let w_hh = f32_slice(w_storage, w_layout, "weights")?;
        let dims = Dims { steps, hidden };
        let mut hs = vec![0.0; batch * steps * hidden];
        let mut gates = vec![0.0; batch * steps * width];
        let mut cells = vec![0.0; batch * steps * hidden];
        let bounds = shares(batch, thread_count(batch));
        let jobs: Vec<_> = cut_mut(&mut hs, &bounds, steps * hidden)
            .into_iter()
            .zip(cut_mut(&mut gates, &bounds, steps * width))
            .zip(cut_mut(&mut cells, &bounds, steps * hidden))
            .zip(bounds.windows(2))
            .map(|(((hs, gates), cells), pair)| {
                (&gates_in[pair[0] * steps * width..pair[1] * steps * width], hs, gates, cells)
            })
            .collect();
        run_shares("lstm-forward", jobs, |(gates_in, hs, gates, cells)| {
            forward_rows(gates_in, w_hh, dims, hs, gates, cells);
        })?;
        *self.saved.lock().map_err(|_| candle_core::Error::Msg("the LSTM's saved state is poisoned".into()))? =
            Some(Saved { gates, cells });
        Ok((CpuStorage::F32(hs), Shape::from((batch, steps, hidden))))
    }

    fn bwd(
        &self,
        gates_in: &Tensor,
        w_hh: &Tensor,
        res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let (batch, steps, width) = gates_in.dims3()?;
        let hidden = width / 4;
        let dims = Dims { steps, hidden };
        let Some(saved) =
            self.saved.lock().map_err(|_| candle_core::Error::Msg("the LSTM's saved state is poisoned".into()))?.take()
        else {
            candle_core::bail!("the LSTM recurrence's gradient was asked for twice, or before its forward pass");
        };
        if batch * steps == 0 {
            return Ok((Some(gates_in.zeros_like()?), Some(w_hh.zeros_like()?)));
        }
        let grad_hs = grad_res.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
        let w_hh_t = w_hh.t()?.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
        let mut d_gates = vec![0.0; batch * steps * width];
        let bounds = shares(batch, thread_count(batch));
        let row_range = |pair: &[usize], per_row: usize| pair[0] * steps * per_row..pair[1] * steps * per_row;
        let jobs: Vec<_> = cut_mut(&mut d_gates, &bounds, steps * width)
            .into_iter()
            .zip(bounds.windows(2))
            .map(|(d_gates, pair)| {
                let rows = Rows {
                    grad_hs: &grad_hs[row_range(pair, hidden)],
                    gates: &saved.gates[row_range(pair, width)],
                    cells: &saved.cells[row_range(pair, hidden)],
                };
                (rows, d_gates)
            })
            .collect();
        run_shares("lstm-backward", jobs, |(rows, d_gates)| backward_rows(&rows, &w_hh_t, dims, d_gates))?;
        let device = gates_in.device();
        let d_gates = Tensor::from_vec(d_gates, (batch, steps, width), device)?;
        // The recurrent weights' gradient sums h[t - 1] (outer) d_gates[t] over windows and steps:
        // one matrix product of the hidden states, each moved a step later, with the gradients.
        let previous = Tensor::zeros((batch, 1, hidden), res.dtype(), device)?;
        let previous = Tensor::cat(&[&previous, &res.narrow(1, 0, steps.saturating_sub(1))?], 1)?;
        let d_w = previous.reshape((batch * steps, hidden))?.t()?.matmul(&d_gates.reshape((batch * steps, width))?)?;
        Ok((Some(d_gates), Some(d_w)))
    }
}

/// One share's windows, as the backward pass reads them.
struct Rows<'a> {
    /// The gradient of each step's hidden state.
    grad_hs: &'a [f32],
    /// Each step's gate activations.
    gates: &'a [f32],
    /// Each step's cell state.
    cells: &'a [f32],
}

/// The forward pass over some windows: fills their hidden states, gate activations and cells.
fn forward_rows(gates_in: &[f32], w_hh: &[f32], dims: Dims, hs: &mut [f32], gates: &mut [f32], cells: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the features the function is compiled for were just detected.
            unsafe { forward_rows_avx2(gates_in, w_hh, dims, hs, gates, cells) };
            return;
        }
    }
    forward_rows_plain(gates_in, w_hh, dims, hs, gates, cells);
}

/// The same compiled for AVX2: the gates' `exp` runs eight lanes at once.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn forward_rows_avx2(gates_in: &[f32], w_hh: &[f32], dims: Dims, hs: &mut [f32], gates: &mut [f32], cells: &mut [f32]) {
    forward_rows_plain(gates_in, w_hh, dims, hs, gates, cells);
}

#[inline(always)]
fn forward_rows_plain(
    gates_in: &[f32],
    w_hh: &[f32],
    dims: Dims,
    hs: &mut [f32],
    gates: &mut [f32],
    cells: &mut [f32],
) {
    let Dims { steps, hidden: h } = dims;
    let width = 4 * h;
    if steps == 0 || h == 0 {
        return;
    }
    let rows = gates_in.len() / (steps * width);
    let mut step_gates = vec![0.0; rows * width];
    let mut hidden = vec![0.0; rows * h];
    let mut cell = vec![0.0; rows * h];
    for t in 0..steps {
        for r in 0..rows {
            step_gates[r * width..][..width].copy_from_slice(&gates_in[(r * steps + t) * width..][..width]);
        }
        if t > 0 {
            add_products(&mut step_gates, &hidden, w_hh, width);
        }
        for r in 0..rows {
            let at = r * steps + t;
            let act = &mut step_gates[r * width..][..width];
            let (c, out) = (&mut cell[r * h..][..h], &mut hidden[r * h..][..h]);
            activate_and_update(act, c, out);
            gates[at * width..][..width].copy_from_slice(act);
            cells[at * h..][..h].copy_from_slice(c);
            hs[at * h..][..h].copy_from_slice(out);
        }
    }
}

/// The backward pass over some windows: the gradient of each step's gate pre-activations, from
/// the gradient of each step's hidden state.
fn backward_rows(rows: &Rows<'_>, w_hh_t: &[f32], dims: Dims, d_gates: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the features the function is compiled for were just detected.
            unsafe { backward_rows_avx2(rows, w_hh_t, dims, d_gates) };
            return;
        }
    }
    backward_rows_plain(rows, w_hh_t, dims, d_gates);
}

/// The same compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn backward_rows_avx2(rows: &Rows<'_>, w_hh_t: &[f32], dims: Dims, d_gates: &mut [f32]) {
    backward_rows_plain(rows, w_hh_t, dims, d_gates);
}

#[inline(always)]
fn backward_rows_plain(rows: &Rows<'_>, w_hh_t: &[f32], dims: Dims, d_gates: &mut [f32]) {
    let Dims { steps, hidden: h } = dims;
    let width = 4 * h;
    if steps == 0 || h == 0 {
        return;
    }
    let count = rows.cells.len() / (steps * h);
    // What the step after sends back: the gradient of this step's hidden state through the
    // next step's gates, and of its cell through the next step's forget gate.
    let mut d_hidden = vec![0.0; count * h];
    let mut d_cell = vec![0.0; count * h];
    let mut step_d = vec![0.0; count * width];
    for t in (0..steps).rev() {
        for r in 0..count {
            let at = r * steps + t;
            let act = &rows.gates[at * width..][..width];
            let c = &rows.cells[at * h..][..h];
            let grad = &rows.grad_hs[at * h..][..h];
            let d = &mut step_d[r * width..][..width];
            let d_h = &d_hidden[r * h..][..h];
            let d_c = &mut d_cell[r * h..][..h];
            for k in 0..h {
                let (i, f, g, o) = (act[k], act[h + k], act[2 * h + k], act[3 * h + k]);
                let dh = grad[k] + d_h[k];
                let tc = tanh(c[k]);
                let dc = dh * o * (1.0 - tc * tc) + d_c[k];
                let c_prev = if t > 0 { rows.cells[(at - 1) * h + k] } else { 0.0 };
                d[k] = dc * g * i * (1.0 - i);
                d[h + k] = dc * c_prev * f * (1.0 - f);
                d[2 * h + k] = dc * i * (1.0 - g * g);
                d[3 * h + k] = dh * tc * o * (1.0 - o);
                d_c[k] = dc * f;
            }
            d_gates[at * width..][..width].copy_from_slice(d);
        }
        d_hidden.fill(0.0);
        if t > 0 {
            add_products(&mut d_hidden, &step_d, w_hh_t, h);
        }
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device, Var};
    use rand::{RngExt as _, SeedableRng as _};

    use super::*;

    /// The recurrence as candle's own operations, step by step, with candle's autograd.
    fn reference(gates_in: &Tensor, w_hh: &Tensor) -> Tensor {
        let (batch, steps, width) = gates_in.dims3().unwrap();
        let h = width / 4;
        let mut hidden = Tensor::zeros((batch, h), DType::F32, &Device::Cpu).unwrap();
        let mut cell = hidden.clone();
        let mut outputs = Vec::new();
        for t in 0..steps {
            let gates = (gates_in.narrow(1, t, 1).unwrap().squeeze(1).unwrap() + hidden.matmul(w_hh).unwrap()).unwrap();
            let i = candle_nn::ops::sigmoid(&gates.narrow(1, 0, h).unwrap()).unwrap();
            let f = candle_nn::ops::sigmoid(&gates.narrow(1, h, h).unwrap()).unwrap();
            let g = gates.narrow(1, 2 * h, h).unwrap().tanh().unwrap();
            let o = candle_nn::ops::sigmoid(&gates.narrow(1, 3 * h, h).unwrap()).unwrap();
            cell = ((f * &cell).unwrap() + (i * g).unwrap()).unwrap();
            hidden = (o * cell.tanh().unwrap()).unwrap();
            outputs.push(hidden.clone());
        }
        Tensor::stack(&outputs, 1).unwrap()
    }

    fn random(rng: &mut rand_chacha::ChaCha8Rng, dims: &[usize], scale: f32) -> Var {
        let n = dims.iter().product();
        let values: Vec<f32> = (0..n).map(|_| rng.random_range(-scale..scale)).collect();
        Var::from_vec(values, dims, &Device::Cpu).unwrap()
    }

    fn values(t: &Tensor) -> Vec<f32> {
        t.flatten_all().unwrap().to_vec1().unwrap()
    }

    fn worst_difference(a: &[f32], b: &[f32]) -> f32 {
        assert_eq!(a.len(), b.len());
        a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
    }

    /// Forward values and both gradients against the reference, for a loss that weighs every
    /// hidden value differently (so a gradient sent to the wrong step or window would show).
    fn check_against_reference(batch: usize, steps: usize, hidden: usize, seed: u64) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let gates_in = random(&mut rng, &[batch, steps, 4 * hidden], 2.0);
        let w_hh = random(&mut rng, &[hidden, 4 * hidden], 1.0 / (hidden as f32).sqrt() * 2.0);
        let weights = random(&mut rng, &[batch, steps, hidden], 1.0);
        let ours = lstm_recurrence(gates_in.as_tensor(), w_hh.as_tensor()).unwrap();
        let theirs = reference(gates_in.as_tensor(), w_hh.as_tensor());
        let forward = worst_difference(&values(&ours), &values(&theirs));
        assert!(forward < 2e-6, "hidden states differ by {forward}");
        let loss = |out: &Tensor| (out * weights.as_tensor()).unwrap().sqr().unwrap().sum_all().unwrap();
        let ours = loss(&ours).backward().unwrap();
        let theirs = loss(&theirs).backward().unwrap();
        for (name, var) in [("gates", &gates_in), ("weights", &w_hh)] {
            let a = values(ours.get(var.as_tensor()).unwrap());
            let b = values(theirs.get(var.as_tensor()).unwrap());
            let scale = b.iter().map(|v| v.abs()).fold(0.0, f32::max);
            assert!(scale > 1e-3, "the {name}' gradient is all but zero");
            let worst = worst_difference(&a, &b);
            assert!(worst < 1e-4 * scale.max(1.0), "the {name}' gradients differ by {worst} (largest {scale})");
        }
    }

    #[test]
    fn matches_candle_s_own_operations_forward_and_backward() {
        // Odd sizes (no register tile fits), one window (one thread), and the model's width.
        check_against_reference(3, 7, 5, 1);
        check_against_reference(1, 12, 8, 2);
        check_against_reference(5, 20, 128, 3);
    }

    #[test]
    fn the_result_does_not_depend_on_how_the_windows_are_shared_out() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let (batch, steps, h) = (5, 11, 16);
        let gates_in = random(&mut rng, &[batch, steps, 4 * h], 2.0);
        let w_hh = random(&mut rng, &[h, 4 * h], 0.5);
        let g: Vec<f32> = values(gates_in.as_tensor());
        let w: Vec<f32> = values(w_hh.as_tensor());
        let dims = Dims { steps, hidden: h };
        let run = |bounds: &[usize]| {
            let mut hs = vec![0.0; batch * steps * h];
            let mut gates = vec![0.0; batch * steps * 4 * h];
            let mut cells = vec![0.0; batch * steps * h];
            for pair in bounds.windows(2) {
                let (a, b) = (pair[0] * steps, pair[1] * steps);
                forward_rows(
                    &g[a * 4 * h..b * 4 * h],
                    &w,
                    dims,
                    &mut hs[a * h..b * h],
                    &mut gates[a * 4 * h..b * 4 * h],
                    &mut cells[a * h..b * h],
                );
            }
            hs
        };
        assert_eq!(run(&[0, 5]), run(&[0, 2, 5]));
        assert_eq!(run(&[0, 5]), run(&[0, 1, 2, 3, 4, 5]));
        assert_eq!(shares(5, 2), vec![0, 2, 5]);
        assert_eq!(shares(16, 3), vec![0, 5, 10, 16]);
    }
}
