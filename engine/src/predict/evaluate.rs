//! Scoring predicted cochleagrams against the real ones and the labelled contacts: the loss,
//! per-step error, per-band correlation, and hit detection on the prediction (F1, accuracy and
//! median timing error of the detected hits within +-0.1 s; average precision over the detector's
//! candidates, as its margin is swept).

use std::path::Path;
use std::sync::atomic::AtomicBool;

use super::PredictError;
use super::bundle::{ModelBundle, ValidationMetrics};
use super::dataset::{Example, load_example};
use super::model::InferenceWeights;
use crate::data::{GreatestHits, Split};
use crate::eval::{average_precision, candidate_detections, match_onsets, rank_detections};
use crate::sound::{Cochleagram, HitParams, detect_hits};
use crate::vision::FrameEncoder;

/// Tolerance for a detected hit to count, seconds (CondFoleyGen's protocol).
pub const HIT_TOLERANCE_S: f64 = 0.1;

/// Predicts every example whole and scores the predictions, pooled over examples.
pub fn score(
    weights: &InferenceWeights,
    examples: &[Example],
    eps: f64,
    epoch: usize,
) -> Result<ValidationMetrics, PredictError> {
    let bands = weights.config.bands;
    let (mut loss_sum, mut mse_sum, mut steps_total) = (0.0, 0.0, 0usize);
    let mut correlations = Vec::new();
    let (mut truth_total, mut detected_total) = (0usize, 0usize);
    let mut errors = Vec::new();
    let mut ranked = Vec::new();
    for e in examples {
        let pred = weights.run(&e.features, &e.step_frame, &mut weights.initial_state())?;
        for (p, t) in pred.chunks_exact(bands).zip(e.target.chunks_exact(bands)) {
            let sq: f64 = p.iter().zip(t).map(|(a, b)| f64::from(a - b).powi(2)).sum();
            loss_sum += (eps + sq).ln();
            mse_sum += sq;
        }
        steps_total += e.steps();
        for band in 0..bands {
            let p: Vec<f64> = pred.iter().skip(band).step_by(bands).map(|&v| f64::from(v)).collect();
            let t: Vec<f64> = e.target.iter().skip(band).step_by(bands).map(|&v| f64::from(v)).collect();
            if let Some(r) = crate::eval::pearson(&p, &t) {
                correlations.push(r);
            }
        }
        let c = Cochleagram { start_s: 0.0, rate_hz: crate::timeline::FEATURE_RATE_HZ, bands, data: pred };
        let hits = detect_hits(&c, &HitParams::default());
        let detected: Vec<(f64, f32)> = hits.iter().map(|h| (h.time_s, h.strength)).collect();
        let truth: Vec<f64> = e.contacts.iter().map(|c| c.time_s).collect();
        truth_total += truth.len();
        detected_total += detected.len();
        let times: Vec<f64> = detected.iter().map(|d| d.0).collect();
        errors.extend(match_onsets(&truth, &times, HIT_TOLERANCE_S).errors_s);
        // AP sweeps the detector's margin.
        ranked.extend(rank_detections(&truth, &candidate_detections(&c, &HitParams::default()), HIT_TOLERANCE_S));
    }
    let matched = errors.len();
    let steps = steps_total.max(1) as f64;
    let precision = matched as f64 / detected_total.max(1) as f64;
    let recall = matched as f64 / truth_total.max(1) as f64;
    errors.sort_by(f64::total_cmp);
    Ok(ValidationMetrics {
        epoch,
        loss: loss_sum / steps,
        mse_per_step: mse_sum / steps,
        band_correlation: if correlations.is_empty() {
            0.0
        } else {
            correlations.iter().sum::<f64>() / correlations.len() as f64
        },
        hit_f1: if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 },
        hit_accuracy: recall,
        hit_ap: average_precision(&mut ranked, truth_total),
        hit_median_error_ms: errors.get(errors.len() / 2).map(|e| e * 1000.0),
    })
}

/// Scores `bundle` on a split of the dataset at `data` (features cached under `cache`).
pub fn evaluate_split(
    bundle: &ModelBundle,
    data: &Path,
    split: Split,
    encoder: &mut dyn FrameEncoder,
    cache: &Path,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(ValidationMetrics, usize), PredictError> {
    bundle.check_compatible(&encoder.spec().identity, &encoder.spec().manifest.input)?;
    let dataset = GreatestHits::open(data)?;
    let entries: Vec<_> = dataset.split(split).cloned().collect();
    let mut examples = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        progress(i, entries.len());
        examples.push(load_example(entry, encoder, cache, &bundle.manifest.cochleagram, cancel)?);
    }
    progress(entries.len(), entries.len());
    let weights = bundle.inference()?;
    let metrics = score(&weights, &examples, 0.01, bundle.manifest.validation.epoch)?;
    Ok((metrics, examples.len()))
}
