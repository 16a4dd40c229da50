//! The real-vs-predicted study (Owens et al.'s two-alternative test): trials of a clip played with
//! its real sound and with a predicted one, the side holding the real sound balanced per
//! participant, answers appended and synced one by one, and the report of how often the
//! predicted sound was taken for the real one.

mod error;
mod prepare;
mod report;
mod results;
mod sides;
mod trials;

pub use error::StudyError;
pub use prepare::{PrepareOptions, prepare_study};
pub use report::{GroupShare, StudyReport, report_study, wilson_interval, write_report};
pub use results::{RESULTS_FILE, RESULTS_HEADER, ResultRow, ResultsFile, now_rfc3339, read_results};
pub use sides::{real_sides, trial_order};
pub use trials::{STUDY_FILE, StudyClip, StudySettings, TRIALS_FILE, TRIALS_HEADER, Trial, read_study, read_trials};
