//! `foley dataset synth`: training data in the Greatest Hits layout, made from the clip bank's
//! real recordings and drawn scenes of a drumstick striking and scratching surfaces.
//!
//! Each video shows one surface whose look identifies its material (colour, texture, gloss; water
//! ripples, loose surfaces scatter, drum heads dip), varied by lighting, texture scale, camera
//! shake, sensor noise and distractors on the wall behind. The stick winds up, falls faster and
//! faster, strikes at irregular intervals (sometimes twice in quick succession), rebounds, or
//! slides along the surface. The sound is the bank's recordings of that material, from the
//! video's own split only, with each recording's first hit on the contact's exact sample. The
//! same seed gives the same files, byte for byte.

mod audio;
mod plan;
mod render;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use audio::Recording;
pub use render::{HEIGHT, WIDTH, reaction_of};

use super::{BankClip, DataError, Split};
use crate::media::{self, AudioTrack, EncodeOptions, WavFormat};

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthConfig {
    pub videos: usize,
    /// Length of each video, seconds.
    pub seconds: f64,
    pub seed: u64,
    /// Share of the videos in the train split (the rest are test).
    pub train_share: f64,
}

/// What was generated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SynthSummary {
    /// Videos per (split, material).
    pub videos: BTreeMap<(Split, String), usize>,
    pub contacts: usize,
}

/// The frame rate of generated videos, as in the released dataset.
pub const FPS: (i32, i32) = (30_000, 1001);

/// Writes `config.videos` videos into `out` (created if needed) in the Greatest Hits layout, with
/// `train.txt` and `test.txt`. `progress` is called with the number of videos finished.
pub fn generate(
    out: &Path,
    bank: &[BankClip],
    cache: &Path,
    config: &SynthConfig,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<SynthSummary, DataError> {
    std::fs::create_dir_all(out).map_err(|source| DataError::Read { path: out.to_path_buf(), source })?;
    let recordings = load_recordings(bank, cache)?;
    let train_videos = ((config.videos as f64) * config.train_share).round() as usize;
    // One video at a time, its frames drawn on a second thread while this one encodes them.
    let mut made = Vec::with_capacity(config.videos);
    for index in 0..config.videos {
        let split = if index < train_videos { Split::Train } else { Split::Test };
        let (material, contacts) = make_video(out, index, split, &recordings, config)?;
        made.push((index, split, material, contacts));
        progress(index + 1);
    }
    let mut summary = SynthSummary::default();
    let mut lists: BTreeMap<Split, Vec<String>> = BTreeMap::new();
    for (index, split, material, contacts) in made {
        *summary.videos.entry((split, material)).or_default() += 1;
        summary.contacts += contacts;
        lists.entry(split).or_default().push(video_id(config.seed, index));
    }
    for (split, name) in [(Split::Train, "train.txt"), (Split::Test, "test.txt")] {
        let mut ids = lists.remove(&split).unwrap_or_default();
        ids.sort();
        write_text(&out.join(name), &ids.iter().map(|id| format!("{id}\n")).collect::<String>())?;
    }
    Ok(summary)
}

/// The id of video `index`.
#[must_use]
pub fn video_id(seed: u64, index: usize) -> String {
    format!("synth-{seed}-{index:05}")
}

/// The bank's recordings by (split, material), decoded and peak-normalised.
fn load_recordings(bank: &[BankClip], cache: &Path) -> Result<BTreeMap<(Split, String), Vec<Recording>>, DataError> {
    let mut out: BTreeMap<(Split, String), Vec<Recording>> = BTreeMap::new();
    for clip in bank {
        let track = clip.audio(cache)?;
        let peak = track.samples.iter().fold(0.0_f32, |m, s| m.max(s.abs()));
        if peak <= 0.0 {
            continue;
        }
        let first = clip.hit_offsets().first().copied().unwrap_or(0.0);
        let first_hit = ((first * 48_000.0).round() as usize).min(track.samples.len().saturating_sub(1));
        out.entry((clip.split, clip.material.clone())).or_default().push(Recording {
            id: clip.id.clone(),
            samples: track.samples.iter().map(|s| s * 0.5 / peak).collect(),
            first_hit,
            scratch: clip.action == "scratch",
        });
    }
    Ok(out)
}

fn make_video(
    out: &Path,
    index: usize,
    split: Split,
    recordings: &BTreeMap<(Split, String), Vec<Recording>>,
    config: &SynthConfig,
) -> Result<(String, usize), DataError> {
    let mut rng = plan::rng_for(config.seed, index as u64);
    // Materials that have struck recordings in this split.
    let materials: Vec<&String> = recordings
        .iter()
        .filter(|((s, _), r)| *s == split && r.iter().any(|r| !r.scratch))
        .map(|((_, m), _)| m)
        .collect();
    let material = materials[rand::RngExt::random_range(&mut rng, 0..materials.len())].clone();
    let pool: Vec<&Recording> = recordings[&(split, material.clone())].iter().collect();
    let can_scratch = pool.iter().any(|r| r.scratch);
    let contacts = plan::plan_contacts(config.seconds, can_scratch, &mut rng);
    let stage = render::Stage::new(&material, &mut rng);
    let samples = (config.seconds * 48_000.0).round() as usize;
    let (track, _) = audio::soundtrack(samples, &contacts, &pool, &mut rng);
    let track = AudioTrack { rate: 48_000, start_s: 0.0, samples: track };

    let id = video_id(config.seed, index);
    let frames = (config.seconds * f64::from(FPS.0) / f64::from(FPS.1)).round() as usize;
    let mut noise_rng = plan::rng_for(config.seed ^ 0x5EED, index as u64);
    let options = EncodeOptions { width: WIDTH, height: HEIGHT, fps: FPS, crf: 23, preset: "veryfast".to_owned() };
    let video_path = out.join(format!("{id}_denoised.mp4"));
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(8);
    std::thread::scope(|scope| -> Result<(), DataError> {
        let (stage, contacts) = (&stage, &contacts);
        std::thread::Builder::new()
            .name("dataset-draw".to_owned())
            .spawn_scoped(scope, move || {
                for k in 0..frames {
                    let picture = stage.frame(k as f64 * f64::from(FPS.1) / f64::from(FPS.0), contacts, &mut noise_rng);
                    // The encoder stopped early (an error): stop drawing.
                    if tx.send(picture).is_err() {
                        break;
                    }
                }
            })
            .map_err(|source| DataError::Read { path: video_path.clone(), source })?;
        media::encode_video(&video_path, &mut rx.iter(), Some(&track), &options)?;
        Ok(())
    })?;
    media::write_wav(&out.join(format!("{id}_denoised.wav")), &track.samples, 48_000, 1, WavFormat::Pcm16)?;
    let reaction = reaction_of(&material);
    let times: String = contacts
        .iter()
        .map(|c| {
            format!("{:.9} {material} {} {reaction}\n", c.time_s, if c.slide_s.is_some() { "scratch" } else { "hit" })
        })
        .collect();
    write_text(&out.join(format!("{id}_times.txt")), &times)?;
    Ok((material, contacts.len()))
}

fn write_text(path: &Path, text: &str) -> Result<(), DataError> {
    crate::media::write_atomically(path, |file| {
        let mut w = std::io::BufWriter::new(file);
        w.write_all(text.as_bytes())?;
        w.flush()
    })?;
    Ok(())
}
