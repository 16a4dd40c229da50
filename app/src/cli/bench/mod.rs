//! `foley bench`: speed and accuracy figures measured on this machine, one file per benchmark.

mod decode;
mod encoder;
pub mod fixtures;
mod generate;
mod hits;
mod predict;
mod quality;
mod retrieval;
mod scrub;
mod sound;
mod synth;
mod train;

use std::path::PathBuf;

use anyhow::Context as _;
use foley_engine::predict::TrainOptions;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub which: BenchKind,
}

#[derive(Debug, clap::Subcommand)]
pub enum BenchKind {
    /// Decode and scale every frame to RGB at the CNN's input size; prints frames per second.
    ///
    /// With no files, makes three 10 s, 30 fps H.264 test videos with the `ffmpeg` command in a
    /// temporary folder: 640x360 and 1920x1080 with sensor-like noise (a camera's bit rate), and
    /// 1920x1080 without it. Each file is decoded in full and with the codec's loop filter
    /// skipped (as the CNN's input may be).
    Decode {
        /// Videos to decode.
        files: Vec<PathBuf>,
        /// Output frame size, WIDTHxHEIGHT.
        #[arg(long, default_value = "224x224")]
        size: String,
        /// Decode each file this many times and report the best run.
        #[arg(long, default_value_t = 3)]
        repeat: u32,
    },
    /// Cochleagram and hit detection on 60 s of 48 kHz audio (real recordings at known times);
    /// prints times and speed relative to real time.
    Sound {
        /// Length of the audio, seconds.
        #[arg(long, default_value_t = 60.0)]
        seconds: f64,
    },
    /// The frame encoder: frames/s of the CNN at batch 1, 8 and 16, then of the whole features
    /// job (decode, images, CNN) on a 10 s 640x360 video made with `ffmpeg`; then, on that video
    /// and on 10 s of generated scenes, the features job with H.264's loop filter skipped: its
    /// speed, and how far each frame's features move from those of the full decode.
    Encoder {
        /// `ort` or `wgpu`.
        #[arg(long, value_enum, default_value_t = super::features::BackendArg::Ort)]
        backend: super::features::BackendArg,
        /// An encoder manifest; default: the set-up's EfficientNet-Lite0.
        #[arg(long, value_name = "MANIFEST")]
        model: Option<PathBuf>,
        /// Images per batch size measured (after one warm-up batch).
        #[arg(long, default_value_t = 96)]
        images: usize,
    },
    /// The LSTM over 60 s of video (5,400 steps at 90 Hz from 1,798 frames of features), as
    /// `foley predict` runs it after the CNN; prints the best of 5 runs.
    Predict {
        /// A model folder; default: the shipped model.
        #[arg(long)]
        model: Option<PathBuf>,
        /// Seconds of video.
        #[arg(long, default_value_t = 60.0)]
        seconds: f64,
    },
    /// Nearest-neighbour search in a clip database the size of Greatest Hits: windows made from
    /// the model's clips (shifted in time, scaled in loudness, with noise added) up to ENTRIES;
    /// prints the index build time, the time per query (mean, median, 99th percentile) and
    /// whether the results equal a brute-force search.
    Retrieval {
        /// A model folder whose clip database seeds the windows; default: the shipped model.
        #[arg(long)]
        model: Option<PathBuf>,
        #[arg(long, default_value_t = 40_000)]
        entries: usize,
        #[arg(long, default_value_t = 2_000)]
        queries: usize,
    },
    /// `foley synth` end to end (decode, CNN, LSTM, retrieval, mixing, WAV) on a 30 fps H.264 video
    /// (640x360 unless `--size` says otherwise) of generated scenes (10 s each, test recordings, joined and scaled with
    /// `ffmpeg`): first as a user runs it (a new `foley synth` process, start-up included, and
    /// its peak memory), then the job alone in this process beside the CNN alone on as many
    /// images, and the time to re-render the track after an edit.
    Synth {
        /// Seconds of video (try 600 to check memory stays flat).
        #[arg(long, default_value_t = 60.0)]
        seconds: f64,
        /// The video's frame size, WIDTHxHEIGHT (try 1920x1080).
        #[arg(long, default_value = "640x360")]
        size: String,
        /// A model folder; default: the shipped model.
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Scrubbing in the app's player: 30 jumps to random places and 30 small moves forward in a
    /// 10 s 1920x1080 H.264 video (made with `ffmpeg`, with sensor noise), each timed until its
    /// frame is ready to show.
    Scrub {
        /// A video to scrub instead.
        video: Option<PathBuf>,
    },
    /// The predictor's quality on a dataset's test split: predicted against real cochleagrams
    /// (per-step error, band correlation) and hits detected in the prediction against the labelled
    /// contacts (accuracy, F1 and AP within +-0.1 s, median timing error).
    Quality {
        /// A dataset in the Greatest Hits layout.
        #[arg(long)]
        data: PathBuf,
        /// A model folder; default: the shipped model.
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// One training step of the sound predictor (forward, backward and Adam on a batch of 2 s
    /// windows of random features, the shipped model's size): its median time, and per window.
    Train {
        /// Windows per batch.
        #[arg(long, default_value_t = TrainOptions::default().batch)]
        batch: usize,
        /// Steps to time (after one untimed).
        #[arg(long, default_value_t = 20)]
        steps: usize,
    },
    /// Generating training scenes as `foley dataset synth` does (the default look, a tenth of
    /// the videos without contact) into a temporary folder: seconds a video, frames per second.
    Generate {
        /// Videos to make.
        #[arg(long, default_value_t = 16)]
        videos: usize,
        /// Length of each video, seconds.
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Hit detection accuracy on real recordings placed at known times, in six conditions.
    /// Writes each condition's audio (`NAME.wav`), true times (`NAME_truth.csv`) and detections
    /// (`NAME_foley.csv`) and the scores (`foley.csv`) to DIR, where
    /// `scripts/reference/librosa_onsets.py DIR` can score librosa on the same audio.
    Hits {
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Length of each condition's audio, seconds.
        #[arg(long, default_value_t = 60.0)]
        seconds: f64,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
}

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    match &args.which {
        BenchKind::Decode { files, size, repeat } => decode::run(files, size, *repeat),
        BenchKind::Sound { seconds } => sound::run(*seconds),
        BenchKind::Hits { out, seconds, seed } => hits::run(out, *seconds, *seed),
        BenchKind::Quality { data, model } => quality::run(data, model.as_ref()),
        BenchKind::Predict { model, seconds } => predict::run(model.as_ref(), *seconds),
        BenchKind::Retrieval { model, entries, queries } => retrieval::run(model.as_ref(), *entries, *queries),
        BenchKind::Synth { seconds, size, model } => synth::run(*seconds, size, model.as_ref()),
        BenchKind::Scrub { video } => scrub::run(video.as_ref()),
        BenchKind::Encoder { backend, model, images } => encoder::run((*backend).into(), model.as_ref(), *images),
        BenchKind::Train { batch, steps } => train::run(*batch, *steps),
        BenchKind::Generate { videos, seconds, seed } => generate::run(*videos, *seconds, *seed),
    }
}

/// The process's peak resident memory in KiB (Linux `VmHWM`).
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Peak memory in KiB as a figure to print.
fn megabytes(kib: Option<u64>) -> String {
    kib.map_or_else(|| "unknown".to_owned(), |kb| format!("{} MB", kb / 1024))
}

fn threads_available() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// `WIDTHxHEIGHT` as numbers.
fn parse_size(s: &str) -> anyhow::Result<(u32, u32)> {
    let (w, h) = s.split_once('x').with_context(|| format!("size {s:?} is not WIDTHxHEIGHT"))?;
    Ok((
        w.parse().with_context(|| format!("bad width in {s:?}"))?,
        h.parse().with_context(|| format!("bad height in {s:?}"))?,
    ))
}
