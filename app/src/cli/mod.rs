//! The command line: one file per subcommand, each a thin layer over the engine.

mod bench;
mod clips;
mod cochleagram;
mod dataset;
mod eval;
mod features;
mod hits;
mod interrupt;
mod mux;
mod predict;
mod probe;
mod progress;
mod resynth;
mod study;
mod synth;
mod train;

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

/// Give a silent video of hits and scratches its sound.
///
/// With no subcommand, opens the desktop app.
#[derive(Debug, Parser)]
#[command(name = "foley", about, long_about = None, disable_version_flag = true)]
pub struct Cli {
    /// Log what foley is doing.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Print the version and where the default model, the encoder and ONNX Runtime were found.
    #[arg(short = 'V', long)]
    pub version: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the desktop app, optionally with a video.
    Open {
        /// The video to open.
        video: Option<PathBuf>,
    },
    /// Describe a media file: container, streams, codecs, size, frame rate, duration, frames.
    Probe(probe::ProbeArgs),
    /// Write a copy of a video with a new audio track (the video stream is copied, not re-encoded).
    Mux(mux::MuxArgs),
    /// Compute the cochleagram (42 bands at 90 Hz) of an audio file or a video's sound.
    Cochleagram(cochleagram::CochleagramArgs),
    /// Detect hits in a sound track or a cochleagram.
    Hits(hits::HitsArgs),
    /// Turn a cochleagram back into a waveform (parametric resynthesis).
    Resynth(resynth::ResynthArgs),
    /// CNN features of every frame of a video (space-time image and first colour frame).
    Features(features::FeaturesArgs),
    /// Train the sound predictor (LSTM) on a dataset in the Greatest Hits layout.
    Train(train::TrainArgs),
    /// Predict the cochleagram of a silent video with a trained model.
    Predict(predict::PredictArgs),
    /// Give a video its sound: predicted hits, real recorded clips, a 48 kHz track (and the video with it).
    Synth(synth::SynthArgs),
    /// Score the model's tracks on a dataset's test split against the real sound, beside baselines.
    Eval(eval::EvalArgs),
    /// The clip database a model's retrieval searches: build it, describe it.
    Clips(clips::ClipsArgs),
    /// The real-vs-predicted study: prepare it, run it for a participant, report on it.
    Study(study::StudyArgs),
    /// Training data: the clip bank and datasets in the Greatest Hits layout.
    Dataset(dataset::DatasetArgs),
    /// Measure foley's speed and accuracy on this machine.
    Bench(bench::BenchArgs),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    // The long jobs stop cleanly on Ctrl-C; they poll the flag between frames or batches.
    if matches!(
        cli.command,
        Some(
            Command::Features(_)
                | Command::Train(_)
                | Command::Predict(_)
                | Command::Synth(_)
                | Command::Eval(_)
                | Command::Clips(_)
        )
    ) {
        interrupt::install()?;
    }
    let result = run_command(cli);
    if interrupt::requested() {
        return result.context("interrupted");
    }
    result
}

/// `foley --version`: the version, then each asset with where it was found and by which rule.
fn print_version() {
    use foley_engine::paths;
    println!("foley {}", env!("CARGO_PKG_VERSION"));
    let assets = [
        ("default model", paths::locate_default_model()),
        ("default encoder", paths::locate_default_encoder()),
        ("ONNX Runtime library", paths::locate_onnxruntime_found()),
    ];
    for (what, found) in assets {
        match found {
            Ok(found) => println!("{what}: {} ({})", found.path.display(), found.rule),
            Err(err) => println!("{what}: not found ({err})"),
        }
    }
    println!("cache: {}", paths::cache_dir().display());
}

fn run_command(cli: Cli) -> anyhow::Result<()> {
    if cli.version {
        print_version();
        return Ok(());
    }
    match cli.command {
        None => crate::ui::run(None),
        Some(Command::Open { video }) => crate::ui::run(video),
        Some(Command::Probe(args)) => probe::run(&args),
        Some(Command::Mux(args)) => mux::run(&args),
        Some(Command::Cochleagram(args)) => cochleagram::run(&args),
        Some(Command::Hits(args)) => hits::run(&args),
        Some(Command::Resynth(args)) => resynth::run(&args),
        Some(Command::Features(args)) => features::run(&args),
        Some(Command::Train(args)) => train::run(&args),
        Some(Command::Predict(args)) => predict::run(&args),
        Some(Command::Synth(args)) => synth::run(&args),
        Some(Command::Clips(args)) => clips::run(&args),
        Some(Command::Eval(args)) => eval::run(&args),
        Some(Command::Study(args)) => study::run(&args),
        Some(Command::Dataset(args)) => dataset::run(&args),
        Some(Command::Bench(args)) => bench::run(&args),
    }
}
