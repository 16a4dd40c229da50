//! `foley dataset`: training data.

use std::path::PathBuf;

use anyhow::Context as _;
use foley_engine::data;
use foley_engine::paths::cache_dir;
use foley_engine::sound::{self, CochleagramParams, HitParams};

#[derive(Debug, clap::Args)]
pub struct DatasetArgs {
    #[command(subcommand)]
    pub command: DatasetCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum DatasetCommand {
    /// Measure the hit times inside every recording of the clip bank with the hit detector and
    /// write them to the manifest's `hits` column (a maintainer's step; check the result by ear).
    /// A recording without a sharp attack gets one time: where its level first reaches a quarter
    /// of its peak.
    BankHits {
        /// The clip bank manifest.
        #[arg(long, default_value = "assets/clipbank/manifest.csv")]
        manifest: PathBuf,
    },
}

pub fn run(args: &DatasetArgs) -> anyhow::Result<()> {
    match &args.command {
        DatasetCommand::BankHits { manifest } => bank_hits(manifest),
    }
}

fn bank_hits(manifest: &std::path::Path) -> anyhow::Result<()> {
    let mut clips = data::read_manifest(manifest)?;
    let cache = cache_dir();
    let params = CochleagramParams::default();
    let bar = super::progress::bar(clips.len() as u64, "measuring");
    for clip in &mut clips {
        let track = clip.audio(&cache).with_context(|| format!("clip {} (run scripts/setup.sh)", clip.id))?;
        let c = sound::cochleagram_of(&track, &params)?;
        let mut times: Vec<f64> =
            sound::detect_hits(&c, &HitParams::default()).iter().map(|h| h.time_s.max(0.0)).collect();
        if times.is_empty() {
            times.extend(sound::level_onset(&c, params.compression, 0.25));
        }
        clip.hits = times.iter().map(|t| format!("{t:.3}")).collect::<Vec<_>>().join(";");
        bar.inc(1);
    }
    bar.finish_and_clear();
    data::write_manifest(manifest, &clips)?;
    for clip in &clips {
        println!("{:<36} {:<7} {:<7} {}", clip.id, clip.material, clip.action, clip.hits);
    }
    eprintln!("wrote the hit times of {} recordings to {}", clips.len(), manifest.display());
    Ok(())
}
