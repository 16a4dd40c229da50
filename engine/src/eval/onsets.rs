//! Scoring detected onsets against true ones with a time tolerance (the CondFoleyGen protocol:
//! a detection within +-0.1 s of a true onset is correct).

use serde::Serialize;

/// Precision, recall, F1 and timing of detections against the truth.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OnsetScores {
    pub n_true: usize,
    pub n_detected: usize,
    pub n_matched: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Median of |detected - true| over matched pairs, seconds (`None` if nothing matched).
    pub median_error_s: Option<f64>,
}

/// Matches detections to true onsets one to one, closest pairs first, within `tolerance_s`.
#[must_use]
pub fn match_onsets(truth: &[f64], detected: &[f64], tolerance_s: f64) -> OnsetScores {
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (i, t) in truth.iter().enumerate() {
        for (j, d) in detected.iter().enumerate() {
            let distance = (t - d).abs();
            if distance <= tolerance_s {
                pairs.push((distance, i, j));
            }
        }
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut used_truth, mut used_detected) = (vec![false; truth.len()], vec![false; detected.len()]);
    let mut errors = Vec::new();
    for (distance, i, j) in pairs {
        if !used_truth[i] && !used_detected[j] {
            used_truth[i] = true;
            used_detected[j] = true;
            errors.push(distance);
        }
    }
    let n_matched = errors.len();
    // With nothing detected precision is 1 only if there was nothing to detect; likewise recall.
    let precision = match detected.len() {
        0 => f64::from(u8::from(truth.is_empty())),
        d => n_matched as f64 / d as f64,
    };
    let recall = match truth.len() {
        0 => 1.0,
        t => n_matched as f64 / t as f64,
    };
    let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
    errors.sort_by(f64::total_cmp);
    OnsetScores {
        n_true: truth.len(),
        n_detected: detected.len(),
        n_matched,
        precision,
        recall,
        f1,
        median_error_s: (!errors.is_empty()).then(|| errors[errors.len() / 2]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_scores() {
        // Truth 1, 2, 3; detections 1.01 (hit), 2.2 (too far), 2.95 (hit), 5 (false).
        let s = match_onsets(&[1.0, 2.0, 3.0], &[1.01, 2.2, 2.95, 5.0], 0.1);
        assert_eq!((s.n_matched, s.n_true, s.n_detected), (2, 3, 4));
        assert!((s.precision - 0.5).abs() < 1e-12);
        assert!((s.recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((s.f1 - 4.0 / 7.0).abs() < 1e-12);
        // Errors 0.01 and 0.05: the upper median.
        assert!((s.median_error_s.unwrap() - 0.05).abs() < 1e-12);
        // One detection cannot serve two true onsets.
        let s = match_onsets(&[1.0, 1.05], &[1.02], 0.1);
        assert_eq!(s.n_matched, 1);
        let none = match_onsets(&[], &[], 0.1);
        assert_eq!((none.precision, none.recall, none.f1), (1.0, 1.0, 1.0));
    }
}
