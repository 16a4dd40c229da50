//! Set-up shared by the engine's test crates.
#![allow(clippy::unwrap_used)] // a test that cannot set up its fixture should fail loudly

use std::path::Path;

use foley_engine::data::read_manifest;
use foley_engine::data::synth::{self, Style, SynthConfig};
use foley_engine::paths::{cache_dir, clipbank_manifest};

/// Generates a drawn-style dataset in `out` from the shipped clip bank: `videos` videos of
/// `seconds` s from `seed`, `train_share` of them in the train split.
pub fn drawn_dataset(out: &Path, videos: usize, seconds: f64, seed: u64, train_share: f64) {
    let bank = read_manifest(&clipbank_manifest()).unwrap();
    let config = SynthConfig { style: Style::Drawn, ..SynthConfig::new(videos, seconds, seed, train_share) };
    synth::generate(out, &bank, &[], &cache_dir(), &config, &|_| {}).unwrap();
}
