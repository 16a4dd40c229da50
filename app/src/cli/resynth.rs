//! `foley resynth`: a waveform whose cochleagram is the given one (parametric resynthesis).

use std::path::PathBuf;

use foley_engine::media::{self, WavFormat};
use foley_engine::sound::{self, Carrier, CochleagramParams, ResynthParams};

#[derive(Debug, clap::Args)]
pub struct ResynthArgs {
    /// A cochleagram `.npy` ([steps, 42], as `foley cochleagram` or `foley predict` write).
    pub cochleagram: PathBuf,
    /// Output WAV (48 kHz).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Iterations (at least one). With tones or noise, the first half impose the envelopes; the
    /// rest descend the error on the waveform, then scale the bands toward the target.
    #[arg(long, default_value_t = 10)]
    pub iterations: usize,
    /// Seed of the starting noise.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// What the iterations start from: tones (one sinusoid per band; the closest) or noise
    /// (McDermott and Simoncelli's texture synthesis; more natural for scrapes, slower to
    /// converge), both then imposed band by band; or modulated-tones (each band's sinusoid
    /// multiplied by its envelope, without band splitting or descent: several times faster).
    #[arg(long, value_enum, default_value = "tones")]
    pub carrier: CarrierArg,
    /// Sample format: 16, 24 or f32.
    #[arg(long, default_value = "16")]
    pub format: WavFormat,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CarrierArg {
    Tones,
    Noise,
    ModulatedTones,
}

pub fn run(args: &ResynthArgs) -> anyhow::Result<()> {
    let params = CochleagramParams::default();
    let (target, _) = sound::read_cochleagram(&args.cochleagram, params.bands())?;
    let carrier = match args.carrier {
        CarrierArg::Tones => Carrier::Tones,
        CarrierArg::Noise => Carrier::Noise,
        CarrierArg::ModulatedTones => Carrier::ModulatedTones,
    };
    let settings = ResynthParams { iterations: args.iterations, seed: args.seed, carrier };
    let bar = super::progress::bar(args.iterations as u64, "iterations");
    let result =
        sound::resynthesize_with_progress(&target, &params, &settings, &mut |done| bar.set_position(done as u64));
    bar.finish_and_clear();
    let (track, report) = result?;
    for (i, e) in report.relative_error.iter().enumerate() {
        eprintln!("iteration {:>2}: relative error {:.2}%", i + 1, e * 100.0);
    }
    media::write_wav(&args.output, &track.samples, track.rate, 1, args.format)?;
    eprintln!("wrote {} ({:.2} s)", args.output.display(), track.duration_s());
    Ok(())
}
