//! Evaluation: metrics against ground truth, and the test material they are measured on.

pub mod bootstrap;
mod figures;
mod hit_bench;
mod rate_spread;
mod report;
mod report_files;
mod silent;
mod thresholds;
mod track_scores;

pub use hit_bench::{HitBenchCondition, HitBenchScene, hit_bench_clips, hit_bench_scenes};
pub use rate_spread::SpreadScores;
pub use report::{Comparison, EvalOptions, EvalProgress, EvalReport, evaluate_synthesis};
pub use silent::{SilentScores, SwingScores};
pub use thresholds::{SWEPT_THRESHOLDS, ThresholdScores, ThresholdSweep};
pub use track_scores::{MaterialScores, MethodScores, TOLERANCE_S, TrackScorer};
