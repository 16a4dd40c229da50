//! The clip bank: real recordings of struck and scraped materials, from Debian packages, listed
//! in `assets/clipbank/manifest.csv` with their licenses, checksums, split and the hit times
//! inside each recording. The set-up decodes every listed file to 48 kHz mono in the cache
//! (`bank/{id}.wav`) after checking its sha256.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{DataError, Split};
use crate::media::{self, AudioTrack};

/// The manifest's columns, in order.
pub const MANIFEST_HEADER: &[&str] =
    &["id", "package", "version", "path", "material", "action", "license", "attribution", "sha256", "split", "hits"];

/// One recording of the bank.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BankClip {
    pub id: String,
    /// The Debian package it comes from, and its version.
    pub package: String,
    pub version: String,
    /// Path inside the unpacked package.
    pub path: String,
    pub material: String,
    /// `hit` or `scratch`.
    pub action: String,
    pub license: String,
    pub attribution: String,
    pub sha256: String,
    pub split: Split,
    /// Hit times inside the recording, seconds, `;`-separated (empty until measured).
    #[serde(default)]
    pub hits: String,
}

impl BankClip {
    /// The hit offsets, seconds.
    pub fn hit_offsets(&self) -> Vec<f64> {
        self.hits.split(';').filter_map(|t| t.trim().parse().ok()).collect()
    }

    /// The original file in the set-up's cache.
    #[must_use]
    pub fn source_path(&self, cache: &Path) -> PathBuf {
        cache.join("assets").join(&self.package).join(&self.path)
    }

    /// The decoded 48 kHz mono copy the set-up makes.
    #[must_use]
    pub fn bank_path(&self, cache: &Path) -> PathBuf {
        cache.join("bank").join(format!("{}.wav", self.id))
    }

    /// The recording at 48 kHz mono: the set-up's decoded copy, or the original if that is missing.
    pub fn audio(&self, cache: &Path) -> Result<AudioTrack, media::MediaError> {
        let decoded = self.bank_path(cache);
        media::read_audio(if decoded.is_file() { decoded } else { self.source_path(cache) }, 48_000)
    }
}

/// Reads the manifest (the `hits` column may be missing).
pub fn read_manifest(path: &Path) -> Result<Vec<BankClip>, DataError> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| DataError::Line {
        path: path.to_path_buf(),
        line: 1,
        problem: e.to_string(),
    })?;
    let mut clips = Vec::new();
    for (i, record) in reader.deserialize::<BankClip>().enumerate() {
        let clip =
            record.map_err(|e| DataError::Line { path: path.to_path_buf(), line: i + 2, problem: e.to_string() })?;
        clips.push(clip);
    }
    Ok(clips)
}

/// Writes the manifest atomically, in the given order.
pub fn write_manifest(path: &Path, clips: &[BankClip]) -> Result<(), media::MediaError> {
    media::write_atomically(path, |file| {
        let mut writer = csv::Writer::from_writer(std::io::BufWriter::new(file));
        for clip in clips {
            writer.serialize(clip).map_err(std::io::Error::other)?;
        }
        writer.flush()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_manifest_is_complete_and_split_by_recording() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/clipbank/manifest.csv");
        let clips = read_manifest(&path).unwrap();
        assert!(clips.len() >= 100, "{}", clips.len());
        let header = std::fs::read_to_string(&path).unwrap().lines().next().unwrap().to_owned();
        assert_eq!(header, MANIFEST_HEADER.join(","));
        let mut ids = std::collections::BTreeSet::new();
        for clip in &clips {
            assert!(ids.insert(clip.id.clone()), "duplicate id {}", clip.id);
            assert_eq!(clip.sha256.len(), 64, "{}", clip.id);
            assert!(clip.action == "hit" || clip.action == "scratch", "{}", clip.id);
            assert!(crate::data::is_known_material(&clip.material), "{}: material {}", clip.id, clip.material);
            assert!(!clip.license.is_empty() && !clip.attribution.is_empty(), "{}", clip.id);
            // Every recording has at least one measured hit, inside the recording.
            let offsets = clip.hit_offsets();
            assert!(!offsets.is_empty(), "{} has no hit offsets", clip.id);
            assert!(offsets.windows(2).all(|w| w[0] < w[1]) && offsets[0] >= 0.0, "{}", clip.id);
        }
        assert!(clips.iter().any(|c| c.split == Split::Test) && clips.iter().any(|c| c.split == Split::Train));
    }

    #[test]
    fn the_cached_bank_matches_the_manifest() {
        let cache = crate::paths::cache_dir();
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/clipbank/manifest.csv");
        for clip in read_manifest(&path).unwrap() {
            let track = clip.audio(&cache).unwrap_or_else(|e| panic!("{e} (run scripts/setup.sh)"));
            let last = clip.hit_offsets().last().copied().unwrap_or(0.0);
            assert!(last < track.duration_s(), "{}: hit at {last} s beyond its {} s", clip.id, track.duration_s());
        }
    }
}
