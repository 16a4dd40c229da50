//! The sound predictor: inference matches the training graph, chunking carries the state, and
//! training on generated data is deterministic, writes its bundle and metrics, and resumes after
//! an interruption exactly where it stopped.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::{Device, Tensor};
use foley_engine::data::synth;
use foley_engine::data::{GreatestHits, Split};
use foley_engine::predict::align::{step_count, step_frames};
use foley_engine::predict::centring::centre_video;
use foley_engine::predict::dataset::{feature_cache_path, file_sha256, load_example, motion_grid_cache_path};
use foley_engine::predict::inference::{InferenceWeights, contact_probabilities, extend_steps};
use foley_engine::predict::model::{Batch, Dropout, ModelConfig, Params, forward};
use foley_engine::predict::{
    ENCODER_DIR, LearningRateSchedule, MemberSummary, ModelBundle, PredictError, StreamingPredictor, TrainOptions,
    TrainProgress, encoder_spec_in, keep_encoder, network_dir, predict_features, train,
};
use foley_engine::vision::{DEFAULT_GRID_SIDE, EncoderManifest, EncoderSpec, OrtEncoder, RowLayout, grid_values};
use rand::SeedableRng as _;

mod common;

fn small_config() -> ModelConfig {
    ModelConfig {
        input: 12,
        projection: 8,
        hidden: 6,
        layers: 2,
        bands: 42,
        contact_head: true,
        motion: 0,
        lookahead: 0,
        centring_ms: 0,
    }
}

/// The training graph's output laid out as inference gives it: per step the bands, then the
/// contact logit if there is a head.
fn forward_rows(params: &Params, config: &ModelConfig, batch: &Batch) -> Vec<f32> {
    let out = forward(params, config, batch, Dropout::NONE, None).unwrap();
    let sound: Vec<f32> = out.sound.flatten_all().unwrap().to_vec1().unwrap();
    let Some(logits) = out.contact_logits else { return sound };
    let logits: Vec<f32> = logits.flatten_all().unwrap().to_vec1().unwrap();
    sound.chunks_exact(config.bands).zip(logits).flat_map(|(row, z)| row.iter().copied().chain([z])).collect()
}

/// `frames` rows of 12 values in a fixed pattern, unlike one another.
fn patterned_rows(frames: usize) -> Vec<f32> {
    (0..frames * 12).map(|i| ((i * 7919) % 97) as f32 / 97.0).collect()
}

/// 10 patterned rows, and the 30 steps of 3 a frame that hold them (30 fps at 90 Hz).
fn ten_frames_over_thirty_steps() -> (Vec<f32>, Vec<u32>) {
    (patterned_rows(10), (0..30).map(|s| s / 3).collect())
}

/// One sequence of 10 frames of 12 values over 30 steps, as a training batch.
fn one_batch(frames: &[f32], step_frame: &[u32]) -> Batch {
    Batch {
        frames: Tensor::from_slice(frames, (10, 12), &Device::Cpu).unwrap(),
        step_frame: Tensor::from_slice(step_frame, 30, &Device::Cpu).unwrap(),
        targets: Tensor::zeros((1, 30, 42), candle_core::DType::F32, &Device::Cpu).unwrap(),
        contacts: Tensor::zeros((1, 30), candle_core::DType::F32, &Device::Cpu).unwrap(),
        contact_weights: None,
        batch: 1,
        steps: 30,
    }
}

#[test]
fn inference_matches_the_training_graph_and_chunks_carry_the_state() {
    let config = small_config();
    let params = Params::init(&config, &mut rand_chacha::ChaCha8Rng::seed_from_u64(3)).unwrap();
    let (frames, step_frame) = ten_frames_over_thirty_steps();
    let batch = one_batch(&frames, &step_frame);
    let want = forward_rows(&params, &config, &batch);
    let weights = InferenceWeights::new(&config, &params).unwrap();
    let whole = weights.run(&frames, &step_frame, &mut weights.initial_state()).unwrap();
    assert_eq!(whole.len(), 30 * 43);
    let worst = whole.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    assert!(worst < 1e-5, "inference differs from the training graph by {worst}");
    // The split gives the bands and the contact logit; the predicted sound, the contact
    // probability (the logistic of the logit).
    let (sound, logits) = weights.split_outputs(whole.clone());
    let logits = logits.unwrap();
    assert_eq!((sound.len(), logits.len()), (30 * 42, 30));
    assert_eq!(&sound[42..84], &whole[43..85]);
    assert_eq!(logits[1], whole[43 + 42]);
    let predicted = weights.predicted_sound(whole.clone(), 90.0);
    assert_eq!(predicted.cochleagram.data, sound);
    let contact = predicted.contact.unwrap();
    let p = 1.0 / (1.0 + (-whole[43 + 42]).exp());
    assert!((contact[1] - p).abs() < 1e-6, "{} {p}", contact[1]);
    // Moving the head's bias shifts the logits.
    let moved = contact_probabilities(&logits, -2.0);
    let p = 1.0 / (1.0 + (2.0 - whole[43 + 42]).exp());
    assert!((moved[1] - p).abs() < 1e-6, "{} {p}", moved[1]);

    // Two chunks with the state carried give the same as one.
    let mut state = weights.initial_state();
    let mut chunked = weights.run(&frames[..5 * 12], &step_frame[..15], &mut state).unwrap();
    let rest: Vec<u32> = step_frame[15..].iter().map(|f| f - 5).collect();
    chunked.extend(weights.run(&frames[5 * 12..], &rest, &mut state).unwrap());
    let worst = whole.iter().zip(&chunked).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    assert!(worst < 1e-6, "chunked inference differs by {worst}");
}

#[test]
fn training_drops_inputs_only_with_a_share_and_a_mask_generator() {
    let config = small_config();
    let params = Params::init(&config, &mut rand_chacha::ChaCha8Rng::seed_from_u64(3)).unwrap();
    let (frames, step_frame) = ten_frames_over_thirty_steps();
    let batch = one_batch(&frames, &step_frame);
    let sound = |dropout: Dropout, seed: Option<u64>| -> Vec<f32> {
        let mut rng = seed.map(rand_chacha::ChaCha8Rng::seed_from_u64);
        let out = forward(&params, &config, &batch, dropout, rng.as_mut()).unwrap();
        out.sound.flatten_all().unwrap().to_vec1().unwrap()
    };
    let clean = sound(Dropout::NONE, None);
    let inputs = Dropout { input: 0.5, projected: 0.0 };
    // A share without a generator (validation) and a generator without a share drop nothing.
    assert_eq!(sound(inputs, None), clean);
    assert_eq!(sound(Dropout::NONE, Some(1)), clean);
    // With both, the output moves, the same way for the same seed.
    let dropped = sound(inputs, Some(1));
    assert_ne!(dropped, clean);
    assert_eq!(sound(inputs, Some(1)), dropped);
    assert_ne!(sound(inputs, Some(2)), dropped);
}

#[test]
fn rows_sharing_their_second_half_project_as_whole_rows_do() {
    // As in a video's features: every row ends with the first colour frame's features.
    let config = small_config();
    let params = Params::init(&config, &mut rand_chacha::ChaCha8Rng::seed_from_u64(5)).unwrap();
    let frames: Vec<f32> = (0..10 * 12)
        .map(|i| if i % 12 < 6 { ((i * 7919) % 97) as f32 / 97.0 } else { (i % 12) as f32 / 7.0 })
        .collect();
    let step_frame: Vec<u32> = (0..30).map(|s| s / 3).collect();
    let want = forward_rows(&params, &config, &one_batch(&frames, &step_frame));
    let weights = InferenceWeights::new(&config, &params).unwrap();
    let got = weights.run(&frames, &step_frame, &mut weights.initial_state()).unwrap();
    let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    assert!(worst < 1e-5, "inference differs from the training graph by {worst}");
}

#[test]
fn a_per_frame_model_without_lstm_runs_the_same_in_training_and_inference() {
    let config = ModelConfig {
        input: 12,
        projection: 8,
        hidden: 8,
        layers: 0,
        bands: 42,
        contact_head: false,
        motion: 0,
        lookahead: 0,
        centring_ms: 0,
    };
    let params = Params::init(&config, &mut rand_chacha::ChaCha8Rng::seed_from_u64(4)).unwrap();
    let (frames, step_frame) = ten_frames_over_thirty_steps();
    let batch = one_batch(&frames, &step_frame);
    let want = forward_rows(&params, &config, &batch);
    let weights = InferenceWeights::new(&config, &params).unwrap();
    let got = weights.run(&frames, &step_frame, &mut weights.initial_state()).unwrap();
    assert_eq!(got.len(), 30 * 42);
    let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    assert!(worst < 1e-5, "{worst}");
    // Steps of one frame predict the same; no memory carries between frames.
    assert_eq!(&got[..42], &got[42..84]);
}

#[test]
fn a_lookahead_model_gives_each_step_the_output_of_a_later_step_in_training_and_in_use() {
    let config = ModelConfig { lookahead: 3, ..small_config() };
    let params = Params::init(&config, &mut rand_chacha::ChaCha8Rng::seed_from_u64(6)).unwrap();
    // 9 frames at 30 fps: 27 steps, run on for 3 more holding the last frame.
    let frames = patterned_rows(9);
    let step_frame: Vec<u32> = (0..27).map(|s| s / 3).collect();
    let extended = extend_steps(&step_frame, 3);
    assert_eq!(&extended[26..], &[8, 8, 8, 8]);
    let batch = Batch {
        frames: Tensor::from_slice(&frames, (9, 12), &Device::Cpu).unwrap(),
        step_frame: Tensor::from_slice(&extended, 30, &Device::Cpu).unwrap(),
        targets: Tensor::zeros((1, 27, 42), candle_core::DType::F32, &Device::Cpu).unwrap(),
        contacts: Tensor::zeros((1, 27), candle_core::DType::F32, &Device::Cpu).unwrap(),
        contact_weights: None,
        batch: 1,
        steps: 30,
    };
    let want = forward_rows(&params, &config, &batch);
    let weights = InferenceWeights::new(&config, &params).unwrap();
    let got = weights.run_video(&frames, &step_frame).unwrap();
    assert_eq!((want.len(), got.len()), (27 * 43, 27 * 43));
    let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    assert!(worst < 1e-5, "inference differs from the training graph by {worst}");
    // Step 0's output is the one the network gives at step 3, having seen frame 1.
    let raw = weights.run(&frames, &extended, &mut weights.initial_state()).unwrap();
    assert_eq!(&got[..43], &raw[3 * 43..4 * 43]);
    assert_ne!(&got[..43], &raw[..43]);

    // Streamed in two pieces, as the features job delivers rows, a video predicts the same.
    let default = ModelBundle::load(&foley_engine::predict::default_model_dir()).unwrap();
    let mut manifest = default.manifest.clone();
    manifest.config = config.clone();
    let bundle = ModelBundle { dir: default.dir.clone(), manifest, networks: vec![params] };
    let times: Vec<f64> = (0..9).map(|i| f64::from(i) / 30.0).collect();
    let mut stream = StreamingPredictor::new(&bundle).unwrap();
    stream.push(&times[..4], &frames[..4 * 12]).unwrap();
    stream.push(&times[4..], &frames[4 * 12..]).unwrap();
    let streamed = stream.finish().unwrap().sound;
    let whole = weights.predicted_sound(got, 90.0);
    assert_eq!(streamed.cochleagram.steps(), 27);
    let worst =
        whole.cochleagram.data.iter().zip(&streamed.cochleagram.data).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    assert!(worst < 1e-5, "streamed prediction differs by {worst}");
    assert_eq!(streamed.contact.map(|c| c.len()), Some(27));
}

#[test]
fn a_centring_model_reads_each_video_centred_on_its_running_mean_streamed_or_whole() {
    let config = ModelConfig { centring_ms: 500, ..small_config() };
    let params = Params::init(&config, &mut rand_chacha::ChaCha8Rng::seed_from_u64(7)).unwrap();
    // 10 frames at 25 fps; each row's last 6 values are the look, the same in every row.
    let frames: Vec<f32> = (0..10 * 12)
        .map(|i| if i % 12 < 6 { 1.0 + ((i * 7919) % 97) as f32 / 97.0 } else { (i % 12) as f32 / 12.0 })
        .collect();
    let times: Vec<f64> = (0..10).map(|i| f64::from(i) / 25.0).collect();
    let step_frame = step_frames(&times, 90.0, 0, step_count(0.4, 90.0));
    let mut centred = frames.clone();
    centre_video(&config, &times, &mut centred);
    assert!(centred[..6].iter().all(|&v| v == 0.0), "the first frame is its own mean");
    assert_eq!(&centred[6..12], &frames[6..12], "the look is read as it is");
    let weights = InferenceWeights::new(&config, &params).unwrap();
    let want = weights.predicted_sound(weights.run_video(&centred, &step_frame).unwrap(), 90.0);
    let uncentred = weights.predicted_sound(weights.run_video(&frames, &step_frame).unwrap(), 90.0);
    assert_ne!(want.cochleagram.data, uncentred.cochleagram.data);

    let default = ModelBundle::load(&foley_engine::predict::default_model_dir()).unwrap();
    let mut manifest = default.manifest.clone();
    manifest.config = config.clone();
    let bundle = ModelBundle { dir: default.dir.clone(), manifest, networks: vec![params] };
    let mut stream = StreamingPredictor::new(&bundle).unwrap();
    stream.push(&times[..3], &frames[..3 * 12]).unwrap();
    stream.push(&times[3..], &frames[3 * 12..]).unwrap();
    let streamed = stream.finish().unwrap().sound;
    let worst =
        want.cochleagram.data.iter().zip(&streamed.cochleagram.data).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    assert!(worst < 1e-5, "streamed prediction differs from the centred whole video's by {worst}");
}

fn dataset(dir: &Path) {
    common::drawn_dataset(dir, 5, 3.0, 4, 0.8);
}

/// A small generated dataset, an empty feature cache and the default encoder, in a temporary
/// folder.
struct TrainingFixture {
    root: tempfile::TempDir,
    data: std::path::PathBuf,
    cache: std::path::PathBuf,
    spec: EncoderSpec,
    encoder: OrtEncoder,
}

fn training_fixture() -> TrainingFixture {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    dataset(&data);
    let cache = root.path().join("cache");
    let spec = EncoderSpec::default_encoder().unwrap();
    let encoder = OrtEncoder::new(spec.clone()).unwrap();
    TrainingFixture { root, data, cache, spec, encoder }
}

fn options(epochs: usize) -> TrainOptions {
    TrainOptions {
        epochs,
        seed: 9,
        batch: 3,
        window_steps: 90,
        learning_rate: 3e-3,
        projection: 16,
        hidden: 12,
        layers: 1,
        dropout: 0.1,
        input_dropout: 0.2,
        patience: 10,
        validation_share: 0.25,
        loss_eps: 0.01,
        contact_weight: 1.0,
        motion_grid: false,
        grid_side: DEFAULT_GRID_SIDE,
        lookahead: 0,
        centring_ms: 0,
        swing_weight: 4.0,
        end_windows: true,
        schedule: LearningRateSchedule::Constant,
        average_decay: 0.0,
        networks: 1,
    }
}

/// Every network's weights, by network and name.
fn weights_of(dir: &Path) -> Vec<(String, Vec<f32>)> {
    let bundle = ModelBundle::load(dir).unwrap();
    bundle
        .networks
        .iter()
        .enumerate()
        .flat_map(|(n, params)| {
            params
                .tensors()
                .into_iter()
                .map(move |(k, t)| (format!("{n}/{k}"), t.flatten_all().unwrap().to_vec1().unwrap()))
        })
        .collect()
}

/// Starts a run in `out` and cancels it at epoch 2's first batch, as Ctrl-C would.
fn interrupt_in_epoch_2(data: &Path, out: &Path, options: &TrainOptions, encoder: &mut OrtEncoder, cache: &Path) {
    let cancel = AtomicBool::new(false);
    let err = train(data, out, options, encoder, cache, &cancel, &mut |p| {
        if let TrainProgress::Fitting { epoch: 2, batch: 1, .. } = p {
            cancel.store(true, Ordering::Relaxed);
        }
    })
    .unwrap_err();
    assert!(matches!(err, PredictError::Cancelled), "{err}");
}

#[test]
fn training_is_deterministic_writes_its_bundle_and_resumes_where_it_stopped() {
    let TrainingFixture { root, data, cache, spec, mut encoder } = training_fixture();
    let never = AtomicBool::new(false);

    // An uninterrupted run of 3 epochs.
    let straight = root.path().join("straight");
    let report = train(&data, &straight, &options(3), &mut encoder, &cache, &never, &mut |_| {}).unwrap();
    assert_eq!(report.history.len(), 3);
    assert_eq!(report.train_videos + report.validation_videos, 4);
    let first = report.history[0].train_loss;
    let last = report.history[2].train_loss;
    assert!(last < first, "training loss did not fall: {first} -> {last}");
    let csv = std::fs::read_to_string(straight.join("metrics.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.starts_with("epoch,train_loss,val_loss"));
    let png = std::fs::read(straight.join("loss_curve.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    // Features were cached: one file per video for this encoder.
    let cached = std::fs::read_dir(cache.join("features")).unwrap().next().unwrap().unwrap().path();
    assert_eq!(
        std::fs::read_dir(&cached)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "npy"))
            .count(),
        4
    );

    // The bundle loads, fits its encoder, and predicts a cochleagram on the 90 Hz grid.
    let bundle = ModelBundle::load(&straight).unwrap();
    bundle.check_compatible(&spec.identity, &spec.manifest.input).unwrap();
    let video = data.join(format!("{}_denoised.mp4", bundle.manifest.training.validation_videos[0]));
    let features = foley_engine::vision::encode_video(&video, &mut encoder, &never, &mut |_| {}).unwrap();
    let predicted = predict_features(&bundle, &features).unwrap();
    // 90 frames at 29.97 fps last 3.003 s: 271 steps at 90 Hz.
    assert_eq!(features.times.len(), 90);
    assert_eq!(predicted.steps(), 271);
    assert_eq!(predicted.bands, 42);
    assert!(predicted.data.iter().all(|v| v.is_finite()));
    // With its contact head: a probability for every step.
    assert!(bundle.manifest.config.contact_head);
    let streamed =
        foley_engine::predict::predict_video_streaming(&video, &bundle, &mut encoder, &never, &mut |_| {}).unwrap();
    let contact = streamed.sound.contact.unwrap();
    assert_eq!(contact.len(), 271);
    assert!(contact.iter().all(|p| (0.0..=1.0).contains(p)));

    // A bundle trained on another encoder's features is refused, and says why.
    let mut other = spec.identity.clone();
    other.onnx_sha256 = "0".repeat(64);
    other.name = "another-cnn".to_owned();
    let err = bundle.check_compatible(&other, &spec.manifest.input).unwrap_err().to_string();
    assert!(err.contains("another-cnn") && err.contains("efficientnet-lite0"), "{err}");

    // Interrupted in the middle of epoch 2, then started again: it continues and ends where the
    // uninterrupted run did.
    let resumed = root.path().join("resumed");
    interrupt_in_epoch_2(&data, &resumed, &options(3), &mut encoder, &cache);
    let report = train(&data, &resumed, &options(3), &mut encoder, &cache, &never, &mut |_| {}).unwrap();
    assert_eq!(report.resumed_from_epoch, Some((1, 1)));
    assert_eq!(report.history.len(), 3);
    assert_eq!(weights_of(&straight), weights_of(&resumed), "the resumed run differs from the uninterrupted one");

    // Other options in the same folder are refused rather than mixed in.
    let mut changed = options(3);
    changed.hidden = 20;
    let err = train(&data, &resumed, &changed, &mut encoder, &cache, &never, &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("other options"), "{err}");
}

#[test]
fn an_averaged_run_on_a_cosine_schedule_resumes_where_it_stopped_and_saves_the_average() {
    let TrainingFixture { root, data, cache, mut encoder, .. } = training_fixture();
    let never = AtomicBool::new(false);
    let averaged = TrainOptions { schedule: LearningRateSchedule::Cosine, average_decay: 0.9, ..options(2) };

    let plain = root.path().join("plain");
    train(
        &data,
        &plain,
        &TrainOptions { average_decay: 0.0, ..averaged.clone() },
        &mut encoder,
        &cache,
        &never,
        &mut |_| {},
    )
    .unwrap();
    let straight = root.path().join("straight");
    train(&data, &straight, &averaged, &mut encoder, &cache, &never, &mut |_| {}).unwrap();
    // The same steps, so what differs is that the average is saved rather than the last weights.
    assert_ne!(weights_of(&plain), weights_of(&straight), "the average was not what was saved");

    let resumed = root.path().join("resumed");
    interrupt_in_epoch_2(&data, &resumed, &averaged, &mut encoder, &cache);
    let report = train(&data, &resumed, &averaged, &mut encoder, &cache, &never, &mut |_| {}).unwrap();
    assert_eq!(report.resumed_from_epoch, Some((1, 1)));
    assert_eq!(weights_of(&straight), weights_of(&resumed), "the resumed average differs from the uninterrupted one");
}

#[test]
fn a_motion_grid_model_reads_in_use_the_rows_it_was_trained_on() {
    // The default grid, and a finer one whose grids are cached apart from it.
    let mut fixture = training_fixture();
    for side in [DEFAULT_GRID_SIDE, 12] {
        grid_model_reads_in_use_the_rows_it_was_trained_on(&mut fixture, side);
    }
}

fn grid_model_reads_in_use_the_rows_it_was_trained_on(fixture: &mut TrainingFixture, side: usize) {
    let TrainingFixture { root, data, cache, spec, encoder } = fixture;
    let (cache, data) = (cache.as_path(), data.as_path());
    let never = AtomicBool::new(false);
    let out = root.path().join(format!("model-{side}"));
    let options = TrainOptions { motion_grid: true, grid_side: side, ..options(1) };
    train(data, &out, &options, &mut *encoder, cache, &never, &mut |_| {}).unwrap();
    let bundle = ModelBundle::load(&out).unwrap();
    let config = &bundle.manifest.config;
    let values = grid_values(side);
    assert_eq!(config.motion, values);
    assert_eq!(config.layout(), RowLayout::with_grid(side));
    assert_eq!(config.input, 2 * spec.identity.feature_size + values);
    let described = format!("{side}x{side} motion grid");
    assert!(bundle.manifest.feature_layout.contains(&described), "{}", bundle.manifest.feature_layout);
    bundle.check_compatible(&spec.identity, &spec.manifest.input).unwrap();

    // Training wrote the grids (with the features, from one decoding, on an empty cache).
    let count = |dir: std::path::PathBuf| {
        std::fs::read_dir(dir)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "npy"))
            .count()
    };
    let input = &spec.manifest.input;
    let grid_dir = motion_grid_cache_path(cache, input, side, "x").parent().unwrap().to_owned();
    assert_eq!(count(grid_dir), 4);
    assert_eq!(count(cache.join("features").join(&spec.identity.onnx_sha256[..16])), 4);

    // The rows training read (cached features with the cached grid put between) are the rows the
    // features job streams to the model in use.
    let entry = GreatestHits::open(data).unwrap().split(Split::Train).next().unwrap().clone();
    let example =
        load_example(&entry, &mut *encoder, config.layout(), cache, &bundle.manifest.cochleagram, &never).unwrap();

    // Where only one of the two caches is left, the other is computed again and the rows stay
    // the same.
    let key = file_sha256(&entry.video).unwrap();
    let grid_file = motion_grid_cache_path(cache, input, side, &key);
    let features_file = feature_cache_path(cache, &spec.identity.onnx_sha256, &key);
    for lost in [&grid_file, &features_file] {
        std::fs::remove_file(lost).unwrap();
        let again =
            load_example(&entry, &mut *encoder, config.layout(), cache, &bundle.manifest.cochleagram, &never).unwrap();
        assert!(lost.exists(), "{} was not written again", lost.display());
        let worst = again.features.iter().zip(&example.features).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert_eq!(again.features.len(), example.features.len());
        assert!(worst < 1e-5, "without {} the rows differ by {worst}", lost.display());
    }

    let mut streamed = Vec::new();
    foley_engine::vision::encode_video_streaming(
        &entry.video,
        &mut *encoder,
        config.layout(),
        &never,
        &mut |_| {},
        &mut |_, rows| {
            streamed.extend_from_slice(rows);
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(streamed.len(), example.features.len());
    assert_eq!(streamed.len(), example.times.len() * config.input);
    let worst = streamed.iter().zip(&example.features).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-5, "streamed rows differ from the training rows by {worst}");
    // The generated stick moves: some frame's grid is not empty, and the look is the colour frame's.
    let grids = example.features.chunks_exact(config.input).map(|row| &row[spec.identity.feature_size..][..values]);
    assert!(grids.clone().any(|g| g.iter().any(|&v| v > 0.0)));
    assert!(grids.flatten().all(|&v| (0.0..=1.0).contains(&v)));
    let streamed_look = &streamed[config.look_range()];
    let look = foley_engine::vision::first_frame_features(&entry.video, &mut *encoder).unwrap();
    assert!(streamed_look.iter().zip(&look).all(|(a, b)| (a - b).abs() < 1e-5));

    // The model predicts from a video, streaming.
    let prediction =
        foley_engine::predict::predict_video_streaming(&entry.video, &bundle, &mut *encoder, &never, &mut |_| {})
            .unwrap();
    // (The example's steps stop where its sound does, a step before the last frame ends.)
    let steps = prediction.sound.cochleagram.steps();
    assert!(steps >= example.steps() && steps <= example.steps() + 1, "{steps} steps for {}", example.steps());
    assert_eq!(prediction.sound.contact.map(|c| c.len()), Some(steps));
}

#[test]
fn streaming_prediction_equals_whole_video_prediction() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    common::drawn_dataset(&data, 1, 4.0, 5, 0.0);
    let video = data.join(format!("{}_denoised.mp4", synth::video_id(5, 0)));
    let bundle = ModelBundle::load(&foley_engine::predict::default_model_dir()).unwrap();
    let mut encoder = OrtEncoder::new(bundle.encoder_spec().unwrap()).unwrap();
    let cancel = AtomicBool::new(false);
    let layout = bundle.manifest.config.layout();
    let features = foley_engine::vision::encode_video_as(&video, &mut encoder, layout, &cancel, &mut |_| {}).unwrap();
    assert_eq!(features.rows.len(), features.times.len() * bundle.manifest.config.input);
    let whole = predict_features(&bundle, &features).unwrap();
    let streamed =
        foley_engine::predict::predict_video_streaming(&video, &bundle, &mut encoder, &cancel, &mut |_| {}).unwrap();
    assert_eq!(streamed.frames, features.times.len());
    assert_eq!(streamed.duration_s, foley_engine::predict::align::frames_end(&features.times));
    assert_eq!(streamed.sound.cochleagram.steps(), whole.steps());
    let worst =
        whole.data.iter().zip(&streamed.sound.cochleagram.data).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-4, "streamed and whole predictions differ by {worst}");
    assert_eq!(streamed.sound.contact.map(|c| c.len()), bundle.manifest.config.contact_head.then_some(whole.steps()));
}

#[test]
fn a_model_folder_carries_a_custom_encoder_and_not_the_default() {
    let default = EncoderSpec::default_encoder().unwrap();
    let model = tempfile::tempdir().unwrap();
    // The default encoder: nothing is copied, and the folder's encoder is the default.
    keep_encoder(model.path(), &default).unwrap();
    assert!(!model.path().join(ENCODER_DIR).exists());
    assert_eq!(encoder_spec_in(model.path()).unwrap().identity, default.identity);

    // Another encoder (here the default's ONNX under another name): copied into the folder.
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::copy(&default.onnx_path, elsewhere.path().join("custom.onnx")).unwrap();
    let manifest = EncoderManifest { name: "custom".into(), onnx: "custom.onnx".into(), ..default.manifest.clone() };
    std::fs::write(elsewhere.path().join("encoder.json"), serde_json::to_vec(&manifest).unwrap()).unwrap();
    let custom = EncoderSpec::load(&elsewhere.path().join("encoder.json")).unwrap();
    keep_encoder(model.path(), &custom).unwrap();
    let kept = encoder_spec_in(model.path()).unwrap();
    assert_eq!(kept.identity, custom.identity);
    assert!(kept.onnx_path.starts_with(model.path().join(ENCODER_DIR)), "{}", kept.onnx_path.display());
    // The model folder no longer needs the original.
    drop(elsewhere);
    assert_eq!(encoder_spec_in(model.path()).unwrap().identity.name, "custom");
    // Training again on the default encoder takes the copy away, and nothing else is left.
    keep_encoder(model.path(), &default).unwrap();
    assert!(std::fs::read_dir(model.path()).unwrap().next().is_none());
}

#[test]
fn an_ensemble_predicts_the_mean_of_its_networks_and_its_bundle_keeps_them_all() {
    let config = small_config();
    let networks: Vec<Params> =
        (3..5).map(|seed| Params::init(&config, &mut rand_chacha::ChaCha8Rng::seed_from_u64(seed)).unwrap()).collect();
    let frames: Vec<f32> = (0..9 * 12).map(|i| ((i * 7919) % 101) as f32 / 101.0).collect();
    let step_frame: Vec<u32> = (0..27).map(|i| i / 3).collect();
    let alone: Vec<Vec<f32>> = networks
        .iter()
        .map(|p| InferenceWeights::new(&config, p).unwrap().run_video(&frames, &step_frame).unwrap())
        .collect();
    let ensemble = InferenceWeights::ensemble(&config, &networks).unwrap();
    assert_eq!(ensemble.members(), 2);
    let mean = ensemble.run_video(&frames, &step_frame).unwrap();
    assert_eq!(mean.len(), 27 * 43);
    for (i, m) in mean.iter().enumerate() {
        assert!((m - (alone[0][i] + alone[1][i]) / 2.0).abs() < 1e-6, "step value {i}: {m}");
    }
    assert_ne!(alone[0], alone[1], "two seeds, two networks");

    // Saved, it is a version 2 bundle of both networks (half floats: outputs within 1e-2).
    let default = ModelBundle::load(&foley_engine::predict::default_model_dir()).unwrap();
    let mut manifest = default.manifest.clone();
    manifest.config = config.clone();
    manifest.members = (3..5).map(|seed| MemberSummary { seed, validation: manifest.validation.clone() }).collect();
    let dir = tempfile::tempdir().unwrap();
    ModelBundle::save_networks(dir.path(), &manifest, &networks).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("model.json")).unwrap()).unwrap();
    assert_eq!(json["version"], 2);
    let loaded = ModelBundle::load(dir.path()).unwrap();
    assert_eq!(loaded.networks.len(), 2);
    let reloaded = loaded.inference().unwrap().run_video(&frames, &step_frame).unwrap();
    let worst = reloaded.iter().zip(&mean).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    assert!(worst < 1e-2, "the saved ensemble differs by {worst}");
    assert!(worst > 0.0, "saved as half floats, the outputs move a little");

    // A single network is still a version 1 bundle, kept to the bit.
    let single = tempfile::tempdir().unwrap();
    let one = foley_engine::predict::BundleManifest { members: Vec::new(), ..manifest.clone() };
    ModelBundle::save(single.path(), &one, &networks[0]).unwrap();
    assert!(std::fs::read_to_string(single.path().join("model.json")).unwrap().contains("\"version\": 1"));
    let back = ModelBundle::load(single.path()).unwrap();
    assert_eq!(back.inference().unwrap().run_video(&frames, &step_frame).unwrap(), alone[0]);

    // A manifest that lists more networks than the weights hold names the one missing.
    let mut three = manifest.clone();
    three.members.push(MemberSummary { seed: 5, validation: manifest.validation.clone() });
    std::fs::write(dir.path().join("model.json"), serde_json::to_vec(&three).unwrap()).unwrap();
    let err = ModelBundle::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("network 3") && err.contains("model.safetensors"), "{err}");
    // Fewer networks than the weights hold: the stray ones are named, not ignored.
    let mut version_2_single = manifest.clone();
    version_2_single.members.clear();
    std::fs::write(dir.path().join("model.json"), serde_json::to_vec(&version_2_single).unwrap()).unwrap();
    let err = ModelBundle::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("member1.") && err.contains("belongs to no network"), "{err}");
}

#[test]
fn an_ensemble_trains_each_network_from_its_own_seed_resumes_and_predicts_their_mean() {
    let TrainingFixture { root, data, cache, mut encoder, .. } = training_fixture();
    let never = AtomicBool::new(false);
    let two = TrainOptions { networks: 2, ..options(2) };

    let single = root.path().join("single");
    train(&data, &single, &options(2), &mut encoder, &cache, &never, &mut |_| {}).unwrap();
    let straight = root.path().join("straight");
    let mut seeds = Vec::new();
    let report = train(&data, &straight, &two, &mut encoder, &cache, &never, &mut |p| {
        if let TrainProgress::Network { index, count: 2, seed } = p {
            seeds.push((*index, *seed));
        }
    })
    .unwrap();
    assert_eq!(seeds, [(1, 9), (2, 10)]);
    // The first network is the single run: same seed, same validation videos.
    assert_eq!(weights_of(&network_dir(&straight, 1)), weights_of(&single));
    assert_ne!(weights_of(&network_dir(&straight, 1)), weights_of(&network_dir(&straight, 2)));
    let bundle = ModelBundle::load(&straight).unwrap();
    assert_eq!(bundle.networks.len(), 2);
    assert_eq!(bundle.manifest.members.iter().map(|m| m.seed).collect::<Vec<_>>(), [9, 10]);
    let second = ModelBundle::load(&network_dir(&straight, 2)).unwrap();
    assert_eq!(
        second.manifest.training.validation_videos, bundle.manifest.training.validation_videos,
        "every network holds out the same videos"
    );
    assert_eq!(report.best, bundle.manifest.validation);
    let csv = std::fs::read_to_string(straight.join("metrics.csv")).unwrap();
    assert!(csv.starts_with("network,epoch,train_loss"), "{csv}");
    assert_eq!(csv.lines().filter(|l| l.starts_with("2,")).count(), 2, "{csv}");

    // The ensemble's cochleagram is the mean of its networks' (their contact biases moved).
    let video = data.join(format!("{}_denoised.mp4", bundle.manifest.training.validation_videos[0]));
    let features = foley_engine::vision::encode_video(&video, &mut encoder, &never, &mut |_| {}).unwrap();
    let mean = predict_features(&bundle, &features).unwrap();
    let alone: Vec<_> = (1..=2)
        .map(|k| predict_features(&ModelBundle::load(&network_dir(&straight, k)).unwrap(), &features).unwrap())
        .collect();
    let worst = (0..mean.data.len())
        .map(|i| (mean.data[i] - (alone[0].data[i] + alone[1].data[i]) / 2.0).abs())
        .fold(0.0, f32::max);
    assert!(worst < 1e-2, "the ensemble differs from its networks' mean by {worst}");

    // Interrupted in the second network's second epoch, then started again: the same ensemble.
    let resumed = root.path().join("resumed");
    let cancel = AtomicBool::new(false);
    let mut network = 0;
    let err = train(&data, &resumed, &two, &mut encoder, &cache, &cancel, &mut |p| match p {
        TrainProgress::Network { index, .. } => network = *index,
        TrainProgress::Fitting { epoch: 2, batch: 1, .. } if network == 2 => cancel.store(true, Ordering::Relaxed),
        _ => {}
    })
    .unwrap_err();
    assert!(matches!(err, PredictError::Cancelled), "{err}");
    assert!(!resumed.join("model.json").exists(), "no ensemble before its last network is trained");
    let report = train(&data, &resumed, &two, &mut encoder, &cache, &never, &mut |_| {}).unwrap();
    assert_eq!(report.resumed_from_epoch, Some((1, 1)));
    assert_eq!(weights_of(&straight), weights_of(&resumed), "the resumed ensemble differs from the uninterrupted one");

    // A single network's run and an ensemble's do not share a folder.
    let err = train(&data, &resumed, &options(2), &mut encoder, &cache, &never, &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("an ensemble") && err.contains("networks"), "{err}");
    let err = train(&data, &single, &two, &mut encoder, &cache, &never, &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("a single network") && err.contains("checkpoint"), "{err}");
}
