//! Inputs the benchmarks make at run time (videos with the `ffmpeg` command, generated scenes,
//! recordings at known times), so that no media lives in git. The command-line tests include
//! this file too; it uses only the engine, `anyhow` and the standard library.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};
use foley_engine::eval;
use foley_engine::paths::cache_dir;

/// Runs `ffmpeg -nostdin -v error -y ARGS... OUT` and returns OUT; ffmpeg's message on failure.
pub fn run_ffmpeg(args: &[&str], out: &Path) -> anyhow::Result<PathBuf> {
    let output = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(args)
        .arg(out)
        .output()
        .context("cannot run `ffmpeg` (the set-up installs it)")?;
    if !output.status.success() {
        bail!("ffmpeg {args:?} failed to make {}: {}", out.display(), String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(out.to_path_buf())
}

/// `seconds` of generated scenes (a new one every 10 s) as one `width x height`, 30 fps H.264
/// video.
pub fn scene_video(dir: &Path, seconds: f64, (width, height): (u32, u32)) -> anyhow::Result<PathBuf> {
    let scenes = dir.join("scenes");
    let count = (seconds / 10.0).ceil().max(1.0) as usize;
    eprintln!("drawing {count} scenes of 10 s ...");
    let bank = foley_engine::data::read_manifest(&foley_engine::paths::clipbank_manifest())?;
    let photos = foley_engine::data::read_texture_manifest(&foley_engine::data::texturebank_manifest())?;
    let config = foley_engine::data::synth::SynthConfig::new(count, 10.0, 11, 0.0);
    foley_engine::data::synth::generate(&scenes, &bank, &photos, &cache_dir(), &config, &|_| {})
        .context("cannot draw the scenes (run scripts/setup.sh first)")?;
    let list: String = (0..count)
        .map(|i| {
            format!(
                "file '{}'\n",
                scenes.join(format!("{}_denoised.mp4", foley_engine::data::synth::video_id(11, i))).display()
            )
        })
        .collect();
    let list_path = dir.join("scenes.txt");
    std::fs::write(&list_path, list)?;
    let out = dir.join(format!("scenes_{width}x{height}.mp4"));
    eprintln!("joining them into {} ...", out.display());
    let list_arg = list_path.to_string_lossy();
    let duration = seconds.to_string();
    let scale = format!("scale={width}:{height},fps=30");
    run_ffmpeg(
        &[
            "-f", "concat", "-safe", "0", "-i", &list_arg, "-an", "-t", &duration, "-vf", &scale, "-c:v", "libx264",
            "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
        ],
        &out,
    )
    .context("cannot join the scenes")?;
    std::fs::remove_dir_all(&scenes)?;
    Ok(out)
}

/// A 10 s, 30 fps H.264 test pattern, with sensor-like noise (a camera's bit rate) or without.
pub fn test_pattern_video(dir: &Path, w: u32, h: u32, noisy: bool) -> anyhow::Result<PathBuf> {
    let out = dir.join(format!("bench_{w}x{h}_{}.mp4", if noisy { "noisy" } else { "clean" }));
    eprintln!("making {} ...", out.display());
    let source = format!("testsrc2=size={w}x{h}:rate=30:duration=10");
    run_ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            &source,
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
        ],
        &out,
    )
}

/// Real recordings placed at known times in six conditions (from the set-up's cache).
pub fn hit_scenes(seconds: f64, seed: u64) -> anyhow::Result<Vec<eval::HitBenchScene>> {
    let clips = eval::hit_bench_clips(&cache_dir())
        .context("the recordings come from the set-up's cache: run scripts/setup.sh")?;
    Ok(eval::hit_bench_scenes(&clips, seconds, seed))
}

/// `count` real-looking CNN inputs for `spec`: the colour image of a test pattern, varied per
/// image.
pub fn test_images(spec: &foley_engine::vision::EncoderSpec, count: usize) -> foley_engine::vision::ImageBatch {
    let (w, h) = spec.input_size();
    let input = &spec.manifest.input;
    let mut batch = foley_engine::vision::ImageBatch::new(w, h);
    for i in 0..count {
        let rgb: Vec<u8> = (0..(w * h * 3) as usize).map(|p| ((p / 3 * 7 + p % 3 * 50 + i * 13) % 256) as u8).collect();
        batch.push_planes(&foley_engine::vision::colour_image(&rgb, input));
    }
    batch
}
