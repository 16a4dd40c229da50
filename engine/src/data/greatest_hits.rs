//! The Greatest Hits layout (Owens et al. 2016), exactly as the released dataset has it, so users
//! can point foley at the real thing and at data foley generates alike.
//!
//! Per video id (a timestamp such as `2015-02-16-16-49-06`): `{id}_denoised.mp4` (or
//! `{id}_mic.mp4`), `{id}_denoised.wav` (or `{id}_mic.wav`), and `{id}_times.txt`; the split
//! lists `train.txt` and `test.txt` name the ids, one a line. A times file has one contact a
//! line, whitespace-separated: time in seconds, material, contact type (`hit` / `scratch`) and
//! reaction (`static`, `rigid-motion`, `deform`, `scatter`, `splash`, ...), with `None` where a
//! field is unlabelled. Extra whitespace, blank lines and CRLF line ends are accepted; material
//! names outside the known list are kept as they are.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::DataError;

/// The materials of the released dataset.
pub const KNOWN_MATERIALS: &[&str] = &[
    "paper",
    "plastic-bag",
    "leaf",
    "tile",
    "drywall",
    "glass",
    "ceramic",
    "plastic",
    "grass",
    "carpet",
    "metal",
    "dirt",
    "water",
    "wood",
    "gravel",
    "rock",
    "cloth",
];

/// Materials of foley's own recordings and scenes that the released dataset does not name.
pub const EXTRA_MATERIALS: &[&str] = &["ice", "sand", "skin", "snow"];

/// Whether `material` is one of the released dataset's or foley's own.
#[must_use]
pub fn is_known_material(material: &str) -> bool {
    KNOWN_MATERIALS.contains(&material) || EXTRA_MATERIALS.contains(&material)
}

/// Which list a video is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Test,
}

/// The kind of contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Hit,
    Scratch,
    /// Any other label, kept as written.
    Other(String),
}

impl Action {
    /// The label as the times file writes it.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Hit => "hit",
            Self::Scratch => "scratch",
            Self::Other(label) => label,
        }
    }
}

/// One labelled contact of the stick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    /// Seconds on the video's timeline.
    pub time_s: f64,
    /// `None` where unlabelled.
    pub material: Option<String>,
    pub action: Option<Action>,
    pub reaction: Option<String>,
}

/// The material most of `contacts` are labelled with (on a tie, the one whose first contact comes
/// last), if any is.
#[must_use]
pub fn majority_material(contacts: &[Contact]) -> Option<String> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for m in contacts.iter().filter_map(|c| c.material.as_deref()) {
        match counts.iter_mut().find(|c| c.0 == m) {
            Some(c) => c.1 += 1,
            None => counts.push((m, 1)),
        }
    }
    counts.into_iter().max_by_key(|c| c.1).map(|c| c.0.to_owned())
}

/// One video of the dataset and its files.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VideoEntry {
    pub id: String,
    /// `{id}_denoised.mp4`, or `{id}_mic.mp4` when there is no denoised one.
    pub video: PathBuf,
    /// `{id}_denoised.wav` or `{id}_mic.wav`, if present (else the video's own track is the sound).
    pub audio: Option<PathBuf>,
    /// `{id}_times.txt`, if present.
    pub times: Option<PathBuf>,
    /// `None` for a video in neither list.
    pub split: Option<Split>,
}

impl VideoEntry {
    /// The labelled contacts, sorted by time; empty for a video without a times file.
    pub fn contacts(&self) -> Result<Vec<Contact>, DataError> {
        self.times.as_deref().map_or_else(|| Ok(Vec::new()), read_times)
    }

    /// What the generator noted of the scene beside the video (`{id}_scene.json`); nothing noted
    /// for a video without notes (real footage). Notes that are not JSON of that shape are an
    /// error naming the file and line, so a broken dataset is not read as one without notes.
    pub fn notes(&self) -> Result<VideoNotes, DataError> {
        let path = self.video.with_file_name(format!("{}_scene.json", self.id));
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(VideoNotes::default()),
            Err(source) => return Err(DataError::Read { path, source }),
        };
        serde_json::from_str(&text).map_err(|e| DataError::Line {
            path: path.clone(),
            line: e.line(),
            problem: format!("not scene notes: {e}"),
        })
    }
}

/// The generator's notes of a video that training and evaluation read (the file has more, for a
/// person checking the data).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct VideoNotes {
    /// What a video without contact shows instead (`swings`, `passing`, `pan`), if noted.
    #[serde(default)]
    pub negative: Option<String>,
    /// When the stick swings and stops short of the surface without a sound, seconds.
    #[serde(default)]
    pub swings: Vec<f64>,
    /// The camera's angle below the horizon, degrees, if noted.
    #[serde(default)]
    pub camera_pitch_deg: Option<f64>,
}

/// A dataset folder in the Greatest Hits layout.
#[derive(Debug, Clone)]
pub struct GreatestHits {
    pub root: PathBuf,
    /// Sorted by id.
    pub videos: Vec<VideoEntry>,
}

impl GreatestHits {
    /// Reads the folder's listing and split files (not the videos).
    pub fn open(root: impl AsRef<Path>) -> Result<Self, DataError> {
        let root = root.as_ref().to_path_buf();
        if !root.is_dir() {
            return Err(DataError::NotAFolder { path: root });
        }
        let names: BTreeSet<String> = std::fs::read_dir(&root)
            .map_err(|source| DataError::Read { path: root.clone(), source })?
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        let ids: BTreeSet<&str> = names
            .iter()
            .filter_map(|n| n.strip_suffix("_denoised.mp4").or_else(|| n.strip_suffix("_mic.mp4")))
            .collect();
        let mut splits: BTreeMap<String, Split> = BTreeMap::new();
        for (file, split) in [("train.txt", Split::Train), ("test.txt", Split::Test)] {
            let path = root.join(file);
            if !path.exists() {
                continue;
            }
            for (line, id) in read_lines(&path)? {
                if !ids.contains(id.as_str()) {
                    return Err(DataError::Line {
                        path: path.clone(),
                        line,
                        problem: format!(
                            "video {id} is listed but {id}_denoised.mp4 (or {id}_mic.mp4) is not in the folder"
                        ),
                    });
                }
                if let Some(previous) = splits.insert(id.clone(), split)
                    && previous != split
                {
                    return Err(DataError::Line {
                        path: path.clone(),
                        line,
                        problem: format!("video {id} is in both train.txt and test.txt"),
                    });
                }
            }
        }
        let pick = |id: &str, suffixes: &[&str]| {
            suffixes.iter().map(|s| format!("{id}{s}")).find(|n| names.contains(n)).map(|n| root.join(n))
        };
        let videos: Vec<VideoEntry> = ids
            .iter()
            .filter_map(|id| {
                Some(VideoEntry {
                    id: (*id).to_owned(),
                    video: pick(id, &["_denoised.mp4", "_mic.mp4"])?,
                    audio: pick(id, &["_denoised.wav", "_mic.wav"]),
                    times: pick(id, &["_times.txt"]),
                    split: splits.get(*id).copied(),
                })
            })
            .collect();
        if videos.is_empty() {
            return Err(DataError::Empty { path: root });
        }
        Ok(Self { root, videos })
    }

    /// The videos of one split.
    pub fn split(&self, split: Split) -> impl Iterator<Item = &VideoEntry> {
        self.videos.iter().filter(move |v| v.split == Some(split))
    }
}

/// Non-blank, trimmed lines with their 1-based numbers.
fn read_lines(path: &Path) -> Result<Vec<(usize, String)>, DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Read { path: path.to_path_buf(), source })?;
    let text = String::from_utf8(bytes).map_err(|e| DataError::Line {
        path: path.to_path_buf(),
        line: 1 + e.as_bytes()[..e.utf8_error().valid_up_to()].iter().filter(|&&b| b == b'\n').count(),
        problem: "not UTF-8 text".to_owned(),
    })?;
    Ok(text.lines().enumerate().map(|(i, l)| (i + 1, l.trim().to_owned())).filter(|(_, l)| !l.is_empty()).collect())
}

/// Reads a `{id}_times.txt` file; contacts sorted by time.
pub fn read_times(path: &Path) -> Result<Vec<Contact>, DataError> {
    let mut contacts = Vec::new();
    for (line, text) in read_lines(path)? {
        let bad = |problem: String| DataError::Line { path: path.to_path_buf(), line, problem };
        let fields: Vec<&str> = text.split_whitespace().collect();
        if fields.len() > 4 {
            return Err(bad(format!("{} fields; expected time, material, contact type and reaction", fields.len())));
        }
        let time_s: f64 = fields[0].parse().map_err(|_| bad(format!("{:?} is not a time in seconds", fields[0])))?;
        if !time_s.is_finite() || time_s < 0.0 {
            return Err(bad(format!("time {time_s} is not a non-negative number of seconds")));
        }
        let label = |i: usize| fields.get(i).filter(|f| !f.eq_ignore_ascii_case("none")).map(|f| (*f).to_owned());
        let action = label(2).map(|a| match a.to_ascii_lowercase().as_str() {
            "hit" => Action::Hit,
            "scratch" => Action::Scratch,
            _ => Action::Other(a),
        });
        contacts.push(Contact { time_s, material: label(1), action, reaction: label(3) });
    }
    contacts.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
    Ok(contacts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    #[test]
    fn times_files_with_the_real_quirks() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "t.txt",
            "  4.237 wood hit static\r\n\r\n1.5\tglass   scratch  None\r\n2.0 None None None\n3.25 unobtainium hit rigid-motion\n7 leaf hit\n",
        );
        let contacts = read_times(&dir.path().join("t.txt")).unwrap();
        let times: Vec<f64> = contacts.iter().map(|c| c.time_s).collect();
        assert_eq!(times, [1.5, 2.0, 3.25, 4.237, 7.0]);
        assert_eq!(contacts[0].material.as_deref(), Some("glass"));
        assert_eq!(contacts[0].action, Some(Action::Scratch));
        assert_eq!(contacts[0].reaction, None);
        assert_eq!(contacts[1], Contact { time_s: 2.0, material: None, action: None, reaction: None });
        // Unknown materials are kept, not dropped.
        assert_eq!(contacts[2].material.as_deref(), Some("unobtainium"));
        assert_eq!(contacts[3].reaction.as_deref(), Some("static"));
        assert_eq!(contacts[4].reaction, None);
    }

    #[test]
    fn malformed_times_name_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        for (text, line, problem) in [
            ("1.0 wood hit static\nabc wood hit static\n", 2, "is not a time"),
            ("\n\n-3 wood hit static\n", 3, "non-negative"),
            ("1 wood hit static extra\n", 1, "5 fields"),
        ] {
            write(dir.path(), "bad_times.txt", text);
            let err = read_times(&dir.path().join("bad_times.txt")).unwrap_err().to_string();
            assert!(
                err.contains("bad_times.txt") && err.contains(&format!("line {line}")) && err.contains(problem),
                "{err}"
            );
        }
    }

    #[test]
    fn a_dataset_folder_with_splits_and_missing_pieces() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for name in [
            "2015-02-16-16-49-06_denoised.mp4",
            "2015-02-16-16-49-06_denoised.wav",
            "2015-02-16-16-49-06_times.txt",
            "2015-03-01-10-00-00_mic.mp4",
            "2015-03-01-10-00-00_mic.wav",
            "2015-04-01-10-00-00_denoised.mp4",
            "notes.txt",
        ] {
            write(d, name, "");
        }
        write(d, "train.txt", "2015-02-16-16-49-06\r\n\r\n2015-03-01-10-00-00\r\n");
        write(d, "test.txt", " 2015-04-01-10-00-00 \n");
        let gh = GreatestHits::open(d).unwrap();
        assert_eq!(gh.videos.len(), 3);
        let v = &gh.videos[0];
        assert_eq!((v.id.as_str(), v.split), ("2015-02-16-16-49-06", Some(Split::Train)));
        assert!(v.audio.is_some() && v.times.is_some());
        let mic = &gh.videos[1];
        assert!(mic.video.ends_with("2015-03-01-10-00-00_mic.mp4"));
        assert!(mic.audio.as_ref().unwrap().ends_with("2015-03-01-10-00-00_mic.wav"));
        // No times file: no contacts, not an error.
        assert_eq!(mic.times, None);
        assert!(mic.contacts().unwrap().is_empty());
        assert_eq!(gh.split(Split::Test).count(), 1);
        assert_eq!(gh.videos[2].audio, None);

        // A split entry without its video.
        write(d, "test.txt", "2015-04-01-10-00-00\n2015-05-05-05-05-05\n");
        let err = GreatestHits::open(d).unwrap_err().to_string();
        assert!(err.contains("test.txt, line 2") && err.contains("2015-05-05-05-05-05"), "{err}");
        // The same video in both lists.
        write(d, "test.txt", "2015-02-16-16-49-06\n");
        let err = GreatestHits::open(d).unwrap_err().to_string();
        assert!(err.contains("both train.txt and test.txt"), "{err}");
        // Not a dataset.
        let empty = tempfile::tempdir().unwrap();
        assert!(GreatestHits::open(empty.path()).unwrap_err().to_string().contains("no videos"));
        assert!(GreatestHits::open(d.join("notes.txt")).unwrap_err().to_string().contains("not a folder"));
    }

    #[test]
    fn scene_notes_are_read_and_a_video_without_notes_has_none() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for id in ["a", "b", "c", "d", "e"] {
            write(d, &format!("{id}_denoised.mp4"), "");
        }
        write(
            d,
            "a_scene.json",
            r#"{"style": "photo", "negative": null, "swings": [1.25, 4.5], "camera_pitch_deg": 21.5}"#,
        );
        write(d, "b_scene.json", r#"{"style": "photo", "negative": "passing", "swings": []}"#);
        write(d, "d_scene.json", "{\n  \"swings\": [1.0,\n oops]}");
        write(d, "e_scene.json", r#"{"negative": 3}"#);
        let gh = GreatestHits::open(d).unwrap();
        let notes = |i: usize| gh.videos[i].notes();
        assert_eq!(
            notes(0).unwrap(),
            VideoNotes { negative: None, swings: vec![1.25, 4.5], camera_pitch_deg: Some(21.5) }
        );
        assert_eq!(
            notes(1).unwrap(),
            VideoNotes { negative: Some("passing".into()), swings: vec![], camera_pitch_deg: None }
        );
        assert_eq!(notes(2).unwrap(), VideoNotes::default());
        let err = notes(3).unwrap_err().to_string();
        assert!(err.contains("d_scene.json, line 3") && err.contains("not scene notes"), "{err}");
        let err = notes(4).unwrap_err().to_string();
        assert!(err.contains("e_scene.json, line 1") && err.contains("not scene notes"), "{err}");
    }
}
