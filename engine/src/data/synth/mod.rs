//! `foley dataset synth`: training data in the Greatest Hits layout, made from the clip bank's
//! real recordings and scenes of a drumstick striking and scratching surfaces, in one of two
//! styles:
//!
//! - `photo` (the default, module `photo`): real photos of the material's surface and of a wall or
//!   outdoors behind it, in perspective, lit, with a shaded stick in a hand, motion blur,
//!   shadows, air swings that stop short of the surface, and a camera that shakes, drifts and
//!   adds noise; at 24 to 60 fps and several sizes and aspect ratios. A share of the videos have
//!   no contact at all (air swings only, things passing, a camera pan): they stay silent.
//! - `drawn` (module `drawn`): flat drawn surfaces whose pattern names the material, 456x256 at
//!   29.97 fps, as foley's first models were trained on.
//!
//! In both, the sound is the bank's recordings of the video's material, from the video's own
//! split only, with each recording's first hit on the contact's exact sample; surface and
//! background photos come from the texture bank, also by split. The same seed gives the same
//! files, byte for byte.

mod audio;
mod contacts_csv;
mod drawn;
mod photo;
mod plan;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use audio::Recording;
use contacts_csv::write_contact_positions;
pub use contacts_csv::{CONTACTS_HEADER, read_contact_positions};
pub use drawn::{HEIGHT, WIDTH, reaction_of};
use photo::{CameraMove, FrameSize, Negative, PhotoStage, Photos, SceneRequest, Texture};
use rand::RngExt as _;

use super::{BankClip, DataError, Split, TexturePhoto, TextureUse};
use crate::media::{self, AudioTrack, EncodeOptions, WavFormat};

/// How generated scenes look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Style {
    /// Photos of real surfaces in perspective, filmed by a simulated camera.
    #[default]
    Photo,
    /// Flat drawn surfaces (the first generator's look).
    Drawn,
}

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthConfig {
    pub videos: usize,
    /// Length of each video, seconds.
    pub seconds: f64,
    pub seed: u64,
    /// Share of the videos in the train split (the rest are test).
    pub train_share: f64,
    pub style: Style,
    /// Share of the videos without any contact (photo style only).
    pub negatives: f64,
    /// Share of the videos filmed from a low camera, 8-30 degrees below the horizon (photo style
    /// only); the rest look 30-75 degrees down.
    pub low_cameras: f64,
}

impl SynthConfig {
    /// `videos` photo-style videos of `seconds`, a tenth of them without contact.
    #[must_use]
    pub fn new(videos: usize, seconds: f64, seed: u64, train_share: f64) -> Self {
        Self { videos, seconds, seed, train_share, style: Style::Photo, negatives: 0.1, low_cameras: 0.0 }
    }
}

/// What was generated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SynthSummary {
    /// Videos per (split, material), those without contact included.
    pub videos: BTreeMap<(Split, String), usize>,
    pub contacts: usize,
    /// Videos without contact.
    pub negatives: usize,
    /// Videos per frame rate (frames per second, rounded to 0.01).
    pub rates: BTreeMap<String, usize>,
    /// Frames of all the videos together.
    pub frames: usize,
}

/// The frame rate of drawn videos, as in the released dataset.
pub const FPS: (i32, i32) = (30_000, 1001);

/// Frame rates of photo-style videos.
/// The camera angle below the horizon (degrees) that parts a low camera's scenes (8 degrees up
/// to it) from those filmed from above (it up to 75).
pub const LOW_CAMERA_MAX_DEG: f64 = 30.0;

pub const PHOTO_RATES: &[(i32, i32)] = &[(24, 1), (25, 1), (30_000, 1001), (30, 1), (50, 1), (60, 1)];

/// Frame sizes of photo-style videos (width, height), with how often each comes (16:9, 4:3,
/// portrait).
pub const PHOTO_SIZES: &[(u32, u32, u32)] = &[
    (640, 360, 5),
    (456, 256, 5),
    (480, 270, 3),
    (320, 180, 2),
    (854, 480, 1),
    (1280, 720, 1),
    (640, 480, 2),
    (480, 360, 3),
    (320, 240, 2),
    (360, 640, 2),
    (270, 480, 2),
];

/// Writes `config.videos` videos into `out` (created if needed) in the Greatest Hits layout, with
/// `train.txt` and `test.txt`. `progress` is called with the number of videos finished.
pub fn generate(
    out: &Path,
    bank: &[BankClip],
    textures: &[TexturePhoto],
    cache: &Path,
    config: &SynthConfig,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<SynthSummary, DataError> {
    std::fs::create_dir_all(out).map_err(|source| DataError::Read { path: out.to_path_buf(), source })?;
    let recordings = load_recordings(bank, cache)?;
    let train_videos = ((config.videos as f64) * config.train_share).round() as usize;
    let split_of = |index: usize| if index < train_videos { Split::Train } else { Split::Test };
    let make = |index: usize| match config.style {
        Style::Drawn => make_drawn_video(out, index, split_of(index), &recordings, config),
        Style::Photo => make_photo_video(out, index, split_of(index), &recordings, textures, cache, config),
    };
    // Two videos at a time, each drawn on one thread while another encodes it; every video
    // depends only on the seed and its index, so the files do not depend on the order.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failed = std::sync::atomic::AtomicBool::new(false);
    let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Result<Made, DataError>)>(4);
    let mut made: BTreeMap<usize, Made> = BTreeMap::new();
    let mut first_error = None;
    std::thread::scope(|scope| -> Result<(), DataError> {
        for worker in 0..2 {
            let (tx, next, failed, make) = (tx.clone(), &next, &failed, &make);
            std::thread::Builder::new()
                .name(format!("dataset-video-{worker}"))
                .spawn_scoped(scope, move || {
                    loop {
                        let index = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        if index >= config.videos || failed.load(std::sync::atomic::Ordering::SeqCst) {
                            break;
                        }
                        if tx.send((index, make(index))).is_err() {
                            break;
                        }
                    }
                })
                .map_err(|source| DataError::Read { path: out.to_path_buf(), source })?;
        }
        drop(tx);
        for (index, result) in rx {
            match result {
                Ok(video) => {
                    made.insert(index, video);
                    progress(made.len());
                }
                Err(e) => {
                    failed.store(true, std::sync::atomic::Ordering::SeqCst);
                    first_error.get_or_insert(e);
                }
            }
        }
        Ok(())
    })?;
    if let Some(e) = first_error {
        return Err(e);
    }
    let mut summary = SynthSummary::default();
    let mut lists: BTreeMap<Split, Vec<String>> = BTreeMap::new();
    for (index, video) in made {
        let split = split_of(index);
        *summary.videos.entry((split, video.material)).or_default() += 1;
        summary.contacts += video.contacts;
        summary.negatives += usize::from(video.contacts == 0);
        *summary.rates.entry(format!("{:.2}", f64::from(video.fps.0) / f64::from(video.fps.1))).or_default() += 1;
        summary.frames += frame_count(config.seconds, video.fps);
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

/// What one video turned out to be.
struct Made {
    material: String,
    contacts: usize,
    fps: (i32, i32),
}

/// A material with struck recordings in `split`, and its recordings there.
fn pick_material<'a>(
    split: Split,
    recordings: &'a BTreeMap<(Split, String), Vec<Recording>>,
    rng: &mut rand_chacha::ChaCha8Rng,
) -> (String, Vec<&'a Recording>) {
    let materials: Vec<&String> = recordings
        .iter()
        .filter(|((s, _), r)| *s == split && r.iter().any(|r| !r.scratch))
        .map(|((_, m), _)| m)
        .collect();
    let material = materials[rng.random_range(0..materials.len())].clone();
    let pool = recordings[&(split, material.clone())].iter().collect();
    (material, pool)
}

fn make_drawn_video(
    out: &Path,
    index: usize,
    split: Split,
    recordings: &BTreeMap<(Split, String), Vec<Recording>>,
    config: &SynthConfig,
) -> Result<Made, DataError> {
    let mut rng = plan::rng_for(config.seed, index as u64);
    let (material, pool) = pick_material(split, recordings, &mut rng);
    let can_scratch = pool.iter().any(|r| r.scratch);
    let contacts = plan::plan_contacts(config.seconds, can_scratch, &mut rng);
    let stage = drawn::Stage::new(&material, &mut rng);
    let samples = (config.seconds * 48_000.0).round() as usize;
    let (track, _) = audio::soundtrack(samples, &contacts, &pool, &mut rng);
    let track = AudioTrack { rate: 48_000, start_s: 0.0, samples: track };

    let mut noise_rng = plan::rng_for(config.seed ^ 0x5EED, index as u64);
    let options = EncodeOptions { width: WIDTH, height: HEIGHT, fps: FPS, crf: 23, preset: "veryfast".to_owned() };
    let draw = |k: usize| stage.frame(k as f64 * f64::from(FPS.1) / f64::from(FPS.0), &contacts, &mut noise_rng);
    write_video(out, &video_id(config.seed, index), &options, config.seconds, &track, &contacts, &material, draw)?;
    Ok(Made { material, contacts: contacts.len(), fps: FPS })
}

#[allow(clippy::too_many_arguments)] // one video's sources, as make_drawn_video's
fn make_photo_video(
    out: &Path,
    index: usize,
    split: Split,
    recordings: &BTreeMap<(Split, String), Vec<Recording>>,
    textures: &[TexturePhoto],
    cache: &Path,
    config: &SynthConfig,
) -> Result<Made, DataError> {
    let mut rng = plan::rng_for(config.seed, index as u64);
    let (material, pool) = pick_material(split, recordings, &mut rng);
    let can_scratch = pool.iter().any(|r| r.scratch);
    let negative = (rng.random_range(0.0..1.0) < config.negatives)
        .then(|| [Negative::Swings, Negative::Swings, Negative::Passing, Negative::Pan][rng.random_range(0..4)]);
    let fps = PHOTO_RATES[rng.random_range(0..PHOTO_RATES.len())];
    let size = {
        let total: u32 = PHOTO_SIZES.iter().map(|s| s.2).sum();
        let mut pick = rng.random_range(0..total);
        let &(width, height, _) = PHOTO_SIZES
            .iter()
            .find(|s| {
                pick < s.2 || {
                    pick -= s.2;
                    false
                }
            })
            .unwrap_or(&PHOTO_SIZES[0]);
        FrameSize { width, height }
    };
    let (photos, photo_ids) = pick_photos(&material, split, textures, cache, &mut rng)?;
    let rate = f64::from(fps.0) / f64::from(fps.1);
    let request = SceneRequest {
        material: &material,
        size,
        fps: rate,
        seconds: config.seconds,
        negative,
        can_scratch,
        low_camera_share: config.low_cameras,
    };
    let (mut stage, contacts) = PhotoStage::new(&request, &photos, &mut rng);
    drop(photos);
    let id = video_id(config.seed, index);
    let scene = SceneNotes {
        style: Style::Photo,
        material: &material,
        photos: photo_ids,
        width: size.width,
        height: size.height,
        fps: format!("{}/{}", fps.0, fps.1),
        negative,
        camera: stage.camera_move(),
        camera_pitch_deg: (stage.camera_pitch_deg() * 10.0).round() / 10.0,
        hand: stage.hand(),
        swings: stage.swing_times(),
    };
    let notes = serde_json::to_string_pretty(&scene).map_err(|e| DataError::Line {
        path: out.join(format!("{id}_scene.json")),
        line: 0,
        problem: e.to_string(),
    })?;
    write_text(&out.join(format!("{id}_scene.json")), &notes)?;
    let samples = (config.seconds * 48_000.0).round() as usize;
    let (track, _) = audio::soundtrack(samples, &contacts, &pool, &mut rng);
    let track = AudioTrack { rate: 48_000, start_s: 0.0, samples: track };
    let options = EncodeOptions {
        width: size.width,
        height: size.height,
        fps,
        crf: rng.random_range(18..33),
        preset: if rng.random_range(0.0..1.0) < 0.6 { "veryfast" } else { "superfast" }.to_owned(),
    };
    let noise_seed = rng.random_range(0..u64::MAX);
    let draw = |k: usize| stage.frame(k as f64 / rate, noise_seed.wrapping_add(k as u64));
    write_video(out, &id, &options, config.seconds, &track, &contacts, &material, draw)?;
    Ok(Made { material, contacts: contacts.len(), fps })
}

/// What a photo-style video shows, beside its times file (`{id}_scene.json`): for a person
/// checking the data, and for measuring what happens at air swings.
#[derive(Debug, serde::Serialize)]
struct SceneNotes<'a> {
    style: Style,
    material: &'a str,
    /// The texture bank ids of the photos used.
    photos: Vec<String>,
    width: u32,
    height: u32,
    fps: String,
    /// What a video without contact shows instead.
    negative: Option<Negative>,
    /// How the camera moves.
    camera: CameraMove,
    /// The camera's angle below the horizon, degrees.
    camera_pitch_deg: f64,
    /// Whether a hand holds the stick in the picture (`None`: no stick).
    hand: Option<bool>,
    /// When air swings stop short of the surface, seconds.
    swings: Vec<f64>,
}

/// The photos of a video and their ids: a surface photo of its material from its split (for a
/// procedural material, a photo to draw it over; a photo with transparency lies over a dirt
/// photo), and a background from its split.
fn pick_photos(
    material: &str,
    split: Split,
    textures: &[TexturePhoto],
    cache: &Path,
    rng: &mut rand_chacha::ChaCha8Rng,
) -> Result<(Photos, Vec<String>), DataError> {
    let of = |usage: TextureUse, material: Option<&str>| -> Vec<&TexturePhoto> {
        textures
            .iter()
            .filter(|t| t.usage == usage && t.split == Some(split) && material.is_none_or(|m| t.material == m))
            .collect()
    };
    let pick =
        |list: &[&TexturePhoto], rng: &mut rand_chacha::ChaCha8Rng, what: &str| -> Result<TexturePhoto, DataError> {
            if list.is_empty() {
                return Err(DataError::Line {
                    path: super::texturebank_manifest(),
                    line: 0,
                    problem: format!("no {what} photo in the {split:?} split"),
                });
            }
            Ok(list[rng.random_range(0..list.len())].clone())
        };
    let own = of(TextureUse::Surface, Some(material));
    let surface =
        if own.is_empty() { pick(&of(TextureUse::Surface, None), rng, "surface")? } else { pick(&own, rng, material)? };
    let mut ids = vec![surface.id.clone()];
    let mut surface_texture = Texture::read_png(&surface.decoded_path(cache))?;
    if surface_texture.has_transparency() {
        let under = pick(&of(TextureUse::Surface, Some("dirt")), rng, "dirt")?;
        surface_texture =
            surface_texture.over(&Texture::read_png(&under.decoded_path(cache))?, rng.random_range(0.5..2.0));
        ids.push(under.id);
    }
    let background = pick(&of(TextureUse::Background, None), rng, "background")?;
    ids.push(background.id.clone());
    let photos = Photos {
        surface: surface_texture,
        background: Texture::read_png(&background.decoded_path(cache))?,
        outdoor: background.material == "outdoor",
    };
    Ok((photos, ids))
}

/// Frames in a video of `seconds` at `fps` (numerator, denominator).
fn frame_count(seconds: f64, fps: (i32, i32)) -> usize {
    (seconds * f64::from(fps.0) / f64::from(fps.1)).round() as usize
}

/// Encodes the frames `draw` makes (drawn on a second thread while this one encodes them) with
/// the sound, and writes the sound's WAV and the times file beside the video.
#[allow(clippy::too_many_arguments)] // the files of one video
fn write_video(
    out: &Path,
    id: &str,
    options: &EncodeOptions,
    seconds: f64,
    track: &AudioTrack,
    contacts: &[plan::PlannedContact],
    material: &str,
    mut draw: impl FnMut(usize) -> Vec<u8> + Send,
) -> Result<(), DataError> {
    let frames = frame_count(seconds, options.fps);
    let video_path = out.join(format!("{id}_denoised.mp4"));
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(8);
    std::thread::scope(|scope| -> Result<(), DataError> {
        std::thread::Builder::new()
            .name("dataset-draw".to_owned())
            .spawn_scoped(scope, move || {
                for k in 0..frames {
                    // The encoder stopped early (an error): stop drawing.
                    if tx.send(draw(k)).is_err() {
                        break;
                    }
                }
            })
            .map_err(|source| DataError::Read { path: video_path.clone(), source })?;
        media::encode_video(&video_path, &mut rx.iter(), Some(track), options)?;
        Ok(())
    })?;
    media::write_wav(&out.join(format!("{id}_denoised.wav")), &track.samples, 48_000, 1, WavFormat::Pcm16)?;
    let reaction = reaction_of(material);
    let times: String = contacts
        .iter()
        .map(|c| {
            format!("{:.9} {material} {} {reaction}\n", c.time_s, if c.slide_s.is_some() { "scratch" } else { "hit" })
        })
        .collect();
    write_text(&out.join(format!("{id}_times.txt")), &times)?;
    write_contact_positions(&out.join(format!("{id}_contacts.csv")), contacts)
}

fn write_text(path: &Path, text: &str) -> Result<(), DataError> {
    crate::media::write_atomically(path, |file| {
        let mut w = std::io::BufWriter::new(file);
        w.write_all(text.as_bytes())?;
        w.flush()
    })?;
    Ok(())
}
