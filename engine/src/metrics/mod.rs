//! Metrics that compare what was found with the truth: onsets matched within a tolerance,
//! detections ranked for average precision, correlation. A leaf: it imports nothing of the
//! engine, and both the predictor's validation and the evaluation use it.

mod correlation;
mod onsets;

pub use correlation::pearson;
pub use onsets::{OnsetScores, average_precision, match_onsets, rank_detections};
