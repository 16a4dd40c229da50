//! `results.csv`: one row per answer, appended and synced to disk before the next trial shows.
//! A file that is not a results file of this study is refused, never overwritten.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{StudyError, Trial};

pub const RESULTS_FILE: &str = "results.csv";
pub const RESULTS_HEADER: &str =
    "participant,trial,clip,method,real_side,chosen_side,chose_real,confidence,response_ms,answered_at";

/// One answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultRow {
    pub participant: String,
    pub trial: u32,
    pub clip: String,
    pub method: String,
    /// `A` or `B`.
    pub real_side: String,
    pub chosen_side: String,
    /// 1 when the chosen side held the real sound.
    pub chose_real: u8,
    /// 1 to 5, or empty.
    pub confidence: Option<u8>,
    pub response_ms: u64,
    /// RFC 3339.
    pub answered_at: String,
}

impl ResultRow {
    fn check(&self, trials: Option<&[Trial]>) -> Result<(), String> {
        if self.participant.trim().is_empty() {
            return Err("the participant is empty".into());
        }
        for (name, side) in [("real_side", &self.real_side), ("chosen_side", &self.chosen_side)] {
            if side != "A" && side != "B" {
                return Err(format!("{name} is `{side}`, not A or B"));
            }
        }
        if self.chose_real != u8::from(self.real_side == self.chosen_side) {
            return Err(format!(
                "chose_real is {} but the real sound was on {} and {} was chosen",
                self.chose_real, self.real_side, self.chosen_side
            ));
        }
        if self.confidence.is_some_and(|c| !(1..=5).contains(&c)) {
            return Err("confidence must be empty or 1 to 5".into());
        }
        time::OffsetDateTime::parse(&self.answered_at, &time::format_description::well_known::Rfc3339)
            .map_err(|e| format!("answered_at `{}` is not an RFC 3339 time: {e}", self.answered_at))?;
        if let Some(trials) = trials {
            let t = trials
                .get(self.trial.wrapping_sub(1) as usize)
                .ok_or_else(|| format!("trial {} is not in trials.csv", self.trial))?;
            if t.clip != self.clip || t.method != self.method {
                return Err(format!(
                    "trial {} is clip {} by {} in trials.csv, not clip {} by {}",
                    self.trial, t.clip, t.method, self.clip, self.method
                ));
            }
        }
        Ok(())
    }
}

/// Reads every row of a results file, checking each; `trials` (when given) must match.
pub fn read_results(path: &Path, trials: Option<&[Trial]>) -> Result<Vec<ResultRow>, StudyError> {
    let refused = |reason: String| StudyError::Refused {
        path: path.to_owned(),
        reason: format!("{reason}; it is not a results file of this study, so it is left as it is"),
    };
    let bytes = std::fs::read(path).map_err(|source| StudyError::Io { path: path.to_owned(), source })?;
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        return Err(refused("the last row is incomplete".into()));
    }
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(bytes.as_slice());
    let header = reader.headers().map_err(|e| refused(e.to_string()))?.iter().collect::<Vec<_>>().join(",");
    if header != RESULTS_HEADER {
        return Err(refused(format!("its header is `{header}`, expected `{RESULTS_HEADER}`")));
    }
    let mut rows = Vec::new();
    for (i, record) in reader.deserialize::<ResultRow>().enumerate() {
        let row = record.map_err(|e| refused(format!("line {}: {e}", i + 2)))?;
        row.check(trials).map_err(|e| refused(format!("line {}: {e}", i + 2)))?;
        rows.push(row);
    }
    Ok(rows)
}

/// A study's results file, open for appending.
#[derive(Debug)]
pub struct ResultsFile {
    path: PathBuf,
    file: std::fs::File,
}

impl ResultsFile {
    /// Opens `dir/results.csv` (created with its header if missing) after checking every row in
    /// it against `trials`. Returns the file and the rows already there.
    pub fn open(dir: &Path, trials: &[Trial]) -> Result<(Self, Vec<ResultRow>), StudyError> {
        let path = dir.join(RESULTS_FILE);
        let io = |source| StudyError::Io { path: path.clone(), source };
        let rows = if path.exists() {
            read_results(&path, Some(trials))?
        } else {
            let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&path).map_err(io)?;
            file.write_all(format!("{RESULTS_HEADER}\n").as_bytes()).map_err(io)?;
            file.sync_all().map_err(io)?;
            // The new file's name must reach the disk too.
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
            Vec::new()
        };
        let file = std::fs::OpenOptions::new().append(true).open(&path).map_err(io)?;
        Ok((Self { path, file }, rows))
    }

    /// Appends one answer and waits until it is on disk.
    pub fn append(&mut self, row: &ResultRow) -> Result<(), StudyError> {
        let io = |source| StudyError::Io { path: self.path.clone(), source };
        let mut line = Vec::new();
        {
            let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(&mut line);
            w.serialize(row).map_err(|e| io(std::io::Error::other(e)))?;
            w.flush().map_err(io)?;
        }
        // One write of the whole row, then fsync: a row is on disk whole before it counts.
        self.file.write_all(&line).map_err(io)?;
        self.file.sync_data().map_err(io)?;
        Ok(())
    }
}

/// Now, as RFC 3339 (UTC).
#[must_use]
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trials() -> Vec<Trial> {
        vec![
            Trial { trial: 1, clip: "c1".into(), method: "retrieval".into(), seconds: 4.0 },
            Trial { trial: 2, clip: "c2".into(), method: "retrieval".into(), seconds: 4.0 },
        ]
    }

    fn row(trial: u32, clip: &str) -> ResultRow {
        ResultRow {
            participant: "p1".into(),
            trial,
            clip: clip.into(),
            method: "retrieval".into(),
            real_side: "A".into(),
            chosen_side: "B".into(),
            chose_real: 0,
            confidence: Some(3),
            response_ms: 2100,
            answered_at: now_rfc3339(),
        }
    }

    #[test]
    fn answers_append_and_read_back_and_foreign_files_are_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let (mut file, rows) = ResultsFile::open(dir.path(), &trials()).unwrap();
        assert!(rows.is_empty());
        file.append(&row(1, "c1")).unwrap();
        let mut unsure = row(2, "c2");
        unsure.confidence = None;
        file.append(&unsure).unwrap();
        drop(file);
        let (_, rows) = ResultsFile::open(dir.path(), &trials()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].trial, rows[0].confidence, rows[1].trial, rows[1].confidence), (1, Some(3), 2, None));
        let text = std::fs::read_to_string(dir.path().join(RESULTS_FILE)).unwrap();
        assert!(text.starts_with(&format!("{RESULTS_HEADER}\np1,1,c1,retrieval,A,B,0,3,2100,")), "{text}");
        assert!(text.contains("p1,2,c2,retrieval,A,B,0,,2100,"), "{text}");

        for (content, expect) in [
            ("a,b,c\n1,2,3\n", "header"),
            (&*format!("{RESULTS_HEADER}\np1,1,c1,retrieval,A,B,1,3,5,2026-01-01T00:00:00Z\n"), "chose_real"),
            (&*format!("{RESULTS_HEADER}\np1,1,c2,retrieval,A,B,0,3,5,2026-01-01T00:00:00Z\n"), "trials.csv"),
            (&*format!("{RESULTS_HEADER}\np1,1,c1,retrieval,A,B,0,9,5,2026-01-01T00:00:00Z\n"), "confidence"),
            (&*format!("{RESULTS_HEADER}\np1,1,c1,retrieval,A,B,0,3,5,yesterday\n"), "RFC 3339"),
            (&*format!("{RESULTS_HEADER}\np1,1,c1,retr"), "incomplete"),
        ] {
            let path = dir.path().join(RESULTS_FILE);
            std::fs::write(&path, content).unwrap();
            let err = ResultsFile::open(dir.path(), &trials()).unwrap_err().to_string();
            assert!(err.contains(expect) && err.contains("results.csv"), "{expect}: {err}");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), content, "the refused file was changed");
        }
    }
}
