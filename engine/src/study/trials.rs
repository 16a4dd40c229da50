//! `trials.csv` (`trial,clip,method,seconds`) and `study.json` (the clips, their media and labels).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::StudyError;

pub const TRIALS_FILE: &str = "trials.csv";
pub const STUDY_FILE: &str = "study.json";
pub const TRIALS_HEADER: &str = "trial,clip,method,seconds";

/// One trial: a clip with its real sound and with the sound of one method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// From 1.
    pub trial: u32,
    pub clip: String,
    pub method: String,
    pub seconds: f64,
}

/// A clip of the study and its media, relative to the study folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyClip {
    pub clip: String,
    /// The picture (no sound).
    pub video: PathBuf,
    /// Where in the picture the clip starts, seconds; its sounds start there too. Studies
    /// prepared before clips had a start begin at 0.
    #[serde(default)]
    pub start_s: f64,
    /// The real sound, 48 kHz WAV.
    pub real: PathBuf,
    /// Per method, its predicted sound.
    pub predicted: Vec<(String, PathBuf)>,
    /// The most common material of the clip's contacts.
    pub material: Option<String>,
    /// The video it was cut from.
    pub source: PathBuf,
}

/// `study.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudySettings {
    /// Always `"foley-study"`.
    pub format: String,
    pub version: u32,
    /// Seeds the clips' choice, the trial order and every participant's sides.
    pub seed: u64,
    pub seconds: f64,
    pub methods: Vec<String>,
    pub clips: Vec<StudyClip>,
}

impl StudySettings {
    #[must_use]
    pub fn clip(&self, name: &str) -> Option<&StudyClip> {
        self.clips.iter().find(|c| c.clip == name)
    }
}

/// Reads `study.json` from a study folder.
pub fn read_study(dir: &Path) -> Result<StudySettings, StudyError> {
    let path = dir.join(STUDY_FILE);
    let text = std::fs::read_to_string(&path).map_err(|source| StudyError::Io { path: path.clone(), source })?;
    let settings: StudySettings = serde_json::from_str(&text)
        .map_err(|e| StudyError::Refused { path: path.clone(), reason: format!("not a foley study: {e}") })?;
    if settings.format != "foley-study" || settings.version != 1 {
        return Err(StudyError::Refused { path, reason: "not a foley study of a version this foley reads".into() });
    }
    Ok(settings)
}

/// Reads `trials.csv`: the header, trial numbers 1, 2, 3... in order.
pub fn read_trials(dir: &Path) -> Result<Vec<Trial>, StudyError> {
    let path = dir.join(TRIALS_FILE);
    let mut reader = csv::ReaderBuilder::new().from_path(&path).map_err(|e| StudyError::Line {
        path: path.clone(),
        line: 1,
        problem: e.to_string(),
    })?;
    let header = reader
        .headers()
        .map_err(|e| StudyError::Line { path: path.clone(), line: 1, problem: e.to_string() })?
        .iter()
        .collect::<Vec<_>>()
        .join(",");
    if header != TRIALS_HEADER {
        return Err(StudyError::Line {
            path,
            line: 1,
            problem: format!("the header is `{header}`, expected `{TRIALS_HEADER}`"),
        });
    }
    let mut trials = Vec::new();
    for (i, row) in reader.deserialize::<Trial>().enumerate() {
        let trial = row.map_err(|e| StudyError::Line { path: path.clone(), line: i + 2, problem: e.to_string() })?;
        if trial.trial as usize != i + 1 {
            return Err(StudyError::Line {
                path: path.clone(),
                line: i + 2,
                problem: format!("trial {} where {} was expected", trial.trial, i + 1),
            });
        }
        trials.push(trial);
    }
    Ok(trials)
}
