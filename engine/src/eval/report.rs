//! `foley eval`: the model's sound tracks for a dataset's test split, scored against the real
//! sound and labels, beside baselines run on the same videos, written as `report.md`,
//! `metrics.csv`, `scores.json` and PNG figures.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use rand::RngExt as _;
use rand::SeedableRng as _;
use serde::Serialize;

use super::bootstrap::{HitIntervals, RESAMPLES, difference_intervals, intervals};
use super::figures::{cochleagram_figure, metrics_figure};
use super::rate_spread::{RateSpread, SpreadScores};
use super::report_files::write_report;
use super::silent::{SilentScores, SwingScores, no_contact_kind};
use super::thresholds::{ThresholdScores, ThresholdSweep};
use super::track_scores::{MethodScores, TrackScorer};
use crate::data::{Contact, DataError, GreatestHits, Split};
use crate::media::AudioTrack;
use crate::predict::align::frames_end;
use crate::predict::dataset::{Example, load_example};
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
    /// The full model's figures on the test videos filmed from a low camera and from above, by
    /// their scene notes (`method` names the angles; none where no video notes its camera).
    pub by_camera: Vec<MethodScores>,
    /// The full model on the test videos without any labelled contact.
    pub silent: SilentScores,
    /// The full model's hits on air swings that stop short of the surface, on all test videos.
    pub air_swings: SwingScores,
    /// The full model's spread of hit F1 across frame rates, against random deals of the rates.
    pub rate_spread: SpreadScores,
    /// The full model's hits at other contact thresholds (empty for a model without a contact
    /// head, whose hits come from its cochleagram: the sweep is fed only with contact peaks).
    pub thresholds: Vec<ThresholdScores>,
    /// The full model's hit AP, accuracy and F1 with how far other test videos of the same kind
    /// would move them (`None` without test videos).
    pub hit_intervals: Option<HitIntervals>,
    /// With a second model: the full model's figures less its, on the same draws of the videos.
    pub against: Option<Comparison>,
    /// Mean squared distance per step between the model's predicted cochleagram and the real one.
    pub predicted_distance: f64,
    pub test_videos: usize,
    pub train_clips: usize,
    /// The models whose outputs were averaged with the model's (empty for the model alone).
    pub averaged_with: Vec<PathBuf>,
}

/// The full model's hit figures less a second model's, run on the same test videos.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The second model's row.
    pub method: String,
    pub difference: HitIntervals,
}

/// The row of a second model (`foley eval --baseline-model`): baseline (c) where it is a
/// per-frame model, else the model named by its folder.
fn second_model_name(bundle: &ModelBundle) -> String {
    if bundle.manifest.config.layers == 0 {
        PER_FRAME.to_owned()
    } else {
        let name = bundle
            .dir
            .file_name()
            .map_or_else(|| bundle.dir.display().to_string(), |n| n.to_string_lossy().into_owned());
        format!("{OTHER_MODEL} `{name}`")
    }
}

/// A test video's features rows as `config`'s model reads them: copied only to be centred.
fn centred<'a>(config: &crate::predict::model::ModelConfig, example: &'a Example) -> std::borrow::Cow<'a, [f32]> {
    match crate::predict::centring::RowCentring::for_model(config) {
        Some(mut centring) => {
            let mut rows = example.features.clone();
            centring.apply(&example.times, &mut rows);
            std::borrow::Cow::Owned(rows)
        }
        None => std::borrow::Cow::Borrowed(&example.features),
    }
}

/// A video's frame rate, rounded to hundredths, from its frames' times (the median interval).
fn frame_rate(times: &[f64]) -> String {
    let mut gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).filter(|g| *g > 0.0).collect();
    gaps.sort_by(f64::total_cmp);
    gaps.get(gaps.len() / 2).map_or_else(|| "unknown".to_owned(), |g| format!("{:.2}", 1.0 / g))
}

/// Random deals of the frame rates that the spread across rates is set against (a p-value
/// resolves to about 0.001).
const RATE_DEALS: usize = 1000;

/// The rows of the per-camera table, parted where the generator parts a low camera's scenes
/// from those filmed from above: its key orders low before above.
fn camera_band(pitch_deg: f64) -> (bool, &'static str) {
    if pitch_deg < crate::data::synth::LOW_CAMERA_MAX_DEG {
        (false, "low camera, under 30 degrees below the horizon")
    } else {
        (true, "camera from above, 30 degrees or more")
    }
}

pub const FULL_MODEL: &str = "foley (LSTM + retrieval)";
const SOUND_ONLY: &str = "foley, sound-only retrieval";
const SHIPPED_CLIPS: &str = "foley, the model's own clips";
const PARAMETRIC: &str = "foley, parametric";
pub(super) const PER_FRAME: &str = "(c) per-frame layer instead of the LSTM";
const OTHER_MODEL: &str = "(c) another model:";
pub(super) const RANDOM_CLIP: &str = "(a) random clip at true times";
const ALIKE_VIDEO: &str = "(b) most alike video, regular times";

/// One test video's cochleagrams for the figure: real, predicted, and of the made track.
pub(super) struct Figure {
    pub(super) id: String,
    pub(super) real: Cochleagram,
    pub(super) predicted: Cochleagram,
    pub(super) made: Cochleagram,
    pub(super) contacts: Vec<Contact>,
    pub(super) hits: Vec<PlacedHit>,
}

/// Runs every method on the test split of `options.data` and writes the report. Where
/// `averaged` holds models, the model's outputs are the step-by-step mean of its own and theirs
/// (an ensemble of models that read the same features).
#[allow(clippy::too_many_arguments)]
pub fn evaluate_synthesis(
    bundle: &ModelBundle,
    model_clips: Option<&ClipDatabase>,
    second: Option<&ModelBundle>,
    averaged: &[ModelBundle],
    encoder: &mut dyn FrameEncoder,
    options: &EvalOptions,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(EvalProgress),
) -> Result<EvalReport, EvalError> {
    for b in std::iter::once(bundle).chain(second).chain(averaged) {
        b.check_compatible(&encoder.spec().identity, &encoder.spec().manifest.input)?;
    }
    if let Some(b) = second
        && b.manifest.config.layout() != bundle.manifest.config.layout()
    {
        return Err(EvalError::Unusable {
            path: b.dir.clone(),
            reason: format!(
                "this second model reads rows of another layout than the model `{}` (one with a motion grid, one without); train it with the same options",
                bundle.dir.display()
            ),
        });
    }
    for b in averaged {
        let (ours, theirs) = (&bundle.manifest.config, &b.manifest.config);
        if theirs.layout() != ours.layout()
            || theirs.outputs() != ours.outputs()
            || theirs.contact_head != ours.contact_head
            || theirs.lookahead != ours.lookahead
        {
            return Err(EvalError::Unusable {
                path: b.dir.clone(),
                reason: format!(
                    "its outputs cannot be averaged with those of `{}`: they differ in feature layout, outputs, contact head or lookahead",
                    bundle.dir.display()
                ),
            });
        }
    }
    let second_name = second.map(second_model_name);
    let layout = bundle.manifest.config.layout();
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

    // How each train video looks (`vision::video_look`) and its material: retrieval reads
    // a test video's material from its look; baseline (b) takes the clips of the most alike video.
    let looks = dataset_looks(&[&options.data], Split::Train, encoder, cancel, &mut |done, total| {
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
    gaps.sort_by(f64::total_cmp);
    let period = gaps.get(gaps.len() / 2).copied().unwrap_or(1.0).max(0.05);

    let weights = bundle.inference()?;
    let second_weights = second.map(ModelBundle::inference).transpose()?;
    let averaged_weights = averaged.iter().map(ModelBundle::inference).collect::<Result<Vec<_>, _>>()?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(options.seed);
    let mut scorers: Vec<(&str, TrackScorer)> = Vec::new();
    let mut by_rate: std::collections::BTreeMap<String, TrackScorer> = std::collections::BTreeMap::new();
    let mut by_camera: std::collections::BTreeMap<(bool, &str), TrackScorer> = std::collections::BTreeMap::new();
    let mut silent = SilentScores::default();
    let mut air_swings = SwingScores::default();
    let mut rate_spread = RateSpread::default();
    let mut sweep = ThresholdSweep::default();
    let mut figures = Vec::new();
    let (mut predicted_sum, mut predicted_steps) = (0.0, 0usize);
    for (v, entry) in test.iter().enumerate() {
        progress(EvalProgress::Videos { done: v, total: test.len() });
        if cancel.load(Ordering::Relaxed) {
            return Err(EvalError::Cancelled);
        }
        let example = load_example(entry, encoder, layout, &options.cache, &params, cancel)?;
        let bands = params.bands();
        let real = Cochleagram { start_s: 0.0, rate_hz: params.step_rate_hz, bands, data: example.target.clone() };
        // The other models read rows of the same layout: centred over the same time, they are
        // the model's own rows.
        let own_rows = centred(&weights.config, &example);
        let rows_for = |config: &crate::predict::model::ModelConfig| {
            if config.centring_ms == weights.config.centring_ms {
                std::borrow::Cow::Borrowed(own_rows.as_ref())
            } else {
                centred(config, &example)
            }
        };
        let mut runs = vec![weights.run_video(&own_rows, &example.step_frame)?];
        for w in &averaged_weights {
            runs.push(w.run_video(&rows_for(&w.config), &example.step_frame)?);
        }
        let predicted = weights.predicted_sound(crate::predict::inference::mean_outputs(runs), params.step_rate_hz);
        let c = &predicted.cochleagram;
        for i in 0..real.steps().min(c.steps()) {
            predicted_sum += real.row(i).iter().zip(c.row(i)).map(|(a, b)| f64::from(a - b).powi(2)).sum::<f64>();
        }
        predicted_steps += real.steps().min(c.steps());
        let duration = frames_end(&example.times);
        let len = track_len(duration);
        let contacts = example.contacts.clone();

        // The video's look taken as the train videos' looks were; the model's own clips may
        // keep looks taken otherwise (an earlier database).
        let look = Look::of_video(&entry.video, Some(&clips), encoder)?;
        let own_look = match model_clips {
            Some(own) if own.looks().map(|l| l.frames) != clips.looks().map(|l| l.frames) => {
                Look::of_video(&entry.video, Some(own), encoder)?
            }
            _ => look.clone(),
        };

        let mut runs: Vec<Run<'_>> = Vec::new();
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
        if let (true, Some(c)) = (bundle.manifest.config.contact_head, &predicted_candidates) {
            sweep.add(&contacts.iter().map(|c| c.time_s).collect::<Vec<_>>(), c, duration);
        }
        let made =
            synthesize_prediction(predicted.clone(), duration, Some(&clips), &params, &retrieval, look.as_ref())?;
        runs.push(Run {
            name: FULL_MODEL,
            hits: made.placement.hits,
            track: made.track,
            ranking: predicted_candidates.clone(),
        });
        let made = synthesize_prediction(predicted.clone(), duration, Some(&clips), &params, &retrieval, None)?;
        runs.push(Run {
            name: SOUND_ONLY,
            hits: made.placement.hits,
            track: made.track,
            ranking: predicted_candidates.clone(),
        });
        if let (Some(w), Some(name)) = (&second_weights, &second_name) {
            let raw = w.run_video(&rows_for(&w.config), &example.step_frame)?;
            let predicted = w.predicted_sound(raw, params.step_rate_hz);
            let ranking = candidates(&predicted);
            let made = synthesize_prediction(predicted, duration, Some(&clips), &params, &retrieval, look.as_ref())?;
            runs.push(Run { name, hits: made.placement.hits, track: made.track, ranking });
        }
        if let Some(own) = model_clips {
            let made =
                synthesize_prediction(predicted.clone(), duration, Some(own), &params, &retrieval, own_look.as_ref())?;
            runs.push(Run {
                name: SHIPPED_CLIPS,
                hits: made.placement.hits,
                track: made.track,
                ranking: predicted_candidates.clone(),
            });
        }
        let parametric = SynthOptions { method: Method::Parametric, ..SynthOptions::default() };
        let made = synthesize_prediction(predicted.clone(), duration, None, &params, &parametric, None)?;
        runs.push(Run {
            name: PARAMETRIC,
            hits: made.placement.hits,
            track: made.track,
            ranking: predicted_candidates.clone(),
        });

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
        let alike = look
            .as_ref()
            .and_then(|l| looks.most_alike(&l.features))
            .map(|i| looks.sources[i].clone())
            .unwrap_or_default();
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
                let score_in = |scorer: &mut TrackScorer| {
                    scorer.add(&contacts, &hits, ranking.as_deref(), &real, &made, params.compression)
                };
                let rate = frame_rate(&example.times);
                let matched = score_in(by_rate.entry(rate.clone()).or_default());
                let contact_times: Vec<f64> = contacts.iter().map(|c| c.time_s).collect();
                let hit_times: Vec<f64> = hits.iter().map(|h| h.time_s).collect();
                rate_spread.add(&rate, contacts.len(), hits.len(), matched);
                let notes = entry.notes()?;
                if let Some(pitch) = notes.camera_pitch_deg {
                    score_in(by_camera.entry(camera_band(pitch)).or_default());
                }
                air_swings.add(&notes.swings, &contact_times, &hit_times, super::track_scores::TOLERANCE_S);
                if contacts.is_empty() {
                    silent.add(no_contact_kind(&notes), duration, hits.len());
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

    silent.finish();
    let full_videos = scorers.first().map_or(&[][..], |(_, s)| s.videos());
    let against = second_name.as_deref().and_then(|name| {
        let (_, other) = scorers.iter().find(|(n, _)| *n == name)?;
        Some(Comparison {
            method: name.to_owned(),
            difference: difference_intervals(full_videos, other.videos(), RESAMPLES, options.seed)?,
        })
    });
    let report = EvalReport {
        hit_intervals: intervals(full_videos, RESAMPLES, options.seed),
        against,
        methods: scorers.iter().map(|(name, s)| s.scores(name)).collect(),
        by_rate: by_rate.iter().map(|(fps, s)| s.scores(&format!("{fps} fps"))).collect(),
        by_camera: by_camera.iter().map(|((_, band), s)| s.scores(band)).collect(),
        silent,
        air_swings,
        rate_spread: rate_spread.scores(RATE_DEALS, options.seed),
        thresholds: sweep.scores(),
        predicted_distance: predicted_sum / predicted_steps.max(1) as f64,
        test_videos: test.len(),
        train_clips: clips.len(),
        averaged_with: averaged.iter().map(|b| b.dir.clone()).collect(),
    };
    write_report(&report, bundle, options)?;
    cochleagram_figure(&options.out.join("cochleagrams.png"), &figures)?;
    metrics_figure(&options.out.join("metrics.png"), &report.methods)?;
    Ok(report)
}

/// One method's result on one video.
struct Run<'a> {
    name: &'a str,
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

#[cfg(test)]
mod tests {
    use crate::predict::inference::mean_outputs;

    #[test]
    fn averaged_outputs_are_the_mean_of_every_run_and_one_run_is_kept_as_it_is() {
        assert_eq!(mean_outputs(vec![vec![1.0, -2.0, 0.5]]), vec![1.0, -2.0, 0.5]);
        assert_eq!(mean_outputs(vec![vec![1.0, -2.0], vec![3.0, 2.0]]), vec![2.0, 0.0]);
        let three = mean_outputs(vec![vec![0.0, 3.0], vec![3.0, 3.0], vec![6.0, -3.0]]);
        assert!((three[0] - 3.0).abs() < 1e-6 && (three[1] - 1.0).abs() < 1e-6, "{three:?}");
        // A model averaged with itself gives its own outputs to the bit.
        let run = vec![0.1_f32, -7.3, 2.9e-3];
        assert_eq!(mean_outputs(vec![run.clone(), run.clone()]), run);
    }
}
