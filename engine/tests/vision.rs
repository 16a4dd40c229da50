#![allow(clippy::unwrap_used)]
//! The frame encoders: the default CNN's weights against the PyTorch reference the set-up wrote,
//! both backends against each other (one shared test), every op the wgpu encoder runs on a small
//! graph against ONNX Runtime, and the errors a user meets with a bad model.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use foley_engine::vision::onnx::{
    AttributeProto, Dimension, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, TensorShapeProto,
    TensorTypeProto, TypeProto, ValueInfoProto,
};
use foley_engine::vision::{
    EncoderSpec, FrameEncoder, ImageBatch, InputSpec, Layout, OrtEncoder, VisionError, WgpuEncoder, colour_image,
};

fn reference_dir() -> PathBuf {
    foley_engine::paths::cache_dir().join("assets/efficientnet-lite0/reference")
}

fn read_npy(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e} (run scripts/setup.sh)", path.display()));
    npyz::NpyFile::new(&bytes[..]).unwrap().into_vec().unwrap()
}

fn read_png_rgb(path: &Path) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb, "{}", path.display());
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// The largest element difference scaled by the reference vector's norm, per image.
fn relative_error(got: &[f32], want: &[f32], size: usize) -> f32 {
    assert_eq!(got.len(), want.len());
    got.chunks(size)
        .zip(want.chunks(size))
        .map(|(g, w)| {
            let norm = w.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
            g.iter().zip(w).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max) / norm
        })
        .fold(0.0, f32::max)
}

/// The photo (a cat), as the default encoder's input.
fn photo_batch(spec: &EncoderSpec) -> ImageBatch {
    let (w, h, rgb) = read_png_rgb(&reference_dir().join("photo_224.png"));
    let mut batch = ImageBatch::new(w, h);
    batch.push_planes(&colour_image(&rgb, &spec.manifest.input));
    batch
}

/// Space-time images of a real scene: three frames of a generated drum-stick video.
fn scene_batch(spec: &EncoderSpec) -> ImageBatch {
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("scene.mp4");
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=30:d=0.2", "-pix_fmt", "yuv420p"])
        .arg(&video)
        .status()
        .unwrap();
    assert!(status.success());
    let (w, h) = spec.input_size();
    let mut reader = foley_engine::media::VideoReader::open_with(
        &video,
        foley_engine::media::VideoReaderOptions { size: Some((w, h)), threads: 1, ..Default::default() },
    )
    .unwrap();
    let mut st = foley_engine::vision::SpaceTime::default();
    let mut batch = ImageBatch::new(w, h);
    for frame in reader.frames().take(4) {
        let frame = frame.unwrap();
        if let Some((_, image)) = st.push(frame.time_s, foley_engine::vision::gray(&frame.rgb), &spec.manifest.input) {
            batch.push_planes(&image);
        }
    }
    batch
}

#[test]
fn the_default_cnn_on_onnx_runtime_matches_the_pytorch_reference_and_sees_a_cat() {
    let spec = EncoderSpec::default_encoder().unwrap();
    assert_eq!(spec.manifest.output.size, 1280);
    let mut ort = OrtEncoder::new(spec.clone()).unwrap();
    let batch = photo_batch(&spec);
    let features = ort.encode(&batch).unwrap();
    let reference = read_npy(&reference_dir().join("features.npy"));
    let err = relative_error(&features, &reference, 1280);
    assert!(err < 1e-4, "features differ from PyTorch's by {err} (relative)");

    let logits = ort.run_output(&batch, "logits").unwrap();
    let top = logits.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
    // ImageNet 281..=285: tabby, tiger cat, Persian, Siamese, Egyptian cat.
    assert!((281..=285).contains(&top), "the cat photo is class {top}");
    let top5: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reference_dir().join("top5.json")).unwrap()).unwrap();
    assert_eq!(top5[0]["index"].as_u64(), Some(top as u64));
}

/// The shared test: both backends run the default CNN on the same images (a photo and real
/// space-time images) and agree within 4e-6 of the feature's norm, element by element (measured:
/// 5e-7 to 7e-7 on lavapipe and on an NVIDIA GPU).
#[test]
fn onnx_runtime_and_wgpu_give_the_same_features() {
    let spec = EncoderSpec::default_encoder().unwrap();
    let mut batch = photo_batch(&spec);
    let scene = scene_batch(&spec);
    batch.data.extend_from_slice(&scene.data);
    assert_eq!(batch.len(), 4);

    let mut ort = OrtEncoder::new(spec.clone()).unwrap();
    let mut gpu = WgpuEncoder::new(spec).unwrap();
    eprintln!("wgpu adapter: {}", gpu.adapter_name());
    let want = ort.encode(&batch).unwrap();
    let got = gpu.encode(&batch).unwrap();
    let err = relative_error(&got, &want, 1280);
    eprintln!("features: max relative difference {err:.2e}");
    assert!(err < 4e-6, "wgpu features differ from ONNX Runtime's by {err} (relative)");

    // The classifier head (Gemm) too, on the photo.
    let photo = {
        let mut b = ImageBatch::new(batch.width, batch.height);
        b.push_planes(batch.image(0));
        b
    };
    let want = ort.run_output(&photo, "logits").unwrap();
    let got = gpu.run_output(&photo, "logits").unwrap();
    let err = relative_error(&got, &want, 1000);
    assert!(err < 4e-6, "wgpu logits differ from ONNX Runtime's by {err} (relative)");
}

/// The shipped model reads an int8 encoder (ONNX Runtime's QDQ form); the wgpu encoder runs the
/// same graph in f32 with its quantise-dequantise pairs as rounding clamps. Its features equal
/// ONNX Runtime's within 2% of the feature's norm, element by element, on the photo and on
/// real space-time images (rounding at ties may differ and carry through the layers), and the
/// cat is still seen as a cat.
#[test]
fn the_shipped_int8_encoder_gives_the_same_features_on_both_backends() {
    let spec = foley_engine::predict::ModelBundle::load(&foley_engine::predict::default_model_dir())
        .unwrap()
        .encoder_spec()
        .unwrap();
    let model = foley_engine::vision::onnx::read_model(&spec.onnx_path).unwrap();
    let ops: Vec<&str> = model.graph.as_ref().unwrap().node.iter().map(|n| n.op_type.as_str()).collect();
    assert!(
        ops.contains(&"QuantizeLinear") && ops.contains(&"DequantizeLinear"),
        "{}: not quantised",
        spec.onnx_path.display()
    );
    let mut batch = photo_batch(&spec);
    let scene = scene_batch(&spec);
    batch.data.extend_from_slice(&scene.data);
    let mut ort = OrtEncoder::new(spec.clone()).unwrap();
    let mut gpu = WgpuEncoder::new(spec).unwrap();
    let want = ort.encode(&batch).unwrap();
    let got = gpu.encode(&batch).unwrap();
    let err = relative_error(&got, &want, 1280);
    let same = got.iter().zip(&want).filter(|(a, b)| a == b).count();
    eprintln!("int8 features: max relative difference {err:.2e}, {same} of {} equal", got.len());
    assert!(err < 2e-2, "wgpu features differ from ONNX Runtime's by {err} (relative)");
    assert!(same * 2 > got.len(), "only {same} of {} features are equal", got.len());

    let photo = {
        let mut b = ImageBatch::new(batch.width, batch.height);
        b.push_planes(batch.image(0));
        b
    };
    let logits = gpu.run_output(&photo, "logits").unwrap();
    let top = logits.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
    assert!((281..=285).contains(&top), "the cat photo is class {top} on the int8 encoder");
}

// --- A small graph with every op and attribute the wgpu encoder supports -------------------------

fn tensor(name: &str, dims: &[i64], seed: u32) -> TensorProto {
    let count: i64 = dims.iter().product();
    // A fixed pseudo-random sequence in -0.5..0.5.
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let values: Vec<f32> = (0..count)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state as f32 / u32::MAX as f32) - 0.5
        })
        .collect();
    TensorProto {
        dims: dims.to_vec(),
        data_type: 1,
        name: name.to_owned(),
        raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..Default::default()
    }
}

fn scalar(name: &str, v: f32) -> TensorProto {
    TensorProto { data_type: 1, name: name.to_owned(), raw_data: v.to_le_bytes().to_vec(), ..Default::default() }
}

fn ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto { name: name.to_owned(), ints: v.to_vec(), r#type: 7, ..Default::default() }
}

fn int(name: &str, v: i64) -> AttributeProto {
    AttributeProto { name: name.to_owned(), i: v, r#type: 2, ..Default::default() }
}

fn node(op: &str, inputs: &[&str], output: &str, attribute: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        input: inputs.iter().map(|s| (*s).to_owned()).collect(),
        output: vec![output.to_owned()],
        name: format!("{op}_{output}"),
        op_type: op.to_owned(),
        attribute,
        domain: String::new(),
    }
}

fn value_info(name: &str, dims: &[Option<i64>]) -> ValueInfoProto {
    ValueInfoProto {
        name: name.to_owned(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type: 1,
                shape: Some(TensorShapeProto {
                    dim: dims
                        .iter()
                        .map(|d| match d {
                            Some(v) => Dimension { dim_value: Some(*v), dim_param: None },
                            None => Dimension { dim_value: None, dim_param: Some("N".to_owned()) },
                        })
                        .collect(),
                }),
            }),
        }),
    }
}

/// Input [N, 3, 20, 18] through a strided, dilated, grouped conv with asymmetric pads, ReLU, a
/// depthwise conv, Clip, a 1x1 conv whose result is added to a residual, GlobalAveragePool,
/// Flatten and Gemm (transB) to 5 outputs; `extra` appends nodes after it.
fn small_model(extra: Vec<NodeProto>) -> ModelProto {
    let mut nodes = vec![
        node(
            "Conv",
            &["image", "w1", "b1"],
            "c1",
            vec![
                int("group", 1),
                ints("kernel_shape", &[3, 3]),
                ints("strides", &[2, 1]),
                ints("pads", &[0, 1, 1, 2]),
                ints("dilations", &[1, 2]),
            ],
        ),
        node("Relu", &["c1"], "r1", vec![]),
        node(
            "Conv",
            &["r1", "w2"],
            "c2",
            vec![int("group", 4), ints("kernel_shape", &[3, 3]), ints("pads", &[1, 1, 1, 1])],
        ),
        node("Clip", &["c2", "lo", "hi"], "r2", vec![]),
        node("Conv", &["r2", "w3", "b3"], "c3", vec![]),
        node("Add", &["c3", "r1"], "sum", vec![]),
        node("Conv", &["sum", "w4", "b4"], "c4", vec![int("group", 2), ints("strides", &[2, 2])]),
        node("GlobalAveragePool", &["c4"], "pool", vec![]),
        node("Flatten", &["pool"], "features", vec![int("axis", 1)]),
        node("Gemm", &["features", "fc_w", "fc_b"], "logits", vec![int("transB", 1)]),
    ];
    nodes.extend(extra);
    ModelProto {
        ir_version: 8,
        producer_name: "foley tests".to_owned(),
        opset_import: vec![OperatorSetIdProto { domain: String::new(), version: 13 }],
        graph: Some(GraphProto {
            node: nodes,
            name: "small".to_owned(),
            initializer: vec![
                tensor("w1", &[4, 3, 3, 3], 1),
                tensor("b1", &[4], 2),
                tensor("w2", &[4, 1, 3, 3], 3),
                tensor("w3", &[4, 4, 1, 1], 4),
                tensor("b3", &[4], 5),
                tensor("w4", &[6, 2, 1, 1], 6),
                tensor("b4", &[6], 7),
                tensor("fc_w", &[5, 6], 8),
                tensor("fc_b", &[5], 9),
                scalar("lo", -0.1),
                scalar("hi", 0.3),
            ],
            input: vec![value_info("image", &[None, Some(3), Some(20), Some(18)])],
            output: vec![value_info("features", &[None, Some(6)]), value_info("logits", &[None, Some(5)])],
        }),
    }
}

fn write_small_model(dir: &Path, model: &ModelProto) -> PathBuf {
    std::fs::write(dir.join("small.onnx"), model.to_bytes()).unwrap();
    let manifest = serde_json::json!({
        "name": "small",
        "onnx": "small.onnx",
        "input": {"name": "image", "width": 18, "height": 20, "layout": "NCHW",
                  "mean": [0.5, 0.4, 0.3], "std": [0.2, 0.25, 0.3]},
        "output": {"name": "features", "size": 6},
        "logits": "logits"
    });
    let path = dir.join("small.json");
    std::fs::write(&path, manifest.to_string()).unwrap();
    path
}

fn small_batch(n: usize) -> ImageBatch {
    let spec = InputSpec {
        name: "image".into(),
        width: 18,
        height: 20,
        layout: Layout::Nchw,
        mean: [0.5, 0.4, 0.3],
        std: [0.2, 0.25, 0.3],
    };
    let mut batch = ImageBatch::new(18, 20);
    for i in 0..n {
        let rgb: Vec<u8> = (0..18 * 20 * 3).map(|p| ((p * 37 + i * 101) % 256) as u8).collect();
        batch.push_planes(&colour_image(&rgb, &spec));
    }
    batch
}

#[test]
fn every_wgpu_op_matches_onnx_runtime_on_a_small_graph() {
    let dir = tempfile::tempdir().unwrap();
    let spec = EncoderSpec::load(&write_small_model(dir.path(), &small_model(vec![]))).unwrap();
    let batch = small_batch(3);
    let mut ort = OrtEncoder::new(spec.clone()).unwrap();
    let mut gpu = WgpuEncoder::new(spec).unwrap();
    for (output, size) in [("features", 6), ("logits", 5)] {
        let want = ort.run_output(&batch, output).unwrap();
        let got = gpu.run_output(&batch, output).unwrap();
        let err = relative_error(&got, &want, size);
        assert!(err < 1e-5, "{output}: wgpu differs from ONNX Runtime by {err}: {got:?} vs {want:?}");
        assert!(want.iter().any(|v| v.abs() > 1e-3), "{output} is all zeros: the test would prove nothing");
    }
    // A batch of one after a batch of three reuses the buffers with new parameters.
    let one = small_batch(1);
    let err = relative_error(&gpu.encode(&one).unwrap(), &ort.encode(&one).unwrap(), 6);
    assert!(err < 1e-5, "batch of one: {err}");
}

/// `model` in ONNX Runtime's QDQ form, as its quantisation tool writes it: each weight int8 per
/// output channel (symmetric) and each bias int32 (in steps of the input's scale times the
/// weight's, which ONNX Runtime's fused int8 kernels assume) behind a `DequantizeLinear`, and the input and
/// every node's output through a `QuantizeLinear` + `DequantizeLinear` pair, uint8 over
/// `-range..range` (narrow enough that some values saturate).
fn quantised(model: &ModelProto, range: f32) -> ModelProto {
    let mut model = model.clone();
    let graph = model.graph.as_mut().unwrap();
    let weights: Vec<TensorProto> = std::mem::take(&mut graph.initializer);
    let outputs: Vec<String> = graph.output.iter().map(|o| o.name.clone()).collect();
    let mut initializer = Vec::new();
    let mut nodes = Vec::new();
    let scale = 2.0 * range / 255.0;
    initializer.push(scalar("act_scale", scale));
    initializer.push(TensorProto { data_type: 2, name: "act_zero".into(), raw_data: vec![128], ..Default::default() });
    // The input and every output, quantised and dequantised; readers read the dequantised name.
    let mut renamed: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let qdq = |nodes: &mut Vec<NodeProto>, raw: &str, out: &str| {
        nodes.push(node("QuantizeLinear", &[raw, "act_scale", "act_zero"], &format!("{out}_q"), vec![]));
        nodes.push(node("DequantizeLinear", &[&format!("{out}_q"), "act_scale", "act_zero"], out, vec![]));
    };
    qdq(&mut nodes, "image", "image_dq");
    renamed.insert("image".into(), "image_dq".into());
    for mut n in std::mem::take(&mut graph.node) {
        let mut weight_scales: Vec<f32> = Vec::new();
        for input in &mut n.input {
            if let Some(w) = weights.iter().find(|w| &w.name == input) {
                let values: Vec<f32> =
                    w.raw_data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
                let q_name = format!("{input}_quantised");
                if w.dims.len() == 1 && w.dims[0] > 1 && !["lo", "hi"].contains(&input.as_str()) {
                    // A bias: int32 in steps of the input's scale times its weight's, per channel.
                    let scales: Vec<f32> = weight_scales.iter().map(|w| w * scale).collect();
                    let q: Vec<u8> =
                        values.iter().zip(&scales).flat_map(|(v, s)| ((v / s).round() as i32).to_le_bytes()).collect();
                    initializer.push(TensorProto {
                        dims: w.dims.clone(),
                        data_type: 6,
                        name: q_name.clone(),
                        raw_data: q,
                        ..Default::default()
                    });
                    let mut s = tensor(&format!("{input}_scale"), &[scales.len() as i64], 0);
                    s.raw_data = scales.iter().flat_map(|v| v.to_le_bytes()).collect();
                    initializer.push(s);
                    nodes.push(node(
                        "DequantizeLinear",
                        &[&q_name, &format!("{input}_scale")],
                        &format!("{input}_dq"),
                        vec![int("axis", 0)],
                    ));
                } else if w.dims.len() >= 2 {
                    // Weights: int8, one scale per output channel (axis 0), zero points 0.
                    let channels = w.dims[0] as usize;
                    let per = values.len() / channels;
                    let scales: Vec<f32> =
                        values.chunks(per).map(|c| c.iter().fold(0.0f32, |m, v| m.max(v.abs())) / 127.0).collect();
                    weight_scales.clone_from(&scales);
                    let q: Vec<u8> = values
                        .iter()
                        .enumerate()
                        .map(|(i, v)| ((v / scales[i / per]).round() as i8).cast_unsigned())
                        .collect();
                    initializer.push(TensorProto {
                        dims: w.dims.clone(),
                        data_type: 3,
                        name: q_name.clone(),
                        raw_data: q,
                        ..Default::default()
                    });
                    let mut s = tensor(&format!("{input}_scale"), &[channels as i64], 0);
                    s.raw_data = scales.iter().flat_map(|v| v.to_le_bytes()).collect();
                    initializer.push(s);
                    initializer.push(TensorProto {
                        dims: vec![channels as i64],
                        data_type: 3,
                        name: format!("{input}_zero"),
                        raw_data: vec![0; channels],
                        ..Default::default()
                    });
                    nodes.push(node(
                        "DequantizeLinear",
                        &[&q_name, &format!("{input}_scale"), &format!("{input}_zero")],
                        &format!("{input}_dq"),
                        vec![int("axis", 0)],
                    ));
                } else {
                    // Clip's bounds stay float.
                    initializer.push(w.clone());
                    continue;
                }
                *input = format!("{input}_dq");
            } else if let Some(r) = renamed.get(input.as_str()) {
                input.clone_from(r);
            }
        }
        let out = n.output[0].clone();
        if outputs.contains(&out) {
            n.output[0] = format!("{out}_raw");
            nodes.push(n);
            qdq(&mut nodes, &format!("{out}_raw"), &out);
        } else {
            nodes.push(n);
            qdq(&mut nodes, &out, &format!("{out}_dq"));
            renamed.insert(out.clone(), format!("{out}_dq"));
        }
    }
    graph.node = nodes;
    graph.initializer = initializer;
    model
}

/// A quantised graph runs on the GPU with the values of ONNX Runtime's int8 kernels: within two
/// quantisation steps of them (rounding at ties may differ and carry on), where the float graph's
/// values differ from them by more.
#[test]
fn the_wgpu_encoder_runs_a_quantised_graph_as_onnx_runtime_does() {
    let dir = tempfile::tempdir().unwrap();
    let range = 1.5;
    let step = 2.0 * range / 255.0;
    let float_spec = EncoderSpec::load(&write_small_model(dir.path(), &small_model(vec![]))).unwrap();
    let batch = small_batch(3);
    let float = OrtEncoder::new(float_spec).unwrap().run_output(&batch, "logits").unwrap();
    let int8_dir = dir.path().join("int8");
    std::fs::create_dir(&int8_dir).unwrap();
    let spec = EncoderSpec::load(&write_small_model(&int8_dir, &quantised(&small_model(vec![]), range))).unwrap();
    let mut ort = OrtEncoder::new(spec.clone()).unwrap();
    let mut gpu = WgpuEncoder::new(spec).unwrap();
    for (output, size) in [("features", 6), ("logits", 5)] {
        let want = ort.run_output(&batch, output).unwrap();
        let got = gpu.run_output(&batch, output).unwrap();
        assert_eq!(got.len(), 3 * size);
        let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        eprintln!("{output}: wgpu differs from ONNX Runtime's int8 kernels by {worst:.5} at most (step {step:.5})");
        assert!(worst <= 2.0 * step + 1e-6, "{output}: {got:?} vs {want:?}");
        // Every value sits on the quantisation grid, inside the uint8 range.
        for v in &got {
            let k = v / step;
            assert!((k - k.round()).abs() < 1e-3 && k.round().abs() <= 128.0, "{output}: {v} is off the grid");
        }
    }
    let logits = gpu.run_output(&batch, "logits").unwrap();
    let from_float = logits.iter().zip(&float).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    assert!(
        from_float > 2.0 * step,
        "the quantised graph computes what the float one does ({from_float}): the test would prove nothing"
    );
}

/// An integer tensor read by anything but its `DequantizeLinear` is refused, naming the node, the
/// tensor and the form the wgpu encoder runs.
#[test]
fn the_wgpu_encoder_refuses_an_integer_tensor_outside_a_quantise_dequantise_pair() {
    let dir = tempfile::tempdir().unwrap();
    let mut model = small_model(vec![
        node("QuantizeLinear", &["logits", "q_scale"], "logits_q", vec![]),
        node("Relu", &["logits_q"], "relu_of_q", vec![]),
    ]);
    model.graph.as_mut().unwrap().initializer.push(scalar("q_scale", 0.1));
    let spec = EncoderSpec::load(&write_small_model(dir.path(), &model)).unwrap();
    let mut gpu = WgpuEncoder::new(spec).unwrap();
    let err = gpu.run_output(&small_batch(1), "relu_of_q").unwrap_err().to_string();
    assert!(err.contains("Relu_relu_of_q") && err.contains("logits_q") && err.contains("QDQ"), "{err}");
}

/// The profile names every op of the features graph in order, after fusion (ReLU, Clip and the
/// residual Add live inside the convolutions), with the adapter's times.
#[test]
fn the_wgpu_encoder_times_every_op_of_the_graph() {
    let dir = tempfile::tempdir().unwrap();
    let spec = EncoderSpec::load(&write_small_model(dir.path(), &small_model(vec![]))).unwrap();
    let mut gpu = WgpuEncoder::new(spec).unwrap();
    let ops = gpu.profile(&small_batch(3)).unwrap();
    let names: Vec<&str> = ops.iter().map(|o| o.op.as_str()).collect();
    assert_eq!(
        names,
        [
            "Conv 3x3/2 3->4, 4x10x17",
            "Conv depthwise 3x3/1 4->4, 4x10x17",
            "Conv 1x1/1 4->4 +residual, 4x10x17",
            "Conv 1x1/2 4->6, 6x5x9",
            "GlobalAveragePool 6x5x9 -> 6",
        ]
    );
    assert!(ops.iter().all(|o| o.seconds.is_finite() && o.seconds >= 0.0), "{ops:?}");
    assert!(ops.iter().map(|o| o.seconds).sum::<f64>() > 0.0, "no time was measured: {ops:?}");
}

#[test]
fn the_wgpu_encoder_refuses_an_op_it_does_not_run_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let model = small_model(vec![node("Sigmoid", &["logits"], "probabilities", vec![])]);
    let spec = EncoderSpec::load(&write_small_model(dir.path(), &model)).unwrap();
    let err = WgpuEncoder::new(spec).unwrap_err();
    assert!(matches!(&err, VisionError::UnsupportedOp { op, .. } if op == "Sigmoid"), "{err}");
    assert!(err.to_string().contains("Sigmoid") && err.to_string().contains("--backend ort"), "{err}");
}

/// Attributes with the wrong number of values or out of range are errors naming the node, not a
/// crash: one stride, three pads, a zero or negative dilation.
#[test]
fn the_wgpu_encoder_refuses_malformed_conv_attributes() {
    let dir = tempfile::tempdir().unwrap();
    for (attribute, bad) in [
        ("strides", ints("strides", &[2])),
        ("pads", ints("pads", &[0, 1, 1])),
        ("dilations", ints("dilations", &[0, 1])),
        ("strides", ints("strides", &[-1, 1])),
    ] {
        let mut model = small_model(vec![]);
        let graph = model.graph.as_mut().unwrap();
        let conv = &mut graph.node[0];
        conv.attribute.retain(|a| a.name != attribute);
        conv.attribute.push(bad);
        let spec = EncoderSpec::load(&write_small_model(dir.path(), &model)).unwrap();
        let err = WgpuEncoder::new(spec).unwrap_err().to_string();
        assert!(err.contains("Conv_c1") && err.contains(attribute), "{attribute}: {err}");
    }
}

#[test]
fn a_manifest_that_names_a_file_that_is_not_onnx_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_small_model(dir.path(), &small_model(vec![]));
    std::fs::write(dir.path().join("small.onnx"), "this is a text file, not a model\n").unwrap();
    let err = EncoderSpec::load(&manifest).unwrap_err();
    assert!(matches!(err, VisionError::NotOnnx { .. }), "{err}");
    assert!(err.to_string().contains("small.onnx") && err.to_string().contains("not an ONNX model"), "{err}");
}

#[test]
fn a_model_whose_input_shape_differs_from_the_manifest_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_small_model(dir.path(), &small_model(vec![]));
    let text = std::fs::read_to_string(&manifest).unwrap().replace("\"width\":18", "\"width\":224");
    std::fs::write(&manifest, text).unwrap();
    let err = EncoderSpec::load(&manifest).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, VisionError::InputShape { .. }), "{message}");
    assert!(message.contains("[?, 3, 20, 18]") && message.contains("[?, 3, 20, 224]"), "{message}");
}

#[test]
fn a_manifest_naming_a_missing_output_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_small_model(dir.path(), &small_model(vec![]));
    let text = std::fs::read_to_string(&manifest).unwrap().replace("\"name\":\"features\"", "\"name\":\"pooled\"");
    std::fs::write(&manifest, text).unwrap();
    let err = EncoderSpec::load(&manifest).unwrap_err().to_string();
    assert!(err.contains("no output named `pooled`") && err.contains("features"), "{err}");
}

/// FFmpeg's moving test pattern, 64x48 at 25 fps, `seconds` long, as `dir/name`.
fn test_pattern_video(dir: &Path, name: &str, seconds: f64) -> PathBuf {
    let video = dir.join(name);
    let status = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            &format!("testsrc2=s=64x48:r=25:d={seconds}"),
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(&video)
        .status()
        .unwrap();
    assert!(status.success());
    video
}

/// Each frame of `video` in order, as a one-image colour batch for an encoder of `input`.
fn colour_frames(video: &Path, input: &InputSpec) -> Vec<ImageBatch> {
    let options =
        foley_engine::media::VideoReaderOptions { size: Some((input.width, input.height)), ..Default::default() };
    let mut reader = foley_engine::media::VideoReader::open_with(video, options).unwrap();
    let mut images = Vec::new();
    while let Some(frame) = reader.next_frame().unwrap() {
        let mut batch = ImageBatch::new(input.width, input.height);
        batch.push_planes(&colour_image(&frame.rgb, input));
        images.push(batch);
    }
    images
}

#[test]
fn features_of_a_video_are_one_row_per_frame_at_its_timestamps_and_cancel_stops_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let spec = EncoderSpec::load(&write_small_model(dir.path(), &small_model(vec![]))).unwrap();
    let video = test_pattern_video(dir.path(), "clip.mp4", 2.0);
    let mut ort = OrtEncoder::new(spec).unwrap();
    let mut last = None;
    let features =
        foley_engine::vision::encode_video(&video, &mut ort, &AtomicBool::new(false), &mut |p| last = Some(p)).unwrap();
    assert_eq!(features.times.len(), 50);
    assert_eq!(features.rows.len(), 50 * 12);
    for (i, t) in features.times.iter().enumerate() {
        assert!((t - i as f64 / 25.0).abs() < 1e-3, "frame {i} at {t}");
    }
    // The colour half is the same on every row; the space-time half changes with the motion.
    assert_eq!(features.row(0)[6..], features.row(49)[6..]);
    assert_ne!(features.row(0)[..6], features.row(25)[..6]);
    assert_eq!(last.map(|p| p.frames_done), Some(50));

    let cancel = AtomicBool::new(false);
    let result = foley_engine::vision::encode_video(&video, &mut ort, &cancel, &mut |_| {
        cancel.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    assert!(matches!(result, Err(VisionError::Cancelled)), "{result:?}");
}

#[test]
fn a_look_averages_colour_frames_spread_over_the_video() {
    let dir = tempfile::tempdir().unwrap();
    let spec = EncoderSpec::load(&write_small_model(dir.path(), &small_model(vec![]))).unwrap();
    let input = spec.manifest.input.clone();
    let video = test_pattern_video(dir.path(), "clip.mp4", 2.0);
    let mut ort = OrtEncoder::new(spec).unwrap();
    // Every frame's features, decoded in order at the encoder's size.
    let each: Vec<Vec<f32>> = colour_frames(&video, &input).iter().map(|image| ort.encode(image).unwrap()).collect();
    assert_eq!(each.len(), 50);
    let mean = |frames: &[usize]| -> Vec<f32> {
        (0..6).map(|k| frames.iter().map(|&f| each[f][k]).sum::<f32>() / frames.len() as f32).collect()
    };
    let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5);
    // Four frames at 0, 0.5, 1 and 1.5 s: the frames on screen then (0.48 s is frame 12).
    let look = foley_engine::vision::video_look(&video, &mut ort, 4).unwrap();
    assert!(close(&look, &mean(&[0, 12, 25, 37])), "{look:?}");
    assert!(!close(&look, &each[0]));
    // One frame is the first frame, as the model's rows hold it.
    let first = foley_engine::vision::first_frame_features(&video, &mut ort).unwrap();
    assert!(close(&first, &each[0]));

    // A video shorter than the frames asked for gives the mean of the frames it has.
    let short = test_pattern_video(dir.path(), "short.mp4", 0.08);
    let look = foley_engine::vision::video_look(&short, &mut ort, 4).unwrap();
    let rows: Vec<Vec<f32>> = colour_frames(&short, &input).iter().map(|image| ort.encode(image).unwrap()).collect();
    assert_eq!(rows.len(), 2);
    let want: Vec<f32> = (0..6).map(|k| (rows[0][k] + rows[1][k]) / 2.0).collect();
    assert!(close(&look, &want), "{look:?} {want:?}");
}
