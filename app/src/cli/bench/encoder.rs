//! The frame encoder alone at batch 1, 8 and 16, then the whole features job.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use foley_engine::vision::{self, Backend};

use super::fixtures::test_pattern_video;
use super::{megabytes, peak_memory, threads_available};

pub(super) fn run(backend: Backend, model: Option<&PathBuf>, images: usize) -> anyhow::Result<()> {
    let spec = super::super::features::load_spec(model)?;
    let (w, h) = spec.input_size();
    let input = spec.manifest.input.clone();
    let mut encoder = vision::open_encoder(backend, spec)?;
    println!("{} on {}, {} threads available", encoder.spec().identity.name, encoder.device(), threads_available());
    // Real-looking inputs: the colour image of a test pattern, varied per image.
    let image = |i: usize| {
        let rgb: Vec<u8> = (0..(w * h * 3) as usize).map(|p| ((p / 3 * 7 + p % 3 * 50 + i * 13) % 256) as u8).collect();
        vision::colour_image(&rgb, &input)
    };
    for batch_size in [1_usize, 8, 16] {
        let mut batch = vision::ImageBatch::new(w, h);
        for i in 0..batch_size {
            batch.push_planes(&image(i));
        }
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
    Ok(())
}
