//! The frame encoder alone at batch 1, 8 and 16, then the whole features job.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use foley_engine::vision::{self, Backend, CnnDecode};

use super::fixtures::{scene_video, test_images, test_pattern_video};
use super::{megabytes, peak_memory, threads_available};

pub(super) fn run(backend: Backend, model: Option<&PathBuf>, images: usize) -> anyhow::Result<()> {
    let spec = super::super::features::load_spec(model)?;
    let mut encoder = vision::open_encoder(backend, spec)?;
    println!("{} on {}, {} threads available", encoder.spec().identity.name, encoder.device(), threads_available());
    for batch_size in [1_usize, 8, 16] {
        let batch = test_images(encoder.spec(), batch_size);
        let t = vision::time_encoder(encoder.as_mut(), &batch, images)?;
        println!(
            "CNN, batch {batch_size:>2}: {} images in {:.3} s = {:.0} frames/s ({:.2} ms per image)",
            t.images,
            t.seconds,
            t.frames_per_s(),
            t.ms_per_image()
        );
    }
    let temp = tempfile::tempdir().context("cannot create a temporary folder")?;
    let video = test_pattern_video(temp.path(), 640, 360, true)?;
    let out = temp.path().join("features.npy");
    let start = Instant::now();
    let summary = vision::write_features(
        &video,
        &out,
        encoder.as_mut(),
        &std::sync::atomic::AtomicBool::new(false),
        &mut |_| {},
    )?;
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "features job on {}: {} frames in {seconds:.3} s = {:.0} frames/s (peak memory {})",
        video.display(),
        summary.frames,
        summary.frames as f64 / seconds,
        megabytes(peak_memory()),
    );
    // Decoding cheaper for the CNN: what skipping the loop filter saves, and what it changes,
    // on the test pattern and on a generated scene.
    let scene = scene_video(temp.path(), 10.0, (640, 360))?;
    for video in [&video, &scene] {
        let (full_s, full) = features_in_memory(video, encoder.as_mut(), CnnDecode::default())?;
        let (skip_s, skipped) = features_in_memory(video, encoder.as_mut(), CnnDecode { skip_loop_filter: true })?;
        let width = 2 * encoder.feature_size();
        let mut changes: Vec<f64> = full
            .chunks_exact(width)
            .zip(skipped.chunks_exact(width))
            .map(|(a, b)| {
                let norm = a.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>().sqrt();
                let diff = a.iter().zip(b).map(|(x, y)| f64::from(x - y).powi(2)).sum::<f64>().sqrt();
                diff / norm.max(1e-12)
            })
            .collect();
        changes.sort_by(f64::total_cmp);
        let frames = changes.len() as f64;
        println!(
            "features job on {}, loop filter skipped: {:.0} frames/s against {:.0} in full; each frame's features move by a median {:.1}% of their norm (at most {:.1}%)",
            video.display(),
            frames / skip_s,
            frames / full_s,
            100.0 * changes.get(changes.len() / 2).copied().unwrap_or(f64::NAN),
            100.0 * changes.last().copied().unwrap_or(f64::NAN),
        );
    }
    Ok(())
}

/// The features job on `video` with its rows kept in memory, and the seconds it took.
fn features_in_memory(
    video: &Path,
    encoder: &mut dyn vision::FrameEncoder,
    decode: CnnDecode,
) -> anyhow::Result<(f64, Vec<f32>)> {
    let mut rows = Vec::new();
    let start = Instant::now();
    vision::encode_video_streaming_with(
        video,
        encoder,
        decode,
        vision::RowLayout::default(),
        &std::sync::atomic::AtomicBool::new(false),
        &mut |_| {},
        &mut |_, batch| {
            rows.extend_from_slice(batch);
            Ok(())
        },
    )?;
    Ok((start.elapsed().as_secs_f64(), rows))
}
