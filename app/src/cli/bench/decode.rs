//! Decoding and scaling frames at the CNN's input size, with and without the loop filter.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use foley_engine::media::{VideoReader, VideoReaderOptions};

use super::fixtures::test_pattern_video;
use super::{megabytes, parse_size, peak_memory, threads_available};

pub(super) fn run(files: &[PathBuf], size: &str, repeat: u32) -> anyhow::Result<()> {
    let (w, h) = parse_size(size)?;
    let temp;
    let files: Vec<PathBuf> = if files.is_empty() {
        temp = tempfile::tempdir().context("cannot create a temporary folder")?;
        [(640, 360, true), (1920, 1080, true), (1920, 1080, false)]
            .into_iter()
            .map(|(fw, fh, noisy)| test_pattern_video(temp.path(), fw, fh, noisy))
            .collect::<anyhow::Result<_>>()?
    } else {
        files.to_vec()
    };
    println!("decode + scale to {w}x{h} RGB, best of {repeat} runs, {} threads available", threads_available());
    for (file, skip_loop_filter) in files.iter().flat_map(|f| [(f, false), (f, true)]) {
        let mut best = f64::INFINITY;
        let mut frames = 0_u64;
        let mut info = None;
        for _ in 0..repeat.max(1) {
            let start = Instant::now();
            let options = VideoReaderOptions { size: Some((w, h)), threads: 0, skip_loop_filter };
            let mut reader = VideoReader::open_with(file, options)?;
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
            "{}: {}x{} {} at {megabits:.1} Mbit/s{}, {frames} frames in {:.3} s = {:.0} frames/s (peak memory so far {})",
            file.display(),
            info.width,
            info.height,
            info.codec,
            if skip_loop_filter { ", loop filter skipped" } else { "" },
            best,
            frames as f64 / best,
            megabytes(peak_memory()),
        );
    }
    Ok(())
}
