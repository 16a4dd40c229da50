//! The clip database: for every labelled contact of a training set, its hit-centred cochleagram
//! window and the recorded waveform around it, with material and action. On disk, beside a model:
//! `clips.json` (what every clip is), `clips.safetensors` (the windows as float16, and the search
//! index) and `clips.wav` (the waveforms end to end, 48 kHz 16-bit mono: any audio tool plays them).
//! Windows stay in memory (about 4 KB per clip); waveforms are read from the WAV on demand.

use std::collections::HashMap;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use half::f16;
use serde::{Deserialize, Serialize};

use super::RetrievalError;
use super::index::{RANK, SearchIndex, squared_distance};
use super::looks::{LookClassifier, LookSet};
use super::window::{HIT_STEP, WINDOW_STEPS};
use crate::sound::CochleagramParams;

/// The database format this build writes and reads.
pub const DATABASE_VERSION: u32 = 1;
pub const MANIFEST_FILE: &str = "clips.json";
pub const TENSORS_FILE: &str = "clips.safetensors";
pub const AUDIO_FILE: &str = "clips.wav";
/// Waveforms are stored at this rate.
pub const CLIP_SAMPLE_RATE: u32 = 48_000;

/// One clip: a labelled contact and where its waveform is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClipEntry {
    /// `{source}@{time}`: unique, and names the recording it came from.
    pub id: String,
    /// The video (or bank recording) it was cut from; evaluation never retrieves a clip from the
    /// video being evaluated.
    pub source: String,
    pub material: Option<String>,
    /// `hit` or `scratch`.
    pub action: Option<String>,
    /// The contact's time in its source, seconds.
    pub time_s: f64,
    /// First sample of the waveform in `clips.wav`, and its length.
    pub audio_start: u64,
    pub audio_len: u32,
    /// Samples from the waveform's start to the contact.
    pub onset: u32,
    /// The window's loudness (see `window::loudness`).
    pub loudness: f32,
}

/// `clips.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseManifest {
    /// Always `"foley-clips"`.
    pub format: String,
    pub version: u32,
    /// What the clips were cut from.
    pub origin: String,
    pub cochleagram: CochleagramParams,
    pub window_steps: usize,
    pub hit_step: usize,
    pub sample_rate: u32,
    pub entries: Vec<ClipEntry>,
    /// How the training videos looked, if the database knows: the material is then read from a
    /// video's look, and only clips of that material are searched.
    #[serde(default)]
    pub looks: Option<LooksInfo>,
}

/// What the `looks` tensor holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LooksInfo {
    /// The encoder whose colour-frame features the looks are (sha256 of its ONNX).
    pub encoder_sha256: String,
    /// Colour frames each look averages; databases written before this was recorded took the
    /// first frame alone.
    #[serde(default = "first_frame_only")]
    pub frames: usize,
    /// The material of each look's video (its contacts' most common label).
    pub materials: Vec<String>,
    /// Each look's video id.
    #[serde(default)]
    pub sources: Vec<String>,
    /// The look classifier's materials, in the order of its weights (tensors `look_*`); empty
    /// when the database has no classifier, which is then fitted when first needed.
    #[serde(default)]
    pub classes: Vec<String>,
}

fn first_frame_only() -> usize {
    1
}

/// A database in memory, ready to search.
#[derive(Debug)]
pub struct ClipDatabase {
    pub dir: PathBuf,
    pub manifest: DatabaseManifest,
    windows: Vec<f16>,
    index: SearchIndex,
    looks: Option<LookSet>,
    by_id: std::sync::OnceLock<HashMap<String, usize>>,
}

impl ClipDatabase {
    /// Assembles a database (the index is fitted here).
    pub fn new(
        dir: PathBuf,
        mut manifest: DatabaseManifest,
        windows: &[f32],
        looks: Option<LookSet>,
    ) -> Result<Self, RetrievalError> {
        manifest.looks = looks.as_ref().map(|l| LooksInfo {
            encoder_sha256: l.encoder_sha256.clone(),
            frames: l.frames,
            materials: l.materials.clone(),
            sources: l.sources.clone(),
            classes: l.classifier().classes.clone(),
        });
        let windows: Vec<f16> = windows.iter().map(|&v| f16::from_f32(v)).collect();
        // Fit on the stored precision, so the index's lower bounds hold for the stored windows.
        let stored: Vec<f32> = windows.iter().map(|v| v.to_f32()).collect();
        let dim = manifest.window_steps * manifest.cochleagram.bands();
        let index = SearchIndex::fit(&stored, dim)?;
        Ok(Self { dir, manifest, windows, index, looks, by_id: std::sync::OnceLock::new() })
    }

    /// Number of clips.
    #[must_use]
    pub fn len(&self) -> usize {
        self.manifest.entries.len()
    }

    /// Whether there are no clips.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.manifest.entries.is_empty()
    }

    /// The materials of its clips, sorted, each once.
    #[must_use]
    pub fn materials(&self) -> Vec<String> {
        let mut known: Vec<String> = self.manifest.entries.iter().filter_map(|e| e.material.clone()).collect();
        known.sort();
        known.dedup();
        known
    }

    /// The training videos' looks, if the database has them.
    #[must_use]
    pub fn looks(&self) -> Option<&LookSet> {
        self.looks.as_ref()
    }

    /// The material a video of this look (the mean features of `frames` colour frames by the
    /// encoder with `encoder_sha256`) shows, if the database has looks taken the same way.
    #[must_use]
    pub fn material_of(&self, look: &[f32], encoder_sha256: &str, frames: usize) -> Option<String> {
        self.looks
            .as_ref()
            .filter(|l| l.encoder_sha256 == encoder_sha256 && l.frames == frames)
            .and_then(|l| l.material_of(look))
    }

    /// The index of the clip with this id.
    #[must_use]
    pub fn find(&self, id: &str) -> Option<usize> {
        let map = self
            .by_id
            .get_or_init(|| self.manifest.entries.iter().enumerate().map(|(i, e)| (e.id.clone(), i)).collect());
        map.get(id).copied()
    }

    /// Values per window.
    #[must_use]
    pub fn dim(&self) -> usize {
        self.manifest.window_steps * self.manifest.cochleagram.bands()
    }

    /// Clip `i`'s window.
    #[must_use]
    pub fn window(&self, i: usize) -> Vec<f32> {
        self.windows[i * self.dim()..(i + 1) * self.dim()].iter().map(|v| v.to_f32()).collect()
    }

    /// The squared distance from window `i` to `query`, read from the stored float16 values in
    /// blocks of eight (no allocation: this runs for every candidate of every query).
    fn distance(&self, i: usize, query: &[f32]) -> f32 {
        let dim = self.dim();
        let stored = &self.windows[i * dim..(i + 1) * dim];
        let mut block = [0.0f32; 8];
        let mut sum = 0.0;
        for (w, q) in stored.chunks(8).zip(query.chunks(8)) {
            for (b, v) in block.iter_mut().zip(w) {
                *b = v.to_f32();
            }
            sum += squared_distance(&block[..w.len()], q);
        }
        sum
    }

    /// The `k` clips whose windows are nearest to `query`, among those `allow` accepts; nearest
    /// first, with squared distances.
    #[must_use]
    pub fn nearest(&self, query: &[f32], k: usize, allow: &dyn Fn(&ClipEntry) -> bool) -> Vec<(usize, f32)> {
        let entries = &self.manifest.entries;
        self.index.nearest(query, k, &|i| allow(&entries[i]), &|i| self.distance(i, query))
    }

    /// The `k` nearest by brute force (for checking the index).
    #[must_use]
    pub fn nearest_brute_force(&self, query: &[f32], k: usize) -> Vec<(usize, f32)> {
        let mut all: Vec<(usize, f32)> = (0..self.len()).map(|i| (i, self.distance(i, query))).collect();
        all.sort_by(|a, b| a.1.total_cmp(&b.1));
        all.truncate(k);
        all
    }

    /// Clip `i`'s waveform (48 kHz) read from `clips.wav`.
    pub fn clip_samples(&self, i: usize) -> Result<Vec<f32>, RetrievalError> {
        let path = self.dir.join(AUDIO_FILE);
        let entry = &self.manifest.entries[i];
        let bad = |reason: String| RetrievalError::BadDatabase { path: path.clone(), reason };
        let file = std::fs::File::open(&path).map_err(|source| RetrievalError::Io { path: path.clone(), source })?;
        let mut reader = hound::WavReader::new(BufReader::new(file)).map_err(|e| bad(e.to_string()))?;
        let start =
            u32::try_from(entry.audio_start).map_err(|_| bad(format!("clip {} is beyond the file", entry.id)))?;
        reader.seek(start).map_err(|e| bad(format!("clip {}: {e}", entry.id)))?;
        let samples: Result<Vec<f32>, _> =
            reader.samples::<i16>().take(entry.audio_len as usize).map(|s| s.map(|v| f32::from(v) / 32768.0)).collect();
        let samples = samples.map_err(|e| bad(format!("clip {}: {e}", entry.id)))?;
        if samples.len() != entry.audio_len as usize {
            return Err(bad(format!("clip {} is cut short", entry.id)));
        }
        Ok(samples)
    }

    /// Writes the manifest and windows (the WAV is written while building); each file atomically.
    pub fn save(&self) -> Result<(), RetrievalError> {
        let dir = &self.dir;
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| RetrievalError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let n = self.len();
        let bits: Vec<f16> = self.windows.clone();
        let mut tensors: HashMap<String, Tensor> = HashMap::new();
        tensors.insert(
            "windows".into(),
            Tensor::from_vec(bits, (n, self.manifest.window_steps, self.manifest.cochleagram.bands()), &Device::Cpu)?,
        );
        tensors.insert("mean".into(), Tensor::from_slice(&self.index.mean, self.index.dim, &Device::Cpu)?);
        tensors.insert("basis".into(), Tensor::from_slice(&self.index.basis, (RANK, self.index.dim), &Device::Cpu)?);
        if let Some(looks) = &self.looks {
            let rows = looks.materials.len();
            let t = Tensor::from_slice(&looks.vectors, (rows, looks.width), &Device::Cpu)?.to_dtype(DType::F16)?;
            tensors.insert("looks".into(), t);
            let c = looks.classifier();
            let k = c.classes.len();
            tensors.insert("look_mean".into(), Tensor::from_slice(&c.mean, looks.width, &Device::Cpu)?);
            tensors.insert("look_scale".into(), Tensor::from_slice(&c.scale, looks.width, &Device::Cpu)?);
            tensors.insert("look_weights".into(), Tensor::from_slice(&c.weights, (looks.width, k), &Device::Cpu)?);
            tensors.insert("look_bias".into(), Tensor::from_slice(&c.bias, k, &Device::Cpu)?);
        }
        tensors.insert("projected".into(), Tensor::from_slice(&self.index.projected, (n, RANK), &Device::Cpu)?);
        let target = dir.join(TENSORS_FILE);
        let temp = dir.join(format!(".{TENSORS_FILE}.part"));
        candle_core::safetensors::save(&tensors, &temp)?;
        crate::media::publish(&temp, &target).map_err(io(&target))?;
        let json = serde_json::to_vec(&self.manifest)
            .map_err(|e| RetrievalError::BadDatabase { path: dir.join(MANIFEST_FILE), reason: e.to_string() })?;
        crate::media::write_bytes_atomically(&dir.join(MANIFEST_FILE), &json)?;
        Ok(())
    }

    /// Reads the database in `dir`.
    pub fn load(dir: &Path) -> Result<Self, RetrievalError> {
        let manifest_path = dir.join(MANIFEST_FILE);
        let bad = |path: &Path, reason: String| RetrievalError::BadDatabase { path: path.to_owned(), reason };
        let text = std::fs::read_to_string(&manifest_path)
            .map_err(|source| RetrievalError::Io { path: manifest_path.clone(), source })?;
        let manifest: DatabaseManifest = serde_json::from_str(&text).map_err(|e| bad(&manifest_path, e.to_string()))?;
        if manifest.format != "foley-clips" {
            return Err(bad(&manifest_path, format!("format is {:?}, expected \"foley-clips\"", manifest.format)));
        }
        if manifest.version != DATABASE_VERSION {
            return Err(bad(
                &manifest_path,
                format!("version {} is not the version this foley reads ({DATABASE_VERSION})", manifest.version),
            ));
        }
        if manifest.window_steps != WINDOW_STEPS || manifest.hit_step != HIT_STEP {
            return Err(bad(&manifest_path, format!("windows of {} steps are not supported", manifest.window_steps)));
        }
        let tensors_path = dir.join(TENSORS_FILE);
        let tensors = candle_core::safetensors::load(&tensors_path, &Device::Cpu)
            .map_err(|e| bad(&tensors_path, e.to_string()))?;
        let n = manifest.entries.len();
        let dim = manifest.window_steps * manifest.cochleagram.bands();
        let get = |name: &str, len: usize| -> Result<Tensor, RetrievalError> {
            let t = tensors.get(name).ok_or_else(|| bad(&tensors_path, format!("no tensor `{name}`")))?;
            if t.elem_count() != len {
                return Err(bad(
                    &tensors_path,
                    format!("`{name}` holds {} values, {len} expected for {n} clips", t.elem_count()),
                ));
            }
            Ok(t.flatten_all()?)
        };
        let windows: Vec<f16> = get("windows", n * dim)?.to_dtype(DType::F16)?.to_vec1()?;
        let index = SearchIndex::with_projected(
            dim,
            get("mean", dim)?.to_vec1()?,
            get("basis", RANK * dim)?.to_vec1()?,
            get("projected", n * RANK)?.to_vec1()?,
        );
        let looks = match &manifest.looks {
            None => None,
            Some(info) => {
                let t = tensors.get("looks").ok_or_else(|| bad(&tensors_path, "no tensor `looks`".into()))?;
                let (rows, width) = t.dims2()?;
                if rows != info.materials.len() {
                    return Err(bad(&tensors_path, format!("{rows} looks for {} materials", info.materials.len())));
                }
                // The classifier saved with the looks; a database without one fits it when first needed.
                let classifier = if info.classes.is_empty() {
                    std::sync::OnceLock::new()
                } else {
                    let k = info.classes.len();
                    std::sync::OnceLock::from(LookClassifier {
                        classes: info.classes.clone(),
                        mean: get("look_mean", width)?.to_vec1()?,
                        scale: get("look_scale", width)?.to_vec1()?,
                        weights: get("look_weights", width * k)?.to_vec1()?,
                        bias: get("look_bias", k)?.to_vec1()?,
                    })
                };
                Some(LookSet {
                    encoder_sha256: info.encoder_sha256.clone(),
                    frames: info.frames,
                    materials: info.materials.clone(),
                    sources: info.sources.clone(),
                    vectors: t.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?,
                    width,
                    classifier,
                })
            }
        };
        let audio = dir.join(AUDIO_FILE);
        if !audio.is_file() {
            return Err(bad(&audio, "missing".into()));
        }
        Ok(Self { dir: dir.to_owned(), manifest, windows, index, looks, by_id: std::sync::OnceLock::new() })
    }

    /// Checks the clips were analysed with the cochleagram the model predicts.
    pub fn check_compatible(&self, params: &CochleagramParams) -> Result<(), RetrievalError> {
        if &self.manifest.cochleagram == params {
            Ok(())
        } else {
            Err(RetrievalError::Incompatible {
                path: self.dir.clone(),
                reason: format!(
                    "its windows are cochleagrams with {:?}, the model predicts {:?}",
                    self.manifest.cochleagram, params
                ),
            })
        }
    }
}
