//! `foley dataset`: training data.

use std::path::PathBuf;

use anyhow::Context as _;
use foley_engine::data::{
    self,
    synth::{Style, SynthConfig},
};
use foley_engine::paths::{cache_dir, clipbank_manifest};
use foley_engine::sound::{self, CochleagramParams, HitParams};

#[derive(Debug, clap::Args)]
pub struct DatasetArgs {
    #[command(subcommand)]
    pub command: DatasetCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum DatasetCommand {
    /// Generate a dataset in the Greatest Hits layout: scenes of a drumstick striking and
    /// scratching surfaces, with the clip bank's real recordings as their sound (H.264 + AAC,
    /// 48 kHz WAV, times files, train/test lists). The `photo` style films photos of real
    /// surfaces at 24-60 fps and several sizes, with air swings and videos without contact; the
    /// `drawn` style draws flat surfaces at 456x256, 29.97 fps. The same seed gives the same files.
    Synth {
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Number of videos.
        #[arg(long, default_value_t = 400)]
        videos: usize,
        /// Length of each video, seconds.
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Share of the videos in the train split.
        #[arg(long, default_value_t = 0.8)]
        split: f64,
        /// How the scenes look.
        #[arg(long, value_enum, default_value_t = StyleArg::Photo)]
        style: StyleArg,
        /// Share of the videos without any contact: air swings only, things passing, a camera
        /// pan (photo style).
        #[arg(long, default_value_t = 0.1)]
        negatives: f64,
        /// Share of the videos filmed from a low camera, 8-30 degrees below the horizon, the
        /// background filling the top of the frame (photo style); the rest look 30-75 degrees
        /// down.
        #[arg(long, default_value_t = 0.0)]
        low_cameras: f64,
        /// The clip bank manifest (default: the one foley was built with).
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// The texture bank manifest (default: the one foley was built with).
        #[arg(long)]
        textures: Option<PathBuf>,
    },
    /// Draw a contact sheet of a dataset: for a few videos (one per material), frames around the
    /// first contact with its labels, and the sound's cochleagram with the contacts marked.
    Preview {
        /// A dataset folder in the Greatest Hits layout.
        dataset: PathBuf,
        /// Output PNG.
        #[arg(short, long)]
        output: PathBuf,
        /// How many videos to show.
        #[arg(long, default_value_t = 6)]
        videos: usize,
    },
    /// Measure the hit times inside every recording of the clip bank with the hit detector and
    /// write them to the manifest's `hits` column (a maintainer's step; check the result by ear).
    /// A recording without a sharp attack gets one time: where its level first reaches a quarter
    /// of its peak.
    BankHits {
        /// The clip bank manifest (default: the one foley was built with).
        #[arg(long)]
        manifest: Option<PathBuf>,
    },
}

/// How generated scenes look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StyleArg {
    /// Photos of real surfaces in perspective, filmed by a simulated camera.
    Photo,
    /// Flat drawn surfaces, 456x256 at 29.97 fps.
    Drawn,
}

pub fn run(args: &DatasetArgs) -> anyhow::Result<()> {
    match &args.command {
        DatasetCommand::Preview { dataset, output, videos } => {
            data::contact_sheet(&data::GreatestHits::open(dataset)?, output, *videos)?;
            eprintln!("wrote {}", output.display());
            Ok(())
        }
        DatasetCommand::BankHits { manifest } => bank_hits(&manifest.clone().unwrap_or_else(clipbank_manifest)),
        DatasetCommand::Synth {
            out,
            videos,
            seconds,
            seed,
            split,
            style,
            negatives,
            low_cameras,
            manifest,
            textures,
        } => synth(
            out,
            &SynthConfig {
                videos: *videos,
                seconds: *seconds,
                seed: *seed,
                train_share: *split,
                style: match style {
                    StyleArg::Photo => Style::Photo,
                    StyleArg::Drawn => Style::Drawn,
                },
                negatives: *negatives,
                low_cameras: *low_cameras,
            },
            &manifest.clone().unwrap_or_else(clipbank_manifest),
            &textures.clone().unwrap_or_else(data::texturebank_manifest),
        ),
    }
}

/// What `foley dataset synth` (and `foley bench generate`, which generates the same scenes) accepts.
pub(super) fn check_synth_config(config: &SynthConfig) -> anyhow::Result<()> {
    if !(1.0..=600.0).contains(&config.seconds)
        || !(0.0..=1.0).contains(&config.train_share)
        || !(0.0..=1.0).contains(&config.negatives)
        || !(0.0..=1.0).contains(&config.low_cameras)
        || config.videos == 0
    {
        anyhow::bail!("--seconds must be 1-600, --split, --negatives and --low-cameras 0-1, and --videos at least 1");
    }
    Ok(())
}

fn synth(
    out: &std::path::Path,
    config: &SynthConfig,
    manifest: &std::path::Path,
    textures: &std::path::Path,
) -> anyhow::Result<()> {
    check_synth_config(config)?;
    let bank = data::read_manifest(manifest)?;
    let photos = data::read_texture_manifest(textures)?;
    let bar = super::progress::bar(config.videos as u64, "generating");
    let start = std::time::Instant::now();
    let summary = data::synth::generate(out, &bank, &photos, &cache_dir(), config, &|n| bar.set_position(n as u64))
        .context("cannot generate the dataset (has scripts/setup.sh run?)")?;
    bar.finish_and_clear();
    for ((split, material), n) in &summary.videos {
        println!("{:<6} {material:<8} {n} videos", format!("{split:?}").to_lowercase());
    }
    let rates: Vec<String> = summary.rates.iter().map(|(fps, n)| format!("{n} at {fps} fps")).collect();
    eprintln!(
        "wrote {} videos ({} contacts; {} without contact; {}) to {} in {:.1} s",
        config.videos,
        summary.contacts,
        summary.negatives,
        rates.join(", "),
        out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
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

#[cfg(test)]
mod tests {
    use foley_engine::data::synth::SynthConfig;

    use super::check_synth_config;

    #[test]
    fn a_synth_config_out_of_range_is_refused_and_the_message_names_the_options() {
        assert!(check_synth_config(&SynthConfig::new(16, 10.0, 1, 0.85)).is_ok());
        for bad in [
            SynthConfig::new(0, 10.0, 1, 0.85),
            SynthConfig::new(16, 0.5, 1, 0.85),
            SynthConfig::new(16, f64::NAN, 1, 0.85),
            SynthConfig::new(16, 10.0, 1, 1.5),
            SynthConfig { negatives: -0.1, ..SynthConfig::new(16, 10.0, 1, 0.85) },
            SynthConfig { low_cameras: 1.5, ..SynthConfig::new(16, 10.0, 1, 0.85) },
        ] {
            let err = check_synth_config(&bad).unwrap_err().to_string();
            assert!(err.contains("--seconds") && err.contains("--videos"), "{err}");
        }
    }
}
