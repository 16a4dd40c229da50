//! Scoring predicted cochleagrams against the real ones and the labelled contacts: the loss,
//! per-step error, per-band correlation, and hit detection on the prediction (F1, accuracy and
//! median timing error of the detected hits within +-0.1 s; average precision over the detector's
//! candidates, as its margin is swept). A model with a contact head is scored on the hits of its
//! head, which is what the synthesis places; one without, on the hits of its cochleagram.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use super::PredictError;
use super::bundle::{ModelBundle, ValidationMetrics};
use super::contacts::ContactParams;
use super::dataset::{Example, load_example};
use super::inference::{InferenceWeights, contact_probabilities};
use super::predicted::PredictedSound;
use crate::data::{GreatestHits, Split};
use crate::metrics::{average_precision, match_onsets, rank_detections};
use crate::sound::{Cochleagram, HitParams};
use crate::vision::FrameEncoder;

/// Tolerance for a detected hit to count, seconds (CondFoleyGen's protocol).
pub const HIT_TOLERANCE_S: f64 = 0.1;

/// A set of weights scored on examples, with what detection needs to be scored again.
pub struct Scored {
    pub metrics: ValidationMetrics,
    /// With a contact head, the logit of the highest threshold on its candidates whose F1 is
    /// within `F1_TOLERANCE` of the best.
    pub chosen_logit: Option<f32>,
    /// Each example's prediction, kept so that detection can be scored again.
    predictions: Vec<ValidationPrediction>,
}

/// One example's predicted sound and, with a contact head, its contact logits: moving the head's
/// bias only shifts the logits, so the network need not run again.
struct ValidationPrediction {
    sound: PredictedSound,
    logits: Option<Vec<f32>>,
}

impl Scored {
    /// The metrics of the same weights with the contact head's bias moved by `shift`: the
    /// detection changes; the loss and the cochleagram's scores are those of the unmoved head.
    pub fn with_contact_bias_moved(&self, examples: &[Example], shift: f32) -> ValidationMetrics {
        let moved: Vec<PredictedSound> = self
            .predictions
            .iter()
            .map(|p| PredictedSound {
                cochleagram: p.sound.cochleagram.clone(),
                contact: p.logits.as_ref().map(|l| contact_probabilities(l, shift)),
            })
            .collect();
        let (detection, _) = detect(&moved.iter().collect::<Vec<_>>(), examples);
        detection.apply(&self.metrics)
    }
}

/// Predicts every example whole and scores the predictions, pooled over examples. With a contact
/// head, also gives the logit of the highest threshold on its candidates whose F1 is within
/// `F1_TOLERANCE` of the best.
pub fn score(
    weights: &InferenceWeights,
    examples: &[Example],
    eps: f64,
    contact_weight: f64,
    epoch: usize,
) -> Result<Scored, PredictError> {
    let bands = weights.config.bands;
    let rate = crate::timeline::FEATURE_RATE_HZ;
    let (mut loss_sum, mut mse_sum, mut steps_total) = (0.0, 0.0, 0usize);
    let mut correlations = Vec::new();
    let mut predictions = Vec::with_capacity(examples.len());
    for e in examples {
        let raw = weights.run_video(&e.features, &e.step_frame)?;
        let (pred, logits) = weights.split_outputs(raw);
        for (p, t) in pred.chunks_exact(bands).zip(e.target.chunks_exact(bands)) {
            let sq: f64 = p.iter().zip(t).map(|(a, b)| f64::from(a - b).powi(2)).sum();
            loss_sum += (eps + sq).ln();
            mse_sum += sq;
        }
        let contact = logits.as_ref().map(|l| contact_probabilities(l, 0.0));
        if let Some(p) = &contact {
            loss_sum += contact_weight * cross_entropy_sum(p, &e.contact_target);
        }
        steps_total += e.steps();
        for band in 0..bands {
            let p: Vec<f64> = pred.iter().skip(band).step_by(bands).map(|&v| f64::from(v)).collect();
            let t: Vec<f64> = e.target.iter().skip(band).step_by(bands).map(|&v| f64::from(v)).collect();
            if let Some(r) = crate::metrics::pearson(&p, &t) {
                correlations.push(r);
            }
        }
        let cochleagram = Cochleagram { start_s: 0.0, rate_hz: rate, bands, data: pred };
        predictions.push(ValidationPrediction { sound: PredictedSound { cochleagram, contact }, logits });
    }
    let steps = steps_total.max(1) as f64;
    let sounds: Vec<&PredictedSound> = predictions.iter().map(|p| &p.sound).collect();
    let (detection, mut ranked) = detect(&sounds, examples);
    let chosen_logit = if weights.config.contact_head { threshold_logit(&mut ranked, detection.truth) } else { None };
    let metrics = detection.apply(&ValidationMetrics {
        epoch,
        loss: loss_sum / steps,
        mse_per_step: mse_sum / steps,
        band_correlation: if correlations.is_empty() {
            0.0
        } else {
            correlations.iter().sum::<f64>() / correlations.len() as f64
        },
        ..ValidationMetrics::default()
    });
    Ok(Scored { metrics, chosen_logit, predictions })
}

/// Hit detection pooled over examples.
struct Detection {
    f1: f64,
    accuracy: f64,
    ap: f64,
    median_error_ms: Option<f64>,
    /// Labelled contacts in all.
    truth: usize,
}

impl Detection {
    fn apply(&self, metrics: &ValidationMetrics) -> ValidationMetrics {
        ValidationMetrics {
            hit_f1: self.f1,
            hit_accuracy: self.accuracy,
            hit_ap: self.ap,
            hit_median_error_ms: self.median_error_ms,
            ..metrics.clone()
        }
    }
}

/// Scores the hits of each predicted sound against its example's contacts; also gives every
/// candidate ranked, matched or not.
fn detect(sounds: &[&PredictedSound], examples: &[Example]) -> (Detection, Vec<(f32, bool)>) {
    let (hit_params, contact_params) = (HitParams::default(), ContactParams::default());
    let (mut truth_total, mut detected_total) = (0usize, 0usize);
    let mut errors = Vec::new();
    let mut ranked = Vec::new();
    for (predicted, e) in sounds.iter().zip(examples) {
        let times: Vec<f64> = predicted.hits(&hit_params, &contact_params).iter().map(|h| h.time_s).collect();
        let truth: Vec<f64> = e.contacts.iter().map(|c| c.time_s).collect();
        truth_total += truth.len();
        detected_total += times.len();
        errors.extend(match_onsets(&truth, &times, HIT_TOLERANCE_S).errors_s);
        // AP sweeps the detector's margin.
        ranked.extend(rank_detections(&truth, &predicted.candidates(&hit_params, &contact_params), HIT_TOLERANCE_S));
    }
    let matched = errors.len();
    let precision = matched as f64 / detected_total.max(1) as f64;
    let recall = matched as f64 / truth_total.max(1) as f64;
    errors.sort_by(f64::total_cmp);
    let detection = Detection {
        f1: if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 },
        accuracy: recall,
        ap: average_precision(&mut ranked, truth_total),
        median_error_ms: errors.get(errors.len() / 2).map(|e| e * 1000.0),
        truth: truth_total,
    };
    (detection, ranked)
}

/// F1 a threshold may give up for a higher one. Near its top the F1 of a few dozen validation
/// videos is flat, so where in that flat stretch its maximum falls is noise; of thresholds that
/// detect about as well the highest invents fewest hits, and an invented hit is heard where a
/// missed one is silence.
pub const F1_TOLERANCE: f64 = 0.01;

/// Of ranked candidates (confidence a probability), the logit of the highest threshold whose F1
/// against `n_true` true onsets is within `F1_TOLERANCE` of the best: midway, in logits, between
/// the last candidate kept and the first one dropped.
fn threshold_logit(ranked: &mut [(f32, bool)], n_true: usize) -> Option<f32> {
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut found = 0usize;
    let f1s: Vec<f64> = ranked
        .iter()
        .enumerate()
        .map(|(k, &(_, hit))| {
            found += usize::from(hit);
            2.0 * found as f64 / (k + 1 + n_true) as f64
        })
        .collect();
    let best = f1s.iter().copied().fold(0.0, f64::max);
    if best <= 0.0 {
        return None;
    }
    let kept = f1s.iter().position(|&f1| f1 >= best - F1_TOLERANCE)?;
    let logit = |p: f32| {
        let p = p.clamp(1e-6, 1.0 - 1e-6);
        (p / (1.0 - p)).ln()
    };
    let low = logit(ranked[kept].0);
    Some(ranked.get(kept + 1).map_or(low - 1.0, |next| 0.5 * (low + logit(next.0))))
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
        let layout = bundle.manifest.config.layout();
        let mut example = load_example(entry, encoder, layout, cache, &bundle.manifest.cochleagram, cancel)?;
        super::centring::centre_video(&bundle.manifest.config, &example.times, &mut example.features);
        examples.push(example);
    }
    progress(entries.len(), entries.len());
    let weights = bundle.inference()?;
    let scored = score(&weights, &examples, 0.01, 0.0, bundle.manifest.validation.epoch)?;
    Ok((scored.metrics, examples.len()))
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng as _;

    use super::*;
    use crate::data::Contact;
    use crate::predict::dataset::contact_target;
    use crate::predict::model::{ModelConfig, Params};

    #[test]
    fn detection_scored_again_from_shifted_logits_is_that_of_the_moved_head() {
        let config = ModelConfig {
            input: 12,
            projection: 8,
            hidden: 6,
            layers: 1,
            bands: 42,
            contact_head: true,
            motion: 0,
            lookahead: 0,
            centring_ms: 0,
        };
        let mut params = Params::init(&config, &mut rand_chacha::ChaCha8Rng::seed_from_u64(5)).unwrap();
        // Logits that rise and fall clearly, so that no two candidates are ranked by a rounding.
        let w = params.vars["contact.w"].as_tensor().affine(40.0, 0.0).unwrap();
        params.vars.insert("contact.w".into(), candle_core::Var::from_tensor(&w).unwrap());
        let examples: Vec<Example> = (0..3_u32)
            .map(|k| {
                let features = (0..40 * 12).map(|i| ((i * 7919 + k * 131) % 97) as f32 / 48.0 - 1.0).collect();
                let contacts: Vec<Contact> = [0.2, 0.55, 0.9]
                    .iter()
                    .map(|&t| Contact { time_s: t + f64::from(k) * 0.05, material: None, action: None, reaction: None })
                    .collect();
                Example {
                    id: format!("v{k}"),
                    split: None,
                    features,
                    times: (0..40).map(|f| f64::from(f) / 30.0).collect(),
                    target: vec![0.1; 120 * 42],
                    step_frame: (0..120).map(|s| s / 3).collect(),
                    contact_target: contact_target(&contacts, 120, 90.0),
                    swing_nearness: vec![0.0; 120],
                    contacts,
                }
            })
            .collect();
        let scored = score(&InferenceWeights::new(&config, &params).unwrap(), &examples, 0.01, 1.0, 1).unwrap();
        let mut found_any = false;
        for shift in [1.0_f32, 3.0, 3.5, 4.0, 6.0] {
            let moved = params.with_contact_bias_moved(shift).unwrap();
            let again = score(&InferenceWeights::new(&config, &moved).unwrap(), &examples, 0.01, 1.0, 1).unwrap();
            let shifted = scored.with_contact_bias_moved(&examples, shift);
            let close = |a: f64, b: f64| (a - b).abs() < 1e-6;
            assert!(close(shifted.hit_f1, again.metrics.hit_f1), "{shifted:?} {again:?}", again = again.metrics);
            assert!(close(shifted.hit_accuracy, again.metrics.hit_accuracy));
            assert!(
                close(shifted.hit_ap, again.metrics.hit_ap),
                "shift {shift}: {} {}",
                shifted.hit_ap,
                again.metrics.hit_ap
            );
            match (shifted.hit_median_error_ms, again.metrics.hit_median_error_ms) {
                (Some(a), Some(b)) => assert!(close(a, b), "{a} {b}"),
                (a, b) => assert_eq!(a, b),
            }
            // The loss stays the unmoved head's.
            assert_eq!(shifted.loss, scored.metrics.loss);
            found_any |= shifted.hit_accuracy > 0.0;
        }
        assert!(found_any, "no shift gave a hit, so nothing was compared");
    }

    #[test]
    fn the_threshold_sits_between_the_last_kept_and_the_first_dropped_candidate() {
        // Keeping the first two gives F1 2*2/(2+3) = 0.8; keeping all five, 2*3/(5+3) = 0.75.
        let mut ranked = vec![(0.3, false), (0.9, true), (0.2, true), (0.8, true), (0.25, false)];
        let logit = threshold_logit(&mut ranked, 3).unwrap();
        let want = 0.5 * ((0.8f32 / 0.2).ln() + (0.3f32 / 0.7).ln());
        assert!((logit - want).abs() < 1e-5, "{logit} {want}");
        // Nothing found: no threshold.
        assert_eq!(threshold_logit(&mut [(0.5, false)], 2), None);
    }

    #[test]
    fn of_thresholds_about_as_good_the_highest_is_taken() {
        // 100 true onsets; the top 80 candidates are all hits (F1 2*80/180 = 0.8889), then a
        // false one and 2 hits more (2*82/183 = 0.8962, the best). Within 0.01 of the best, the
        // cut after the 80th candidate is the highest threshold (after the 79th: 2*79/179 =
        // 0.8827, too far below).
        let mut ranked: Vec<(f32, bool)> = (0..80).map(|i| (0.99 - 0.001 * i as f32, true)).collect();
        ranked.extend([(0.5, false), (0.45, true), (0.4, true)]);
        let logit = threshold_logit(&mut ranked, 100).unwrap();
        let at = |p: f32| (p / (1.0 - p)).ln();
        let want = 0.5 * (at(0.99 - 0.001 * 79.0) + at(0.5));
        assert!((logit - want).abs() < 1e-4, "{logit} {want}");
    }
}
