//! `foley bench`: speed figures measured on this machine.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, bail};
use foley_engine::eval;
use foley_engine::media::{self, AudioTrack, VideoReader, VideoReaderOptions, WavFormat};
use foley_engine::metrics::match_onsets;
use foley_engine::paths::cache_dir;
use foley_engine::sound::{self, CochleagramParams, HitParams};
use foley_engine::vision::{self, Backend};

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
    /// job (decode, images, CNN) on a 10 s 640x360 video made with `ffmpeg`.
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
    /// `foley synth` end to end (decode, CNN, LSTM, retrieval, mixing, WAV) on a 640x360, 30 fps
    /// H.264 video of generated scenes (10 s each, test recordings, joined and scaled with
    /// `ffmpeg`): first as a user runs it (a new `foley synth` process, start-up included, and
    /// its peak memory), then the job alone in this process beside the CNN alone on as many
    /// images, and the time to re-render the track after an edit.
    Synth {
        /// Seconds of video (try 600 to check memory stays flat).
        #[arg(long, default_value_t = 60.0)]
        seconds: f64,
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
        BenchKind::Decode { files, size, repeat } => decode(files, size, *repeat),
        BenchKind::Sound { seconds } => sound_speed(*seconds),
        BenchKind::Hits { out, seconds, seed } => hit_accuracy(out, *seconds, *seed),
        BenchKind::Quality { data, model } => predictor_quality(data, model.as_ref()),
        BenchKind::Predict { model, seconds } => predict_speed(model.as_ref(), *seconds),
        BenchKind::Retrieval { model, entries, queries } => retrieval_speed(model.as_ref(), *entries, *queries),
        BenchKind::Synth { seconds, model } => synth_speed(*seconds, model.as_ref()),
        BenchKind::Scrub { video } => scrub_speed(video.as_ref()),
        BenchKind::Encoder { backend, model, images } => encoder_speed((*backend).into(), model.as_ref(), *images),
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
            peak_memory().map_or_else(|| "unknown".to_owned(), |kb| format!("{} MB", kb / 1024)),
        );
    }
    Ok(())
}

fn encoder_speed(backend: Backend, model: Option<&PathBuf>, images: usize) -> anyhow::Result<()> {
    let spec = super::features::load_spec(model)?;
    let (w, h) = spec.input_size();
    let input = spec.manifest.input.clone();
    let mut encoder = vision::open_encoder(backend, spec)?;
    println!(
        "{} on {}, {} threads available",
        encoder.spec().identity.name,
        encoder.device(),
        std::thread::available_parallelism().map_or(1, usize::from)
    );
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
    let video = make_test_video(temp.path(), 640, 360, true)?;
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
        peak_memory().map_or_else(|| "unknown".to_owned(), |kb| format!("{} MB", kb / 1024)),
    );
    Ok(())
}

fn predict_speed(model: Option<&PathBuf>, seconds: f64) -> anyhow::Result<()> {
    let bundle = super::predict::load_model(model)?;
    let config = &bundle.manifest.config;
    let frames = (seconds * 30000.0 / 1001.0).floor() as usize;
    let times: Vec<f64> = (0..frames).map(|i| i as f64 * 1001.0 / 30000.0).collect();
    // Laid out as a video's features are: the space-time half varies per frame (non-negative,
    // sparse), the second half is the first colour frame's, the same on every row.
    let half = config.input / 2;
    let rows: Vec<f32> = (0..frames * config.input)
        .map(|i| {
            let k = if i % config.input < half { i } else { i % config.input };
            if k % 3 == 0 { ((k * 2_654_435_761) % 1000) as f32 / 500.0 } else { 0.0 }
        })
        .collect();
    let features =
        vision::VideoFeatures { times, rows, feature_size: config.input / 2, encoder: bundle.manifest.encoder.clone() };
    let mut best = f64::INFINITY;
    let mut steps = 0;
    for _ in 0..5 {
        let start = Instant::now();
        let c = foley_engine::predict::predict_features(&bundle, &features)?;
        best = best.min(start.elapsed().as_secs_f64());
        steps = c.steps();
    }
    println!(
        "LSTM {} layer(s) x {} hidden, projection {}: {seconds} s of video ({frames} frames, {steps} steps) in {:.1} ms (best of 5), {} threads available",
        config.layers,
        config.hidden,
        config.projection,
        best * 1000.0,
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    Ok(())
}

fn predictor_quality(data: &Path, model: Option<&PathBuf>) -> anyhow::Result<()> {
    let bundle = super::predict::load_model(model)?;
    let mut encoder = vision::open_encoder(Backend::Ort, bundle.encoder_spec()?)?;
    let bar = super::progress::bar(0, "videos");
    let result = foley_engine::predict::evaluate_split(
        &bundle,
        data,
        foley_engine::data::Split::Test,
        encoder.as_mut(),
        &cache_dir(),
        &std::sync::atomic::AtomicBool::new(false),
        &mut |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    );
    bar.finish_and_clear();
    let (m, videos) = result?;
    println!("model {} on the test split of {} ({videos} videos):", bundle.dir.display(), data.display());
    println!("  per-step squared error (42 bands) {:.4}, robust loss {:.4}", m.mse_per_step, m.loss);
    println!("  band correlation (mean over bands) {:.3}", m.band_correlation);
    println!(
        "  hits within +-{:.1} s: accuracy {:.3}, F1 {:.3}, AP {:.3}, median timing error {}",
        foley_engine::predict::HIT_TOLERANCE_S,
        m.hit_accuracy,
        m.hit_f1,
        m.hit_ap,
        m.hit_median_error_ms.map_or_else(|| "-".to_owned(), |e| format!("{e:.1} ms"))
    );
    Ok(())
}

fn parse_size(s: &str) -> anyhow::Result<(u32, u32)> {
    let (w, h) = s.split_once('x').with_context(|| format!("size {s:?} is not WIDTHxHEIGHT"))?;
    Ok((
        w.parse().with_context(|| format!("bad width in {s:?}"))?,
        h.parse().with_context(|| format!("bad height in {s:?}"))?,
    ))
}

/// `seconds` of generated scenes (a new one every 10 s) as one 640x360, 30 fps H.264 video.
fn make_scene_video(dir: &Path, seconds: f64) -> anyhow::Result<PathBuf> {
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
    let out = dir.join("scenes_640x360.mp4");
    eprintln!("joining them into {} ...", out.display());
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "concat", "-safe", "0", "-i"])
        .arg(&list_path)
        .args([
            "-an",
            "-t",
            &seconds.to_string(),
            "-vf",
            "scale=640:360,fps=30",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "23",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(&out)
        .status()
        .context("cannot run `ffmpeg` to join the scenes")?;
    if !status.success() {
        bail!("`ffmpeg` failed to join the scenes into {}", out.display());
    }
    std::fs::remove_dir_all(&scenes)?;
    Ok(out)
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

fn bench_scenes(seconds: f64, seed: u64) -> anyhow::Result<Vec<eval::HitBenchScene>> {
    let clips = eval::hit_bench_clips(&cache_dir())
        .context("the recordings come from the set-up's cache: run scripts/setup.sh")?;
    Ok(eval::hit_bench_scenes(&clips, seconds, seed))
}

fn sound_speed(seconds: f64) -> anyhow::Result<()> {
    let scene = bench_scenes(seconds, 1)?.into_iter().find(|s| s.noise_floor).context("no scene")?;
    let track = AudioTrack { rate: 48_000, start_s: 0.0, samples: scene.samples };
    let params = CochleagramParams::default();
    let (mut best_c, mut best_h) = (f64::INFINITY, f64::INFINITY);
    let mut hits = 0;
    for _ in 0..5 {
        let start = Instant::now();
        let c = sound::cochleagram_of(&track, &params)?;
        best_c = best_c.min(start.elapsed().as_secs_f64());
        let start = Instant::now();
        hits = sound::detect_hits(&c, &HitParams::default()).len();
        best_h = best_h.min(start.elapsed().as_secs_f64());
    }
    let audio = track.duration_s();
    println!("{audio:.0} s of 48 kHz audio, best of 5 runs:");
    println!("  cochleagram:   {:.1} ms = {:.0}x real time", best_c * 1e3, audio / best_c);
    println!("  hit detection: {:.2} ms = {:.0}x real time ({hits} hits)", best_h * 1e3, audio / best_h);
    println!("  both:          {:.0}x real time", audio / (best_c + best_h));
    Ok(())
}

fn hit_accuracy(out: &Path, seconds: f64, seed: u64) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let params = CochleagramParams::default();
    let mut table = String::from("condition,method,precision,recall,f1,median_error_ms,n_true,n_detected\n");
    println!(
        "{:<22} {:>9} {:>6} {:>6} {:>10} {:>6} {:>6}",
        "condition", "precision", "recall", "F1", "median ms", "true", "found"
    );
    for scene in bench_scenes(seconds, seed)? {
        media::write_wav(&out.join(format!("{}.wav", scene.name)), &scene.samples, 48_000, 1, WavFormat::Float32)?;
        write_truth(&out.join(format!("{}_truth.csv", scene.name)), &scene.truth, &scene.clips)?;
        let track = AudioTrack { rate: 48_000, start_s: 0.0, samples: scene.samples };
        let hits = sound::detect_hits(&sound::cochleagram_of(&track, &params)?, &HitParams::default());
        sound::write_hits_csv(&out.join(format!("{}_foley.csv", scene.name)), &hits)?;
        let found: Vec<f64> = hits.iter().map(|h| h.time_s).collect();
        let s = match_onsets(&scene.truth, &found, 0.1);
        let ms = s.median_error_s.map_or(String::new(), |e| format!("{:.2}", e * 1e3));
        println!(
            "{:<22} {:>9.3} {:>6.3} {:>6.3} {:>10} {:>6} {:>6}",
            scene.name, s.precision, s.recall, s.f1, ms, s.n_true, s.n_detected
        );
        table += &format!(
            "{},foley,{:.4},{:.4},{:.4},{ms},{},{}\n",
            scene.name, s.precision, s.recall, s.f1, s.n_true, s.n_detected
        );
    }
    std::fs::write(out.join("foley.csv"), table).context("cannot write the scores")?;
    println!("wrote {}", out.join("foley.csv").display());
    Ok(())
}

fn write_truth(path: &Path, times: &[f64], clips: &[String]) -> anyhow::Result<()> {
    let write = || -> Result<(), csv::Error> {
        let mut w = csv::Writer::from_path(path)?;
        w.write_record(["time_s", "clip"])?;
        for (t, clip) in times.iter().zip(clips) {
            w.write_record([format!("{t:.6}"), clip.clone()])?;
        }
        Ok(w.flush()?)
    };
    write().with_context(|| format!("cannot write {}", path.display()))
}

fn retrieval_speed(model: Option<&PathBuf>, entries: usize, queries: usize) -> anyhow::Result<()> {
    use foley_engine::retrieval::{SearchIndex, WINDOW_STEPS, squared_distance};
    use rand::{RngExt as _, SeedableRng as _};
    anyhow::ensure!(
        entries > 0 && queries > 0,
        "--entries and --queries must be at least 1 (got {entries} and {queries})"
    );
    let bundle = super::predict::load_model(model)?;
    let db = super::synth::load_database(&bundle.dir)?
        .with_context(|| format!("the model in {} has no clip database", bundle.dir.display()))?;
    let bands = db.manifest.cochleagram.bands();
    let dim = db.dim();
    let compression = db.manifest.cochleagram.compression as f32;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    // A variant of a real window: moved by up to 4 steps, 20 dB quieter to 6 dB louder, noisy.
    let variant = |rng: &mut rand_chacha::ChaCha8Rng| -> Vec<f32> {
        let base = db.window(rng.random_range(0..db.len()));
        let shift = rng.random_range(-4i64..=4);
        let scale = 10f32.powf(rng.random_range(-20.0f32..6.0) / 20.0).powf(compression);
        let mut out = Vec::with_capacity(dim);
        for step in 0..WINDOW_STEPS as i64 {
            let from = (step + shift).clamp(0, WINDOW_STEPS as i64 - 1) as usize;
            for b in 0..bands {
                let noise: f32 = (0..3).map(|_| rng.random_range(-0.01f32..0.01)).sum();
                out.push((base[from * bands + b] * scale + noise).max(0.0));
            }
        }
        out
    };
    let windows: Vec<f32> = (0..entries).flat_map(|_| variant(&mut rng)).collect();
    let start = Instant::now();
    let index = SearchIndex::fit(&windows, dim)?;
    let fit = start.elapsed().as_secs_f64();
    let queries: Vec<Vec<f32>> = (0..queries).map(|_| variant(&mut rng)).collect();
    let mut times = Vec::with_capacity(queries.len());
    let mut exact = 0;
    let evaluated = std::cell::Cell::new(0usize);
    for (k, q) in queries.iter().enumerate() {
        let distance = |i: usize| {
            evaluated.set(evaluated.get() + 1);
            squared_distance(&windows[i * dim..(i + 1) * dim], q)
        };
        let start = Instant::now();
        let found = index.nearest(q, 5, &|_| true, &distance);
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        if k < 100 {
            let mut all: Vec<(f32, usize)> =
                windows.chunks_exact(dim).enumerate().map(|(i, w)| (squared_distance(w, q), i)).collect();
            all.sort_by(|a, b| a.0.total_cmp(&b.0));
            let want: Vec<usize> = all.iter().take(5).map(|a| a.1).collect();
            let got: Vec<usize> = found.iter().map(|f| f.0).collect();
            exact += usize::from(want == got);
        }
    }
    let mean = times.iter().sum::<f64>() / times.len().max(1) as f64;
    times.sort_by(f64::total_cmp);
    println!(
        "{entries} windows of {WINDOW_STEPS} steps x {bands} bands from {} real clips; index fitted in {fit:.2} s",
        db.len()
    );
    println!(
        "true distances computed per query: {:.0} on average (of {entries})",
        evaluated.get() as f64 / queries.len().max(1) as f64
    );
    println!(
        "5 nearest of {} queries: mean {mean:.3} ms, median {:.3} ms, 99th percentile {:.3} ms per query; {exact} of {} equal to brute force; {} threads available",
        times.len(),
        times[times.len() / 2],
        times[(times.len() * 99 / 100).min(times.len() - 1)],
        queries.len().min(100),
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    Ok(())
}

fn synth_speed(seconds: f64, model: Option<&PathBuf>) -> anyhow::Result<()> {
    use foley_engine::synthesis::{SynthOptions, synthesize_video};
    let temp = tempfile::tempdir().context("cannot create a temporary folder")?;
    let video = make_scene_video(temp.path(), seconds)?;

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
        "`foley synth` as a new process on {seconds} s of 640x360 30 fps video (generated scenes): {process_s:.2} s = {:.1}x real time, start-up included; peak memory {}",
        seconds / process_s,
        peak_kb.map_or_else(|| "unknown".to_owned(), |kb| format!("{} MB", kb / 1024)),
    );

    // The job alone, in this process, and the CNN alone on as many images: what the pipeline
    // costs beyond its slowest stage.
    let bundle = super::predict::load_model(model)?;
    let db = super::synth::load_database(&bundle.dir)?;
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
            std::hint::black_box(foley_engine::synthesis::render_retrieval(db, &made.hits, made.track.len())?);
            rerender = rerender.min(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    println!(
        "foley synth on {seconds} s of 640x360 30 fps video (generated scenes): {wall:.2} s = {:.1}x real time; {} hits; peak memory {} (before the job {}); {} threads available",
        made.duration_s / wall,
        made.hits.len(),
        peak_memory().map_or_else(|| "unknown".to_owned(), |kb| format!("{} MB", kb / 1024)),
        before.map_or_else(|| "unknown".to_owned(), |kb| format!("{} MB", kb / 1024)),
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    let cnn_s = cnn_alone_s(encoder.as_mut(), (made.duration_s * 30.0).round() as usize)?;
    println!("the CNN alone on as many images: {cnn_s:.2} s; the whole job takes {:.2}x the CNN's time", wall / cnn_s);
    if rerender.is_finite() {
        println!(
            "re-rendering the track from its {} hits (an edit in the app): {rerender:.1} ms (best of 5)",
            made.hits.len()
        );
    }
    Ok(())
}

/// Seconds `encoder` takes for `images` test images in its preferred batches.
fn cnn_alone_s(encoder: &mut dyn vision::FrameEncoder, images: usize) -> anyhow::Result<f64> {
    let (w, h) = encoder.spec().input_size();
    let input = encoder.spec().manifest.input.clone();
    let size = encoder.preferred_batch().max(1);
    let mut batch = vision::ImageBatch::new(w, h);
    for i in 0..size {
        let rgb: Vec<u8> = (0..(w * h * 3) as usize).map(|p| ((p * 7 + i * 13) % 256) as u8).collect();
        batch.push_planes(&vision::colour_image(&rgb, &input));
    }
    let start = Instant::now();
    let mut done = 0;
    while done < images {
        std::hint::black_box(encoder.encode(&batch)?);
        done += size;
    }
    Ok(start.elapsed().as_secs_f64() * images as f64 / done.max(1) as f64)
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

fn scrub_speed(video: Option<&PathBuf>) -> anyhow::Result<()> {
    use rand::{RngExt as _, SeedableRng as _};
    let temp = tempfile::tempdir().context("cannot create a temporary folder")?;
    let video = match video {
        Some(v) => v.clone(),
        None => make_test_video(temp.path(), 1920, 1080, true)?,
    };
    let opened = Instant::now();
    let mut player = crate::ui::player::Player::open_with_proxy(&video, || {}, Box::new(|_, _| {}))?;
    let duration = player.info().duration_s;
    // Seeks before the proxy is made are measured by `full` below; these are the steady state.
    while !player.proxy_progress().is_some_and(|(_, complete)| complete) {
        if opened.elapsed().as_secs() > 600 {
            bail!("the scrub proxy of {} took over 10 minutes", video.display());
        }
        player.update()?;
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let proxy_s = opened.elapsed().as_secs_f64();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    // (first frame on screen, full-resolution frame on screen), per kind of move.
    let mut jumps = (Vec::new(), Vec::new());
    let mut moves = (Vec::new(), Vec::new());
    for k in 0..60 {
        // Half jump anywhere; half move a little forward, as dragging the playhead does.
        let target = if k % 2 == 0 {
            rng.random_range(0.0..duration)
        } else {
            (player.position_s() + rng.random_range(0.05..0.5)).min(duration)
        };
        player.seek(target);
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        while player.seeking() && Instant::now() < deadline {
            player.update()?;
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let into = if k % 2 == 0 { &mut jumps } else { &mut moves };
        into.0.extend(player.last_seek_first_ms());
        into.1.extend(player.last_seek_ms());
    }
    let info = player.info().clone();
    let (frames, _) = player.proxy_progress().unwrap_or_default();
    println!(
        "{} ({}x{} {}, {:.1} s): scrub proxy of {frames} frames ready {proxy_s:.1} s after opening",
        video.display(),
        info.width,
        info.height,
        info.codec,
        info.duration_s
    );
    let median = |t: &mut Vec<f64>| {
        t.sort_by(f64::total_cmp);
        (t.get(t.len() / 2).copied().unwrap_or(f64::NAN), t.last().copied().unwrap_or(f64::NAN))
    };
    for (what, (mut first, mut full)) in [("jumps anywhere", jumps), ("moves 0.05-0.5 s forward", moves)] {
        let (first_median, first_max) = median(&mut first);
        let (full_median, full_max) = median(&mut full);
        println!(
            "  {what}: {} seeks; frame on screen after median {first_median:.0} ms (slowest {first_max:.0}), \
             at full resolution after median {full_median:.0} ms (slowest {full_max:.0})",
            full.len()
        );
    }
    Ok(())
}
