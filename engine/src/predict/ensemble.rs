//! An ensemble of networks trained alone from different seeds on the same videos: where each
//! network's run lives, and the bundle of all of them, whose outputs are their mean. Averaging
//! networks that erred differently ranks real contacts above invented ones better than either.

use std::path::{Path, PathBuf};

use super::PredictError;
use super::bundle::{BundleManifest, MemberSummary, ModelBundle, TrainingSummary, ValidationMetrics};
use super::dataset::Example;
use super::inference::InferenceWeights;
use super::model::Params;
use super::train::{EpochRow, TrainOptions};

/// The folder inside an ensemble's model folder that holds each network's own run.
pub const NETWORKS_DIR: &str = "networks";

/// Where network `index` (from 1) of the ensemble in `out` is trained: a single network's model
/// folder, with its checkpoint, `metrics.csv` and `loss_curve.png`.
#[must_use]
pub fn network_dir(out: &Path, index: usize) -> PathBuf {
    out.join(NETWORKS_DIR).join(index.to_string())
}

/// Scores the ensemble of the networks trained in `runs` on the validation videos, moves every
/// network's contact bias by as much, so that probability 0.5 of their mean is the threshold
/// chosen there (each network's own choice no longer holds for the mean), and writes the
/// ensemble's bundle into `out`. Returns its validation figures.
pub(super) fn combine(
    out: &Path,
    runs: &[PathBuf],
    validation: &[Example],
    options: &TrainOptions,
) -> Result<ValidationMetrics, PredictError> {
    let bundles = runs.iter().map(|dir| ModelBundle::load(dir)).collect::<Result<Vec<_>, _>>()?;
    let Some(first) = bundles.first() else {
        return Err(PredictError::Data { path: out.to_owned(), reason: "an ensemble needs networks".to_owned() });
    };
    let config = first.manifest.config.clone();
    let networks: Vec<Params> = bundles.iter().flat_map(|b| b.networks.iter().cloned()).collect();
    let weights = InferenceWeights::ensemble(&config, &networks)?;
    let scored = super::evaluate::score(&weights, validation, options.loss_eps, options.contact_weight, 0)?;
    let (networks, validation) = match scored.chosen_logit {
        Some(logit) => (
            networks.iter().map(|p| p.with_contact_bias_moved(-logit)).collect::<Result<Vec<_>, _>>()?,
            scored.with_contact_bias_moved(validation, -logit),
        ),
        None => (networks, scored.metrics),
    };
    let manifest = BundleManifest {
        training: TrainingSummary {
            seed: options.seed,
            epochs: bundles.iter().map(|b| b.manifest.training.epochs).max().unwrap_or(0),
            ..first.manifest.training.clone()
        },
        validation: validation.clone(),
        members: bundles
            .iter()
            .map(|b| MemberSummary { seed: b.manifest.training.seed, validation: b.manifest.validation.clone() })
            .collect(),
        ..first.manifest.clone()
    };
    ModelBundle::save_networks(out, &manifest, &networks)?;
    Ok(validation)
}

/// Writes the ensemble's `metrics.csv` (every network's epochs, the network in the first column)
/// and `loss_curve.png` (each network's losses and kept epoch) into `out`.
pub(super) fn write_metrics(out: &Path, histories: &[&[EpochRow]]) -> Result<(), PredictError> {
    crate::media::write_atomically(&out.join("metrics.csv"), |file| {
        let mut w = csv::Writer::from_writer(std::io::BufWriter::new(file));
        w.write_record(std::iter::once("network").chain(super::train::METRICS_COLUMNS))?;
        for (k, history) in histories.iter().enumerate() {
            for row in *history {
                w.write_record(std::iter::once((k + 1).to_string()).chain(super::train::metrics_record(row)))?;
            }
        }
        w.flush()
    })?;
    let runs: Vec<super::plot::LossRun> = histories.iter().map(|h| super::train::loss_run(h)).collect();
    super::plot::loss_curves(&out.join("loss_curve.png"), &runs)
}
