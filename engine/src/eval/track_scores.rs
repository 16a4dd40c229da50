//! Scoring a made sound track against a video's real sound and labelled contacts, with the
//! metrics of Owens et al. and CondFoleyGen: hit average precision and accuracy within +-0.1 s,
//! median timing error, material and action accuracy of the clips placed on matched hits,
//! the correlation of loudness at the contacts, and the distance between the cochleagram of the
//! made track and the real one.

use serde::Serialize;

use super::bootstrap::{HitFigures, VideoHits};
use crate::data::Contact;
use crate::metrics::{match_onsets, pearson, rank_detections};
use crate::retrieval::{hit_window, loudness};
use crate::sound::Cochleagram;
use crate::synthesis::PlacedHit;

/// Tolerance for a placed hit to count, seconds.
pub const TOLERANCE_S: f64 = 0.1;

/// One method's figures over a split.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodScores {
    pub method: String,
    pub videos: usize,
    pub contacts: usize,
    pub hits_placed: usize,
    /// Average precision: of the hit detector's candidates ranked by prominence where the hits
    /// came from a predicted cochleagram, else of the placed hits ranked by strength.
    pub hit_ap: f64,
    /// Matched contacts over labelled contacts.
    pub hit_accuracy: f64,
    pub hit_f1: f64,
    pub median_error_ms: Option<f64>,
    /// Over matched hits whose contact is labelled; `None` where the method places no labelled clips.
    pub material_accuracy: Option<f64>,
    pub action_accuracy: Option<f64>,
    /// Pearson correlation of the made and real loudness (dB) at matched contacts.
    pub loudness_correlation: Option<f64>,
    /// Mean over steps of the squared distance (summed over bands) between the cochleagram of
    /// the made track and the real one.
    pub cochleagram_distance: f64,
    /// Contacts that got a hit in time with a clip of the right material, over all labelled
    /// contacts: timing and material together.
    pub correct_hits: f64,
    /// F1 of the same: recall is `correct_hits`, precision the share of placed hits that are in
    /// time with the right material, so a method that places many false hits scores low.
    pub correct_f1: f64,
    /// Per labelled material: contacts, matched hits, matched hits with the right material.
    pub per_material: Vec<MaterialScores>,
}

/// One material's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaterialScores {
    pub material: String,
    pub contacts: usize,
    pub matched: usize,
    pub right_material: usize,
}

/// Accumulates one method's results video by video.
#[derive(Debug, Default, Clone)]
pub struct TrackScorer {
    errors: Vec<f64>,
    material: (usize, usize),
    action: (usize, usize),
    loud_real: Vec<f64>,
    loud_made: Vec<f64>,
    distance_sum: f64,
    steps: usize,
    correct: usize,
    per_material: std::collections::BTreeMap<String, (usize, usize, usize)>,
    /// Each video's contacts, placed hits and ranked candidates: the hit figures pool them.
    per_video: Vec<VideoHits>,
}

fn db(v: f32) -> f64 {
    20.0 * f64::from(v.max(1e-6)).log10()
}

impl TrackScorer {
    /// Adds one video: its contacts, the placed hits, the detections that rank for average
    /// precision (`(time, confidence)`; `None` ranks the placed hits by strength), its real
    /// cochleagram and that of the made track (both on the video's step grid). Returns how many
    /// of the hits matched a contact.
    pub fn add(
        &mut self,
        truth: &[Contact],
        hits: &[PlacedHit],
        ranking: Option<&[(f64, f32)]>,
        real: &Cochleagram,
        made: &Cochleagram,
        compression: f64,
    ) -> usize {
        let truth_times: Vec<f64> = truth.iter().map(|c| c.time_s).collect();
        let times: Vec<f64> = hits.iter().map(|h| h.time_s).collect();
        let scores = match_onsets(&truth_times, &times, TOLERANCE_S);
        let placed: Vec<(f64, f32)> = hits.iter().map(|h| (h.time_s, h.strength)).collect();
        let ranked = rank_detections(&truth_times, ranking.unwrap_or(&placed), TOLERANCE_S);
        self.per_video.push(VideoHits {
            contacts: truth.len(),
            placed: hits.len(),
            matched: scores.pairs.len(),
            ranked,
        });
        self.errors.extend(&scores.errors_s);
        for contact in truth {
            let key = contact.material.clone().unwrap_or_else(|| "(unlabelled)".into());
            self.per_material.entry(key).or_default().0 += 1;
        }
        for &(i, j) in &scores.pairs {
            let (contact, hit) = (&truth[i], &hits[j]);
            let key = contact.material.clone().unwrap_or_else(|| "(unlabelled)".into());
            let right = contact.material.is_some() && contact.material == hit.material;
            let entry = self.per_material.entry(key).or_default();
            entry.1 += 1;
            entry.2 += usize::from(right);
            self.correct += usize::from(right);
            if let (Some(want), Some(got)) = (&contact.material, &hit.material) {
                self.material.1 += 1;
                self.material.0 += usize::from(want == got);
            }
            if let (Some(want), Some(got)) = (&contact.action, &hit.action) {
                self.action.1 += 1;
                self.action.0 += usize::from(want.as_str() == got);
            }
            self.loud_real.push(db(loudness(&hit_window(real, contact.time_s), real.bands, compression)));
            self.loud_made.push(db(loudness(&hit_window(made, contact.time_s), made.bands, compression)));
        }
        let steps = real.steps().min(made.steps());
        for i in 0..steps {
            self.distance_sum +=
                real.row(i).iter().zip(made.row(i)).map(|(a, b)| f64::from(a - b).powi(2)).sum::<f64>();
        }
        self.steps += steps;
        scores.pairs.len()
    }

    /// Each video's hits so far, in the order added: what the bootstrap draws from.
    #[must_use]
    pub fn videos(&self) -> &[VideoHits] {
        &self.per_video
    }

    /// The figures so far.
    #[must_use]
    pub fn scores(&self, method: &str) -> MethodScores {
        let contacts: usize = self.per_video.iter().map(|v| v.contacts).sum();
        let placed: usize = self.per_video.iter().map(|v| v.placed).sum();
        let hits = HitFigures::pooled(&self.per_video, 0..self.per_video.len());
        let correct_recall = self.correct as f64 / contacts.max(1) as f64;
        let mut errors = self.errors.clone();
        errors.sort_by(f64::total_cmp);
        let share = |(right, total): (usize, usize)| (total > 0).then(|| right as f64 / total as f64);
        MethodScores {
            method: method.to_owned(),
            videos: self.per_video.len(),
            contacts,
            hits_placed: placed,
            hit_ap: hits.hit_ap,
            hit_accuracy: hits.hit_accuracy,
            hit_f1: hits.hit_f1,
            median_error_ms: errors.get(errors.len() / 2).map(|e| e * 1000.0),
            material_accuracy: share(self.material),
            action_accuracy: share(self.action),
            loudness_correlation: pearson(&self.loud_real, &self.loud_made),
            cochleagram_distance: self.distance_sum / self.steps.max(1) as f64,
            correct_hits: correct_recall,
            correct_f1: f1(self.correct as f64 / placed.max(1) as f64, correct_recall),
            per_material: self
                .per_material
                .iter()
                .map(|(m, &(contacts, matched, right_material))| MaterialScores {
                    material: m.clone(),
                    contacts,
                    matched,
                    right_material,
                })
                .collect(),
        }
    }
}

pub(super) fn f1(precision: f64, recall: f64) -> f64 {
    if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Action;

    fn contact(t: f64, m: &str) -> Contact {
        Contact { time_s: t, material: Some(m.into()), action: Some(Action::Hit), reaction: None }
    }

    fn hit(t: f64, m: &str, strength: f32) -> PlacedHit {
        PlacedHit {
            time_s: t,
            material: Some(m.into()),
            action: Some("hit".into()),
            strength,
            clip: None,
            gain_db: 0.0,
            x: None,
        }
    }

    #[test]
    fn matched_hits_are_scored_for_timing_and_material() {
        let c = Cochleagram { start_s: 0.0, rate_hz: 90.0, bands: 2, data: vec![0.5; 2 * 300] };
        let truth = [contact(1.0, "wood"), contact(2.0, "metal"), contact(3.0, "wood")];
        // One exact wood hit, one metal contact given glass 20 ms late, one false hit, one missed.
        let hits = [hit(1.0, "wood", 3.0), hit(2.02, "glass", 2.0), hit(2.6, "wood", 1.0)];
        let mut scorer = TrackScorer::default();
        scorer.add(&truth, &hits, None, &c, &c, 0.3);
        let s = scorer.scores("test");
        assert_eq!((s.contacts, s.hits_placed), (3, 3));
        assert!((s.hit_accuracy - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(s.material_accuracy, Some(0.5));
        assert_eq!(s.action_accuracy, Some(1.0));
        assert!((s.median_error_ms.unwrap() - 20.0).abs() < 1e-6);
        // Both true hits rank above the false one: AP = (1 + 1) / 3.
        assert!((s.hit_ap - 2.0 / 3.0).abs() < 1e-9, "{}", s.hit_ap);
        assert_eq!(s.cochleagram_distance, 0.0);
        // Only the wood hit at 1.0 s is in time and of the right material.
        assert!((s.correct_hits - 1.0 / 3.0).abs() < 1e-9);
        assert!((s.correct_f1 - 1.0 / 3.0).abs() < 1e-9);
        let wood = s.per_material.iter().find(|m| m.material == "wood").unwrap();
        assert_eq!((wood.contacts, wood.matched, wood.right_material), (2, 1, 1));

        // Hits sprayed between the contacts leave the correct hits as they are but lower their F1.
        let mut sprayed: Vec<PlacedHit> = hits.to_vec();
        sprayed.extend((0..9).map(|k| hit(1.3 + 0.15 * f64::from(k), "wood", 0.5)));
        let mut scorer = TrackScorer::default();
        scorer.add(&truth, &sprayed, None, &c, &c, 0.3);
        let s = scorer.scores("sprayed");
        assert!((s.correct_hits - 1.0 / 3.0).abs() < 1e-9);
        // Precision 1 / 12, recall 1 / 3.
        assert!((s.correct_f1 - 2.0 / 15.0).abs() < 1e-9, "{}", s.correct_f1);
    }

    #[test]
    fn each_video_s_hits_pooled_again_give_the_scorer_s_figures() {
        let c = Cochleagram { start_s: 0.0, rate_hz: 90.0, bands: 2, data: vec![0.5; 2 * 300] };
        let mut scorer = TrackScorer::default();
        scorer.add(
            &[contact(1.0, "wood"), contact(2.0, "wood")],
            &[hit(1.01, "wood", 0.4), hit(2.5, "wood", 0.9)],
            None,
            &c,
            &c,
            0.3,
        );
        scorer.add(&[contact(0.5, "metal")], &[hit(0.5, "metal", 0.7)], None, &c, &c, 0.3);
        scorer.add(&[], &[hit(1.5, "glass", 0.2)], None, &c, &c, 0.3);
        let s = scorer.scores("all");
        let videos = scorer.videos();
        assert_eq!(
            videos.iter().map(|v| (v.contacts, v.placed, v.matched)).collect::<Vec<_>>(),
            [(2, 2, 1), (1, 1, 1), (0, 1, 0)]
        );
        let pooled = super::super::bootstrap::HitFigures::pooled(videos, 0..videos.len());
        assert_eq!((pooled.hit_ap, pooled.hit_accuracy, pooled.hit_f1), (s.hit_ap, s.hit_accuracy, s.hit_f1));
        assert!(s.hit_ap > 0.0 && s.hit_ap < 1.0, "{}", s.hit_ap);
    }
}
