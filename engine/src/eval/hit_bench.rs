//! Test material for hit detection: real recordings placed at known times, in conditions that
//! make detection hard in different ways.

use std::path::Path;

use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

use crate::media::{self, MediaError};

/// The Hydrogen "Gimme A Hand 1.0" recordings used (each holds one hit), by material.
const CLIPS: &[(&str, &str)] = &[
    ("WoodBlock", "wood"),
    ("Clave", "wood"),
    ("CajonSlaps", "wood"),
    ("Cowbell", "metal"),
    ("WaterglassHi", "glass"),
    ("WaterglassLo", "glass"),
    ("BongoHi", "skin"),
    ("BongoLo", "skin"),
];
const VELOCITIES: &[&str] = &["Softest", "Soft", "Med", "Hard", "Hardest"];
const KIT: &str = "assets/hydrogen-drumkits/usr/share/hydrogen/data/drumkits/Gimme A Hand 1.0";

/// One recording, peak-normalised to 0.5 and trimmed to start 5 ms before its attack, with where
/// its hit starts.
#[derive(Debug, Clone)]
pub struct BenchClip {
    pub name: String,
    pub material: String,
    pub samples: Vec<f32>,
    /// The first sample whose magnitude reaches a fifth of the clip's peak.
    pub onset: usize,
}

/// Loads the recordings from the set-up's cache at 48 kHz.
pub fn hit_bench_clips(cache: &Path) -> Result<Vec<BenchClip>, MediaError> {
    let mut clips = Vec::new();
    for (instrument, material) in CLIPS {
        for velocity in VELOCITIES {
            let name = format!("{instrument}-{velocity}");
            let track = media::read_audio(cache.join(KIT).join(format!("{name}.wav")), 48_000)?;
            let peak = track.samples.iter().fold(0.0_f32, |m, s| m.max(s.abs()));
            if peak <= 0.0 {
                continue;
            }
            let mut samples: Vec<f32> = track.samples.iter().map(|s| s * 0.5 / peak).collect();
            let onset = samples.iter().position(|s| s.abs() >= 0.1).unwrap_or(0);
            // Start 5 ms before the attack and fade the recording's own noise in and out over
            // 5 ms: placed in digital silence, an abrupt edge would be an onset of its own.
            let fade = 240;
            let lead = onset.min(fade);
            samples.drain(..onset - lead);
            let len = samples.len();
            for k in 0..fade.min(len) {
                let ramp = 0.5 - 0.5 * (std::f32::consts::PI * k as f32 / fade as f32).cos();
                if k < lead {
                    samples[k] *= ramp;
                }
                samples[len - 1 - k] *= ramp;
            }
            clips.push(BenchClip { name, material: (*material).to_owned(), samples, onset: lead });
        }
    }
    Ok(clips)
}

/// How a scene makes detection hard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HitBenchCondition {
    /// 0.25-0.9 s apart, within 6 dB of each other.
    Clean,
    /// Groups of two or three hits 50-120 ms apart.
    Close,
    /// Levels spread evenly over 40 dB.
    Loudness,
}

impl HitBenchCondition {
    fn name(self) -> &'static str {
        match self {
            Self::Clean => "clean",
            Self::Close => "close_50ms",
            Self::Loudness => "loudness_40db",
        }
    }
}

/// A mixed scene with its true hit times.
#[derive(Debug, Clone)]
pub struct HitBenchScene {
    /// e.g. `close_50ms_noise`.
    pub name: String,
    pub condition: HitBenchCondition,
    pub noise_floor: bool,
    /// Mono, 48 kHz.
    pub samples: Vec<f32>,
    /// Seconds, sorted.
    pub truth: Vec<f64>,
    /// The recording placed at each true time.
    pub clips: Vec<String>,
}

/// Every condition, without and with a room-noise floor (-60 dBFS RMS), `seconds` long each.
#[must_use]
pub fn hit_bench_scenes(clips: &[BenchClip], seconds: f64, seed: u64) -> Vec<HitBenchScene> {
    let mut scenes = Vec::new();
    for (k, condition) in
        [HitBenchCondition::Clean, HitBenchCondition::Close, HitBenchCondition::Loudness].into_iter().enumerate()
    {
        for noise_floor in [false, true] {
            let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(k as u64 * 2 + u64::from(noise_floor)));
            scenes.push(scene(clips, condition, noise_floor, seconds, &mut rng));
        }
    }
    scenes
}

fn scene(
    clips: &[BenchClip],
    condition: HitBenchCondition,
    noise_floor: bool,
    seconds: f64,
    rng: &mut ChaCha8Rng,
) -> HitBenchScene {
    let rate = 48_000.0;
    let len = (seconds * rate) as usize;
    let mut samples = vec![0.0_f32; len];
    let mut truth = Vec::new();
    let mut names = Vec::new();
    let mut t = 0.3;
    while t < seconds - 1.0 {
        let group = if condition == HitBenchCondition::Close { rng.random_range(2..=3) } else { 1 };
        for g in 0..group {
            let clip = &clips[rng.random_range(0..clips.len())];
            let gain_db: f64 = match condition {
                HitBenchCondition::Loudness => rng.random_range(-40.0..=0.0),
                _ => rng.random_range(-6.0..=0.0),
            };
            let gain = 10_f64.powf(gain_db / 20.0) as f32;
            let start = (t * rate) as usize - clip.onset.min((t * rate) as usize);
            for (i, s) in clip.samples.iter().enumerate() {
                if let Some(out) = samples.get_mut(start + i) {
                    *out += gain * s;
                }
            }
            truth.push((start + clip.onset) as f64 / rate);
            names.push(clip.name.clone());
            if g + 1 < group {
                t += rng.random_range(0.05..=0.12);
            }
        }
        t += rng.random_range(0.25..=0.9);
    }
    if noise_floor {
        crate::sound::add_room_noise(&mut samples, 10_f32.powf(-60.0 / 20.0), rng);
    }
    let peak = samples.iter().fold(0.0_f32, |m, s| m.max(s.abs()));
    if peak > 0.99 {
        samples.iter_mut().for_each(|s| *s *= 0.99 / peak);
    }
    let name = if noise_floor { format!("{}_noise", condition.name()) } else { condition.name().to_owned() };
    HitBenchScene { name, condition, noise_floor, samples, truth, clips: names }
}
