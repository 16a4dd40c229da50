//! `foley synth` end to end: as a new process, as a job beside the CNN alone, and an edit's re-render.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, bail};
use foley_engine::media::{self, WavFormat};
use foley_engine::vision::{self, Backend};

use super::fixtures::{scene_video, test_images};
use super::{megabytes, peak_memory, threads_available};

pub(super) fn run(seconds: f64, size: &str, model: Option<&PathBuf>) -> anyhow::Result<()> {
    use foley_engine::synthesis::{SynthOptions, synthesize_video};
    let temp = tempfile::tempdir().context("cannot create a temporary folder")?;
    let (width, height) = super::parse_size(size)?;
    let video = scene_video(temp.path(), seconds, (width, height))?;

    // As a user's `time foley synth` sees it: a new process, start-up included (the model, the
    // clip database, ONNX Runtime), until the WAV is written.
    let exe = std::env::current_exe().context("cannot find the foley executable")?;
    let mut command = Command::new(&exe);
    command.arg("synth").arg(&video).arg("-o").arg(temp.path().join("process.wav"));
    if let Some(model) = model {
        command.arg("--model").arg(model);
    }
    let start = Instant::now();
    let mut child = command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .with_context(|| format!("cannot run {}", exe.display()))?;
    let (succeeded, peak_kb) = wait_measured(&mut child)?;
    let process_s = start.elapsed().as_secs_f64();
    if !succeeded {
        bail!("`foley synth {}` failed; run it alone to see why", video.display());
    }
    println!(
        "`foley synth` as a new process on {seconds} s of {width}x{height} 30 fps video (generated scenes): {process_s:.2} s = {:.1}x real time, start-up included; peak memory {}",
        seconds / process_s,
        megabytes(peak_kb),
    );

    // The job alone, in this process, and the CNN alone on as many images: what the pipeline
    // costs beyond its slowest stage.
    let bundle = super::super::predict::load_model(model)?;
    let db = super::super::synth::load_database(&bundle.dir)?;
    let mut encoder = vision::open_encoder(Backend::Ort, bundle.encoder_spec()?)?;
    let before = peak_memory();
    let start = Instant::now();
    let made = synthesize_video(
        &video,
        &bundle,
        db.as_ref(),
        encoder.as_mut(),
        &SynthOptions::default(),
        &std::sync::atomic::AtomicBool::new(false),
        &mut |_| {},
    )?;
    let out = temp.path().join("track.wav");
    media::write_wav(&out, &made.track, foley_engine::timeline::OUTPUT_SAMPLE_RATE, 1, WavFormat::Pcm16)?;
    let wall = start.elapsed().as_secs_f64();
    // What an edit in the app costs: the whole track re-rendered from its hits.
    let mut rerender = f64::INFINITY;
    if let Some(db) = &db {
        for _ in 0..5 {
            let t = Instant::now();
            std::hint::black_box(foley_engine::synthesis::render_retrieval(
                db,
                &made.placement.hits,
                made.track.len(),
            )?);
            rerender = rerender.min(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    println!(
        "foley synth on {seconds} s of {width}x{height} 30 fps video (generated scenes): {wall:.2} s = {:.1}x real time; {} hits; peak memory {} (before the job {}); {} threads available",
        made.placement.duration_s / wall,
        made.placement.hits.len(),
        megabytes(peak_memory()),
        megabytes(before),
        threads_available()
    );
    let cnn_s = cnn_alone_s(encoder.as_mut(), (made.placement.duration_s * 30.0).round() as usize)?;
    println!("the CNN alone on as many images: {cnn_s:.2} s; the whole job takes {:.2}x the CNN's time", wall / cnn_s);
    if rerender.is_finite() {
        println!(
            "re-rendering the track from its {} hits (an edit in the app): {rerender:.1} ms (best of 5)",
            made.placement.hits.len()
        );
    }
    Ok(())
}

/// Seconds `encoder` takes for `images` test images in its preferred batches.
fn cnn_alone_s(encoder: &mut dyn vision::FrameEncoder, images: usize) -> anyhow::Result<f64> {
    let batch = test_images(encoder.spec(), encoder.preferred_batch().max(1));
    let t = vision::time_encoder(encoder, &batch, images)?;
    Ok(t.seconds * images as f64 / t.images.max(1) as f64)
}

/// Waits for `child`; whether it succeeded, and its own peak resident memory in kB (where the
/// system tells it).
#[cfg(target_os = "linux")]
fn wait_measured(child: &mut std::process::Child) -> anyhow::Result<(bool, Option<u64>)> {
    let pid = libc::pid_t::try_from(child.id()).context("process id out of range")?;
    let mut status = 0;
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `wait4` waits for this child, which nothing else waits for, and fills `status`
    // and `usage`.
    let waited = unsafe { libc::wait4(pid, &raw mut status, 0, usage.as_mut_ptr()) };
    if waited != pid {
        bail!("cannot wait for process {pid}: {}", std::io::Error::last_os_error());
    }
    // SAFETY: zero is a valid `rusage`, and the successful call filled it.
    let usage = unsafe { usage.assume_init() };
    let succeeded = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    Ok((succeeded, u64::try_from(usage.ru_maxrss).ok()))
}

#[cfg(not(target_os = "linux"))]
fn wait_measured(child: &mut std::process::Child) -> anyhow::Result<(bool, Option<u64>)> {
    Ok((child.wait()?.success(), None))
}
