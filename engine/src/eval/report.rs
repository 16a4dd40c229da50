//! `foley eval`: the model's sound tracks for a dataset's test split, scored against the real
//! sound and labels, beside baselines run on the same videos, written as `report.md`,
//! `metrics.csv`, `scores.json` and PNG figures.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use plotters::prelude::*;
use rand::RngExt as _;
use rand::SeedableRng as _;
use serde::Serialize;

use super::track_scores::{MethodScores, TrackScorer};
use crate::colour::heat;
use crate::data::{Contact, DataError, GreatestHits, Split};
use crate::figures::{Canvas, FONT_FAMILY, INK, PALETTE, chart_png, rgb};
use crate::media::AudioTrack;
use crate::predict::align::frames_end;
use crate::predict::dataset::load_example;
use crate::predict::{ModelBundle, PredictError, PredictedSound};
use crate::retrieval::{ClipDatabase, RetrievalError, build_from_dataset, dataset_looks};
use crate::sound::{Cochleagram, cochleagram_of};
use crate::synthesis::{
    Look, Method, PlacedHit, SynthOptions, SynthesisError, Variation, render_retrieval, synthesize_prediction,
    track_len,
};
use crate::timeline::OUTPUT_SAMPLE_RATE;
use crate::vision::FrameEncoder;

/// What can go wrong evaluating.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Predict(#[from] PredictError),
    #[error(transparent)]
    Retrieval(#[from] RetrievalError),
    #[error(transparent)]
    Synthesis(#[from] SynthesisError),
    #[error(transparent)]
    Sound(#[from] crate::sound::SoundError),
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Vision(#[from] crate::vision::VisionError),
    #[error(transparent)]
    Media(#[from] crate::media::MediaError),
    #[error(transparent)]
    Figure(#[from] crate::figures::FigureError),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: {reason}", path.display())]
    Unusable { path: PathBuf, reason: String },
    #[error("cancelled")]
    Cancelled,
}

/// What to evaluate.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalOptions {
    /// The dataset (Greatest Hits layout): clips come from its train split, videos from its test split.
    pub data: PathBuf,
    /// The report folder.
    pub out: PathBuf,
    /// Where CNN features are cached.
    pub cache: PathBuf,
    /// Seed of the random-clip baseline.
    pub seed: u64,
    /// How retrieval varies its clips.
    pub variation: Variation,
    /// Test videos drawn in the cochleagram figure.
    pub figures: usize,
    /// The command line, written into the report.
    pub command: String,
    /// The machine, written into the report.
    pub machine: String,
}

/// How far the evaluation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalProgress {
    Clips { done: usize, total: usize },
    Looks { done: usize, total: usize },
    Videos { done: usize, total: usize },
}

/// The figures of every method.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    pub methods: Vec<MethodScores>,
    /// The full model's figures per frame rate of the test videos (`method` names the rate).
    pub by_rate: Vec<MethodScores>,
    /// The full model on the test videos without any labelled contact.
    pub silent: SilentScores,
    /// Mean squared distance per step between the model's predicted cochleagram and the real one.
    pub predicted_distance: f64,
    pub test_videos: usize,
    pub train_clips: usize,
}

/// What a method placed on videos where nothing is struck.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SilentScores {
    pub videos: usize,
    pub minutes: f64,
    pub hits: usize,
    /// `None` without such videos.
    pub hits_per_minute: Option<f64>,
}

/// A video's frame rate, rounded to hundredths, from its frames' times (the median interval).
fn frame_rate(times: &[f64]) -> String {
    let mut gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).filter(|g| *g > 0.0).collect();
    gaps.sort_by(f64::total_cmp);
    gaps.get(gaps.len() / 2).map_or_else(|| "unknown".to_owned(), |g| format!("{:.2}", 1.0 / g))
}

pub const FULL_MODEL: &str = "foley (LSTM + retrieval)";
const SOUND_ONLY: &str = "foley, sound-only retrieval";
const SHIPPED_CLIPS: &str = "foley, the model's own clips";
const PARAMETRIC: &str = "foley, parametric";
const PER_FRAME: &str = "(c) per-frame layer instead of the LSTM";
const RANDOM_CLIP: &str = "(a) random clip at true times";
const ALIKE_VIDEO: &str = "(b) most alike video, regular times";

struct Figure {
    id: String,
    real: Cochleagram,
    predicted: Cochleagram,
    made: Cochleagram,
    contacts: Vec<Contact>,
    hits: Vec<PlacedHit>,
}

/// Runs every method on the test split of `options.data` and writes the report.
pub fn evaluate_synthesis(
    bundle: &ModelBundle,
    model_clips: Option<&ClipDatabase>,
    per_frame: Option<&ModelBundle>,
    encoder: &mut dyn FrameEncoder,
    options: &EvalOptions,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(EvalProgress),
) -> Result<EvalReport, EvalError> {
    bundle.check_compatible(&encoder.spec().identity, &encoder.spec().manifest.input)?;
    if let Some(b) = per_frame {
        b.check_compatible(&encoder.spec().identity, &encoder.spec().manifest.input)?;
    }
    let params = bundle.manifest.cochleagram.clone();
    let dataset = GreatestHits::open(&options.data)?;
    let train: Vec<_> = dataset.split(Split::Train).filter(|e| e.times.is_some()).cloned().collect();
    let test: Vec<_> = dataset.split(Split::Test).filter(|e| e.times.is_some()).cloned().collect();
    if train.is_empty() || test.is_empty() {
        return Err(EvalError::Unusable {
            path: options.data.clone(),
            reason: format!("needs labelled train and test videos; it has {} and {}", train.len(), test.len()),
        });
    }
    // Retrieval and the baselines draw their clips from the train split's contacts; baseline (b)
    // places its clips at their typical gap.
    let (mut train_contacts, mut gaps) = (0, Vec::new());
    for entry in &train {
        let contacts = entry.contacts()?;
        train_contacts += contacts.len();
        gaps.extend(contacts.windows(2).map(|w| w[1].time_s - w[0].time_s));
    }
    if train_contacts == 0 {
        return Err(EvalError::Unusable {
            path: options.data.clone(),
            reason: format!("its {} train videos have no labelled contacts to take clips from", train.len()),
        });
    }
    std::fs::create_dir_all(&options.out).map_err(|source| EvalError::Io { path: options.out.clone(), source })?;

    // How each train video looks (its first frame's features) and its material: retrieval reads
    // a test video's material from its look; baseline (b) takes the clips of the most alike video.
    let looks = dataset_looks(&options.data, Split::Train, encoder, cancel, &mut |done, total| {
        progress(EvalProgress::Looks { done, total });
    })?;
    // The clips retrieval may use: every labelled contact of the train split.
    let scratch =
        tempfile::tempdir_in(&options.out).map_err(|source| EvalError::Io { path: options.out.clone(), source })?;
    let clips = build_from_dataset(
        &options.data,
        Split::Train,
        scratch.path(),
        &params,
        Some(looks.clone()),
        cancel,
        &mut |done, total| {
            progress(EvalProgress::Clips { done, total });
        },
    )?;
    let encoder_sha256 = encoder.spec().identity.onnx_sha256.clone();
    gaps.sort_by(f64::total_cmp);
    let period = gaps.get(gaps.len() / 2).copied().unwrap_or(1.0).max(0.05);

    let weights = bundle.inference()?;
    let per_frame_weights = per_frame.map(ModelBundle::inference).transpose()?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(options.seed);
    let mut scorers: Vec<(&str, TrackScorer)> = Vec::new();
    let mut by_rate: std::collections::BTreeMap<String, TrackScorer> = std::collections::BTreeMap::new();
    let mut silent = SilentScores::default();
    let mut figures = Vec::new();
    let (mut predicted_sum, mut predicted_steps) = (0.0, 0usize);
    for (v, entry) in test.iter().enumerate() {
        progress(EvalProgress::Videos { done: v, total: test.len() });
        if cancel.load(Ordering::Relaxed) {
            return Err(EvalError::Cancelled);
        }
        let example = load_example(entry, encoder, &options.cache, &params, cancel)?;
        let bands = params.bands();
        let real = Cochleagram { start_s: 0.0, rate_hz: params.step_rate_hz, bands, data: example.target.clone() };
        let raw = weights.run(&example.features, &example.step_frame, &mut weights.initial_state())?;
        let predicted = weights.predicted_sound(raw, params.step_rate_hz);
        let c = &predicted.cochleagram;
        for i in 0..real.steps().min(c.steps()) {
            predicted_sum += real.row(i).iter().zip(c.row(i)).map(|(a, b)| f64::from(a - b).powi(2)).sum::<f64>();
        }
        predicted_steps += real.steps().min(c.steps());
        let duration = frames_end(&example.times);
        let len = track_len(duration);
        let contacts = example.contacts.clone();

        let width = example.features.len() / example.times.len().max(1);
        let look_features = &example.features[width / 2..width];
        let look = Look { features: look_features, encoder_sha256: &encoder_sha256 };

        let mut runs: Vec<Run> = Vec::new();
        let retrieval = SynthOptions {
            method: Method::Retrieval,
            exclude_source: Some(entry.id.clone()),
            variation: options.variation,
            ..SynthOptions::default()
        };
        // Methods that detect hits in a prediction rank that prediction's hit candidates for AP,
        // with the synthesis's own detector settings.
        let candidates = |p: &PredictedSound| Some(p.candidates(&retrieval.hit_params, &retrieval.contact_params));
        let predicted_candidates = candidates(&predicted);
        let made = synthesize_prediction(predicted.clone(), duration, Some(&clips), &params, &retrieval, Some(look))?;
        runs.push(Run { name: FULL_MODEL, hits: made.hits, track: made.track, ranking: predicted_candidates.clone() });
        let made = synthesize_prediction(predicted.clone(), duration, Some(&clips), &params, &retrieval, None)?;
        runs.push(Run { name: SOUND_ONLY, hits: made.hits, track: made.track, ranking: predicted_candidates.clone() });
        if let Some(w) = &per_frame_weights {
            let raw = w.run(&example.features, &example.step_frame, &mut w.initial_state())?;
            let per_frame = w.predicted_sound(raw, params.step_rate_hz);
            let ranking = candidates(&per_frame);
            let made = synthesize_prediction(per_frame, duration, Some(&clips), &params, &retrieval, Some(look))?;
            runs.push(Run { name: PER_FRAME, hits: made.hits, track: made.track, ranking });
        }
        if let Some(own) = model_clips {
            let made = synthesize_prediction(predicted.clone(), duration, Some(own), &params, &retrieval, Some(look))?;
            runs.push(Run {
                name: SHIPPED_CLIPS,
                hits: made.hits,
                track: made.track,
                ranking: predicted_candidates.clone(),
            });
        }
        let parametric = SynthOptions { method: Method::Parametric, ..SynthOptions::default() };
        let made = synthesize_prediction(predicted.clone(), duration, None, &params, &parametric, None)?;
        runs.push(Run { name: PARAMETRIC, hits: made.hits, track: made.track, ranking: predicted_candidates.clone() });

        // (a) Perfect timing, no vision: a random train clip at every true contact.
        let random: Vec<PlacedHit> = contacts
            .iter()
            .map(|c| {
                let e = &clips.manifest.entries[rng.random_range(0..clips.len())];
                placed(c.time_s, e)
            })
            .collect();
        let track = render_retrieval(&clips, &random, len)?;
        runs.push(Run { name: RANDOM_CLIP, hits: random, track, ranking: None });

        // (b) Vision, no timing: the clips of the train video that looks most alike, in turn, at
        // the typical gap between contacts.
        let alike = looks.most_alike(look_features).map(|i| looks.sources[i].clone()).unwrap_or_default();
        let own: Vec<&crate::retrieval::ClipEntry> =
            clips.manifest.entries.iter().filter(|e| e.source == alike).collect();
        let mut regular = Vec::new();
        let mut t = period / 2.0;
        while t < duration && !own.is_empty() {
            regular.push(placed(t, own[regular.len() % own.len()]));
            t += period;
        }
        let track = render_retrieval(&clips, &regular, len)?;
        runs.push(Run { name: ALIKE_VIDEO, hits: regular, track, ranking: None });

        for (k, Run { name, hits, track, ranking }) in runs.into_iter().enumerate() {
            let audio = AudioTrack { rate: OUTPUT_SAMPLE_RATE, start_s: 0.0, samples: track };
            let made = cochleagram_of(&audio, &params)?;
            if scorers.len() <= k {
                scorers.push((name, TrackScorer::default()));
            }
            scorers[k].1.add(&contacts, &hits, ranking.as_deref(), &real, &made, params.compression);
            if k == 0 {
                by_rate.entry(frame_rate(&example.times)).or_default().add(
                    &contacts,
                    &hits,
                    ranking.as_deref(),
                    &real,
                    &made,
                    params.compression,
                );
                if contacts.is_empty() {
                    silent.videos += 1;
                    silent.minutes += duration / 60.0;
                    silent.hits += hits.len();
                }
            }
            if k == 0 && figures.len() < options.figures {
                figures.push(Figure {
                    id: entry.id.clone(),
                    real: real.clone(),
                    predicted: predicted.cochleagram.clone(),
                    made,
                    contacts: contacts.clone(),
                    hits,
                });
            }
        }
    }
    progress(EvalProgress::Videos { done: test.len(), total: test.len() });

    silent.hits_per_minute = (silent.minutes > 0.0).then(|| silent.hits as f64 / silent.minutes);
    let report = EvalReport {
        methods: scorers.iter().map(|(name, s)| s.scores(name)).collect(),
        by_rate: by_rate.iter().map(|(fps, s)| s.scores(&format!("{fps} fps"))).collect(),
        silent,
        predicted_distance: predicted_sum / predicted_steps.max(1) as f64,
        test_videos: test.len(),
        train_clips: clips.len(),
    };
    write_report(&report, bundle, options)?;
    cochleagram_figure(&options.out.join("cochleagrams.png"), &figures)?;
    metrics_figure(&options.out.join("metrics.png"), &report.methods)?;
    Ok(report)
}

/// One method's result on one video.
struct Run {
    name: &'static str,
    hits: Vec<PlacedHit>,
    track: Vec<f32>,
    /// The detections that rank for AP; `None`: the placed hits.
    ranking: Option<Vec<(f64, f32)>>,
}

fn placed(time_s: f64, e: &crate::retrieval::ClipEntry) -> PlacedHit {
    PlacedHit {
        time_s,
        material: e.material.clone(),
        action: e.action.clone(),
        strength: 1.0,
        clip: Some(e.id.clone()),
        gain_db: 0.0,
        x: None,
    }
}

fn figure(v: Option<f64>, scale: f64, digits: usize) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{:.*}", digits, v * scale))
}

fn write_report(report: &EvalReport, bundle: &ModelBundle, options: &EvalOptions) -> Result<(), EvalError> {
    let mut md = String::new();
    md.push_str("# foley evaluation\n\n");
    md.push_str(&format!("- Command: `{}`\n", options.command));
    md.push_str(&format!("- Machine: {}\n", options.machine));
    md.push_str(&format!(
        "- Data: `{}`: {} test videos, {} labelled contacts; {} clips from its train split for retrieval and the baselines (never a clip from the video being scored)\n",
        options.data.display(),
        report.test_videos,
        report.methods.first().map_or(0, |m| m.contacts),
        report.train_clips
    ));
    md.push_str(&format!(
        "- Model: `{}` (trained on `{}`, best epoch {})\n\n",
        bundle.dir.display(),
        bundle.manifest.training.data,
        bundle.manifest.validation.epoch
    ));
    md.push_str("Hits count within +-0.1 s of a labelled contact, one to one. Hit AP: where the hits come from a prediction, every candidate of its detector ranked by confidence (the threshold swept): peaks of the contact probability where the model has a contact head, else peaks of the predicted cochleagram's onset strength ranked by prominence; for (a) and (b), the placed hits. Material and action accuracy are over matched hits; correct hits are the labelled contacts that got a hit in time with a clip of the right material (timing and material together), and their F1 also counts the placed hits that are not (precision: correct over placed). Loudness r: correlation of the made and real loudness (dB) at matched contacts. Cochleagram distance: mean over steps of the squared difference (summed over 42 bands) between the cochleagram of the made track and the real one.\n\n");
    md.push_str("| method | hit AP | hit accuracy | F1 | median error (ms) | material accuracy | action accuracy | correct hits | correct-hit F1 | loudness r | cochleagram distance |\n");
    md.push_str("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for m in &report.methods {
        md.push_str(&format!(
            "| {} | {:.3} | {:.3} | {:.3} | {} | {} | {} | {:.3} | {:.3} | {} | {:.3} |\n",
            m.method,
            m.hit_ap,
            m.hit_accuracy,
            m.hit_f1,
            figure(m.median_error_ms, 1.0, 1),
            figure(m.material_accuracy, 1.0, 3),
            figure(m.action_accuracy, 1.0, 3),
            m.correct_hits,
            m.correct_f1,
            figure(m.loudness_correlation, 1.0, 3),
            m.cochleagram_distance
        ));
    }
    if let Some(full) = report.methods.first() {
        md.push_str(&format!("\nPer material, {}:\n\n| material | contacts | hit accuracy | material accuracy of matched hits |\n|---|---|---|---|\n", full.method));
        for m in &full.per_material {
            md.push_str(&format!(
                "| {} | {} | {:.3} | {} |\n",
                m.material,
                m.contacts,
                m.matched as f64 / m.contacts.max(1) as f64,
                if m.matched == 0 {
                    "-".to_owned()
                } else {
                    format!("{:.3}", m.right_material as f64 / m.matched as f64)
                }
            ));
        }
    }
    if let Some(full) = report.methods.first() {
        md.push_str(&format!("\nPer frame rate, {}:\n\n| frame rate | videos | contacts | hit AP | hit accuracy | F1 | median error (ms) |\n|---|---|---|---|---|---|---|\n", full.method));
        for r in &report.by_rate {
            md.push_str(&format!(
                "| {} | {} | {} | {:.3} | {:.3} | {:.3} | {} |\n",
                r.method,
                r.videos,
                r.contacts,
                r.hit_ap,
                r.hit_accuracy,
                r.hit_f1,
                figure(r.median_error_ms, 1.0, 1)
            ));
        }
        let f1s: Vec<f64> = report.by_rate.iter().filter(|r| r.contacts > 0).map(|r| r.hit_f1).collect();
        if let (Some(lo), Some(hi)) = (f1s.iter().copied().reduce(f64::min), f1s.iter().copied().reduce(f64::max)) {
            md.push_str(&format!("\nSpread of F1 across frame rates: {:.3}.\n", hi - lo));
        }
        let s = &report.silent;
        md.push_str(&format!(
            "\nVideos where nothing is struck: {} ({:.2} min); {} placed {} hits there, {} per minute.\n",
            s.videos,
            s.minutes,
            full.method,
            s.hits,
            figure(s.hits_per_minute, 1.0, 2)
        ));
    }
    md.push_str(&format!(
        "\nThe model's predicted cochleagram itself is at a mean squared distance of {:.4} per step from the real one.\n\n",
        report.predicted_distance
    ));
    if !report.methods.iter().any(|m| m.method == PER_FRAME) {
        md.push_str(
            "Not run: (c) the model with its LSTM replaced by a per-frame layer (train one with `foley train --layers 0` and pass it as `--baseline-model`).\n\n",
        );
    }
    md.push_str(
        "![Real, predicted and made cochleagrams](cochleagrams.png)\n\n![Metrics against the baselines](metrics.png)\n",
    );
    crate::media::write_bytes_atomically(&options.out.join("report.md"), md.as_bytes())?;

    write_metrics_csv(&options.out.join("metrics.csv"), &report.methods)?;
    let path = options.out.join("scores.json");
    let json = serde_json::to_vec_pretty(report)
        .map_err(|e| EvalError::Unusable { path: path.clone(), reason: e.to_string() })?;
    crate::media::write_bytes_atomically(&path, &json)?;
    Ok(())
}

const STRIP_BAND_H: usize = 2;
const FIG_W: usize = 900;

/// One row per method; empty cells where a figure does not apply.
fn write_metrics_csv(path: &Path, methods: &[MethodScores]) -> Result<(), EvalError> {
    let opt = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v:.6}"));
    crate::media::write_atomically(path, |file| {
        let mut w = csv::Writer::from_writer(std::io::BufWriter::new(file));
        w.write_record([
            "method",
            "videos",
            "contacts",
            "hits_placed",
            "hit_ap",
            "hit_accuracy",
            "hit_f1",
            "median_error_ms",
            "material_accuracy",
            "action_accuracy",
            "correct_hits",
            "correct_f1",
            "loudness_correlation",
            "cochleagram_distance",
        ])?;
        for m in methods {
            w.write_record([
                m.method.clone(),
                m.videos.to_string(),
                m.contacts.to_string(),
                m.hits_placed.to_string(),
                format!("{:.6}", m.hit_ap),
                format!("{:.6}", m.hit_accuracy),
                format!("{:.6}", m.hit_f1),
                opt(m.median_error_ms),
                opt(m.material_accuracy),
                opt(m.action_accuracy),
                format!("{:.6}", m.correct_hits),
                format!("{:.6}", m.correct_f1),
                opt(m.loudness_correlation),
                format!("{:.6}", m.cochleagram_distance),
            ])?;
        }
        w.flush()
    })?;
    Ok(())
}

/// Per test video: the real cochleagram, the prediction, and the made track's, low bands at the
/// bottom; white ticks at the labelled contacts, cyan ticks at the placed hits.
fn cochleagram_figure(path: &Path, figures: &[Figure]) -> Result<(), EvalError> {
    let label_h = 12;
    let strip_h = |c: &Cochleagram| c.bands * STRIP_BAND_H + label_h + 6;
    let height: usize = figures.iter().map(|f| 3 * strip_h(&f.real)).sum::<usize>().max(20);
    let mut canvas = Canvas::new(FIG_W, height);
    let mut y = 0;
    for f in figures {
        let peak = f.real.data.iter().copied().fold(0.0f32, f32::max).max(1e-6);
        let duration = f.real.steps() as f64 / f.real.rate_hz;
        for (name, c) in [("real", &f.real), ("predicted", &f.predicted), ("made by retrieval", &f.made)] {
            canvas.text(2, y + 2, &format!("{} {name}", f.id), [255, 255, 255]);
            let top = y + label_h;
            for x in 0..FIG_W {
                let step = x * f.real.steps() / FIG_W;
                for band in 0..c.bands {
                    let v = if step < c.steps() { c.row(step)[band] / peak } else { 0.0 };
                    for dy in 0..STRIP_BAND_H {
                        canvas.set(x, top + (c.bands - 1 - band) * STRIP_BAND_H + dy, heat(v));
                    }
                }
            }
            let tick = |canvas: &mut Canvas, t: f64, colour: [u8; 3], from: usize| {
                let x = ((t / duration.max(1e-6)) * FIG_W as f64) as usize;
                for dy in 0..4 {
                    canvas.set(x.min(FIG_W - 1), from + dy, colour);
                }
            };
            for contact in &f.contacts {
                tick(&mut canvas, contact.time_s, [255, 255, 255], top);
            }
            for h in &f.hits {
                tick(&mut canvas, h.time_s, [0, 230, 255], top + c.bands * STRIP_BAND_H - 4);
            }
            y += strip_h(c);
        }
    }
    canvas.save(path)?;
    Ok(())
}

/// Reads one figure of a method's scores.
type Metric = fn(&MethodScores) -> Option<f64>;

/// One group of bars per metric (each a share or a correlation, higher is better), one bar per
/// method in the colours of the legend below; "n/a" where a method has no such figure.
fn metrics_figure(path: &Path, methods: &[MethodScores]) -> Result<(), EvalError> {
    let metrics: [(&str, Metric); 7] = [
        ("hit AP", |m| Some(m.hit_ap)),
        ("hit accuracy", |m| Some(m.hit_accuracy)),
        ("material accuracy", |m| m.material_accuracy),
        ("action accuracy", |m| m.action_accuracy),
        ("correct hits", |m| Some(m.correct_hits)),
        ("correct-hit F1", |m| Some(m.correct_f1)),
        ("loudness r", |m| m.loudness_correlation),
    ];
    let ink = rgb(INK);
    let colour = |k: usize| rgb(PALETTE[k % PALETTE.len()]);
    let legend_rows = methods.len().div_ceil(2);
    let legend_h = 16 + 20 * legend_rows as u32;
    let (width, height) = (1000, 480 + legend_h);
    let slot = 0.8 / methods.len().max(1) as f64;
    chart_png(path, (width, height), |area| {
        let (top, legend) = area.split_vertically(height - legend_h);
        let mut chart = ChartBuilder::on(&top)
            .caption("Test split: each method's figures (higher is better)", (FONT_FAMILY, 20).into_font().color(&ink))
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(56)
            .build_cartesian_2d(-0.5..metrics.len() as f64 - 0.5, 0.0..1.0)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            // Ticks fall on whole numbers, one per group; each is named after its metric.
            .x_labels(metrics.len())
            .x_label_formatter(&|x| {
                let near = (x - x.round()).abs() < 1e-6 && *x >= 0.0;
                metrics.get(x.round() as usize).filter(|_| near).map_or("", |m| m.0).to_owned()
            })
            .y_desc("share or correlation")
            .y_label_formatter(&|y| format!("{y:.1}"))
            .axis_style(ink)
            .label_style((FONT_FAMILY, 13).into_font().color(&ink))
            .axis_desc_style((FONT_FAMILY, 14).into_font().color(&ink))
            .light_line_style(RGBColor(40, 40, 40))
            .bold_line_style(RGBColor(60, 60, 60))
            .draw()?;
        let missing = (FONT_FAMILY, 11).into_font().transform(FontTransform::Rotate270).color(&ink);
        for (k, m) in methods.iter().enumerate() {
            for (g, (_, get)) in metrics.iter().enumerate() {
                let x0 = g as f64 - 0.4 + k as f64 * slot;
                match get(m) {
                    Some(v) => {
                        chart.draw_series([Rectangle::new(
                            [(x0, 0.0), (x0 + slot * 0.9, v.clamp(0.0, 1.0))],
                            colour(k).filled(),
                        )])?;
                    }
                    None => {
                        chart.draw_series([Text::new("n/a", (x0 + slot * 0.15, 0.12), missing.clone())])?;
                    }
                }
            }
        }
        // The legend: two columns of colour and method.
        let label = (FONT_FAMILY, 13).into_font().color(&ink);
        for (k, m) in methods.iter().enumerate() {
            let (x, y) = (70 + (k % 2) as i32 * 460, 8 + (k / 2) as i32 * 20);
            legend.draw(&Rectangle::new([(x, y + 2), (x + 12, y + 14)], colour(k).filled()))?;
            legend.draw(&Text::new(m.method.clone(), (x + 20, y + 1), label.clone()))?;
        }
        Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::{PALETTE, pixels_per_row, read_png};

    fn scores(method: &str, v: f64, material: Option<f64>) -> MethodScores {
        MethodScores {
            method: method.to_owned(),
            videos: 1,
            contacts: 10,
            hits_placed: 10,
            hit_ap: v,
            hit_accuracy: v,
            hit_f1: v,
            median_error_ms: Some(5.0),
            material_accuracy: material,
            action_accuracy: material,
            loudness_correlation: Some(v),
            cochleagram_distance: 1.0,
            correct_hits: v,
            correct_f1: v,
            per_material: Vec::new(),
        }
    }

    #[test]
    fn the_metrics_chart_draws_each_method_in_its_colour_as_tall_as_its_figures() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.png");
        let methods = [scores(FULL_MODEL, 0.9, Some(0.9)), scores(RANDOM_CLIP, 0.3, None)];
        metrics_figure(&path, &methods).unwrap();
        let ((width, _), rgb) = read_png(&path);
        assert_eq!(width, 1000);
        let area = |colour| pixels_per_row(&rgb, width, colour).iter().sum::<usize>() as f64;
        // Seven bars at 0.9 against five at 0.3 (two "n/a"), plus a legend square each.
        let ratio = area(PALETTE[0]) / area(PALETTE[1]);
        assert!((3.0..5.5).contains(&ratio), "{ratio}");
    }
}
