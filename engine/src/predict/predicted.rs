//! What the model predicts for a video: its cochleagram and, where the model has a contact head,
//! each step's contact probability; and the hits either gives.

use super::contacts::{ContactParams, contact_candidates, detect_contacts};
use crate::sound::{Cochleagram, Hit, HitParams, detect_hits};

/// A predicted cochleagram with, from a model with a contact head, the probability of a contact
/// at each of its steps.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictedSound {
    pub cochleagram: Cochleagram,
    /// One probability per step of `cochleagram`.
    pub contact: Option<Vec<f32>>,
}

impl PredictedSound {
    /// A prediction without contact probabilities: hits come from the cochleagram's rises.
    #[must_use]
    pub fn from_cochleagram(cochleagram: Cochleagram) -> Self {
        Self { cochleagram, contact: None }
    }

    /// The hits: from the contact probabilities where there are some, else from the rises of the
    /// cochleagram. Either way a hit's strength is the detector's confidence.
    #[must_use]
    pub fn hits(&self, hit_params: &HitParams, contact_params: &ContactParams) -> Vec<Hit> {
        predicted_hits(&self.cochleagram, self.contact.as_deref(), hit_params, contact_params)
    }

    /// Every candidate hit as `(time_s, confidence)`, from the same detector as
    /// [`PredictedSound::hits`]: cutting the ranking anywhere gives the detector at some
    /// threshold, so it serves for average precision.
    #[must_use]
    pub fn candidates(&self, hit_params: &HitParams, contact_params: &ContactParams) -> Vec<(f64, f32)> {
        match &self.contact {
            Some(p) => contact_candidates(p, self.cochleagram.rate_hz, contact_params.min_gap_s)
                .into_iter()
                .map(|h| (h.time_s, h.strength))
                .collect(),
            None => crate::sound::candidate_detections(&self.cochleagram, hit_params),
        }
    }
}

/// [`PredictedSound::hits`] of a cochleagram and contact probabilities held apart.
#[must_use]
pub fn predicted_hits(
    cochleagram: &Cochleagram,
    contact: Option<&[f32]>,
    hit_params: &HitParams,
    contact_params: &ContactParams,
) -> Vec<Hit> {
    match contact {
        Some(p) => detect_contacts(p, cochleagram.rate_hz, contact_params),
        None => detect_hits(cochleagram, hit_params),
    }
}
