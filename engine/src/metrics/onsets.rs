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
    /// |detected - true| of every matched pair, seconds, ascending.
    pub errors_s: Vec<f64>,
    /// The matched pairs: (index into the truth, index into the detections), closest first.
    pub pairs: Vec<(usize, usize)>,
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
    let mut matched = Vec::new();
    for (distance, i, j) in pairs {
        if !used_truth[i] && !used_detected[j] {
            used_truth[i] = true;
            used_detected[j] = true;
            errors.push(distance);
            matched.push((i, j));
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
        errors_s: errors,
        pairs: matched,
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

/// Detections of one recording ranked for average precision: each detection's confidence and
/// whether it is a true positive (matched, in descending confidence, to the nearest unmatched
/// true onset within `tolerance_s`).
#[must_use]
pub fn rank_detections(truth: &[f64], detected: &[(f64, f32)], tolerance_s: f64) -> Vec<(f32, bool)> {
    let mut order: Vec<usize> = (0..detected.len()).collect();
    order.sort_by(|&a, &b| detected[b].1.total_cmp(&detected[a].1));
    let mut used = vec![false; truth.len()];
    order
        .into_iter()
        .map(|j| {
            let (time, confidence) = detected[j];
            let nearest = truth
                .iter()
                .enumerate()
                .filter(|(i, t)| !used[*i] && (*t - time).abs() <= tolerance_s)
                .min_by(|a, b| (a.1 - time).abs().total_cmp(&(b.1 - time).abs()))
                .map(|(i, _)| i);
            if let Some(i) = nearest {
                used[i] = true;
            }
            (confidence, nearest.is_some())
        })
        .collect()
}

/// Average precision of ranked detections pooled over recordings with `n_true` true onsets in
/// all: the mean, over true onsets, of the precision at the rank where each is found (onsets never
/// found count as zero).
#[must_use]
pub fn average_precision(ranked: &mut [(f32, bool)], n_true: usize) -> f64 {
    if n_true == 0 {
        return f64::from(u8::from(ranked.iter().all(|r| !r.1)));
    }
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut found = 0usize;
    let mut sum = 0.0;
    for (rank, &(_, hit)) in ranked.iter().enumerate() {
        if hit {
            found += 1;
            sum += found as f64 / (rank + 1) as f64;
        }
    }
    sum / n_true as f64
}

#[cfg(test)]
mod ap_tests {
    use super::*;

    #[test]
    fn perfect_ranking_has_ap_one_and_false_alarms_ranked_first_lower_it() {
        let truth = [1.0, 2.0];
        let mut good = rank_detections(&truth, &[(1.01, 0.9), (2.02, 0.8), (3.0, 0.1)], 0.1);
        assert!((average_precision(&mut good, 2) - 1.0).abs() < 1e-12);
        let mut bad = rank_detections(&truth, &[(1.01, 0.5), (2.02, 0.4), (3.0, 0.9)], 0.1);
        // Precision 1/2 at the first hit, 2/3 at the second.
        assert!((average_precision(&mut bad, 2) - (0.5 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
        // A missed onset counts as zero.
        let mut half = rank_detections(&truth, &[(1.0, 0.9)], 0.1);
        assert!((average_precision(&mut half, 2) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn one_true_onset_matches_one_detection_only() {
        let ranked = rank_detections(&[1.0], &[(1.0, 0.9), (1.02, 0.8)], 0.1);
        assert_eq!(ranked, vec![(0.9, true), (0.8, false)]);
    }
}
