//! Scoring predicted cochleagrams against the real ones and the labelled contacts: the loss,
//! per-step error, per-band correlation, and hit detection on the prediction (F1, accuracy and
//! median timing error of the detected hits within +-0.1 s; average precision over the detector's
//! candidates, as its margin is swept). A model with a contact head is scored on the hits of its
//! head, which is what the synthesis places; one without, on the hits of its cochleagram.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use super::PredictError;
use super::bundle::{ModelBundle, ValidationMetrics};
use super::contacts::{ContactParams, predicted_candidates, predicted_hits};
use super::dataset::{Example, load_example};
use super::model::InferenceWeights;
use crate::data::{GreatestHits, Split};
use crate::eval::{average_precision, match_onsets, rank_detections};
use crate::sound::{Cochleagram, HitParams};
use crate::vision::FrameEncoder;

/// Tolerance for a detected hit to count, seconds (CondFoleyGen's protocol).
pub const HIT_TOLERANCE_S: f64 = 0.1;

/// Predicts every example whole and scores the predictions, pooled over examples. With a contact
/// head, also gives the logit at which a threshold on its candidates has the best F1.
pub fn score(
    weights: &InferenceWeights,
    examples: &[Example],
    eps: f64,
    contact_weight: f64,
    epoch: usize,
) -> Result<(ValidationMetrics, Option<f32>), PredictError> {
    let bands = weights.config.bands;
    let rate = crate::timeline::FEATURE_RATE_HZ;
    let (mut loss_sum, mut mse_sum, mut steps_total) = (0.0, 0.0, 0usize);
    let mut correlations = Vec::new();
    let (mut truth_total, mut detected_total) = (0usize, 0usize);
    let mut errors = Vec::new();
    let mut ranked = Vec::new();
    for e in examples {
        let raw = weights.run(&e.features, &e.step_frame, &mut weights.initial_state())?;
        let (pred, contact) = weights.split_outputs(raw);
        for (p, t) in pred.chunks_exact(bands).zip(e.target.chunks_exact(bands)) {
            let sq: f64 = p.iter().zip(t).map(|(a, b)| f64::from(a - b).powi(2)).sum();
            loss_sum += (eps + sq).ln();
            mse_sum += sq;
        }
        if let Some(contact) = &contact {
            loss_sum += contact_weight * cross_entropy_sum(contact, &e.contact_target);
        }
        steps_total += e.steps();
        for band in 0..bands {
            let p: Vec<f64> = pred.iter().skip(band).step_by(bands).map(|&v| f64::from(v)).collect();
            let t: Vec<f64> = e.target.iter().skip(band).step_by(bands).map(|&v| f64::from(v)).collect();
            if let Some(r) = crate::eval::pearson(&p, &t) {
                correlations.push(r);
            }
        }
        let c = Cochleagram { start_s: 0.0, rate_hz: rate, bands, data: pred };
        let (hit_params, contact_params) = (HitParams::default(), ContactParams::default());
        let hits = predicted_hits(&c, contact.as_deref(), &hit_params, &contact_params);
        let candidates = predicted_candidates(&c, contact.as_deref(), &hit_params, &contact_params);
        let detected: Vec<(f64, f32)> = hits.iter().map(|h| (h.time_s, h.strength)).collect();
        let truth: Vec<f64> = e.contacts.iter().map(|c| c.time_s).collect();
        truth_total += truth.len();
        detected_total += detected.len();
        let times: Vec<f64> = detected.iter().map(|d| d.0).collect();
        errors.extend(match_onsets(&truth, &times, HIT_TOLERANCE_S).errors_s);
        // AP sweeps the detector's margin.
        ranked.extend(rank_detections(&truth, &candidates, HIT_TOLERANCE_S));
    }
    let matched = errors.len();
    let steps = steps_total.max(1) as f64;
    let precision = matched as f64 / detected_total.max(1) as f64;
    let recall = matched as f64 / truth_total.max(1) as f64;
    errors.sort_by(f64::total_cmp);
    let best_logit = if weights.config.contact_head { f1_best_logit(&mut ranked, truth_total) } else { None };
    let metrics = ValidationMetrics {
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
    };
    Ok((metrics, best_logit))
}

/// Of ranked candidates (confidence a probability), the logit of the threshold with the best F1
/// against `n_true` true onsets: midway, in logits, between the last candidate kept and the
/// first one dropped.
fn f1_best_logit(ranked: &mut [(f32, bool)], n_true: usize) -> Option<f32> {
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut found, mut best) = (0usize, (0.0f64, 0usize));
    for (k, &(_, hit)) in ranked.iter().enumerate() {
        found += usize::from(hit);
        let f1 = 2.0 * found as f64 / (k + 1 + n_true) as f64;
        if f1 > best.0 {
            best = (f1, k + 1);
        }
    }
    let kept = best.1.checked_sub(1)?;
    let logit = |p: f32| {
        let p = p.clamp(1e-6, 1.0 - 1e-6);
        (p / (1.0 - p)).ln()
    };
    let low = logit(ranked[kept].0);
    Some(ranked.get(best.1).map_or(low - 1.0, |next| 0.5 * (low + logit(next.0))))
}

/// Summed binary cross-entropy of predicted contact probabilities against the targets.
fn cross_entropy_sum(probability: &[f32], target: &[f32]) -> f64 {
    probability
        .iter()
        .zip(target)
        .map(|(&p, &y)| {
            let p = f64::from(p).clamp(1e-7, 1.0 - 1e-7);
            let y = f64::from(y);
            -(y * p.ln() + (1.0 - y) * (1.0 - p).ln())
        })
        .sum()
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
    let (metrics, _) = score(&weights, &examples, 0.01, 0.0, bundle.manifest.validation.epoch)?;
    Ok((metrics, examples.len()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_f1_best_threshold_sits_between_the_last_kept_and_the_first_dropped_candidate() {
        // Keeping the first two gives F1 2*2/(2+3) = 0.8; keeping all five, 2*3/(5+3) = 0.75.
        let mut ranked = vec![(0.3, false), (0.9, true), (0.2, true), (0.8, true), (0.25, false)];
        let logit = super::f1_best_logit(&mut ranked, 3).unwrap();
        let want = 0.5 * ((0.8f32 / 0.2).ln() + (0.3f32 / 0.7).ln());
        assert!((logit - want).abs() < 1e-5, "{logit} {want}");
        // Nothing found: no threshold.
        assert_eq!(super::f1_best_logit(&mut [(0.5, false)], 2), None);
    }
}
