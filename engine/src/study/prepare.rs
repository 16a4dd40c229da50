//! `foley study prepare`: picks clips that have their real sound, makes each method's track for
//! them, and writes the study folder: `trials.csv`, `study.json` and `media/` (each clip's
//! picture, its real sound, and every predicted sound, all cut to the same length from the same
//! place in the video).
//!
//! What a participant's machine plays must not give the answer away: in `media/` the picture has
//! a silent sound track in place of its real one, and a clip's sounds are named by a letter in an
//! order shuffled per clip (`clip001_a.wav`, `clip001_b.wav`, ...). Which letter is real and which
//! method made each other one is written only in `study.json`, outside `media/`.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use rand::seq::SliceRandom as _;
use rand::{RngExt as _, SeedableRng as _};

use super::StudyError;
use super::trials::{STUDY_FILE, StudyClip, StudySettings, TRIALS_FILE, TRIALS_HEADER, Trial};
use crate::data::{GreatestHits, Split};
use crate::media::{self, WavFormat};
use crate::predict::{ModelBundle, predict_video_streaming};
use crate::retrieval::ClipDatabase;
use crate::synthesis::{Look, Method, SynthOptions, synthesize_prediction};
use crate::timeline::OUTPUT_SAMPLE_RATE;
use crate::vision::FrameEncoder;

/// What to prepare.
#[derive(Debug, Clone, PartialEq)]
pub struct PrepareOptions {
    /// A dataset in the Greatest Hits layout; clips come from its test split (or from every video
    /// when it has none).
    pub data: PathBuf,
    pub out: PathBuf,
    pub clips: usize,
    /// Length of each clip, from the start of its video.
    pub seconds: f64,
    pub seed: u64,
    pub methods: Vec<Method>,
}

/// Prepares the study; `progress(done, total)` counts clips.
pub fn prepare_study(
    options: &PrepareOptions,
    bundle: &ModelBundle,
    db: Option<&ClipDatabase>,
    encoder: &mut dyn FrameEncoder,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<StudySettings, StudyError> {
    let refused = |reason: String| StudyError::Refused { path: options.out.clone(), reason };
    if options.out.join(STUDY_FILE).exists() {
        return Err(refused("a study is already here; choose a new folder so no answers are mixed up".into()));
    }
    if options.methods.is_empty() || options.clips == 0 || options.seconds <= 0.0 {
        return Err(refused("needs at least one method, one clip and a positive length".into()));
    }
    if options.methods.len() > 25 {
        return Err(refused("at most 25 methods: their sounds are named by letters".into()));
    }
    let dataset = GreatestHits::open(&options.data)?;
    let mut candidates: Vec<_> = dataset.split(Split::Test).cloned().collect();
    if candidates.is_empty() {
        candidates = dataset.videos.clone();
    }
    // Only videos whose real sound exists.
    candidates.retain(|e| {
        e.audio.is_some()
            || media::probe(&e.video).is_ok_and(|p| p.streams.iter().any(|s| s.kind == media::StreamKind::Audio))
    });
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(options.seed);
    candidates.shuffle(&mut rng);
    candidates.truncate(options.clips);
    if candidates.len() < options.clips {
        return Err(refused(format!(
            "{} has {} videos with their real sound; {} clips were asked for",
            options.data.display(),
            candidates.len(),
            options.clips
        )));
    }
    let media_dir = options.out.join("media");
    std::fs::create_dir_all(&media_dir).map_err(|source| StudyError::Io { path: media_dir.clone(), source })?;
    let len = (options.seconds * f64::from(OUTPUT_SAMPLE_RATE)).round() as usize;
    let mut clips = Vec::with_capacity(candidates.len());
    for (i, entry) in candidates.iter().enumerate() {
        progress(i, candidates.len());
        let name = format!("clip{:03}", i + 1);
        let ext = entry.video.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        let ext = ext.filter(|e| ["mp4", "mov", "mkv"].contains(&e.as_str())).unwrap_or_else(|| "mkv".to_owned());
        let video = PathBuf::from("media").join(format!("{name}.{ext}"));
        // The picture is copied as it is; its real sound is replaced by silence.
        let silence = media::AudioTrack { rate: OUTPUT_SAMPLE_RATE, start_s: 0.0, samples: vec![0.0; len] };
        media::mux_audio(&entry.video, &silence, &options.out.join(&video), None)?;
        // One letter per sound, in an order of its own for every clip.
        let mut letters: Vec<char> = ('a'..='z').take(options.methods.len() + 1).collect();
        letters.shuffle(&mut rng);
        let sound_path = |k: usize| PathBuf::from("media").join(format!("{name}_{}.wav", letters[k]));
        let sound = entry.audio.as_deref().unwrap_or(&entry.video);
        let track = media::read_audio(sound, OUTPUT_SAMPLE_RATE)?;
        // Sample 0 on the first frame, as every foley track.
        let offset = crate::timeline::sample_at(track.start_s, 0.0, OUTPUT_SAMPLE_RATE);
        let mut samples = track.samples;
        if offset > 0 {
            samples.splice(0..0, std::iter::repeat_n(0.0, offset as usize));
        } else {
            samples.drain(..(offset.unsigned_abs() as usize).min(samples.len()));
        }
        let prediction = predict_video_streaming(&entry.video, bundle, encoder, cancel, &mut |_| {})?;
        let look = Look::of_video(&entry.video, db, encoder)?;
        // Clips start anywhere in their video (on a tenth of a second) where it is longer than
        // the clip, so that the first second is not always the one judged.
        let latest = (prediction.duration_s - options.seconds).max(0.0);
        let start_s = (rng.random_range(0.0..=latest) * 10.0).floor() / 10.0;
        let skip = (start_s * f64::from(OUTPUT_SAMPLE_RATE)).round() as usize;
        let real = cut(samples, skip, len);
        let real_rms = rms(&real);
        let real_path = sound_path(0);
        media::write_wav(&options.out.join(&real_path), &real, OUTPUT_SAMPLE_RATE, 1, WavFormat::Pcm16)?;
        let mut predicted = Vec::new();
        for (k, &method) in options.methods.iter().enumerate() {
            let synthesis_options =
                SynthOptions { method, exclude_source: Some(entry.id.clone()), ..SynthOptions::default() };
            let made = synthesize_prediction(
                prediction.sound.clone(),
                prediction.duration_s,
                db,
                &bundle.manifest.cochleagram,
                &synthesis_options,
                look.as_ref(),
            )?;
            // Loudness is no cue: every track is brought to the real sound's level.
            let mut track = cut(made.track, skip, len);
            let gain = if rms(&track) > 0.0 { real_rms / rms(&track) } else { 1.0 };
            let peak = track.iter().fold(0.0f32, |m, s| m.max(s.abs())) * gain;
            let gain = if peak > 0.99 { gain * 0.99 / peak } else { gain };
            track.iter_mut().for_each(|s| *s *= gain);
            let path = sound_path(k + 1);
            media::write_wav(&options.out.join(&path), &track, OUTPUT_SAMPLE_RATE, 1, WavFormat::Pcm16)?;
            predicted.push((method.as_str().to_owned(), path));
        }
        let material = crate::data::majority_material(&entry.contacts()?);
        clips.push(StudyClip {
            clip: name,
            video,
            start_s,
            real: real_path,
            predicted,
            material,
            source: entry.video.clone(),
        });
    }
    progress(candidates.len(), candidates.len());

    let mut trials: Vec<Trial> = clips
        .iter()
        .flat_map(|c| {
            options.methods.iter().map(|m| Trial {
                trial: 0,
                clip: c.clip.clone(),
                method: m.as_str().to_owned(),
                seconds: options.seconds,
            })
        })
        .collect();
    trials.shuffle(&mut rng);
    let mut csv = csv::Writer::from_writer(Vec::new());
    let record_error = |e: csv::Error| StudyError::Io { path: options.out.join(TRIALS_FILE), source: e.into() };
    csv.write_record(TRIALS_HEADER.split(',')).map_err(record_error)?;
    for (i, t) in trials.iter_mut().enumerate() {
        t.trial = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let row = [t.trial.to_string(), t.clip.clone(), t.method.clone(), t.seconds.to_string()];
        csv.write_record(&row).map_err(record_error)?;
    }
    let bytes = csv.into_inner().map_err(|e| record_error(e.into_error().into()))?;
    media::write_bytes_atomically(&options.out.join(TRIALS_FILE), &bytes)?;
    let settings = StudySettings {
        format: "foley-study".into(),
        version: 1,
        seed: options.seed,
        seconds: options.seconds,
        methods: options.methods.iter().map(|m| m.as_str().to_owned()).collect(),
        clips,
    };
    let json = serde_json::to_vec_pretty(&settings)
        .map_err(|e| StudyError::Io { path: options.out.join(STUDY_FILE), source: std::io::Error::other(e) })?;
    media::write_bytes_atomically(&options.out.join(STUDY_FILE), &json)?;
    Ok(settings)
}

/// `samples` cut or padded with silence to `len`.
/// `len` samples from `skip` on, padded with silence past the end.
fn cut(mut samples: Vec<f32>, skip: usize, len: usize) -> Vec<f32> {
    samples.drain(..skip.min(samples.len()));
    samples.resize(len, 0.0);
    samples
}

fn rms(samples: &[f32]) -> f32 {
    (samples.iter().map(|s| s * s).sum::<f32>() / samples.len().max(1) as f32).sqrt()
}
