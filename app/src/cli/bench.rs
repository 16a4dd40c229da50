//! `foley bench`: speed figures measured on this machine.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, bail};
use foley_engine::media::{VideoReader, VideoReaderOptions};

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
    /// 1920x1080 without it.
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
}

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    match &args.which {
        BenchKind::Decode { files, size, repeat } => decode(files, size, *repeat),
    }
}

fn decode(files: &[PathBuf], size: &str, repeat: u32) -> anyhow::Result<()> {
    let (w, h) = parse_size(size)?;
    let temp;
    let files: Vec<PathBuf> = if files.is_empty() {
        temp = tempfile::tempdir().context("cannot create a temporary folder")?;
        [(640, 360, true), (1920, 1080, true), (1920, 1080, false)]
            .into_iter()
            .map(|(fw, fh, noisy)| make_test_video(temp.path(), fw, fh, noisy))
            .collect::<anyhow::Result<_>>()?
    } else {
        files.to_vec()
    };
    println!(
        "decode + scale to {w}x{h} RGB, best of {repeat} runs, {} threads available",
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    for file in &files {
        let mut best = f64::INFINITY;
        let mut frames = 0_u64;
        let mut info = None;
        for _ in 0..repeat.max(1) {
            let start = Instant::now();
            let mut reader = VideoReader::open_with(file, VideoReaderOptions { size: Some((w, h)), threads: 0 })?;
            frames = 0;
            while let Some(frame) = reader.next_frame()? {
                std::hint::black_box(&frame.rgb);
                frames += 1;
            }
            best = best.min(start.elapsed().as_secs_f64());
            info = Some(reader.info().clone());
        }
        let info = info.context("no run")?;
        let megabits = std::fs::metadata(file).map_or(0.0, |m| m.len() as f64 * 8.0 / 1e6 / info.duration_s.max(1e-9));
        println!(
            "{}: {}x{} {} at {megabits:.1} Mbit/s, {frames} frames in {:.3} s = {:.0} frames/s (peak memory so far {})",
            file.display(),
            info.width,
            info.height,
            info.codec,
            best,
            frames as f64 / best,
            peak_memory().map_or_else(|| "unknown".to_owned(), |kb| format!("{} MB", kb / 1024)),
        );
    }
    Ok(())
}

fn parse_size(s: &str) -> anyhow::Result<(u32, u32)> {
    let (w, h) = s.split_once('x').with_context(|| format!("size {s:?} is not WIDTHxHEIGHT"))?;
    Ok((
        w.parse().with_context(|| format!("bad width in {s:?}"))?,
        h.parse().with_context(|| format!("bad height in {s:?}"))?,
    ))
}

fn make_test_video(dir: &Path, w: u32, h: u32, noisy: bool) -> anyhow::Result<PathBuf> {
    let out = dir.join(format!("bench_{w}x{h}_{}.mp4", if noisy { "noisy" } else { "clean" }));
    eprintln!("making {} ...", out.display());
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc2=size={w}x{h}:rate=30:duration=10"))
        .args([
            "-vf",
            if noisy { "noise=alls=12:allf=t+u" } else { "null" },
            "-c:v",
            "libx264",
            "-preset",
            "medium",
            "-crf",
            "23",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(&out)
        .status()
        .context("cannot run `ffmpeg` to make the test videos (the set-up installs it; or pass video files)")?;
    if !status.success() {
        bail!("`ffmpeg` failed to make {}", out.display());
    }
    Ok(out)
}

/// The process's peak resident memory in KiB (Linux `VmHWM`).
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
