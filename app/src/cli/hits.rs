//! `foley hits`: the hits in a sound track or a cochleagram.

use std::path::{Path, PathBuf};

use foley_engine::sound::{self, Cochleagram, CochleagramParams, HitParams};

#[derive(Debug, clap::Args)]
pub struct HitsArgs {
    /// An audio file, a video with a sound track, or a cochleagram `.npy` (real or predicted).
    pub input: PathBuf,
    /// Output CSV: `time_s,strength`, one hit a row, sorted.
    #[arg(short, long)]
    pub output: PathBuf,
}

/// Reads `input` as a cochleagram `.npy`, or analyses it as audio.
pub fn load_cochleagram(input: &Path, params: &CochleagramParams) -> anyhow::Result<Cochleagram> {
    if input.extension().is_some_and(|e| e.eq_ignore_ascii_case("npy")) {
        Ok(sound::read_cochleagram(input, params.bands())?.0)
    } else {
        Ok(sound::cochleagram_of_file(input, params, &mut |_| {})?)
    }
}

pub fn run(args: &HitsArgs) -> anyhow::Result<()> {
    let c = load_cochleagram(&args.input, &CochleagramParams::default())?;
    let hits = sound::detect_hits(&c, &HitParams::default());
    sound::write_hits_csv(&args.output, &hits)?;
    eprintln!("wrote {} ({} hits)", args.output.display(), hits.len());
    Ok(())
}
