//! Building a clip database: from the labelled contacts of a dataset split (each video's own
//! sound, windows on the video's timeline) or from the clip bank's recordings (each placed over
//! a quiet room-noise floor, as the dataset generator places them, so the windows look like the
//! ones a model trained on generated data predicts).

use std::io::BufWriter;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use rand::SeedableRng as _;

use super::RetrievalError;
use super::database::{AUDIO_FILE, CLIP_SAMPLE_RATE, ClipDatabase, ClipEntry, DATABASE_VERSION, DatabaseManifest};
use super::looks::{LOOK_FRAMES, LookSet};
use super::window::{HIT_STEP, WINDOW_STEPS, hit_window, loudness};
use crate::data::{BankClip, GreatestHits, Split};
use crate::media::atomic::PendingFile;
use crate::sound::{Cochleagram, CochleagramParams, cochleagram_of};

/// Waveform kept before a contact: room for a fade-in that ends on the onset.
pub const PRE_ROLL_S: f64 = 0.002;
/// Longest waveform kept after a contact (shorter where the next contact comes sooner).
pub const CLIP_S: f64 = 0.75;

/// One labelled contact of a recording.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledContact {
    pub time_s: f64,
    pub material: Option<String>,
    pub action: Option<String>,
}

/// Collects clips, writing waveforms to `clips.wav` as they come.
pub struct DatabaseBuilder {
    dir: std::path::PathBuf,
    params: CochleagramParams,
    origin: String,
    pending: Option<PendingFile>,
    writer: Option<hound::WavWriter<BufWriter<std::fs::File>>>,
    entries: Vec<ClipEntry>,
    windows: Vec<f32>,
    written: u64,
}

impl std::fmt::Debug for DatabaseBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseBuilder").field("dir", &self.dir).field("clips", &self.entries.len()).finish()
    }
}

impl DatabaseBuilder {
    /// Starts a database in `dir` (created if needed); nothing replaces an existing one until
    /// [`DatabaseBuilder::finish`].
    pub fn new(dir: &Path, params: CochleagramParams, origin: String) -> Result<Self, RetrievalError> {
        std::fs::create_dir_all(dir).map_err(|source| RetrievalError::Io { path: dir.to_owned(), source })?;
        let target = dir.join(AUDIO_FILE);
        let (pending, file) = PendingFile::beside(&target)?;
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: CLIP_SAMPLE_RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let writer = hound::WavWriter::new(BufWriter::new(file), spec)
            .map_err(|e| RetrievalError::Io { path: target.clone(), source: std::io::Error::other(e) })?;
        Ok(Self {
            dir: dir.to_owned(),
            params,
            origin,
            pending: Some(pending),
            writer: Some(writer),
            entries: Vec::new(),
            windows: Vec::new(),
            written: 0,
        })
    }

    /// Adds every contact of one recording. `audio` is at 48 kHz and starts at `audio_start_s`
    /// on the recording's timeline; `c` is the cochleagram the windows are cut from.
    pub fn add(
        &mut self,
        source: &str,
        audio: &[f32],
        audio_start_s: f64,
        c: &Cochleagram,
        contacts: &[LabelledContact],
    ) -> Result<(), RetrievalError> {
        let rate = f64::from(CLIP_SAMPLE_RATE);
        let pre = (PRE_ROLL_S * rate).round() as i64;
        for (k, contact) in contacts.iter().enumerate() {
            let onset = ((contact.time_s - audio_start_s) * rate).round() as i64;
            if onset < 0 || onset >= audio.len() as i64 {
                continue;
            }
            let next =
                contacts.get(k + 1).map_or(i64::MAX, |n| ((n.time_s - audio_start_s) * rate).round() as i64 - pre);
            let end = (onset + (CLIP_S * rate) as i64).min(next).min(audio.len() as i64).max(onset + 1);
            let start = (onset - pre).max(0);
            let waveform = &audio[start as usize..end as usize];
            self.add_with_window(source, waveform, (onset - start) as usize, c, contact, contact.time_s)?;
        }
        Ok(())
    }

    /// Adds one clip: `waveform` (48 kHz) with its contact `onset` samples in, the window cut from
    /// `c` at `contact.time_s`; `source_time_s` is the contact's time in its source.
    pub fn add_with_window(
        &mut self,
        source: &str,
        waveform: &[f32],
        onset: usize,
        c: &Cochleagram,
        contact: &LabelledContact,
        source_time_s: f64,
    ) -> Result<(), RetrievalError> {
        let window = hit_window(c, contact.time_s);
        let entry = ClipEntry {
            id: format!("{source}@{source_time_s:.3}"),
            source: source.to_owned(),
            material: contact.material.clone(),
            action: contact.action.clone(),
            time_s: source_time_s,
            audio_start: self.written,
            audio_len: u32::try_from(waveform.len()).unwrap_or(u32::MAX),
            onset: u32::try_from(onset).unwrap_or(0),
            loudness: loudness(&window, c.bands, self.params.compression),
        };
        let path = self.dir.join(AUDIO_FILE);
        let writer = self
            .writer
            .as_mut()
            .ok_or_else(|| RetrievalError::BadDatabase { path: path.clone(), reason: "already finished".into() })?;
        for &s in waveform {
            let v = (s * 32768.0).round().clamp(-32768.0, 32767.0) as i16;
            writer
                .write_sample(v)
                .map_err(|e| RetrievalError::Io { path: path.clone(), source: std::io::Error::other(e) })?;
        }
        self.written += waveform.len() as u64;
        self.windows.extend(window);
        self.entries.push(entry);
        Ok(())
    }

    /// Clips so far.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no clip was added.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Fits the index and writes the database, with the training videos' looks if given.
    pub fn finish(mut self, looks: Option<LookSet>) -> Result<ClipDatabase, RetrievalError> {
        if self.entries.is_empty() {
            return Err(RetrievalError::NoClips { path: self.dir.clone() });
        }
        if let Some(writer) = self.writer.take() {
            writer.finalize().map_err(|e| RetrievalError::Io {
                path: self.dir.join(AUDIO_FILE),
                source: std::io::Error::other(e),
            })?;
        }
        if let Some(pending) = self.pending.take() {
            pending.commit()?;
        }
        let manifest = DatabaseManifest {
            format: "foley-clips".into(),
            version: DATABASE_VERSION,
            origin: self.origin.clone(),
            cochleagram: self.params.clone(),
            window_steps: WINDOW_STEPS,
            hit_step: HIT_STEP,
            sample_rate: CLIP_SAMPLE_RATE,
            entries: std::mem::take(&mut self.entries),
            looks: None,
        };
        let db = ClipDatabase::new(self.dir.clone(), manifest, &self.windows, looks)?;
        db.save()?;
        Ok(db)
    }
}

/// Builds the database of the labelled contacts in `split` of the dataset at `data` into `dir`.
/// `progress(done, total)` counts videos.
pub fn build_from_dataset(
    data: &Path,
    split: Split,
    dir: &Path,
    params: &CochleagramParams,
    looks: Option<LookSet>,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ClipDatabase, RetrievalError> {
    let dataset = GreatestHits::open(data)?;
    let entries: Vec<_> = dataset.split(split).filter(|e| e.times.is_some()).cloned().collect();
    let origin = format!("{} split of {}", if split == Split::Train { "train" } else { "test" }, data.display());
    let mut builder = DatabaseBuilder::new(dir, params.clone(), origin)?;
    for (i, entry) in entries.iter().enumerate() {
        progress(i, entries.len());
        if cancel.load(Ordering::Relaxed) {
            return Err(RetrievalError::Cancelled);
        }
        let sound = entry.audio.as_deref().unwrap_or(&entry.video);
        let track = crate::media::read_audio(sound, params.sample_rate)?;
        let mut c = cochleagram_of(&track, params)?;
        c.start_s = track.start_s;
        let contacts: Vec<LabelledContact> = entry
            .contacts()?
            .into_iter()
            .map(|c| LabelledContact {
                time_s: c.time_s,
                material: c.material,
                action: c.action.map(|a| a.as_str().to_owned()),
            })
            .collect();
        builder.add(&entry.id, &track.samples, track.start_s, &c, &contacts)?;
    }
    progress(entries.len(), entries.len());
    if builder.is_empty() {
        return Err(RetrievalError::NoClips { path: data.to_owned() });
    }
    builder.finish(looks)
}

/// The look (`vision::video_look` of [`LOOK_FRAMES`] frames) of every labelled video in `split`
/// of each of `datasets`, with its material (the most common label of its contacts), in one set:
/// more videos of the same surfaces, filmed otherwise, teach the classifier more of how a material
/// looks. `progress(done, total)` counts videos.
pub fn dataset_looks(
    datasets: &[&Path],
    split: Split,
    encoder: &mut dyn crate::vision::FrameEncoder,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<LookSet, RetrievalError> {
    let mut entries = Vec::new();
    for data in datasets {
        let dataset = GreatestHits::open(data)?;
        entries.extend(dataset.split(split).filter(|e| e.times.is_some()).cloned());
    }
    let mut set = LookSet::new(encoder.spec().identity.onnx_sha256.clone(), encoder.feature_size(), LOOK_FRAMES);
    for (i, entry) in entries.iter().enumerate() {
        progress(i, entries.len());
        if cancel.load(Ordering::Relaxed) {
            return Err(RetrievalError::Cancelled);
        }
        let Some(material) = crate::data::majority_material(&entry.contacts()?) else { continue };
        let look = crate::vision::video_look(&entry.video, encoder, LOOK_FRAMES)?;
        set.push(material, entry.id.clone(), &look);
    }
    progress(entries.len(), entries.len());
    Ok(set)
}

/// Room-noise floor under bank recordings, as in generated videos (-60 dB RMS).
const ROOM_NOISE_DB: f32 = -60.0;
/// Silence (room noise) placed before and after a bank recording.
const PAD_S: f64 = 0.5;

/// Builds the database of every hit in the bank's recordings of `split` into `dir`.
pub fn build_from_bank(
    bank: &[BankClip],
    cache: &Path,
    split: Split,
    dir: &Path,
    params: &CochleagramParams,
    looks: Option<LookSet>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ClipDatabase, RetrievalError> {
    let clips: Vec<&BankClip> = bank.iter().filter(|c| c.split == split).collect();
    let origin = format!("the clip bank's {} recordings", if split == Split::Train { "train" } else { "test" });
    let mut builder = DatabaseBuilder::new(dir, params.clone(), origin)?;
    let rate = f64::from(CLIP_SAMPLE_RATE);
    let pad = (PAD_S * rate) as usize;
    for (i, clip) in clips.iter().enumerate() {
        progress(i, clips.len());
        let track = clip.audio(cache)?;
        let peak = track.samples.iter().fold(0.0_f32, |m, s| m.max(s.abs()));
        if peak <= 0.0 {
            continue;
        }
        // Peak 0.5, as the generator normalises recordings.
        let samples: Vec<f32> = track.samples.iter().map(|s| s * 0.5 / peak).collect();
        let offsets = clip.hit_offsets();
        for (k, &offset) in offsets.iter().enumerate() {
            // The generator plays a recording from a hit on, over room noise.
            let from = ((offset * rate).round() as usize).min(samples.len());
            let mut placed = vec![0.0f32; pad + (samples.len() - from) + pad];
            for (j, s) in samples[from..].iter().enumerate() {
                placed[pad + j] = s * (j as f32 / 48.0).min(1.0);
            }
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0xC11B ^ ((i as u64) << 8) ^ k as u64);
            crate::sound::add_room_noise(&mut placed, 10_f32.powf(ROOM_NOISE_DB / 20.0), &mut rng);
            let audio = crate::media::AudioTrack { rate: CLIP_SAMPLE_RATE, start_s: 0.0, samples: placed };
            let c = cochleagram_of(&audio, params)?;
            let contact = LabelledContact {
                time_s: PAD_S,
                material: Some(clip.material.clone()),
                action: Some(clip.action.clone()),
            };
            // The clip is the recording itself from the hit on (to the next hit), not the padding.
            let next = offsets.get(k + 1).map_or(f64::INFINITY, |n| n - offset);
            let keep = ((next.min(CLIP_S) * rate) as usize).min(samples.len() - from);
            let before = (PRE_ROLL_S * rate).round() as usize;
            let lead = before.min(from);
            let mut waveform = vec![0.0f32; before - lead];
            waveform.extend_from_slice(&samples[from - lead..from + keep]);
            builder.add_with_window(&format!("bank:{}", clip.id), &waveform, before, &c, &contact, offset)?;
        }
    }
    progress(clips.len(), clips.len());
    builder.finish(looks)
}
