//! Times the frame encoder alone, without the media stack: this binary links no FFmpeg, so it runs
//! on a GPU machine that has only a Vulkan driver. `foley bench encoder` is the full benchmark.
//!
//! ```sh
//! cargo run --release -p foley-engine --example encoder_speed -- \
//!     [--backend ort|wgpu] [--manifest ENCODER.json] [--images N] [--batches 1,16,64] \
//!     [--write-reference FILE] [--reference FILE] [--profile]
//! ```
//!
//! `--write-reference` saves the features of 8 fixed test images (raw little-endian float32);
//! `--reference` compares this backend's features of the same images with such a file and
//! prints the largest element difference relative to each feature vector's norm. `--profile`
//! (wgpu) times every GPU operation at the largest batch with the adapter's timestamps.

use std::path::PathBuf;

use foley_engine::vision::{self, Backend, EncoderSpec, FrameEncoder, ImageBatch, WgpuEncoder};

const REFERENCE_IMAGES: usize = 8;

struct Args {
    backend: Backend,
    manifest: Option<PathBuf>,
    images: usize,
    batches: Vec<usize>,
    write_reference: Option<PathBuf>,
    reference: Option<PathBuf>,
    profile: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        backend: Backend::Wgpu,
        manifest: None,
        images: 512,
        batches: vec![1, 16, 64],
        write_reference: None,
        reference: None,
        profile: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--backend" => {
                args.backend = match value()?.as_str() {
                    "ort" => Backend::Ort,
                    "wgpu" => Backend::Wgpu,
                    other => return Err(format!("unknown backend `{other}` (ort or wgpu)")),
                }
            }
            "--manifest" => args.manifest = Some(PathBuf::from(value()?)),
            "--images" => args.images = value()?.parse().map_err(|e| format!("--images: {e}"))?,
            "--batches" => {
                args.batches = value()?
                    .split(',')
                    .map(|b| b.trim().parse::<usize>().map_err(|e| format!("--batches `{b}`: {e}")))
                    .collect::<Result<_, _>>()?;
                if args.batches.contains(&0) {
                    return Err("--batches: a batch holds at least one image".to_owned());
                }
            }
            "--write-reference" => args.write_reference = Some(PathBuf::from(value()?)),
            "--reference" => args.reference = Some(PathBuf::from(value()?)),
            "--profile" => args.profile = true,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(args)
}

/// The colour image of a test pattern, varied by `i`.
fn test_image(spec: &EncoderSpec, i: usize) -> Vec<f32> {
    let (w, h) = spec.input_size();
    let rgb: Vec<u8> = (0..(w * h * 3) as usize)
        .map(|p| ((p / 3 * 7 + p % 3 * 50 + i * 13 + p / (w as usize * 3) * i) % 256) as u8)
        .collect();
    vision::colour_image(&rgb, &spec.manifest.input)
}

fn batch_of(spec: &EncoderSpec, n: usize) -> ImageBatch {
    let (w, h) = spec.input_size();
    let mut batch = ImageBatch::new(w, h);
    for i in 0..n {
        batch.push_planes(&test_image(spec, i));
    }
    batch
}

/// Prints each op's time at the largest batch, the slowest first, and the time per kind of op.
fn print_profile(encoder: &mut WgpuEncoder, spec: &EncoderSpec, size: usize) -> Result<(), String> {
    let batch = batch_of(spec, size);
    encoder.profile(&batch).map_err(|e| e.to_string())?;
    let mut ops = encoder.profile(&batch).map_err(|e| e.to_string())?;
    let images = size.min(encoder.preferred_batch()) as f64;
    let total: f64 = ops.iter().map(|o| o.seconds).sum();
    println!("GPU time of the {} ops at batch {images}: {:.3} ms per image", ops.len(), total * 1000.0 / images);
    let mut kinds: Vec<(String, f64, usize)> = Vec::new();
    for op in &ops {
        // The op's kind and kernel, without its channel counts and shape.
        let head = op.op.split(',').next().unwrap_or("");
        let kind = head.split(' ').take_while(|w| !w.contains("->")).collect::<Vec<_>>().join(" ");
        match kinds.iter_mut().find(|(k, _, _)| *k == kind) {
            Some(entry) => {
                entry.1 += op.seconds;
                entry.2 += 1;
            }
            None => kinds.push((kind, op.seconds, 1)),
        }
    }
    kinds.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (kind, seconds, count) in &kinds {
        println!("  {:>5.1}%  {count:>3} x {kind}", 100.0 * seconds / total);
    }
    ops.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
    println!("slowest ops:");
    for op in ops.iter().take(12) {
        println!("  {:>8.3} us per image  {:>5.1}%  {}", op.seconds * 1e6 / images, 100.0 * op.seconds / total, op.op);
    }
    Ok(())
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let spec = match &args.manifest {
        Some(path) => EncoderSpec::load(path),
        None => EncoderSpec::default_encoder(),
    }
    .map_err(|e| e.to_string())?;
    let largest = args.batches.iter().copied().max().unwrap_or(1);
    let mut gpu = None;
    let mut cpu = None;
    let encoder: &mut dyn FrameEncoder = match args.backend {
        Backend::Wgpu => gpu.insert(WgpuEncoder::with_batch(spec.clone(), largest).map_err(|e| e.to_string())?),
        Backend::Ort => {
            cpu.insert(vision::open_encoder(Backend::Ort, spec.clone()).map_err(|e| e.to_string())?).as_mut()
        }
    };
    println!(
        "{} on {} (at most {} images per dispatch)",
        spec.identity.name,
        encoder.device(),
        encoder.preferred_batch()
    );

    let reference_batch = batch_of(&spec, REFERENCE_IMAGES);
    let features = encoder.encode(&reference_batch).map_err(|e| e.to_string())?;
    if let Some(path) = &args.write_reference {
        let bytes: Vec<u8> = features.iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!("wrote the features of {REFERENCE_IMAGES} test images to {}", path.display());
    }
    if let Some(path) = &args.reference {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let reference: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        if reference.len() != features.len() {
            return Err(format!(
                "{} holds {} values, this encoder gives {} for the same {REFERENCE_IMAGES} images",
                path.display(),
                reference.len(),
                features.len()
            ));
        }
        let size = encoder.feature_size();
        let worst = features
            .chunks(size)
            .zip(reference.chunks(size))
            .map(|(got, want)| {
                let norm = want.iter().map(|v| v * v).sum::<f32>().sqrt().max(f32::MIN_POSITIVE);
                got.iter().zip(want).map(|(a, b)| (a - b).abs()).fold(0.0_f32, f32::max) / norm
            })
            .fold(0.0_f32, f32::max);
        println!("largest element difference from {}: {worst:.2e} of the feature norm", path.display());
    }

    for &size in &args.batches {
        let batch = batch_of(&spec, size);
        let t = foley_engine::vision::time_encoder(&mut *encoder, &batch, args.images).map_err(|e| e.to_string())?;
        println!(
            "batch {size:>3}: {} images in {:.3} s = {:.0} frames/s ({:.3} ms per image, features read back every batch)",
            t.images,
            t.seconds,
            t.frames_per_s(),
            t.ms_per_image()
        );
    }
    if args.profile {
        let gpu = gpu.as_mut().ok_or("--profile times the wgpu backend")?;
        print_profile(gpu, &spec, largest)?;
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("encoder_speed: {e}");
        std::process::exit(1);
    }
}
