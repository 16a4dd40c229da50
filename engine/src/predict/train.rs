//! Training the sound predictor on a dataset in the Greatest Hits layout.
//!
//! Windows of consecutive steps are cut at random places from the training videos (deterministic
//! for the seed and epoch), batched, and fitted with Adam on the robust loss. After every epoch
//! the whole held-out validation videos are predicted and scored; the best weights so far are the
//! bundle in the output folder, and training stops early when validation stops improving. The
//! best epoch is the one whose hits rank best on the validation videos (hit AP, what a user hears
//! as hits found and hits invented), the loss breaking ties: the loss, mostly the cochleagram's
//! regression, can rise while hit detection still improves.
//!
//! A checkpoint (weights, Adam's moments, the position in the epoch, the history) is written
//! atomically every half minute and at each epoch's end, so a run that is killed continues from
//! it when started again with the same options.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use candle_core::{Device, Tensor};
use rand::seq::SliceRandom as _;
use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::PredictError;
use super::average::WeightAverage;
use super::bundle::{BundleManifest, ModelBundle, TrainingSummary, ValidationMetrics};
use super::checkpoint::{
    Adam, CheckpointState, check_same_encoder, checkpoint_dir, load_checkpoint, read_checkpoint_state, save_checkpoint,
};
use super::dataset::{DataSummary, Example, load_example};
use super::inference::{InferenceWeights, extend_steps};
use super::model::{Batch, Dropout, ModelConfig, Params, contact_loss, forward, robust_loss};
use crate::data::{GreatestHits, Split};
use crate::sound::CochleagramParams;
use crate::vision::FrameEncoder;
use crate::vision::{DEFAULT_GRID_SIDE, RowLayout};

/// Everything that decides a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    pub epochs: usize,
    pub seed: u64,
    /// Windows per batch.
    pub batch: usize,
    /// Steps per window (90 per second).
    pub window_steps: usize,
    pub learning_rate: f64,
    pub projection: usize,
    pub hidden: usize,
    pub layers: usize,
    /// Share of projected features zeroed while training.
    pub dropout: f32,
    /// Share of each input row's values zeroed while training ([`Dropout::input`]).
    #[serde(default)]
    pub input_dropout: f32,
    /// Epochs without a better validation hit AP before stopping.
    pub patience: usize,
    /// Share of the training videos held out for validation.
    pub validation_share: f64,
    /// The `eps` of the robust loss `log(eps + ||s_pred - s_true||^2)`.
    pub loss_eps: f64,
    /// Weight of the contact head's cross-entropy beside the robust loss; 0 trains no head.
    /// (Runs checkpointed before the head existed had none.) At 1 the head learned slowly: its
    /// gradients are small beside the robust loss's, which grow as the error shrinks.
    #[serde(default)]
    pub contact_weight: f64,
    /// Whether the model also reads each frame's motion grid (`vision::motion_grid`).
    #[serde(default)]
    pub motion_grid: bool,
    /// Cells across and down of that grid. (Runs checkpointed before it could be chosen read
    /// the default's.)
    #[serde(default = "default_grid_side")]
    pub grid_side: usize,
    /// Steps the network sees past a step before it predicts it
    /// ([`ModelConfig::lookahead`]); a model without LSTM layers, which has no memory to carry
    /// it, reads none. (Runs checkpointed before the lookahead existed had none.)
    #[serde(default)]
    pub lookahead: usize,
    /// The time constant of the running mean the space-time features are centred on
    /// ([`ModelConfig::centring_ms`]), ms; 0 centres none.
    #[serde(default)]
    pub centring_ms: u32,
    /// How much more the contact head's loss counts where an air swing stops short of the
    /// surface ([`Example::swing_nearness`]): 0 counts every step alike. (Runs checkpointed
    /// before it existed had 0.)
    #[serde(default)]
    pub swing_weight: f64,
    /// Whether each video's first and last windows are trained on in every epoch, beside the
    /// random ones: a whole video is predicted from its first frame to its last held past its end,
    /// and random windows rarely reach either. (Runs checkpointed before it existed had not.)
    #[serde(default)]
    pub end_windows: bool,
    /// How the learning rate moves over the run's epochs. (Runs checkpointed before it existed
    /// kept it constant.)
    #[serde(default)]
    pub schedule: LearningRateSchedule,
    /// The share of the moving average of the weights kept at each step; 0 keeps none,
    /// and the model is the weights as the last step left them. Where it is kept, the average is
    /// what is validated and saved. (Runs checkpointed before it existed kept none.)
    #[serde(default)]
    pub average_decay: f64,
    /// Networks trained, from seeds `seed`, `seed + 1`, ..., each alone on the same videos; with
    /// more than one the model is their ensemble, its outputs their mean. (Runs checkpointed
    /// before it existed trained one.)
    #[serde(default = "one_network")]
    pub networks: usize,
}

const fn one_network() -> usize {
    1
}

/// How the learning rate moves over a training run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LearningRateSchedule {
    /// The learning rate throughout.
    #[default]
    Constant,
    /// Down half a cosine, from the learning rate at the first batch to
    /// [`Self::COSINE_FLOOR`] of it at the last batch of the run's epochs: large steps while the
    /// network finds its way, small ones at the end.
    Cosine,
}

impl LearningRateSchedule {
    /// The share of the learning rate the cosine schedule ends at.
    pub const COSINE_FLOOR: f64 = 0.05;

    /// The rate for batch `step` (from 0) of a run of `steps` batches whose schedule starts at
    /// `rate`; a step past the run (more epochs asked for on continuing) keeps the last rate.
    #[must_use]
    pub fn rate(self, rate: f64, step: usize, steps: usize) -> f64 {
        match self {
            Self::Constant => rate,
            Self::Cosine => {
                let floor = rate * Self::COSINE_FLOOR;
                let progress = (step as f64 / steps.saturating_sub(1).max(1) as f64).min(1.0);
                floor + (rate - floor) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
            }
        }
    }
}

const fn default_grid_side() -> usize {
    DEFAULT_GRID_SIDE
}

impl TrainOptions {
    /// What each features row holds for the model.
    #[must_use]
    pub fn layout(&self) -> RowLayout {
        if self.motion_grid { RowLayout::with_grid(self.grid_side) } else { RowLayout::default() }
    }

    /// What the training steps drop.
    #[must_use]
    pub fn dropouts(&self) -> Dropout {
        Dropout { input: self.input_dropout, projected: self.dropout }
    }
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            epochs: 30,
            seed: 1,
            batch: 16,
            window_steps: 180,
            learning_rate: 1e-3,
            projection: 256,
            hidden: 128,
            layers: 2,
            dropout: 0.2,
            input_dropout: 0.0,
            patience: 6,
            validation_share: 0.1,
            loss_eps: 0.01,
            contact_weight: 10.0,
            motion_grid: false,
            grid_side: DEFAULT_GRID_SIDE,
            // 100 ms: at 24 fps, two frames after a contact, where the stick has rebounded.
            lookahead: 9,
            centring_ms: 0,
            swing_weight: 4.0,
            end_windows: true,
            schedule: LearningRateSchedule::Constant,
            average_decay: 0.0,
            networks: 1,
        }
    }
}

/// Where training is.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainProgress {
    /// Computing (or reading cached) features and cochleagrams.
    Preparing { done: usize, total: usize },
    /// Fitting: batch `batch` of `batches` in epoch `epoch` (from 1).
    Fitting { epoch: usize, epochs: usize, batch: usize, batches: usize, loss: f64 },
    /// An epoch finished.
    Epoch(EpochRow),
    /// Training of network `index` (from 1) of an ensemble of `count` starts, from `seed`.
    Network { index: usize, count: usize, seed: u64 },
    /// The ensemble's networks are scored together on the validation videos.
    Combining,
}

/// One line of `metrics.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRow {
    pub epoch: usize,
    pub train_loss: f64,
    pub val_loss: f64,
    pub val_mse_per_step: f64,
    pub val_band_correlation: f64,
    pub val_hit_f1: f64,
    #[serde(default)]
    pub val_hit_accuracy: f64,
    #[serde(default)]
    pub val_hit_ap: f64,
    pub val_hit_median_error_ms: Option<f64>,
    pub seconds: f64,
}

/// What a finished run reports.
#[derive(Debug, Clone)]
pub struct TrainReport {
    pub history: Vec<EpochRow>,
    pub best: ValidationMetrics,
    pub resumed_from_epoch: Option<(usize, usize)>,
    pub parameters: usize,
    pub train_videos: usize,
    pub validation_videos: usize,
}

fn model_config(options: &TrainOptions, input: usize, bands: usize) -> ModelConfig {
    // With no LSTM layer the output reads the per-frame projection directly.
    let hidden = if options.layers == 0 { options.projection } else { options.hidden };
    ModelConfig {
        input,
        projection: options.projection,
        hidden,
        layers: options.layers,
        bands,
        contact_head: options.contact_weight > 0.0,
        motion: options.layout().extra(),
        lookahead: if options.layers == 0 { 0 } else { options.lookahead },
        centring_ms: options.centring_ms,
    }
}

/// The validation videos: a fixed share of the training list, chosen by the seed.
/// Whether an epoch's validation `metrics` beat the best so far (its hit AP, then its loss).
fn is_better(metrics: &ValidationMetrics, best_ap: Option<f64>, best_loss: f64) -> bool {
    let ap = finite_or_zero(metrics.hit_ap);
    match best_ap {
        None => true,
        Some(best) => ap > best || (ap == best && metrics.loss < best_loss),
    }
}

/// An AP that is not a number (no contacts to rank) counts as none.
fn finite_or_zero(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
}

fn split_validation(ids: &[String], share: f64, seed: u64) -> Vec<String> {
    let mut ids = ids.to_vec();
    ids.shuffle(&mut ChaCha8Rng::seed_from_u64(seed ^ 0x005e_ed0f_0a1d));
    let n =
        ((ids.len() as f64 * share).round() as usize).clamp(usize::from(ids.len() > 1), ids.len().saturating_sub(1));
    let mut held: Vec<String> = ids.into_iter().take(n).collect();
    held.sort();
    held
}

/// Windows of one epoch: (example, first step), in training order. A video gives one window per
/// `window` steps it holds; with `ends`, its first and last are at its start and its end (two
/// windows, then, from any video longer than one).
fn epoch_windows(examples: &[Example], window: usize, seed: u64, epoch: usize, ends: bool) -> Vec<(usize, usize)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(0x9e37_79b9).wrapping_add(epoch as u64));
    let mut windows = Vec::new();
    for (i, e) in examples.iter().enumerate() {
        if e.steps() < window {
            continue;
        }
        let count = (e.steps() / window).max(1);
        // A video longer than one window but shorter than two still gives both of its ends.
        let count = if ends && e.steps() > window { count.max(2) } else { count };
        for k in 0..count {
            let start = match (ends, k) {
                (true, 0) => 0,
                (true, k) if k == count - 1 => e.steps() - window,
                _ => rng.random_range(0..=e.steps() - window),
            };
            windows.push((i, start));
        }
    }
    windows.shuffle(&mut rng);
    windows
}

/// A batch of windows of `steps` predicted steps each. The network runs `lookahead` steps past
/// each window (past a video's end, holding its last frame), as it does past a whole video.
fn make_batch(
    examples: &[Example],
    windows: &[(usize, usize)],
    steps: usize,
    lookahead: usize,
    width: usize,
    bands: usize,
    swing_weight: f64,
) -> Result<Batch, PredictError> {
    let run = steps + lookahead;
    let mut frames = Vec::new();
    let mut step_frame = Vec::with_capacity(windows.len() * run);
    let mut targets = Vec::with_capacity(windows.len() * steps * bands);
    let mut contacts = Vec::with_capacity(windows.len() * steps);
    let mut weights = (swing_weight > 0.0).then(|| Vec::with_capacity(windows.len() * steps));
    let mut rows = 0u32;
    for &(i, start) in windows {
        let e = &examples[i];
        let end = (start + run).min(e.steps());
        let map = extend_steps(&e.step_frame[start..end], start + run - end);
        let (first, last) = (map[0] as usize, map[run - 1] as usize);
        frames.extend_from_slice(&e.features[first * width..(last + 1) * width]);
        step_frame.extend(map.iter().map(|&f| rows + f - first as u32));
        rows += (last - first + 1) as u32;
        targets.extend_from_slice(&e.target[start * bands..(start + steps) * bands]);
        contacts.extend_from_slice(&e.contact_target[start..start + steps]);
        if let Some(weights) = &mut weights {
            weights.extend(e.swing_nearness[start..start + steps].iter().map(|&n| 1.0 + swing_weight as f32 * n));
        }
    }
    Ok(Batch {
        frames: Tensor::from_vec(frames, (rows as usize, width), &Device::Cpu)?,
        step_frame: Tensor::from_vec(step_frame, windows.len() * run, &Device::Cpu)?,
        targets: Tensor::from_vec(targets, (windows.len(), steps, bands), &Device::Cpu)?,
        contacts: Tensor::from_vec(contacts, (windows.len(), steps), &Device::Cpu)?,
        contact_weights: weights.map(|w| Tensor::from_vec(w, (windows.len(), steps), &Device::Cpu)).transpose()?,
        batch: windows.len(),
        steps: run,
    })
}

/// One step of Adam on `batch`; returns the batch's loss before the step.
fn fit_batch(
    params: &Params,
    adam: &mut Adam,
    config: &ModelConfig,
    batch: &Batch,
    options: &TrainOptions,
    mask_rng: &mut ChaCha8Rng,
) -> Result<f64, PredictError> {
    let pred = forward(params, config, batch, options.dropouts(), Some(mask_rng))?;
    let mut loss = robust_loss(&pred.sound, &batch.targets, options.loss_eps)?;
    if let Some(logits) = &pred.contact_logits {
        loss = (loss
            + (contact_loss(logits, &batch.contacts, batch.contact_weights.as_ref())? * options.contact_weight)?)?;
    }
    let grads = loss.backward()?;
    adam.apply(params, &grads)?;
    Ok(f64::from(loss.to_scalar::<f32>()?))
}

/// Seconds each of `steps` training steps takes (forward, backward and Adam on one batch of
/// `options.batch` windows, cut and batched as training does), for a model of `options` reading
/// `input` values a frame, on a 30 fps video of random features and targets: what an epoch costs
/// per batch.
pub fn time_training_steps(options: &TrainOptions, input: usize, steps: usize) -> Result<Vec<f64>, PredictError> {
    let bands = CochleagramParams::default().bands();
    let config = model_config(options, input, bands);
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    // Exactly `options.batch` windows long, so one epoch's windows are one batch.
    let video_steps = options.batch * options.window_steps;
    let times: Vec<f64> = (0..video_steps.div_ceil(3)).map(|i| i as f64 / 30.0).collect();
    let video = Example {
        id: "benchmark".to_owned(),
        split: None,
        features: (0..times.len() * input).map(|_| rng.random::<f32>()).collect(),
        step_frame: super::align::step_frames(&times, 90.0, 0, video_steps),
        times,
        target: (0..video_steps * bands).map(|_| rng.random::<f32>()).collect(),
        contact_target: (0..video_steps).map(|_| f32::from(u8::from(rng.random::<f32>() > 0.95))).collect(),
        swing_nearness: (0..video_steps).map(|_| f32::from(u8::from(rng.random::<f32>() > 0.95))).collect(),
        contacts: Vec::new(),
    };
    let examples = [video];
    let windows = epoch_windows(&examples, options.window_steps, options.seed, 1, options.end_windows);
    let batch =
        make_batch(&examples, &windows, options.window_steps, config.lookahead, input, bands, options.swing_weight)?;
    let params = Params::init(&config, &mut rng)?;
    let mut adam = Adam::new(&params, options.learning_rate)?;
    let mut seconds = Vec::with_capacity(steps);
    for _ in 0..steps {
        let start = Instant::now();
        fit_batch(&params, &mut adam, &config, &batch, options, &mut rng)?;
        seconds.push(start.elapsed().as_secs_f64());
    }
    Ok(seconds)
}

/// The columns of `metrics.csv`, one row an epoch.
pub(super) const METRICS_COLUMNS: [&str; 10] = [
    "epoch",
    "train_loss",
    "val_loss",
    "val_mse_per_step",
    "val_band_correlation",
    "val_hit_f1",
    "val_hit_accuracy",
    "val_hit_ap",
    "val_hit_median_error_ms",
    "seconds",
];

/// An epoch's values in [`METRICS_COLUMNS`].
pub(super) fn metrics_record(r: &EpochRow) -> [String; 10] {
    [
        r.epoch.to_string(),
        format!("{:.6}", r.train_loss),
        format!("{:.6}", r.val_loss),
        format!("{:.6}", r.val_mse_per_step),
        format!("{:.4}", r.val_band_correlation),
        format!("{:.4}", r.val_hit_f1),
        format!("{:.4}", r.val_hit_accuracy),
        format!("{:.4}", r.val_hit_ap),
        r.val_hit_median_error_ms.map_or_else(String::new, |e| format!("{e:.2}")),
        format!("{:.1}", r.seconds),
    ]
}

/// A run's losses and kept epoch, as the loss curve draws them.
pub(super) fn loss_run(history: &[EpochRow]) -> super::plot::LossRun {
    super::plot::LossRun {
        train: history.iter().map(|r| r.train_loss).collect(),
        validation: history.iter().map(|r| r.val_loss).collect(),
        kept: best_epoch(history),
    }
}

fn write_metrics_csv(out: &Path, history: &[EpochRow]) -> Result<(), PredictError> {
    crate::media::write_atomically(&out.join("metrics.csv"), |file| {
        let mut w = csv::Writer::from_writer(std::io::BufWriter::new(file));
        w.write_record(METRICS_COLUMNS)?;
        for r in history {
            w.write_record(metrics_record(r))?;
        }
        w.flush()
    })?;
    super::plot::loss_curves(&out.join("loss_curve.png"), &[loss_run(history)])
}

/// The epoch the bundle keeps, by the rule training follows ([`is_better`]).
fn best_epoch(history: &[EpochRow]) -> Option<usize> {
    let mut best: Option<(usize, f64, f64)> = None;
    for r in history {
        let metrics = ValidationMetrics { hit_ap: r.val_hit_ap, loss: r.val_loss, ..ValidationMetrics::default() };
        if is_better(&metrics, best.map(|b| b.1), best.map_or(f64::INFINITY, |b| b.2)) {
            best = Some((r.epoch, finite_or_zero(r.val_hit_ap), r.val_loss));
        }
    }
    best.map(|b| b.0)
}

/// Trains on the `train` split of the dataset at `data`, writing the bundle, `metrics.csv`,
/// `loss_curve.png` and the checkpoint into `out`; for an ensemble
/// ([`TrainOptions::networks`]), each network's run into `out/networks/{k}` and their ensemble
/// into `out`. Features are cached under `cache`.
pub fn train(
    data: &Path,
    out: &Path,
    options: &TrainOptions,
    encoder: &mut dyn FrameEncoder,
    cache: &Path,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(&TrainProgress),
) -> Result<TrainReport, PredictError> {
    if options.networks == 0 {
        return Err(PredictError::Data {
            path: out.to_owned(),
            reason: "training needs at least one network".to_owned(),
        });
    }
    let run_dirs: Vec<PathBuf> = if options.networks == 1 {
        vec![out.to_owned()]
    } else {
        (1..=options.networks).map(|k| super::ensemble::network_dir(out, k)).collect()
    };
    // A folder holds one kind of run: a rerun continues it, and the other kind is refused.
    let other_kind = if options.networks == 1 { out.join(super::ensemble::NETWORKS_DIR) } else { checkpoint_dir(out) };
    if other_kind.exists() {
        return Err(PredictError::Data {
            path: other_kind,
            reason: format!(
                "this folder holds a training run of {}; use another folder, or delete it to start over",
                if options.networks == 1 { "an ensemble" } else { "a single network" }
            ),
        });
    }
    for dir in &run_dirs {
        check_same_encoder(dir, &encoder.spec().identity)?;
    }
    let dataset = GreatestHits::open(data)?;
    let entries: Vec<_> = dataset.split(Split::Train).cloned().collect();
    if entries.len() < 2 {
        return Err(PredictError::Data {
            path: data.to_owned(),
            reason: format!(
                "the train split lists {} videos; training needs at least 2 (one is held out)",
                entries.len()
            ),
        });
    }
    let ids: Vec<String> = entries.iter().map(|e| e.id.clone()).collect();
    let validation_ids = split_validation(&ids, options.validation_share, options.seed);
    let coch = CochleagramParams::default();
    let mut train_examples = Vec::new();
    let mut val_examples = Vec::new();
    let mut summary = DataSummary::default();
    let layout = options.layout();
    for (i, entry) in entries.iter().enumerate() {
        if cancel.load(Ordering::Relaxed) {
            return Err(PredictError::Cancelled);
        }
        progress(&TrainProgress::Preparing { done: i, total: entries.len() });
        let example = load_example(entry, encoder, layout, cache, &coch, cancel)?;
        if validation_ids.contains(&entry.id) {
            summary.add("validation", &example.contacts);
            val_examples.push(example);
        } else {
            summary.add("train", &example.contacts);
            train_examples.push(example);
        }
    }
    progress(&TrainProgress::Preparing { done: entries.len(), total: entries.len() });
    let width = train_examples[0].features.len() / train_examples[0].times.len().max(1);
    let bands = coch.bands();
    let config = model_config(options, width, bands);
    for e in train_examples.iter_mut().chain(val_examples.iter_mut()) {
        super::centring::centre_video(&config, &e.times, &mut e.features);
    }
    if train_examples.iter().all(|e| e.steps() < options.window_steps) {
        return Err(PredictError::Data {
            path: data.to_owned(),
            reason: format!(
                "no training video is {} steps ({:.1} s) long",
                options.window_steps,
                options.window_steps as f64 / 90.0
            ),
        });
    }
    let prepared = Prepared { data, train: train_examples, validation: val_examples, validation_ids, summary, config };
    if options.networks == 1 {
        let run = fit_network(out, options, &prepared, encoder.spec(), cancel, progress)?;
        return Ok(prepared.report(run));
    }
    std::fs::create_dir_all(out).map_err(|source| PredictError::Io { path: out.to_owned(), source })?;
    super::bundle::keep_encoder(out, encoder.spec())?;
    let mut runs = Vec::with_capacity(options.networks);
    for (k, dir) in run_dirs.iter().enumerate() {
        let member = TrainOptions { seed: options.seed + k as u64, networks: 1, ..options.clone() };
        progress(&TrainProgress::Network { index: k + 1, count: options.networks, seed: member.seed });
        runs.push(fit_network(dir, &member, &prepared, encoder.spec(), cancel, progress)?);
    }
    progress(&TrainProgress::Combining);
    let best = super::ensemble::combine(out, &run_dirs, &prepared.validation, options)?;
    super::ensemble::write_metrics(out, &runs.iter().map(|r| r.history.as_slice()).collect::<Vec<_>>())?;
    // Networks before the one interrupted had finished, those after it had not started.
    let resumed = runs.iter().rev().find_map(|r| r.resumed);
    let mut report = prepared.report(runs.swap_remove(0));
    report.best = best;
    report.parameters *= options.networks;
    report.resumed_from_epoch = resumed;
    Ok(report)
}

/// The videos and network shape every network of a run trains on.
struct Prepared<'a> {
    data: &'a Path,
    train: Vec<Example>,
    validation: Vec<Example>,
    validation_ids: Vec<String>,
    summary: DataSummary,
    config: ModelConfig,
}

impl Prepared<'_> {
    fn report(&self, run: NetworkRun) -> TrainReport {
        TrainReport {
            history: run.history,
            best: run.best,
            resumed_from_epoch: run.resumed,
            parameters: run.parameters,
            train_videos: self.train.len(),
            validation_videos: self.validation.len(),
        }
    }
}

/// One network's finished run.
struct NetworkRun {
    history: Vec<EpochRow>,
    best: ValidationMetrics,
    resumed: Option<(usize, usize)>,
    parameters: usize,
}

/// Trains one network from `options.seed` into `out` (its bundle, `metrics.csv`,
/// `loss_curve.png` and checkpoint), continuing the run checkpointed there if any.
fn fit_network(
    out: &Path,
    options: &TrainOptions,
    prepared: &Prepared<'_>,
    encoder: &crate::vision::EncoderSpec,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(&TrainProgress),
) -> Result<NetworkRun, PredictError> {
    let Prepared { data, train: train_examples, validation: val_examples, validation_ids, summary, config } = prepared;
    let (data, config) = (*data, config.clone());
    let (width, bands, layout) = (config.input, config.bands, options.layout());
    let coch = CochleagramParams::default();

    std::fs::create_dir_all(out).map_err(|source| PredictError::Io { path: out.to_owned(), source })?;
    // The model folder carries a custom encoder, so synthesis can find the features' encoder.
    super::bundle::keep_encoder(out, encoder)?;
    let (mut state, params, mut adam, mut average, resumed) = match read_checkpoint_state(out)? {
        Some(state) => {
            let same = TrainOptions { epochs: options.epochs, ..state.options.clone() } == *options;
            if !same {
                return Err(PredictError::Data {
                    path: checkpoint_dir(out),
                    reason: "this folder holds a training run with other options; use another folder, or delete it to start over".to_owned(),
                });
            }
            let (params, adam, average) =
                load_checkpoint(out, &state, &config, options.learning_rate, options.average_decay)?;
            let at = (state.epoch, state.batch);
            (state, params, adam, average, Some(at))
        }
        None => {
            let params = Params::init(&config, &mut ChaCha8Rng::seed_from_u64(options.seed))?;
            let adam = Adam::new(&params, options.learning_rate)?;
            let average = (options.average_decay > 0.0)
                .then(|| WeightAverage::new(&params, options.average_decay))
                .transpose()?;
            let state = CheckpointState {
                options: options.clone(),
                epoch: 0,
                batch: 0,
                epoch_loss_sum: 0.0,
                adam_step: 0,
                weights_file: String::new(),
                history: Vec::new(),
                best_val_loss: f64::INFINITY,
                best_val_ap: None,
                epochs_since_best: 0,
                stopped_early: false,
                average_updates: 0,
            };
            (state, params, adam, average, None)
        }
    };
    state.options.epochs = options.epochs;

    let manifest_for = |validation: ValidationMetrics, epochs: usize| BundleManifest {
        format: "foley-model".to_owned(),
        version: super::bundle::BUNDLE_VERSION,
        config: config.clone(),
        encoder: encoder.identity.clone(),
        encoder_input: encoder.manifest.input.clone(),
        feature_layout: layout.description(),
        cochleagram: coch.clone(),
        training: TrainingSummary {
            data: data.display().to_string(),
            seed: options.seed,
            epochs,
            summary: summary.clone(),
            validation_videos: validation_ids.clone(),
        },
        validation,
        members: Vec::new(),
    };

    let mut last_save = Instant::now();
    while state.epoch < options.epochs && !state.stopped_early {
        let epoch = state.epoch + 1;
        let epoch_start = Instant::now();
        let windows = epoch_windows(train_examples, options.window_steps, options.seed, epoch, options.end_windows);
        let batches: Vec<&[(usize, usize)]> = windows.chunks(options.batch).collect();
        for (b, chunk) in batches.iter().enumerate().skip(state.batch) {
            if cancel.load(Ordering::Relaxed) {
                save_checkpoint(out, &mut state, &params, &adam, average.as_ref())?;
                return Err(PredictError::Cancelled);
            }
            let batch = make_batch(
                train_examples,
                chunk,
                options.window_steps,
                config.lookahead,
                width,
                bands,
                options.swing_weight,
            )?;
            let mut mask_rng = ChaCha8Rng::seed_from_u64(options.seed ^ ((epoch as u64) << 32) ^ b as u64);
            // Every epoch has as many batches, so the position in the run is known on continuing.
            adam.lr = options.schedule.rate(
                options.learning_rate,
                (epoch - 1) * batches.len() + b,
                options.epochs * batches.len(),
            );
            let value = fit_batch(&params, &mut adam, &config, &batch, options, &mut mask_rng)?;
            if let Some(average) = &mut average {
                average.update(&params)?;
            }
            state.epoch_loss_sum += value;
            state.batch = b + 1;
            progress(&TrainProgress::Fitting {
                epoch,
                epochs: options.epochs,
                batch: b + 1,
                batches: batches.len(),
                loss: value,
            });
            if last_save.elapsed().as_secs() >= 30 {
                save_checkpoint(out, &mut state, &params, &adam, average.as_ref())?;
                last_save = Instant::now();
            }
        }
        let averaged = average.as_ref().map(WeightAverage::params).transpose()?;
        let validated = averaged.as_ref().unwrap_or(&params);
        let weights = InferenceWeights::new(&config, validated)?;
        let scored = super::evaluate::score(&weights, val_examples, options.loss_eps, options.contact_weight, epoch)?;
        // The contact head's bias moves so that probability 0.5 is the threshold chosen on the
        // validation videos (`threshold_logit`); the loss that picks the best epoch is the unmoved one.
        let (params_out, metrics) = match scored.chosen_logit {
            Some(logit) => {
                (validated.with_contact_bias_moved(-logit)?, scored.with_contact_bias_moved(val_examples, -logit))
            }
            None => (validated.clone(), scored.metrics),
        };
        let row = EpochRow {
            epoch,
            train_loss: state.epoch_loss_sum / batches.len().max(1) as f64,
            val_loss: metrics.loss,
            val_mse_per_step: metrics.mse_per_step,
            val_band_correlation: metrics.band_correlation,
            val_hit_f1: metrics.hit_f1,
            val_hit_accuracy: metrics.hit_accuracy,
            val_hit_ap: metrics.hit_ap,
            val_hit_median_error_ms: metrics.hit_median_error_ms,
            seconds: epoch_start.elapsed().as_secs_f64(),
        };
        state.history.push(row.clone());
        if is_better(&metrics, state.best_val_ap, state.best_val_loss) {
            state.best_val_loss = metrics.loss;
            state.best_val_ap = Some(finite_or_zero(metrics.hit_ap));
            state.epochs_since_best = 0;
            ModelBundle::save(out, &manifest_for(metrics, epoch), &params_out)?;
        } else {
            state.epochs_since_best += 1;
            state.stopped_early = state.epochs_since_best >= options.patience;
        }
        state.epoch = epoch;
        state.batch = 0;
        state.epoch_loss_sum = 0.0;
        write_metrics_csv(out, &state.history)?;
        save_checkpoint(out, &mut state, &params, &adam, average.as_ref())?;
        last_save = Instant::now();
        progress(&TrainProgress::Epoch(row));
    }
    let best = ModelBundle::load(out)?.manifest.validation;
    Ok(NetworkRun { history: state.history, best, resumed, parameters: params.count() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(hit_ap: f64, loss: f64) -> ValidationMetrics {
        ValidationMetrics { hit_ap, loss, ..ValidationMetrics::default() }
    }

    #[test]
    fn the_cosine_schedule_falls_from_the_rate_to_its_floor_and_stays() {
        let cosine = LearningRateSchedule::Cosine;
        assert_eq!(LearningRateSchedule::Constant.rate(1e-3, 70, 100), 1e-3);
        assert!((cosine.rate(2e-3, 0, 101) - 2e-3).abs() < 1e-15);
        let floor = 2e-3 * LearningRateSchedule::COSINE_FLOOR;
        assert!((cosine.rate(2e-3, 50, 101) - (2e-3 + floor) / 2.0).abs() < 1e-15, "halfway is the mean");
        assert!((cosine.rate(2e-3, 100, 101) - floor).abs() < 1e-15);
        assert!((cosine.rate(2e-3, 500, 101) - floor).abs() < 1e-15, "past the run it stays at the floor");
        let rates: Vec<f64> = (0..101).map(|s| cosine.rate(2e-3, s, 101)).collect();
        assert!(rates.windows(2).all(|w| w[1] < w[0]), "it only falls");
        assert!(cosine.rate(1e-3, 0, 1).is_finite(), "a run of one batch");
    }

    #[test]
    fn the_best_epoch_ranks_hits_best_and_the_loss_breaks_ties() {
        assert!(is_better(&metrics(0.1, 5.0), None, f64::INFINITY), "the first epoch is the best so far");
        assert!(is_better(&metrics(0.6, -2.0), Some(0.5), -3.0), "a better AP wins over a worse loss");
        assert!(!is_better(&metrics(0.4, -9.0), Some(0.5), -3.0), "a better loss does not win over a worse AP");
        assert!(is_better(&metrics(0.5, -3.5), Some(0.5), -3.0));
        assert!(!is_better(&metrics(0.5, -2.5), Some(0.5), -3.0));
        assert!(!is_better(&metrics(f64::NAN, -9.0), Some(0.1), -3.0), "no AP is no better");
    }

    fn video(id: &str, steps: usize, swings: &[f64]) -> Example {
        let times: Vec<f64> = (0..steps.div_ceil(3)).map(|f| f as f64 / 30.0).collect();
        Example {
            id: id.to_owned(),
            split: None,
            features: vec![0.5; times.len() * 2],
            step_frame: super::super::align::step_frames(&times, 90.0, 0, steps),
            times,
            target: vec![0.0; steps * 3],
            contact_target: vec![0.0; steps],
            swing_nearness: super::super::dataset::swing_nearness(swings, steps, 90.0),
            contacts: Vec::new(),
        }
    }

    #[test]
    fn every_epoch_trains_on_each_video_s_start_and_end_when_asked() {
        let examples = [video("a", 900, &[]), video("b", 400, &[]), video("c", 100, &[]), video("d", 300, &[])];
        for epoch in 1..4 {
            let random = epoch_windows(&examples, 180, 7, epoch, false);
            let ends = epoch_windows(&examples, 180, 7, epoch, true);
            // One window per 180 steps, none from a video shorter than a window.
            for windows in [&random, &ends] {
                assert_eq!(windows.iter().filter(|w| w.0 == 0).count(), 5);
                assert_eq!(windows.iter().filter(|w| w.0 == 1).count(), 2);
                assert!(windows.iter().all(|w| w.0 != 2));
            }
            let starts = |video: usize| -> Vec<usize> {
                let mut s: Vec<usize> = ends.iter().filter(|w| w.0 == video).map(|w| w.1).collect();
                s.sort_unstable();
                s
            };
            assert_eq!((starts(0)[0], starts(0)[4]), (0, 720));
            assert_eq!(starts(1), [0, 220]);
            // Longer than one window, shorter than two: one random window, or both ends.
            assert_eq!(random.iter().filter(|w| w.0 == 3).count(), 1);
            assert_eq!(starts(3), [0, 120]);
            // The random windows alone rarely start a video or end it.
            assert!(random.iter().filter(|w| w.1 == 0 || w.1 == examples[w.0].steps() - 180).count() <= 1);
        }
    }

    #[test]
    fn the_swing_weight_raises_the_contact_loss_only_around_air_swings() {
        // A swing stops at 1 s (step 90).
        let examples = [video("a", 270, &[1.0])];
        let batch = make_batch(&examples, &[(0, 0)], 180, 9, 2, 3, 4.0).unwrap();
        let weights: Vec<f32> = batch.contact_weights.unwrap().flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(weights.len(), 180);
        assert_eq!(weights[90], 5.0);
        assert!(weights[87] > 1.0 && weights[87] < 5.0 && weights[93] == weights[87]);
        assert!(weights[..80].iter().chain(&weights[101..]).all(|&w| w == 1.0));
        // Weight 0 leaves every step alike, as before the option existed.
        assert!(make_batch(&examples, &[(0, 0)], 180, 9, 2, 3, 0.0).unwrap().contact_weights.is_none());
    }

    #[test]
    fn an_lstm_looks_ahead_and_a_per_frame_layer_does_not() {
        let options = TrainOptions::default();
        assert_eq!(model_config(&options, 12, 42).lookahead, 9);
        let per_frame = TrainOptions { layers: 0, ..TrainOptions::default() };
        assert_eq!(model_config(&per_frame, 12, 42).lookahead, 0);
    }

    #[test]
    fn the_loss_curve_marks_the_epoch_the_rule_keeps() {
        let row = |epoch, val_hit_ap, val_loss| EpochRow {
            epoch,
            train_loss: 0.0,
            val_loss,
            val_mse_per_step: 0.0,
            val_band_correlation: 0.0,
            val_hit_f1: 0.0,
            val_hit_accuracy: 0.0,
            val_hit_ap,
            val_hit_median_error_ms: None,
            seconds: 1.0,
        };
        assert_eq!(best_epoch(&[]), None);
        let history = [row(1, 0.2, -1.0), row(2, 0.5, -3.0), row(3, 0.6, -2.0), row(4, 0.6, -2.5), row(5, 0.4, -4.0)];
        assert_eq!(best_epoch(&history), Some(4));
    }
}
