//! `foley cochleagram`: the sound features of an audio file or a video's sound track.

use std::path::PathBuf;

use anyhow::Context as _;
use foley_engine::media::AudioReader;
use foley_engine::sound::{self, CochleagramParams};

#[derive(Debug, clap::Args)]
pub struct CochleagramArgs {
    /// An audio file, or a video with a sound track.
    pub input: PathBuf,
    /// Output `.npy` (float32, [steps, 42]); `OUT.json` is written beside it.
    #[arg(short, long)]
    pub output: PathBuf,
}

pub fn run(args: &CochleagramArgs) -> anyhow::Result<()> {
    let params = CochleagramParams::default();
    let duration = AudioReader::open(&args.input, params.sample_rate)?.info().duration_s.unwrap_or(0.0);
    let bar = super::progress::bar((duration * 1000.0) as u64, "analysing");
    let c = sound::cochleagram_of_file(&args.input, &params, &mut |s| bar.set_position((s * 1000.0) as u64));
    bar.finish_and_clear();
    let c = c?;
    sound::write_cochleagram(&args.output, &c, &params, Some(&args.input.display().to_string()))
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    eprintln!(
        "wrote {} ({} steps x {} bands at {} Hz, step 0 at {:.3} s) and {}",
        args.output.display(),
        c.steps(),
        c.bands,
        c.rate_hz,
        c.start_s,
        foley_engine::media::sidecar_path(&args.output).display()
    );
    Ok(())
}
