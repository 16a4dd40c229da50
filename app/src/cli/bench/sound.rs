//! Cochleagram and hit detection speed on a minute of real recordings.

use std::time::Instant;

use anyhow::Context as _;
use foley_engine::media::AudioTrack;
use foley_engine::sound::{self, CochleagramParams, HitParams};

use super::fixtures::hit_scenes;

pub(super) fn run(seconds: f64) -> anyhow::Result<()> {
    let scene = hit_scenes(seconds, 1)?.into_iter().find(|s| s.noise_floor).context("no scene")?;
    let track = AudioTrack { rate: 48_000, start_s: 0.0, samples: scene.samples };
    let params = CochleagramParams::default();
    let (mut best_c, mut best_h) = (f64::INFINITY, f64::INFINITY);
    let mut hits = 0;
    for _ in 0..5 {
        let start = Instant::now();
        let c = sound::cochleagram_of(&track, &params)?;
        best_c = best_c.min(start.elapsed().as_secs_f64());
        let start = Instant::now();
        hits = sound::detect_hits(&c, &HitParams::default()).len();
        best_h = best_h.min(start.elapsed().as_secs_f64());
    }
    let audio = track.duration_s();
    println!("{audio:.0} s of 48 kHz audio, best of 5 runs:");
    println!("  cochleagram:   {:.1} ms = {:.0}x real time", best_c * 1e3, audio / best_c);
    println!("  hit detection: {:.2} ms = {:.0}x real time ({hits} hits)", best_h * 1e3, audio / best_h);
    println!("  both:          {:.0}x real time", audio / (best_c + best_h));
    Ok(())
}
