//! Generating training scenes as `foley dataset synth` does (the default look, a tenth without
//! contact): what a dataset such as the default model's costs to make on this machine.

use anyhow::Context as _;
use foley_engine::data::{self, synth::SynthConfig};
use foley_engine::paths::{cache_dir, clipbank_manifest};

use super::threads_available;

pub(super) fn run(videos: usize, seconds: f64, seed: u64) -> anyhow::Result<()> {
    let config = SynthConfig::new(videos, seconds, seed, 0.85);
    super::super::dataset::check_synth_config(&config)?;
    let bank = data::read_manifest(&clipbank_manifest())?;
    let photos = data::read_texture_manifest(&data::texturebank_manifest())?;
    let out = tempfile::tempdir().context("cannot make a temporary folder")?;
    let bar = super::super::progress::bar(videos as u64, "generating");
    let start = std::time::Instant::now();
    let summary = data::synth::generate(out.path(), &bank, &photos, &cache_dir(), &config, &|n| {
        bar.set_position(n as u64);
    })
    .context("cannot generate the scenes (has scripts/setup.sh run?)")?;
    let elapsed = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let frames = summary.frames;
    println!(
        "generated {videos} videos of {seconds} s ({frames} frames, {} without contact, seed {seed}) in {elapsed:.1} s: {:.2} s a video, {:.0} frames/s, {:.2} s of video a second; {} threads available",
        summary.negatives,
        elapsed / videos as f64,
        frames as f64 / elapsed,
        videos as f64 * seconds / elapsed,
        threads_available()
    );
    Ok(())
}
