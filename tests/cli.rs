//! End-to-end tests of the `foley` binary, as a user runs it.
#![allow(clippy::unwrap_used)] // a test that cannot set up its fixture should fail loudly

mod support;

use std::path::Path;
use std::process::{Command, Output};

fn foley(args: &[&str]) -> Output {
    foley_env(args, &[])
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn probe_json(path: &Path) -> serde_json::Value {
    let out = foley(&["probe", "--json", path.to_str().unwrap()]);
    assert!(out.status.success(), "probe {} failed: {}", path.display(), stderr(&out));
    serde_json::from_slice(&out.stdout).expect("probe prints JSON")
}

#[test]
fn probe_reports_codecs_and_containers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // (file, video codec args, audio codec, expected video codec, expected audio codec)
    let cases: [(&str, &[&str], &str, &str, &str); 5] = [
        ("h264_aac.mp4", &["-c:v", "libx264", "-preset", "ultrafast"], "aac", "h264", "aac"),
        ("vp9_opus.webm", &["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"], "libopus", "vp9", "opus"),
        ("mpeg4_mp3.avi", &["-c:v", "mpeg4"], "libmp3lame", "mpeg4", "mp3"),
        ("mpeg2_ac3.mpg", &["-c:v", "mpeg2video"], "ac3", "mpeg2video", "ac3"),
        ("h264_ac3.mkv", &["-c:v", "libx264", "-preset", "ultrafast"], "ac3", "h264", "ac3"),
    ];
    for (name, video_codec, audio_codec, want_video, want_audio) in cases {
        let path = support::video_with_audio(d, name, audio_codec, video_codec);
        let report = probe_json(&path);
        let video = &report["video"];
        assert_eq!(video["codec"], want_video, "{name}: {report}");
        assert_eq!(video["width"], 320, "{name}");
        assert_eq!(video["height"], 240, "{name}");
        assert!((video["fps"].as_f64().unwrap() - 25.0).abs() < 0.01, "{name}: {}", video["fps"]);
        assert_eq!(video["frame_count"], 50, "{name}");
        assert_eq!(video["variable_rate"], false, "{name}");
        assert!((video["duration_s"].as_f64().unwrap() - 2.0).abs() < 0.05, "{name}: {}", video["duration_s"]);
        assert_eq!(report["audio"]["codec"], want_audio, "{name}: {report}");
        let kinds: Vec<_> = report["streams"].as_array().unwrap().iter().map(|s| s["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["video", "audio"], "{name}");

        let text = foley(&["probe", path.to_str().unwrap()]);
        assert!(text.status.success());
        let text = stdout(&text);
        assert!(text.contains("320x240") && text.contains("25.000 fps") && text.contains("50 frames"), "{text}");
        assert!(text.contains(&format!("audio:      yes ({want_audio}")), "{text}");
    }
}

#[test]
fn probe_reports_a_variable_rate_and_a_silent_video() {
    let dir = tempfile::tempdir().unwrap();
    let path = support::vfr_video(dir.path(), "vfr.mkv", 40);
    let report = probe_json(&path);
    assert_eq!(report["video"]["variable_rate"], true);
    assert_eq!(report["audio"], serde_json::Value::Null);
    let text = stdout(&foley(&["probe", path.to_str().unwrap()]));
    assert!(text.contains("variable rate") && text.contains("audio:      none"), "{text}");
}

#[test]
fn bad_input_is_a_clean_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let empty = d.join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    let random = d.join("random.mov");
    std::fs::write(&random, (0..20_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect::<Vec<_>>())
        .unwrap();
    let good = support::h264_video(d, "good.mp4", "25", 25, "160x120");
    let bytes = std::fs::read(&good).unwrap();
    let truncated = d.join("truncated.mp4");
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    let missing = d.join("missing.mp4");
    for (path, expected) in [
        (missing.as_path(), "no such file"),
        (d, "is a directory"),
        (empty.as_path(), "the file is empty"),
        (random.as_path(), "not a media file"),
        (truncated.as_path(), "not a media file"),
    ] {
        let out = foley(&["probe", path.to_str().unwrap()]);
        assert!(!out.status.success(), "{}", path.display());
        let err = stderr(&out);
        assert!(err.starts_with("error: ") && err.contains(expected), "{}: {err}", path.display());
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn mux_writes_a_playable_copy_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let video = support::h264_video(d, "in.mp4", "30000/1001", 60, "160x120");
    let sound = support::tone(d, "sound.wav", 440, 1.5, 44_100, 2);
    let out = d.join("out.mp4");
    let run = foley(&["mux", video.to_str().unwrap(), sound.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(run.status.success(), "{}", stderr(&run));
    let report = probe_json(&out);
    assert_eq!(report["video"]["frame_count"], 60);
    assert_eq!(report["audio"]["codec"], "aac");
    assert_eq!(report["audio"]["source_rate"], 48_000);

    // Failures: a video with no picture, an unwritable place, a container that cannot be written.
    let before: Vec<_> = std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name()).collect();
    for (args, expected) in [
        (
            vec![sound.to_str().unwrap(), sound.to_str().unwrap(), "-o", d.join("x.mp4").to_str().unwrap()],
            "no video stream",
        ),
        (
            vec![video.to_str().unwrap(), video.to_str().unwrap(), "-o", d.join("y.mp4").to_str().unwrap()],
            "no audio stream",
        ),
        (vec![video.to_str().unwrap(), sound.to_str().unwrap(), "-o", "/proc/foley-cannot-write.mp4"], "cannot write"),
        (
            vec![video.to_str().unwrap(), sound.to_str().unwrap(), "-o", d.join("z.gif").to_str().unwrap()],
            "unsupported output container",
        ),
    ] {
        let mut full = vec!["mux"];
        full.extend(args);
        let run = foley(&full);
        assert!(!run.status.success(), "{full:?}");
        let err = stderr(&run);
        assert!(err.contains(expected), "{full:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let after: Vec<_> = std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(before, after, "a failed mux left files behind");
}

#[test]
fn the_window_without_a_display_is_an_error_not_a_crash() {
    let out = foley(&[]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("cannot open the foley window"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn help_lists_the_subcommands() {
    let out = foley(&["--help"]);
    assert!(out.status.success());
    let text = stdout(&out);
    for sub in ["open", "probe", "mux", "bench"] {
        assert!(text.contains(sub), "{text}");
    }
}

#[test]
fn cochleagram_hits_and_resynth_write_files_other_tools_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Two knocks in a video's sound track, at 0.5 s and 1.25 s.
    let video = support::ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=25:d=2",
            "-f",
            "lavfi",
            "-i",
            "aevalsrc=0.8*exp(-40*(t-0.5))*sin(2*PI*900*t)*gte(t\\,0.5)+0.8*exp(-40*(t-1.25))*sin(2*PI*1500*t)*gte(t\\,1.25):s=48000:d=2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-c:a",
            "flac",
            "-shortest",
        ],
        &d.join("knocks.mkv"),
    );
    let npy = d.join("knocks.npy");
    let run = foley(&["cochleagram", video.to_str().unwrap(), "-o", npy.to_str().unwrap()]);
    assert!(run.status.success(), "{}", stderr(&run));
    let sidecar: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("knocks.json")).unwrap()).unwrap();
    assert_eq!(sidecar["bands"], 42);
    assert_eq!(sidecar["steps"], 180);
    assert_eq!(sidecar["centres_hz"].as_array().unwrap().len(), 42);
    assert_eq!(sidecar["params"]["step_rate_hz"], 90.0);
    let header = std::fs::read(&npy).unwrap();
    assert!(String::from_utf8_lossy(&header[..128]).contains("'shape': (180, 42"));

    // Hits from the audio and from the cochleagram agree, and land on the knocks.
    for input in [video.as_path(), npy.as_path()] {
        let csv = d.join("hits.csv");
        let run = foley(&["hits", input.to_str().unwrap(), "-o", csv.to_str().unwrap()]);
        assert!(run.status.success(), "{}", stderr(&run));
        let text = std::fs::read_to_string(&csv).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("time_s,strength"));
        let times: Vec<f64> = lines.map(|l| l.split(',').next().unwrap().parse().unwrap()).collect();
        assert_eq!(times.len(), 2, "{text}");
        assert!((times[0] - 0.5).abs() < 0.01 && (times[1] - 1.25).abs() < 0.01, "{times:?}");
    }

    let wav = d.join("resynth.wav");
    let run = foley(&["resynth", npy.to_str().unwrap(), "-o", wav.to_str().unwrap(), "--iterations", "3"]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(stderr(&run).contains("iteration  3: relative error"), "{}", stderr(&run));
    let report = probe_json(&wav);
    assert_eq!(report["audio"]["source_rate"], 48_000);
    assert!((report["duration_s"].as_f64().unwrap() - 2.0).abs() < 0.02);

    let refused = d.join("none.wav");
    let run = foley(&["resynth", npy.to_str().unwrap(), "-o", refused.to_str().unwrap(), "--iterations", "0"]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("needs at least one iteration"), "{}", stderr(&run));
    assert!(!refused.exists());
}

#[test]
fn sound_commands_refuse_bad_input_and_accept_silence() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let silent_video = support::h264_video(d, "silent.mp4", "25", 10, "160x120");
    let out = d.join("out.npy");
    let run = foley(&["cochleagram", silent_video.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("has no audio stream") && stderr(&run).contains("silent.mp4"), "{}", stderr(&run));
    assert!(!out.exists());

    // Digital silence: a valid, all-zero cochleagram and no hits.
    let silence =
        support::ffmpeg(&["-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono", "-t", "1"], &d.join("silence.wav"));
    let run = foley(&["cochleagram", silence.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(run.status.success(), "{}", stderr(&run));
    let hits = d.join("hits.csv");
    let run = foley(&["hits", silence.to_str().unwrap(), "-o", hits.to_str().unwrap()]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(std::fs::read_to_string(&hits).unwrap(), "time_s,strength\n");

    // A .npy of the wrong shape, and one holding NaN.
    let wrong = d.join("wrong.npy");
    let mut bytes = b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }".to_vec();
    bytes.resize(10 + 0x76 - 1, b' ');
    bytes.push(b'\n');
    bytes.extend(std::iter::repeat_n(0_u8, 2 * 3 * 4));
    std::fs::write(&wrong, &bytes).unwrap();
    let run = foley(&["resynth", wrong.to_str().unwrap(), "-o", d.join("x.wav").to_str().unwrap()]);
    assert!(!run.status.success());
    assert!(
        stderr(&run).contains("shape [2, 3]; expected [steps, 42]") && stderr(&run).contains("wrong.npy"),
        "{}",
        stderr(&run)
    );
    let mut nan = bytes.clone();
    let header = b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (1, 42), }";
    nan[..header.len()].copy_from_slice(header);
    nan.truncate(10 + 0x76);
    for k in 0..42 {
        nan.extend_from_slice(&(if k == 7 { f32::NAN } else { 0.1 }).to_le_bytes());
    }
    let nan_path = d.join("nan.npy");
    std::fs::write(&nan_path, &nan).unwrap();
    let run = foley(&["hits", nan_path.to_str().unwrap(), "-o", hits.to_str().unwrap()]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("band 7 is not a finite number"), "{}", stderr(&run));
    assert!(!d.join("x.wav").exists());
}

fn foley_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_foley"));
    command.args(args).env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("run foley")
}

#[test]
fn features_writes_one_row_per_frame_with_its_time_and_the_encoder_identity() {
    let dir = tempfile::tempdir().unwrap();
    let video = support::h264_video(dir.path(), "clip.mp4", "30000/1001", 12, "160x120");
    let out = dir.path().join("features.npy");
    let run = foley(&["features", video.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(run.status.success(), "{}", stderr(&run));
    let (sidecar, rows) = foley_engine::vision::read_features(&out).unwrap();
    assert_eq!(sidecar.frames, 12);
    assert_eq!(sidecar.feature_size, 1280);
    assert_eq!(rows.len(), 12 * 2560);
    assert_eq!(sidecar.encoder.name, "efficientnet-lite0");
    assert_eq!(sidecar.encoder.onnx_sha256.len(), 64);
    for (i, t) in sidecar.times.iter().enumerate() {
        assert!((t - i as f64 * 1001.0 / 30000.0).abs() < 1e-3, "frame {i} at {t}");
    }
    // The features are what the CNN gives, not zeros: ReLU6 outputs pooled over the picture.
    assert!(rows.iter().all(|v| v.is_finite() && *v >= 0.0 && *v <= 6.0));
    assert!(rows.iter().filter(|v| **v > 0.01).count() > rows.len() / 4);

    // The wgpu backend (lavapipe here) writes the same numbers.
    let gpu_out = dir.path().join("features_wgpu.npy");
    let short = support::h264_video(dir.path(), "short.mp4", "25", 2, "160x120");
    let ort_out = dir.path().join("features_ort.npy");
    let run = foley(&["features", short.to_str().unwrap(), "-o", ort_out.to_str().unwrap()]);
    assert!(run.status.success(), "{}", stderr(&run));
    let run = foley(&["features", short.to_str().unwrap(), "-o", gpu_out.to_str().unwrap(), "--backend", "wgpu"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let (_, want) = foley_engine::vision::read_features(&ort_out).unwrap();
    let (gpu_sidecar, got) = foley_engine::vision::read_features(&gpu_out).unwrap();
    assert!(gpu_sidecar.device.starts_with("wgpu"), "{}", gpu_sidecar.device);
    for (g, w) in got.chunks(1280).zip(want.chunks(1280)) {
        let norm = w.iter().map(|v| v * v).sum::<f32>().sqrt();
        let worst = g.iter().zip(w).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(worst / norm < 1e-3, "wgpu differs by {} of the norm", worst / norm);
    }
}

#[test]
fn features_refuses_bad_models_missing_runtimes_and_bad_videos_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let video = support::h264_video(dir.path(), "clip.mp4", "25", 3, "64x48");
    let out = dir.path().join("f.npy");
    let args = |extra: &[&str]| {
        let mut a = vec!["features", video.to_str().unwrap(), "-o", out.to_str().unwrap()];
        a.extend_from_slice(extra);
        a.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let run_args =
        |a: &[String], env: &[(&str, &str)]| foley_env(&a.iter().map(String::as_str).collect::<Vec<_>>(), env);

    // A manifest naming something that is not ONNX.
    let manifest = dir.path().join("mine.json");
    std::fs::write(dir.path().join("mine.onnx"), "not a model").unwrap();
    let default = std::fs::read_to_string(foley_engine::vision::default_manifest_path()).unwrap();
    std::fs::write(&manifest, default.replace("efficientnet-lite0.onnx", "mine.onnx")).unwrap();
    let run = run_args(&args(&["--model", manifest.to_str().unwrap()]), &[]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("mine.onnx") && stderr(&run).contains("not an ONNX model"), "{}", stderr(&run));

    // No ONNX Runtime library where it is said to be.
    let run = run_args(&args(&[]), &[("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so")]);
    assert!(!run.status.success());
    let message = stderr(&run);
    assert!(message.contains("could not load ONNX Runtime") && message.contains("setup.sh"), "{message}");

    // No wgpu adapter of the kind asked for.
    let run = run_args(&args(&["--backend", "wgpu"]), &[("WGPU_BACKEND", "metal")]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("no GPU adapter") && stderr(&run).contains("--backend ort"), "{}", stderr(&run));

    // A file that is not a video.
    let text = dir.path().join("notes.mp4");
    std::fs::write(&text, "hello").unwrap();
    let run = foley(&["features", text.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("notes.mp4"), "{}", stderr(&run));
    assert!(
        !run.status.success()
            && std::fs::read_dir(dir.path()).unwrap().all(|e| {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                !name.contains("f.npy") && !name.contains("f.json")
            }),
        "no partial output"
    );
}

#[test]
fn train_then_predict_writes_a_model_and_a_cochleagram_other_tools_read() {
    let dir = tempfile::tempdir().unwrap();
    let data = generated_dataset(dir.path(), 4, 3, 2, "0.75");
    let model = dir.path().join("model");
    let cache = dir.path().join("cache");
    // Another encoder than the default: the same network, its file made different by a doc string
    // appended as one more protobuf field, so only this encoder's features fit the model.
    let default = foley_engine::vision::EncoderSpec::default_encoder().unwrap();
    let custom = dir.path().join("custom");
    std::fs::create_dir(&custom).unwrap();
    let mut onnx = std::fs::read(&default.onnx_path).unwrap();
    onnx.extend_from_slice(b"\x32\x0bfoley tests");
    std::fs::write(custom.join("custom.onnx"), onnx).unwrap();
    let manifest = foley_engine::vision::EncoderManifest {
        name: "custom".into(),
        onnx: "custom.onnx".into(),
        ..default.manifest.clone()
    };
    std::fs::write(custom.join("encoder.json"), serde_json::to_vec(&manifest).unwrap()).unwrap();
    let train = foley(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
        "--encoder",
        custom.join("encoder.json").to_str().unwrap(),
        "--epochs",
        "2",
        "--hidden",
        "8",
        "--layers",
        "1",
        "--projection",
        "8",
        "--cache",
        cache.to_str().unwrap(),
    ]);
    assert!(train.status.success(), "{}", stderr(&train));
    for file in ["model.json", "model.safetensors", "metrics.csv", "loss_curve.png", "clips.json", "clips.wav"] {
        assert!(model.join(file).is_file(), "{file} missing; {}", stderr(&train));
    }
    // The model keeps its encoder, so what follows needs no --encoder, and the original may go.
    assert!(model.join("encoder").join("custom.onnx").is_file());
    std::fs::remove_dir_all(&custom).unwrap();
    // Continuing that run on the default encoder is refused, and the model keeps its encoder.
    let again = foley(&["train", "--data", data.to_str().unwrap(), "--out", model.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("training run on encoder `custom`"), "{}", stderr(&again));
    assert!(model.join("encoder").join("custom.onnx").is_file());
    let video = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("_denoised.mp4"))
        .unwrap();
    let out = dir.path().join("pred.npy");
    let hits = dir.path().join("pred_hits.csv");
    let predict = |hits: &Path, more: &[&str]| {
        let mut args = vec!["predict", video.to_str().unwrap(), "-o", out.to_str().unwrap()];
        args.extend(["--model", model.to_str().unwrap(), "--hits", hits.to_str().unwrap()]);
        args.extend(more);
        foley(&args)
    };
    let run = predict(&hits, &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    let (c, sidecar) = foley_engine::sound::read_cochleagram(&out, 42).unwrap();
    assert_eq!(c.bands, 42);
    assert_eq!(c.steps(), 271, "3 s at 29.97 fps (90 frames, 3.003 s) is 271 steps");
    assert_eq!(sidecar.unwrap().source.as_deref(), Some("predicted"));
    // The predicted hits, as `foley hits` writes a sound's: sorted times in the video, and the
    // contact head's probabilities as strengths.
    let read_hits = |path: &Path| -> Vec<(f64, f64)> {
        let text = std::fs::read_to_string(path).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("time_s,strength"));
        lines
            .map(|l| {
                let (t, s) = l.split_once(',').unwrap();
                (t.parse().unwrap(), s.parse().unwrap())
            })
            .collect()
    };
    let rows = read_hits(&hits);
    assert!(rows.windows(2).all(|w| w[0].0 <= w[1].0), "{rows:?}");
    assert!(rows.iter().all(|&(t, s)| (0.0..=3.003).contains(&t) && (0.5..=1.0).contains(&s)), "{rows:?}");
    // A lower threshold keeps these and adds the peaks between it and 0.5.
    let low = dir.path().join("low.csv");
    let run = predict(&low, &["--hit-threshold", "0.2"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let low = read_hits(&low);
    assert!(rows.iter().all(|r| low.contains(r)), "{rows:?} not in {low:?}");
    assert!(low.iter().all(|r| r.1 >= 0.2 && (rows.contains(r) || r.1 < 0.5 + 1e-4)), "{low:?}");

    // A folder without a model is a clear error.
    let run =
        foley(&["predict", video.to_str().unwrap(), "-o", out.to_str().unwrap(), "--model", data.to_str().unwrap()]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("model.json"), "{}", stderr(&run));

    // The evaluation writes its report, with the model and the baselines on the test video.
    let eval = |report: &Path, more: &[&str]| {
        let mut args = vec!["eval", "--data", data.to_str().unwrap(), "--model", model.to_str().unwrap()];
        args.extend(["--out", report.to_str().unwrap(), "--cache", cache.to_str().unwrap()]);
        args.extend(more);
        foley(&args)
    };
    let report = dir.path().join("report");
    let run = eval(&report, &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    for row in
        ["| foley (LSTM + retrieval) |", "| (a) random clip at true times |", "| (b) most alike video, regular times |"]
    {
        assert!(md.contains(row), "{row} missing from {md}");
    }
    let csv = std::fs::read_to_string(report.join("metrics.csv")).unwrap();
    assert!(csv.starts_with("method,videos,contacts,hits_placed,hit_ap,"), "{csv}");
    // The hits at other thresholds: at 0.5 they are the hits the model's track was made of.
    let scores: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report.join("scores.json")).unwrap()).unwrap();
    let rows = scores["thresholds"].as_array().unwrap();
    assert_eq!(rows.len(), 9, "{rows:?}");
    let half = rows.iter().find(|r| (r["threshold"].as_f64().unwrap() - 0.5).abs() < 1e-6).unwrap();
    let full = &scores["methods"][0];
    assert_eq!(half["hits_placed"], full["hits_placed"], "{half} against {full}");
    assert!((half["f1"].as_f64().unwrap() - full["hit_f1"].as_f64().unwrap()).abs() < 1e-9, "{half} against {full}");
    let placed: Vec<u64> = rows.iter().map(|r| r["hits_placed"].as_u64().unwrap()).collect();
    assert!(placed.windows(2).all(|w| w[0] >= w[1]), "{placed:?}");
    assert!(md.contains("| threshold | hits placed |"), "{md}");
    // The spread across frame rates is the per-rate table's, with its random deals beside it.
    let f1s: Vec<f64> = scores["by_rate"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["contacts"].as_u64() > Some(0))
        .map(|r| r["hit_f1"].as_f64().unwrap())
        .collect();
    let spread = &scores["rate_spread"];
    match f1s.len() {
        0 | 1 => assert!(spread["spread"].is_null() && spread["deals"] == 0, "{spread}"),
        _ => {
            let gap = f1s.iter().copied().fold(f64::MIN, f64::max) - f1s.iter().copied().fold(f64::MAX, f64::min);
            assert!((spread["spread"].as_f64().unwrap() - gap).abs() < 1e-9, "{spread} against {f1s:?}");
            assert_eq!(spread["deals"], 1000, "{spread}");
        }
    }
    // Every generated test video notes its camera's angle: the per-camera rows hold them all, and
    // where one row holds every contact, its figures are the full model's.
    let cameras = scores["by_camera"].as_array().unwrap();
    let sum = |key: &str| cameras.iter().map(|r| r[key].as_u64().unwrap()).sum::<u64>();
    assert_eq!(sum("videos"), scores["test_videos"].as_u64().unwrap(), "{cameras:?}");
    assert_eq!(sum("contacts"), full["contacts"].as_u64().unwrap(), "{cameras:?}");
    if let [only] = cameras.as_slice() {
        assert_eq!(only["hit_f1"], full["hit_f1"], "{only} against {full}");
    }
    assert!(md.contains("Per camera angle"), "{md}");
    // The full model's hit figures come with the interval of draws of the test videos, which
    // holds them.
    let intervals = &scores["hit_intervals"];
    for key in ["hit_ap", "hit_accuracy", "hit_f1"] {
        let v = full[key].as_f64().unwrap();
        assert!((intervals["figures"][key].as_f64().unwrap() - v).abs() < 1e-12, "{intervals}");
        let (low, high) = (intervals[key]["low"].as_f64().unwrap(), intervals[key]["high"].as_f64().unwrap());
        assert!(low <= v && v <= high, "{key} {v} outside {low}-{high}");
    }
    assert!(md.contains("draws of as many test videos"), "{md}");
    assert!(scores["against"].is_null());
    // A second model run on the same videos (here the same model): its row, and its figures
    // less the first's, which are nothing in every draw.
    let against = dir.path().join("against");
    let run = eval(&against, &["--compare", model.to_str().unwrap()]);
    assert!(run.status.success(), "{}", stderr(&run));
    let md = std::fs::read_to_string(against.join("report.md")).unwrap();
    assert!(md.contains("| (c) another model: `model` |"), "{md}");
    let scores: serde_json::Value =
        serde_json::from_slice(&std::fs::read(against.join("scores.json")).unwrap()).unwrap();
    let difference = &scores["against"]["difference"];
    for key in ["hit_ap", "hit_accuracy", "hit_f1"] {
        assert_eq!(difference["figures"][key].as_f64(), Some(0.0), "{difference}");
        assert_eq!((difference[key]["low"].as_f64(), difference[key]["high"].as_f64()), (Some(0.0), Some(0.0)));
    }
    // The model averaged with itself is the model: the same figures, and the report says what
    // was averaged.
    let averaged = dir.path().join("averaged");
    let run = eval(&averaged, &["--average-with", model.to_str().unwrap()]);
    assert!(run.status.success(), "{}", stderr(&run));
    let md = std::fs::read_to_string(averaged.join("report.md")).unwrap();
    assert!(md.contains("averaged step by step with those of"), "{md}");
    let alone: serde_json::Value = serde_json::from_slice(&std::fs::read(report.join("scores.json")).unwrap()).unwrap();
    let both: serde_json::Value =
        serde_json::from_slice(&std::fs::read(averaged.join("scores.json")).unwrap()).unwrap();
    assert_eq!(alone["methods"][0], both["methods"][0]);
    assert_eq!(both["averaged_with"].as_array().map(Vec::len), Some(1), "{}", both["averaged_with"]);
    for png in ["cochleagrams.png", "metrics.png"] {
        assert!(std::fs::metadata(report.join(png)).unwrap().len() > 1000, "{png}");
    }
}

/// The times (first column) of a hits CSV that `foley synth --hits` wrote.
fn placed_hit_times(csv: &Path) -> Vec<f64> {
    std::fs::read_to_string(csv)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect()
}

/// `foley dataset synth` into `dir/data`: `videos` videos of `seconds`, `split` of them for training.
fn generated_dataset(dir: &Path, videos: u32, seconds: u32, seed: u32, split: &str) -> std::path::PathBuf {
    generated_dataset_with(dir, videos, seconds, seed, split, &[])
}

/// [`generated_dataset`] with more options for `foley dataset synth`.
fn generated_dataset_with(
    dir: &Path,
    videos: u32,
    seconds: u32,
    seed: u32,
    split: &str,
    extra: &[&str],
) -> std::path::PathBuf {
    let data = dir.join("data");
    let (videos, seconds, seed) = (videos.to_string(), seconds.to_string(), seed.to_string());
    let mut args = vec![
        "dataset",
        "synth",
        "--out",
        data.to_str().unwrap(),
        "--videos",
        &videos,
        "--seconds",
        &seconds,
        "--seed",
        &seed,
        "--split",
        split,
    ];
    args.extend_from_slice(extra);
    let run = foley(&args);
    assert!(run.status.success(), "{}", stderr(&run));
    data
}

/// The track length that covers a generated video of `seconds`: its frames, at the frame rate
/// its scene notes give (`num/den`), made into 48 kHz samples.
fn generated_track_len(data: &Path, id: &str, seconds: f64) -> usize {
    let notes: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.join(format!("{id}_scene.json"))).unwrap()).unwrap();
    let (num, den) = notes["fps"].as_str().unwrap().split_once('/').unwrap();
    let fps = num.parse::<f64>().unwrap() / den.parse::<f64>().unwrap();
    let frames = (seconds * fps).round();
    (frames / fps * 48_000.0).round() as usize
}

#[test]
fn synth_gives_a_silent_video_real_clips_at_its_hits_or_fails_without_leaving_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = generated_dataset(dir.path(), 1, 4, 7, "0");
    let video = data.join("synth-7-00000_denoised.mp4");
    let (wav, hits, with_sound) =
        (dir.path().join("out.wav"), dir.path().join("hits.csv"), dir.path().join("with_sound.mkv"));
    let run = foley(&[
        "synth",
        video.to_str().unwrap(),
        "-o",
        wav.to_str().unwrap(),
        "--hits",
        hits.to_str().unwrap(),
        "--video-out",
        with_sound.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));

    // The track: 48 kHz mono, exactly as long as the video's frames.
    let reader = hound::WavReader::open(&wav).unwrap();
    assert_eq!((reader.spec().sample_rate, reader.spec().channels), (48_000, 1));
    assert_eq!(reader.len() as usize, generated_track_len(&data, "synth-7-00000", 4.0));

    // The hits: the documented header, clips of the shipped database, near the true contacts.
    let text = std::fs::read_to_string(&hits).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("time_s,material,action,strength,clip,gain_db,x"));
    let clips = std::fs::read_to_string(foley_engine::predict::default_model_dir().join("clips.json")).unwrap();
    let truth: Vec<f64> = std::fs::read_to_string(data.join("synth-7-00000_times.txt"))
        .unwrap()
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    let rows: Vec<Vec<String>> = lines.map(|l| l.split(',').map(str::to_owned).collect()).collect();
    assert!(!rows.is_empty(), "no hits placed: {text}");
    for row in &rows {
        assert_eq!(row.len(), 7, "{row:?}");
        assert!(clips.contains(&format!("\"{}\"", row[4])), "clip {} is not in the database", row[4]);
    }
    let times: Vec<f64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    let matched = foley_engine::metrics::match_onsets(&truth, &times, 0.1);
    assert!(matched.recall >= 0.5, "hits {times:?} against contacts {truth:?}");

    // The video with the track: the picture copied, the sound added.
    let probe = probe_json(&with_sound);
    let streams = probe["streams"].as_array().unwrap();
    assert!(streams.iter().any(|s| s["kind"] == "audio"), "{probe}");

    // Bad input: an error naming the file, a non-zero exit, and no output left behind.
    let missing = dir.path().join("missing.mp4");
    let out = dir.path().join("never.wav");
    let run = foley(&["synth", missing.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("missing.mp4"), "{}", stderr(&run));
    assert!(!out.exists());
    let run = foley(&["synth", video.to_str().unwrap(), "-o", dir.path().join("x.mp3").to_str().unwrap()]);
    assert!(!run.status.success() && stderr(&run).contains(".wav"), "{}", stderr(&run));
    let run = foley(&["synth", video.to_str().unwrap(), "-o", dir.path().join("no/such/dir/x.wav").to_str().unwrap()]);
    assert!(!run.status.success() && stderr(&run).contains("does not exist"), "{}", stderr(&run));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // The parametric method needs no clips and writes a track of the same length.
    let run = foley(&["synth", video.to_str().unwrap(), "-o", wav.to_str().unwrap(), "--method", "parametric"]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(hound::WavReader::open(&wav).unwrap().len() as usize, generated_track_len(&data, "synth-7-00000", 4.0));
}

/// Every sample of a float WAV file, channels interleaved.
fn wav_samples(path: &Path) -> Vec<f32> {
    hound::WavReader::open(path).unwrap().samples().map(Result::unwrap).collect()
}

/// The largest difference between two runs of samples, sample by sample.
fn largest_difference(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max)
}

/// `--stems`: one WAV per material placed, as long as the track, and `mix.wav`, the track
/// itself; the stems sum to it. A parametric track has no stems.
#[test]
fn synth_writes_stems_that_sum_to_the_mix() {
    let dir = tempfile::tempdir().unwrap();
    // A photo scene, like those the shipped model learned from, so that it places hits.
    let data = generated_dataset_with(dir.path(), 1, 4, 7, "0", &[]);
    let video = data.join("synth-7-00000_denoised.mp4");
    let (wav, hits, stems) = (dir.path().join("out.wav"), dir.path().join("hits.csv"), dir.path().join("stems"));
    let run = foley(&[
        "synth",
        video.to_str().unwrap(),
        "-o",
        wav.to_str().unwrap(),
        "--hits",
        hits.to_str().unwrap(),
        "--stems",
        stems.to_str().unwrap(),
        "--format",
        "float",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let track = wav_samples(&wav);
    assert_eq!(wav_samples(&stems.join("mix.wav")), track, "mix.wav is not the track");
    let text = std::fs::read_to_string(&hits).unwrap();
    let mut materials: Vec<String> = text.lines().skip(1).map(|l| l.split(',').nth(1).unwrap().to_owned()).collect();
    materials.sort();
    materials.dedup();
    assert!(!materials.is_empty(), "no hits placed: {text}");
    let mut names: Vec<String> = std::fs::read_dir(&stems)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "mix.wav")
        .collect();
    names.sort();
    let expected: Vec<String> = materials.iter().map(|m| format!("{m}.wav")).collect();
    assert_eq!(names, expected, "one stem per material of {text}");
    let mut sum = vec![0.0f32; track.len()];
    for name in &names {
        let stem = wav_samples(&stems.join(name));
        assert_eq!(stem.len(), track.len(), "{name}");
        assert!(stem.iter().any(|s| s.abs() > 1e-3), "{name} is silent");
        for (acc, s) in sum.iter_mut().zip(stem) {
            *acc += s;
        }
    }
    let worst = largest_difference(&sum, &track);
    assert!(worst < 1e-4, "the stems differ from the mix by up to {worst}");

    let run = foley(&[
        "synth",
        video.to_str().unwrap(),
        "-o",
        wav.to_str().unwrap(),
        "--method",
        "parametric",
        "--stems",
        stems.to_str().unwrap(),
    ]);
    assert!(!run.status.success() && stderr(&run).contains("--stems needs --method retrieval"), "{}", stderr(&run));

    // `--material`: every clip from the material asked for, at the same hits.
    let (forced, forced_hits) = (dir.path().join("metal.wav"), dir.path().join("metal.csv"));
    let run = foley(&[
        "synth",
        video.to_str().unwrap(),
        "-o",
        forced.to_str().unwrap(),
        "--hits",
        forced_hits.to_str().unwrap(),
        "--material",
        "metal",
    ]);
    assert!(run.status.success() && stderr(&run).contains("clips of metal only, as asked"), "{}", stderr(&run));
    let column = |path: &Path, k: usize| -> Vec<String> {
        let text = std::fs::read_to_string(path).unwrap();
        text.lines().skip(1).map(|l| l.split(',').nth(k).unwrap().to_owned()).collect()
    };
    assert_eq!(column(&forced_hits, 0), column(&hits, 0), "the hits moved");
    assert!(column(&forced_hits, 1).iter().all(|m| m == "metal"), "{:?}", column(&forced_hits, 1));
    // A material the clip database lacks is refused, naming those it has.
    let run = foley(&["synth", video.to_str().unwrap(), "-o", forced.to_str().unwrap(), "--material", "velvet"]);
    let err = stderr(&run);
    assert!(!run.status.success() && err.contains("`velvet`") && err.contains("glass, grass"), "{err}");
    let run = foley(&[
        "synth",
        video.to_str().unwrap(),
        "-o",
        forced.to_str().unwrap(),
        "--material",
        "metal",
        "--method",
        "parametric",
    ]);
    assert!(!run.status.success() && stderr(&run).contains("--material needs --method retrieval"), "{}", stderr(&run));

    // `--hit-threshold`: the peaks of the same contact probability, cut higher or lower. Each
    // threshold keeps exactly the peaks that reach it, so the hits nest.
    let hits_at = |threshold: &str| -> Vec<(f64, f64)> {
        let at = dir.path().join(format!("hits-{threshold}.csv"));
        let run = foley(&[
            "synth",
            video.to_str().unwrap(),
            "-o",
            forced.to_str().unwrap(),
            "--hits",
            at.to_str().unwrap(),
            "--hit-threshold",
            threshold,
        ]);
        let said = format!("at contact probability {threshold} or more");
        assert!(run.status.success() && stderr(&run).contains(&said), "{}", stderr(&run));
        let times = column(&at, 0).iter().map(|t| t.parse().unwrap()).collect::<Vec<f64>>();
        let strengths = column(&at, 3).iter().map(|t| t.parse().unwrap()).collect::<Vec<f64>>();
        times.into_iter().zip(strengths).collect()
    };
    let (low, high) = (hits_at("0.05"), hits_at("0.9"));
    let default: Vec<f64> = column(&hits, 0).iter().map(|t| t.parse().unwrap()).collect();
    let times = |h: &[(f64, f64)]| h.iter().map(|(t, _)| *t).collect::<Vec<f64>>();
    assert!(low.len() > high.len(), "0.05 placed {} hits, 0.9 {}", low.len(), high.len());
    assert!(high.iter().all(|(t, p)| *p >= 0.9 && default.contains(t)), "{high:?} against {default:?}");
    assert!(default.iter().all(|t| times(&low).contains(t)), "{low:?} against {default:?}");
    assert!(
        low.iter().all(|(t, p)| *p >= 0.05 && ((p - 0.5).abs() < 1e-3 || default.contains(t) == (*p >= 0.5))),
        "{low:?}"
    );
    let run = foley(&["synth", video.to_str().unwrap(), "-o", forced.to_str().unwrap(), "--hit-threshold", "1.5"]);
    assert!(!run.status.success() && stderr(&run).contains("between 0 and 1"), "{}", stderr(&run));
}

/// `--stereo`: each hit is panned to where it happens in the picture. On generated videos whose
/// contact positions are known, the hits CSV's `x` puts at least 80% of the hits matched to a
/// contact away from the centre on the contact's side (the motion reading alone gets 88% on photo
/// scenes: `contacts_are_read_on_their_side_of_the_picture`), and the WAV is always louder on the
/// side of its `x`;
/// the stereo stems sum to the stereo mix, and `--video-out` carries two channels.
#[test]
fn synth_stereo_places_each_hit_on_its_side_of_the_picture() {
    let dir = tempfile::tempdir().unwrap();
    let data = generated_dataset_with(dir.path(), 6, 10, 32, "0", &["--negatives", "0"]);
    let (mut right, mut judged) = (0, 0);
    for k in 0..6 {
        let id = format!("synth-32-{k:05}");
        let video = data.join(format!("{id}_denoised.mp4"));
        let (wav, hits, stems, muxed) = (
            dir.path().join("out.wav"),
            dir.path().join("hits.csv"),
            dir.path().join(format!("stems{k}")),
            dir.path().join("out.mp4"),
        );
        let run = foley(&[
            "synth",
            video.to_str().unwrap(),
            "-o",
            wav.to_str().unwrap(),
            "--hits",
            hits.to_str().unwrap(),
            "--stems",
            stems.to_str().unwrap(),
            "--video-out",
            muxed.to_str().unwrap(),
            "--format",
            "float",
            "--stereo",
        ]);
        assert!(run.status.success(), "{}", stderr(&run));
        let mut reader = hound::WavReader::open(&wav).unwrap();
        assert_eq!(reader.spec().channels, 2);
        let track: Vec<f32> = reader.samples().map(Result::unwrap).collect();
        let mut sum = vec![0.0f32; track.len()];
        for entry in std::fs::read_dir(&stems).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().unwrap() != "mix.wav" {
                sum.iter_mut().zip(wav_samples(&path)).for_each(|(a, s)| *a += s);
            }
        }
        let worst = largest_difference(&sum, &track);
        assert!(worst < 1e-4, "the stereo stems differ from the mix by up to {worst}");
        let channels = probe_json(&muxed)["streams"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|s| (s["kind"] == "audio").then(|| s["channels"].as_u64().unwrap()));
        assert_eq!(channels, Some(2));

        let truth =
            foley_engine::data::synth::read_contact_positions(&data.join(format!("{id}_contacts.csv"))).unwrap();
        let text = std::fs::read_to_string(&hits).unwrap();
        assert!(text.starts_with("time_s,material,action,strength,clip,gain_db,x\n"), "{text}");
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split(',').collect();
            let (t, x): (f64, f64) = (fields[0].parse().unwrap(), fields[6].parse().unwrap());
            assert!((0.0..=1.0).contains(&x), "{line}");
            let Some(&(_, want)) = truth.iter().find(|(c, _)| (c - t).abs() < 0.05) else { continue };
            if (want - 0.5).abs() < 0.1 {
                continue;
            }
            judged += 1;
            // The sound's side: the louder channel over the clip's first 100 ms.
            let at = (t * 48_000.0) as usize * 2;
            let window = &track[at.min(track.len())..(at + 9_600).min(track.len())];
            let power = |c: usize| window.iter().skip(c).step_by(2).map(|s| s * s).sum::<f32>();
            let (left, right_power) = (power(0), power(1));
            assert_eq!(right_power > left, x > 0.5, "{id} at {t}: x {x}, left {left}, right {right_power}");
            right += usize::from((x - 0.5) * (want - 0.5) > 0.0);
        }
    }
    eprintln!("{right} of {judged} hits matched to contacts away from the centre are on their side");
    assert!(judged >= 8, "only {judged} hits matched contacts away from the centre");
    assert!(right * 10 >= judged * 8, "{right} of {judged} hits on their contact's side");

    let run = foley(&[
        "synth",
        data.join("synth-32-00000_denoised.mp4").to_str().unwrap(),
        "-o",
        dir.path().join("p.wav").to_str().unwrap(),
        "--method",
        "parametric",
        "--stereo",
    ]);
    assert!(!run.status.success() && stderr(&run).contains("--stereo needs --method retrieval"), "{}", stderr(&run));
}

/// Consecutive hits of one material on one recording, in a hits CSV (`clip` is `SOURCE@TIME`).
fn repeated_recordings(csv: &str) -> usize {
    let mut last: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut repeats = 0;
    for line in csv.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let source = fields[4].split('@').next().unwrap().to_owned();
        if last.insert(fields[1].to_owned(), source.clone()).as_deref() == Some(source.as_str()) {
            repeats += 1;
        }
    }
    repeats
}

/// Variation: with the defaults, retrieval repeats a recording on consecutive hits of a material
/// less than taking the nearest clip every time does, at the same hit times and materials; the
/// same seed gives the same clips.
#[test]
fn synth_varies_its_recordings_reproducibly() {
    let dir = tempfile::tempdir().unwrap();
    // A surface whose contacts the model hears as hits: the bank has several recordings of each
    // material's hits (of leaves' scratches, one alone, so no variation could avoid repeats).
    let data = generated_dataset_with(dir.path(), 1, 10, 11, "0", &[]);
    let video = data.join("synth-11-00000_denoised.mp4");
    let hits = |name: &str, extra: &[&str]| -> String {
        let csv = dir.path().join(name);
        let wav = dir.path().join("out.wav");
        let mut args =
            vec!["synth", video.to_str().unwrap(), "-o", wav.to_str().unwrap(), "--hits", csv.to_str().unwrap()];
        args.extend_from_slice(extra);
        let run = foley(&args);
        assert!(run.status.success(), "{}", stderr(&run));
        std::fs::read_to_string(csv).unwrap()
    };
    let nearest = hits("nearest.csv", &["--variation-k", "1"]);
    let varied = hits("varied.csv", &[]);
    let (before, after) = (repeated_recordings(&nearest), repeated_recordings(&varied));
    assert!(before > 0, "the nearest clips never repeat here, so this proves nothing: {nearest}");
    assert!(after < before, "variation left {after} repeats of {before}: {varied}");
    let timing = |csv: &str| -> Vec<(String, String)> {
        csv.lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (f[0].to_owned(), f[1].to_owned())
            })
            .collect()
    };
    assert_eq!(timing(&nearest), timing(&varied), "variation moved hits or changed materials");
    assert_eq!(hits("again.csv", &["--seed", "0"]), varied, "the same seed gave other clips");
    let run = foley(&[
        "synth",
        video.to_str().unwrap(),
        "-o",
        dir.path().join("x.wav").to_str().unwrap(),
        "--variation-distance",
        "0.5",
    ]);
    assert!(!run.status.success() && stderr(&run).contains("--variation-distance"), "{}", stderr(&run));
}

/// `--markers`: the hits as an EDL of timeline markers and as a marker CSV, each marker on its
/// hit's frame at the video's timecode (here 10:00:00:00), named by material and action; parsed
/// back here as an editor would.
#[test]
fn synth_writes_markers_an_editor_reads_at_the_videos_timecode() {
    let dir = tempfile::tempdir().unwrap();
    let data = generated_dataset_with(dir.path(), 1, 6, 4, "0", &["--style", "drawn"]);
    let video = support::ffmpeg(
        &[
            "-i",
            data.join("synth-4-00000_denoised.mp4").to_str().unwrap(),
            "-c",
            "copy",
            "-an",
            "-timecode",
            "10:00:00:00",
        ],
        &dir.path().join("tc.mp4"),
    );
    let (hits, edl, csv) = (dir.path().join("hits.csv"), dir.path().join("m.edl"), dir.path().join("m.csv"));
    let wav = dir.path().join("out.wav");
    let run = foley(&[
        "synth",
        video.to_str().unwrap(),
        "-o",
        wav.to_str().unwrap(),
        "--hits",
        hits.to_str().unwrap(),
        "--markers",
        edl.to_str().unwrap(),
        "--markers",
        csv.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let fps = probe_json(&video)["video"]["fps"].as_f64().unwrap();
    let start = foley_engine::timeline::timecode_seconds("10:00:00:00", fps).unwrap();
    let placed: Vec<(f64, String)> = std::fs::read_to_string(&hits)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].parse().unwrap(), format!("{} {}", f[1], f[2]))
        })
        .collect();
    assert!(!placed.is_empty());
    let on_its_frame = |tc: &str, t: f64| {
        let at = foley_engine::timeline::timecode_seconds(tc, fps).unwrap_or_else(|| panic!("bad timecode {tc}"));
        assert!((at - start - t).abs() <= 0.5 / fps + 1e-9, "marker at {tc} for a hit at {t} s");
    };

    // EDL: a title, the frame-count mode, then one event per hit with its marker line.
    let text = std::fs::read_to_string(&edl).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines[0].starts_with("TITLE: foley: tc.mp4") && lines[1] == "FCM: NON-DROP FRAME", "{text}");
    let events: Vec<&[&str]> = lines[2..].chunks(2).collect();
    assert_eq!(events.len(), placed.len(), "{text}");
    for (event, (t, name)) in events.iter().zip(&placed) {
        let fields: Vec<&str> = event[0].split_whitespace().collect();
        assert_eq!(fields.len(), 8, "{}", event[0]);
        on_its_frame(fields[4], *t);
        assert_eq!(fields[4], fields[6], "record in differs from source in: {}", event[0]);
        assert!(event[1].contains(&format!("|M:{name} |")), "{} for {name}", event[1]);
    }

    // CSV: the marker list's columns, one row per hit.
    let mut reader = csv::Reader::from_path(&csv).unwrap();
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>().join(","),
        "Marker Name,Description,In,Out,Duration,Marker Type"
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), placed.len());
    for (row, (t, name)) in rows.iter().zip(&placed) {
        assert_eq!(&row[0], name);
        on_its_frame(&row[2], *t);
        assert_eq!((&row[3], &row[5]), (&row[2], "Comment"));
    }
}

/// The `time_reference` of a WAV's `bext` chunk, as `ffprobe` reads it.
fn bwf_time_reference(wav: &Path) -> Option<u64> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "format_tags=time_reference", "-of", "default=nw=1:nk=1"])
        .arg(wav)
        .output()
        .expect("ffprobe (scripts/setup.sh installs it)");
    assert!(out.status.success(), "ffprobe {}: {}", wav.display(), stderr(&out));
    stdout(&out).trim().parse().ok()
}

/// Every WAV synth writes is a Broadcast WAV whose time reference is the video's start: its
/// timecode (here 01:00:00:00 at 25 fps, 3,600 s at 48 kHz), else 0; other readers still read it.
#[test]
fn synth_wavs_carry_the_videos_timecode_for_editors() {
    let dir = tempfile::tempdir().unwrap();
    let make = |name: &str, extra: &[&str]| {
        let mut args = vec!["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:d=2"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]);
        support::ffmpeg(&args, &dir.path().join(name))
    };
    for (video, expected) in [
        (make("tc.mp4", &["-timecode", "01:00:00:00"]), 3_600 * 48_000),
        (make("tc.mkv", &["-timecode", "00:00:10:05"]), 10 * 48_000 + 5 * 1_920),
        (make("plain.mp4", &[]), 0),
    ] {
        let wav = dir.path().join("out.wav");
        let stems = dir.path().join("stems");
        let run = foley(&[
            "synth",
            video.to_str().unwrap(),
            "-o",
            wav.to_str().unwrap(),
            "--stems",
            stems.to_str().unwrap(),
            "--format",
            "pcm24",
        ]);
        assert!(run.status.success(), "{}", stderr(&run));
        assert_eq!(bwf_time_reference(&wav), Some(expected), "{}", video.display());
        assert_eq!(bwf_time_reference(&stems.join("mix.wav")), Some(expected), "{}", video.display());
        let reader = hound::WavReader::open(&wav).unwrap();
        assert_eq!((reader.spec().bits_per_sample, reader.len()), (24, 96_000));
    }
}

#[test]
fn a_study_is_prepared_and_its_typed_in_answers_reported() {
    let dir = tempfile::tempdir().unwrap();
    let data = generated_dataset(dir.path(), 2, 3, 9, "0");
    let study = dir.path().join("study");
    let prepare = [
        "study",
        "prepare",
        "--data",
        data.to_str().unwrap(),
        "--out",
        study.to_str().unwrap(),
        "--clips",
        "2",
        "--seconds",
        "2",
        "--method",
        "retrieval,parametric",
    ];
    let run = foley(&prepare);
    assert!(run.status.success(), "{}", stderr(&run));
    let trials = std::fs::read_to_string(study.join("trials.csv")).unwrap();
    let lines: Vec<&str> = trials.lines().collect();
    assert_eq!(lines[0], "trial,clip,method,seconds");
    assert_eq!(lines.len(), 5, "{trials}");
    for (i, line) in lines[1..].iter().enumerate() {
        assert!(line.starts_with(&format!("{},clip00", i + 1)), "{line}");
    }
    // The key is in study.json; what a participant's machine plays does not give it away.
    let settings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(study.join("study.json")).unwrap()).unwrap();
    let mut real_letters = Vec::new();
    for clip in settings["clips"].as_array().unwrap() {
        let real = clip["real"].as_str().unwrap().to_owned();
        let predicted: Vec<String> =
            clip["predicted"].as_array().unwrap().iter().map(|p| p[1].as_str().unwrap().to_owned()).collect();
        assert_eq!(predicted.len(), 2, "{clip}");
        for path in std::iter::once(&real).chain(&predicted) {
            let reader = hound::WavReader::open(study.join(path)).unwrap();
            assert_eq!((reader.spec().sample_rate, reader.len()), (48_000, 96_000), "{path}");
        }
        real_letters.push(real.trim_end_matches(".wav").chars().last().unwrap());
        // The clip starts somewhere in its 3 s video, and its real sound is cut from there.
        let start_s = clip["start_s"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&start_s), "{clip}");
        let source_wav = std::path::Path::new(clip["source"].as_str().unwrap()).with_extension("wav");
        let source = foley_engine::media::read_audio(&source_wav, 48_000).unwrap().samples;
        let skip = (start_s * 48_000.0).round() as usize;
        let cut: Vec<f32> = hound::WavReader::open(study.join(&real))
            .unwrap()
            .samples::<i16>()
            .map(|s| f32::from(s.unwrap()) / 32_768.0)
            .collect();
        let largest = largest_difference(&cut, &source[skip..]);
        assert!(largest < 1e-3, "{real} is not the source's sound from {start_s} s: {largest}");
        // The picture's own sound track is silent.
        let video = study.join(clip["video"].as_str().unwrap());
        let sound = foley_engine::media::read_audio(&video, 48_000).unwrap();
        assert!(!sound.samples.is_empty() && sound.samples.iter().all(|&s| s == 0.0), "{}", video.display());
    }
    for entry in std::fs::read_dir(study.join("media")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        for word in ["real", "retrieval", "parametric", "synth-"] {
            assert!(!name.contains(word), "media/{name} gives the answer away");
        }
    }
    assert!(real_letters.iter().all(|l| ('a'..='c').contains(l)), "{real_letters:?}");
    // Preparing again into the same folder is refused: answers must never mix.
    let run = foley(&prepare);
    assert!(!run.status.success() && stderr(&run).contains("already"), "{}", stderr(&run));

    // Answers collected on paper, typed in.
    let first: Vec<&str> = lines[1].split(',').collect();
    let second: Vec<&str> = lines[2].split(',').collect();
    std::fs::write(
        study.join("results.csv"),
        format!(
            "participant,trial,clip,method,real_side,chosen_side,chose_real,confidence,response_ms,answered_at\n\
             paper,1,{},{},A,B,0,2,0,2026-11-20T10:00:00Z\npaper,2,{},{},B,B,1,,0,2026-11-20T10:01:00Z\n",
            first[1], first[2], second[1], second[2]
        ),
    )
    .unwrap();
    let run = foley(&["study", "report", study.to_str().unwrap()]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(stdout(&run).contains("2 answers from 1 participants"), "{}", stdout(&run));
    assert!(study.join("report.md").is_file() && study.join("chart.png").is_file());
}

/// A DivX-style AVI (MPEG-4 part 2 with B-frames: most frames carry no PTS, the last none at all)
/// gets a track as long as its frames, with its hits inside the video.
#[test]
fn synth_gives_a_divx_avi_a_track_as_long_as_the_video() {
    let dir = tempfile::tempdir().unwrap();
    let video = support::ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=24000/1001",
            "-frames:v",
            "72",
            "-c:v",
            "mpeg4",
            "-vtag",
            "DIVX",
            "-bf",
            "2",
            "-q:v",
            "4",
        ],
        &dir.path().join("divx.avi"),
    );
    let (wav, hits) = (dir.path().join("out.wav"), dir.path().join("hits.csv"));
    let run = foley(&["synth", video.to_str().unwrap(), "-o", wav.to_str().unwrap(), "--hits", hits.to_str().unwrap()]);
    assert!(run.status.success(), "{}", stderr(&run));
    let frame = 1001.0 / 24_000.0;
    let video_s = 72.0 * frame;
    let track_s = f64::from(hound::WavReader::open(&wav).unwrap().len()) / 48_000.0;
    assert!((track_s - video_s).abs() <= frame + 1e-3, "track of {track_s} s for {video_s} s of video");
    for t in placed_hit_times(&hits) {
        assert!((0.0..track_s).contains(&t), "hit at {t} s outside the {track_s} s track");
    }
}

#[test]
fn train_refuses_a_share_of_features_to_drop_outside_0_to_1_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("model");
    for share in ["1", "-0.1", "1.5"] {
        let run = foley(&[
            "train",
            "--data",
            dir.path().to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            &format!("--input-dropout={share}"),
        ]);
        assert!(!run.status.success());
        let message = stderr(&run);
        assert!(message.contains("--input-dropout") && !message.contains("panicked"), "{share}: {message}");
        assert!(!out.exists(), "{share}: the model folder was made");
    }
}

#[test]
fn a_benchmark_with_nothing_to_time_is_an_error() {
    let run = foley(&["bench", "retrieval", "--queries", "0"]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("--queries") && !stderr(&run).contains("panicked"), "{}", stderr(&run));
}

#[test]
fn the_training_benchmark_times_steps_of_the_shipped_models_size() {
    let run = foley(&["bench", "train", "--batch", "2", "--steps", "2"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let out = String::from_utf8_lossy(&run.stdout).into_owned();
    let shipped = foley_engine::predict::ModelBundle::load(&foley_engine::predict::default_model_dir()).unwrap();
    let (config, feature_size) = (&shipped.manifest.config, shipped.manifest.encoder.feature_size);
    // The encoder's space-time and colour features, and the motion grid if the model reads one.
    let input = config.layout().width(feature_size);
    assert_eq!(input, config.input);
    assert!(out.contains("2 windows of 180 steps") && out.contains(&format!("{input} inputs")), "{out}");
    let median: f64 = out.split("median ").nth(1).and_then(|r| r.split(" ms").next()).unwrap().parse().unwrap();
    assert!(median > 0.0, "{out}");
    let run = foley(&["bench", "train", "--batch", "0"]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("--batch") && !stderr(&run).contains("panicked"), "{}", stderr(&run));
}

/// Scenes without a single contact give retrieval no clips: `foley eval` says so.
#[test]
fn eval_on_a_dataset_without_contacts_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = generated_dataset_with(dir.path(), 2, 2, 1, "0.5", &["--negatives", "1"]);
    let run = foley(&["eval", "--data", data.to_str().unwrap(), "--out", dir.path().join("report").to_str().unwrap()]);
    assert!(!run.status.success());
    let message = stderr(&run);
    assert!(message.contains("no labelled contacts") && !message.contains("panicked"), "{message}");
}

/// `foley eval` counts the hits the model places on test videos without contact, in all and by
/// what each video shows (the generator's scene notes).
#[test]
fn eval_counts_the_hits_where_nothing_is_struck_by_what_the_video_shows() {
    let dir = tempfile::tempdir().unwrap();
    // Seed 1 puts a video with a contact and one without in the test split.
    let data = generated_dataset_with(dir.path(), 4, 2, 1, "0.5", &["--negatives", "0.5"]);
    let test = std::fs::read_to_string(data.join("test.txt")).unwrap();
    let mut kinds = std::collections::BTreeMap::<String, u64>::new();
    for id in test.lines() {
        let contacts = std::fs::read_to_string(data.join(format!("{id}_contacts.csv"))).unwrap();
        if contacts.lines().count() > 1 {
            continue;
        }
        let scene: serde_json::Value =
            serde_json::from_slice(&std::fs::read(data.join(format!("{id}_scene.json"))).unwrap()).unwrap();
        *kinds.entry(scene["negative"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    assert!(!kinds.is_empty(), "no test video without contact in {test}");

    let report = dir.path().join("report");
    let cache = dir.path().join("cache");
    let run = foley(&[
        "eval",
        "--data",
        data.to_str().unwrap(),
        "--out",
        report.to_str().unwrap(),
        "--cache",
        cache.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let scores: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report.join("scores.json")).unwrap()).unwrap();
    let silent = &scores["silent"];
    assert_eq!(silent["videos"].as_u64(), Some(kinds.values().sum::<u64>()), "{silent}");
    let by_kind = silent["by_kind"].as_object().unwrap();
    let counted: std::collections::BTreeMap<String, u64> =
        by_kind.iter().map(|(k, v)| (k.clone(), v["videos"].as_u64().unwrap())).collect();
    assert_eq!(counted, kinds);
    let hits: u64 = by_kind.values().map(|v| v["hits"].as_u64().unwrap()).sum();
    assert_eq!(silent["hits"].as_u64(), Some(hits), "{silent}");
    // Each video is 2 s long.
    for (kind, v) in by_kind {
        let minutes = v["minutes"].as_f64().unwrap();
        assert!((minutes - kinds[kind] as f64 * 2.0 / 60.0).abs() < 1e-3, "{kind}: {v}");
    }
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(md.contains("| what the video shows | videos | minutes | hits | hits per minute |"), "{md}");
    for (kind, n) in &kinds {
        let row = md.lines().find(|l| l.contains(&format!("(`{kind}`) |"))).unwrap_or_else(|| panic!("{kind}: {md}"));
        assert!(row.contains(&format!("| {n} | ")), "{row}");
    }
}

/// When the copy with sound cannot be made (Theora does not go into mp4), the run leaves no WAV,
/// no CSV and no temporary file, and an earlier run's WAV stays as it was.
#[test]
fn synth_whose_video_out_fails_leaves_nothing_of_that_run() {
    let dir = tempfile::tempdir().unwrap();
    let video = support::ffmpeg(
        &["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-frames:v", "50", "-c:v", "libtheora"],
        &dir.path().join("in.ogv"),
    );
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let (wav, hits, copy) = (out.join("track.wav"), out.join("hits.csv"), out.join("copy.mp4"));
    std::fs::write(&wav, b"an earlier run").unwrap();
    let run = foley(&[
        "synth",
        video.to_str().unwrap(),
        "-o",
        wav.to_str().unwrap(),
        "--hits",
        hits.to_str().unwrap(),
        "--video-out",
        copy.to_str().unwrap(),
    ]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("copy.mp4"), "{}", stderr(&run));
    let left: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(left, ["track.wav"], "{left:?}");
    assert_eq!(std::fs::read(&wav).unwrap(), b"an earlier run");

    // Reading and writing the same video is refused before any work.
    let mp4 = support::h264_video(dir.path(), "in.mp4", "25", 25, "160x120");
    let run =
        foley(&["synth", mp4.to_str().unwrap(), "-o", wav.to_str().unwrap(), "--video-out", mp4.to_str().unwrap()]);
    assert!(!run.status.success() && stderr(&run).contains("replace the video"), "{}", stderr(&run));
}

/// Ctrl-C stops a long run: a clear message, a failure code, and no output or temporary file.
#[test]
fn synth_interrupted_by_ctrl_c_leaves_nothing_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let video = support::h264_video(dir.path(), "long.mp4", "30", 3600, "160x120");
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_foley"))
        .args(["synth", video.to_str().unwrap(), "-o"])
        .arg(out.join("track.wav"))
        .arg("--hits")
        .arg(out.join("hits.csv"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Long enough to be past start-up and into the frames (120 s of video take far longer).
    std::thread::sleep(std::time::Duration::from_secs(3));
    let status = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let run = child.wait_with_output().unwrap();
    let message = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "{message}");
    assert!(message.contains("interrupted") && message.contains("nothing was written"), "{message}");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0, "files left behind");
}

/// The same H.264 packets in mp4, Matroska and AVI (where B-frames leave frames without a PTS):
/// the hits land at the same times and the tracks have the same length.
#[test]
fn synth_places_hits_at_the_same_times_whatever_the_container() {
    let dir = tempfile::tempdir().unwrap();
    // A drawn scene at 29.97 fps on which the shipped model places hits (as in the markers test).
    let data = generated_dataset_with(dir.path(), 1, 6, 4, "0", &["--style", "drawn"]);
    let source = data.join("synth-4-00000_denoised.mp4");
    let mut results = Vec::new();
    for ext in ["mp4", "mkv", "avi"] {
        let video = support::ffmpeg(
            &["-i", source.to_str().unwrap(), "-an", "-c:v", "copy"],
            &dir.path().join(format!("copy.{ext}")),
        );
        let (wav, hits) = (dir.path().join(format!("{ext}.wav")), dir.path().join(format!("{ext}.csv")));
        let run =
            foley(&["synth", video.to_str().unwrap(), "-o", wav.to_str().unwrap(), "--hits", hits.to_str().unwrap()]);
        assert!(run.status.success(), "{ext}: {}", stderr(&run));
        results.push((ext, hound::WavReader::open(&wav).unwrap().len(), placed_hit_times(&hits)));
    }
    let (_, len, times) = &results[0];
    assert!(!times.is_empty(), "no hits to compare");
    for (ext, other_len, other_times) in &results[1..] {
        assert_eq!(other_times.len(), times.len(), "{ext}: {other_times:?} against mp4's {times:?}");
        for (a, b) in times.iter().zip(other_times) {
            assert!((a - b).abs() <= 0.001, "{ext}: a hit at {b} s, in mp4 at {a} s");
        }
        // Within one frame (at most 60 fps: 800 samples).
        assert!(len.abs_diff(*other_len) <= 800, "{ext}: {other_len} samples against mp4's {len}");
    }
}

#[test]
fn clips_build_takes_its_looks_in_the_encoder_it_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let data = generated_dataset(dir.path(), 3, 2, 5, "1");
    let build = |out: &Path, extra: &[&str]| {
        let mut args =
            vec!["clips", "build", "--bank", "--looks", data.to_str().unwrap(), "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        foley(&args)
    };
    // A folder with no model reads the set-up's default encoder; given that encoder's manifest, the
    // same database comes out.
    let plain = dir.path().join("plain");
    let run = build(&plain, &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    let given = dir.path().join("given");
    let default = foley_engine::vision::default_manifest_path();
    let run = build(&given, &["--encoder", default.to_str().unwrap()]);
    assert!(run.status.success(), "{}", stderr(&run));
    for file in ["clips.json", "clips.safetensors", "clips.wav"] {
        assert_eq!(std::fs::read(plain.join(file)).unwrap(), std::fs::read(given.join(file)).unwrap(), "{file}");
    }
    // The manifest given is the one read: one naming something that is not ONNX fails, naming it.
    let manifest = dir.path().join("mine.json");
    std::fs::write(dir.path().join("mine.onnx"), "not a model").unwrap();
    let text = std::fs::read_to_string(&default).unwrap();
    std::fs::write(&manifest, text.replace("efficientnet-lite0.onnx", "mine.onnx")).unwrap();
    let mine = dir.path().join("mine");
    let run = build(&mine, &["--encoder", manifest.to_str().unwrap()]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("mine.onnx"), "{}", stderr(&run));
    assert!(!mine.join("clips.json").exists(), "a failed build leaves no database");
}
