//! [`FrameEncoder`] on wgpu: foley's own WGSL compute shaders execute the same ONNX graph as ONNX
//! Runtime, with the weights read from the same file, on whatever adapter wgpu finds (Vulkan,
//! Metal, DX12, GL; on a machine without a GPU, Mesa's lavapipe).

mod graph;
mod kernels;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use wgpu::util::DeviceExt as _;

use graph::{Op, Shape};
pub use graph::{Program, SUPPORTED_OPS};
use kernels::{Kernels, linear_dispatch};

use super::onnx::{self, ModelProto};
use super::{EncoderSpec, FrameEncoder, ImageBatch, Layout, VisionError};

/// One GPU operation's time, from [`WgpuEncoder::profile`].
#[derive(Debug, Clone, PartialEq)]
pub struct OpTime {
    /// What the op is, e.g. "Conv 3x3/2 3->32, 32x112x112".
    pub op: String,
    pub seconds: f64,
}

/// Images per batch the encoder aims for, memory allowing: a large GPU needs about 64 to be kept
/// busy (on an H200, 2,900 frames/s at 16 and 4,000 at 64; `encoder_speed` example).
const PREFERRED_BATCH: usize = 64;

/// Runs an ONNX CNN with WGSL compute shaders.
pub struct WgpuEncoder {
    spec: EncoderSpec,
    model: ModelProto,
    device: wgpu::Device,
    queue: wgpu::Queue,
    adapter: wgpu::AdapterInfo,
    limits: wgpu::Limits,
    kernels: Kernels,
    compiled: HashMap<String, Compiled>,
    errors: Arc<Mutex<Vec<String>>>,
    /// The most images one dispatch takes, memory allowing.
    batch_goal: usize,
}

impl std::fmt::Debug for WgpuEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WgpuEncoder")
            .field("model", &self.spec.onnx_path)
            .field("adapter", &self.adapter.name)
            .finish_non_exhaustive()
    }
}

/// A program with its buffers and bind groups on the device.
struct Compiled {
    program: Program,
    slots: Vec<wgpu::Buffer>,
    steps: Vec<Step>,
    readback: wgpu::Buffer,
    max_batch: usize,
    /// The batch size the uniforms currently describe.
    uniforms_for: usize,
}

struct Step {
    uniform: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
}

impl WgpuEncoder {
    /// Opens the model on the first adapter wgpu offers, preferring a discrete GPU.
    pub fn new(spec: EncoderSpec) -> Result<Self, VisionError> {
        Self::with_batch(spec, PREFERRED_BATCH)
    }

    /// As [`Self::new`], with up to `batch_goal` images per dispatch (fewer where one binding
    /// cannot hold them): a large GPU is only kept busy by large batches.
    pub fn with_batch(spec: EncoderSpec, batch_goal: usize) -> Result<Self, VisionError> {
        if spec.manifest.input.layout != Layout::Nchw {
            return Err(VisionError::BadModel {
                path: spec.onnx_path.clone(),
                reason: "the wgpu encoder runs NCHW models only; use --backend ort".to_owned(),
            });
        }
        let model = onnx::read_model(&spec.onnx_path)?;
        if let Some(graph) = &model.graph {
            graph::check_ops(&spec.onnx_path, graph)?;
        }
        let adapter = request_adapter()?;
        // Ask for everything the adapter allows: large activations need large storage bindings.
        let limits = adapter.limits();
        // Timestamps where offered, for `profile`; nothing else depends on them.
        let features = adapter.features() & wgpu::Features::TIMESTAMP_QUERY;
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("foley encoder"),
            required_limits: limits.clone(),
            required_features: features,
            ..Default::default()
        }))
        .map_err(|e| VisionError::NoAdapter { reason: format!("{}: {e}", adapter.get_info().name) })?;
        let errors: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = Arc::clone(&errors);
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            if let Ok(mut list) = sink.lock() {
                list.push(e.to_string());
            }
        }));
        let kernels = Kernels::new(&device);
        let mut encoder = Self {
            spec,
            model,
            device,
            queue,
            adapter: adapter.get_info(),
            limits,
            kernels,
            compiled: HashMap::new(),
            errors,
            batch_goal: batch_goal.max(1),
        };
        let features = encoder.spec.manifest.output.name.clone();
        encoder.compile(&features)?;
        encoder.check_errors()?;
        Ok(encoder)
    }

    /// The adapter's name and backend, e.g. "llvmpipe (LLVM 15.0.6, 256 bits) (Vulkan)".
    #[must_use]
    pub fn adapter_name(&self) -> String {
        format!("{} ({:?})", self.adapter.name, self.adapter.backend)
    }

    fn check_errors(&self) -> Result<(), VisionError> {
        let mut list = self.errors.lock().map_err(|_| VisionError::Gpu("error log poisoned".to_owned()))?;
        if list.is_empty() { Ok(()) } else { Err(VisionError::Gpu(std::mem::take(&mut *list).join("; "))) }
    }

    fn compile(&mut self, output: &str) -> Result<(), VisionError> {
        if self.compiled.contains_key(output) {
            return Ok(());
        }
        let input = &self.spec.manifest.input;
        let program =
            Program::compile(&self.spec.onnx_path, &self.model, &input.name, (input.height, input.width), &[output])?;
        let binding_limit = self.limits.max_storage_buffer_binding_size.min(self.limits.max_buffer_size);
        let per_image = (program.max_value_len * 4) as u64;
        let max_batch = usize::try_from(binding_limit / per_image.max(1)).unwrap_or(usize::MAX).min(self.batch_goal);
        if max_batch == 0 {
            return Err(VisionError::Gpu(format!(
                "{}: one image's largest activation needs {per_image} bytes, more than the adapter's storage binding limit of {binding_limit}",
                self.adapter.name
            )));
        }
        if let Some(w) = program.weights.iter().find(|w| (w.data.len() * 4) as u64 > binding_limit) {
            return Err(VisionError::Gpu(format!(
                "{}: weight `{}` needs {} bytes, more than the adapter's storage binding limit of {binding_limit}",
                self.adapter.name,
                w.name,
                w.data.len() * 4
            )));
        }
        let device = &self.device;
        let slot_bytes = (program.max_value_len * max_batch * 4) as u64;
        let slots: Vec<wgpu::Buffer> = (0..program.slots)
            .map(|i| {
                device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(&format!("activations {i}")),
                    size: slot_bytes,
                    usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::COPY_SRC,
                    mapped_at_creation: false,
                })
            })
            .collect();
        let weights: Vec<wgpu::Buffer> = program
            .weights
            .iter()
            .map(|w| {
                device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some(&w.name),
                    contents: bytemuck::cast_slice(&w.data),
                    usage: wgpu::BufferUsages::STORAGE,
                })
            })
            .collect();
        // Bound where an op has no bias, residual or C; the shaders never read it then.
        let unused = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("unused"),
            size: 16,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        let mut steps = Vec::with_capacity(program.ops.len());
        for op in &program.ops {
            let uniform = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("op parameters"),
                size: 96,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            let slot = |v: usize| &slots[program.values[v].slot];
            let weight = |w: usize| &weights[w];
            let pipeline = self.kernels.for_op(op);
            let buffers: Vec<&wgpu::Buffer> = match op {
                Op::Conv(c) => vec![
                    slot(c.x),
                    weight(c.weight),
                    c.bias.map_or(&unused, weight),
                    c.residual.map_or(&unused, slot),
                    slot(c.out),
                ],
                Op::Add { a, b, out, .. } => vec![slot(*a), slot(*b), slot(*out)],
                Op::Clamp { x, out, .. } => vec![slot(*x), slot(*out)],
                Op::GlobalAveragePool { x, out } => vec![slot(*x), slot(*out)],
                Op::Gemm { a, b, c, out, .. } => vec![slot(*a), weight(*b), c.map_or(&unused, weight), slot(*out)],
            };
            let mut entries = vec![wgpu::BindGroupEntry { binding: 0, resource: uniform.as_entire_binding() }];
            entries.extend(
                buffers
                    .iter()
                    .zip(1u32..)
                    .map(|(buffer, binding)| wgpu::BindGroupEntry { binding, resource: buffer.as_entire_binding() }),
            );
            let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: None,
                layout: &pipeline.get_bind_group_layout(0),
                entries: &entries,
            });
            steps.push(Step { uniform, bind_group });
        }
        let out_len = program.values[program.outputs[0]].shape.len();
        let readback = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: (out_len * max_batch * 4) as u64,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        self.compiled
            .insert(output.to_owned(), Compiled { program, slots, steps, readback, max_batch, uniforms_for: 0 });
        Ok(())
    }

    /// Runs `batch` and returns the named output, flattened (e.g. the logits, to check weights).
    pub fn run_output(&mut self, batch: &ImageBatch, output: &str) -> Result<Vec<f32>, VisionError> {
        batch.check_size(&self.spec.manifest.input)?;
        self.compile(output)?;
        let max_batch = self.compiled.get(output).map_or(1, |c| c.max_batch);
        let image_len = batch.image_len();
        let mut out = Vec::new();
        for chunk in batch.data.chunks(image_len * max_batch) {
            out.extend(self.run_chunk(output, chunk, chunk.len() / image_len)?);
        }
        Ok(out)
    }

    /// Writes the uniforms for a batch of `n` (when they describe another size) and the input.
    fn upload(&mut self, output: &str, data: &[f32], n: usize) -> Result<(), VisionError> {
        let compiled = self.compiled.get_mut(output).ok_or_else(|| VisionError::Gpu("not compiled".to_owned()))?;
        let program = &compiled.program;
        if compiled.uniforms_for != n {
            for (op, step) in program.ops.iter().zip(&compiled.steps) {
                self.queue.write_buffer(&step.uniform, 0, bytemuck::cast_slice(&parameters(program, op, n)));
            }
            compiled.uniforms_for = n;
        }
        self.queue.write_buffer(&compiled.slots[program.values[program.input].slot], 0, bytemuck::cast_slice(data));
        Ok(())
    }

    fn run_chunk(&mut self, output: &str, data: &[f32], n: usize) -> Result<Vec<f32>, VisionError> {
        let max_dim = self.limits.max_compute_workgroups_per_dimension;
        self.upload(output, data, n)?;
        let compiled = self.compiled.get_mut(output).ok_or_else(|| VisionError::Gpu("not compiled".to_owned()))?;
        let program = &compiled.program;
        let mut encoder = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("encode") });
        {
            let mut pass =
                encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes: None });
            for (op, step) in program.ops.iter().zip(&compiled.steps) {
                let (pipeline, groups) = (self.kernels.for_op(op), workgroups(program, op, n, max_dim));
                pass.set_pipeline(pipeline);
                pass.set_bind_group(0, &step.bind_group, &[]);
                pass.dispatch_workgroups(groups.0, groups.1, groups.2);
            }
        }
        let out_value = &program.values[program.outputs[0]];
        let bytes = (out_value.shape.len() * n * 4) as u64;
        encoder.copy_buffer_to_buffer(&compiled.slots[out_value.slot], 0, &compiled.readback, 0, bytes);
        self.queue.submit([encoder.finish()]);
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        compiled.readback.map_async(wgpu::MapMode::Read, ..bytes, move |result| {
            let _ = tx.send(result);
        });
        self.device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| VisionError::Gpu(e.to_string()))?;
        let mapped = rx.recv().map_err(|_| VisionError::Gpu("the readback was dropped".to_owned()))?;
        mapped.map_err(|e| VisionError::Gpu(e.to_string()))?;
        let values = {
            let view = compiled.readback.get_mapped_range(..bytes).map_err(|e| VisionError::Gpu(e.to_string()))?;
            bytemuck::cast_slice::<u8, f32>(&view).to_vec()
        };
        compiled.readback.unmap();
        self.check_errors()?;
        Ok(values)
    }

    /// Times every GPU operation of the features graph on the first `preferred_batch` images of
    /// `batch` with the adapter's timestamps (each op in a pass of its own), in graph order: where
    /// a GPU spends its time. Errors when the adapter offers no timestamps.
    pub fn profile(&mut self, batch: &ImageBatch) -> Result<Vec<OpTime>, VisionError> {
        if !self.device.features().contains(wgpu::Features::TIMESTAMP_QUERY) {
            return Err(VisionError::Gpu(format!("{} offers no timestamp queries", self.adapter.name)));
        }
        batch.check_size(&self.spec.manifest.input)?;
        let output = self.spec.manifest.output.name.clone();
        let max_dim = self.limits.max_compute_workgroups_per_dimension;
        let n = batch.len().min(self.preferred_batch());
        if n == 0 {
            return Ok(Vec::new());
        }
        self.upload(&output, &batch.data[..batch.image_len() * n], n)?;
        let compiled = self.compiled.get(&output).ok_or_else(|| VisionError::Gpu("not compiled".to_owned()))?;
        let program = &compiled.program;
        let count = u32::try_from(program.ops.len() * 2)
            .ok()
            .filter(|&c| c <= wgpu::QUERY_SET_MAX_QUERIES)
            .ok_or_else(|| VisionError::Gpu(format!("{} ops are too many to time in one go", program.ops.len())))?;
        let queries = self.device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("op times"),
            ty: wgpu::QueryType::Timestamp,
            count,
        });
        let bytes = u64::from(count) * 8;
        let resolved = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("op times"),
            size: bytes,
            usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let readback = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("op times readback"),
            size: bytes,
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        let mut encoder =
            self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("profile") });
        for (i, (op, step)) in program.ops.iter().zip(&compiled.steps).enumerate() {
            let at = i as u32 * 2;
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: None,
                timestamp_writes: Some(wgpu::ComputePassTimestampWrites {
                    query_set: &queries,
                    beginning_of_pass_write_index: Some(at),
                    end_of_pass_write_index: Some(at + 1),
                }),
            });
            let groups = workgroups(program, op, n, max_dim);
            pass.set_pipeline(self.kernels.for_op(op));
            pass.set_bind_group(0, &step.bind_group, &[]);
            pass.dispatch_workgroups(groups.0, groups.1, groups.2);
        }
        encoder.resolve_query_set(&queries, 0..count, &resolved, 0);
        encoder.copy_buffer_to_buffer(&resolved, 0, &readback, 0, bytes);
        self.queue.submit([encoder.finish()]);
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        readback.map_async(wgpu::MapMode::Read, .., move |result| {
            let _ = tx.send(result);
        });
        self.device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| VisionError::Gpu(e.to_string()))?;
        rx.recv()
            .map_err(|_| VisionError::Gpu("the readback was dropped".to_owned()))?
            .map_err(|e| VisionError::Gpu(e.to_string()))?;
        let ticks: Vec<u64> = {
            let view = readback.get_mapped_range(..).map_err(|e| VisionError::Gpu(e.to_string()))?;
            bytemuck::cast_slice::<u8, u64>(&view).to_vec()
        };
        self.check_errors()?;
        let period_s = f64::from(self.queue.get_timestamp_period()) * 1e-9;
        Ok(program
            .ops
            .iter()
            .zip(ticks.chunks_exact(2))
            .map(|(op, t)| OpTime {
                op: graph::describe(program, op),
                seconds: t[1].saturating_sub(t[0]) as f64 * period_s,
            })
            .collect())
    }
}

/// The first adapter of the native APIs (Vulkan, Metal, DX12), else of OpenGL; `WGPU_BACKEND`
/// (e.g. `gl`) chooses one instead. GL comes last because probing it prints display-server
/// warnings on a machine without one.
fn request_adapter() -> Result<wgpu::Adapter, VisionError> {
    let options = wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        force_fallback_adapter: false,
        compatible_surface: None,
        apply_limit_buckets: false,
    };
    let from_env = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    let tries: Vec<wgpu::Backends> = if std::env::var_os("WGPU_BACKEND").is_some() {
        vec![from_env.backends]
    } else {
        vec![wgpu::Backends::PRIMARY, wgpu::Backends::GL]
    };
    let mut reasons = Vec::new();
    for backends in tries {
        let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
        descriptor.backends = backends;
        let instance = wgpu::Instance::new(descriptor);
        match pollster::block_on(instance.request_adapter(&options)) {
            Ok(adapter) => return Ok(adapter),
            Err(e) => reasons.push(format!("{backends:?}: {e}")),
        }
    }
    Err(VisionError::NoAdapter { reason: reasons.join("; ") })
}

/// Workgroup counts of `op` for a batch of `n`, as its shader expects them.
fn workgroups(program: &Program, op: &Op, n: usize, max_dim: u32) -> (u32, u32, u32) {
    let n = n as u32;
    let linear = |out: usize| {
        let (x, y) = linear_dispatch(program.values[out].shape.len() as u32 * n, max_dim);
        (x, y, 1)
    };
    match op {
        Op::Conv(c) if c.is_pointwise() => {
            let Shape::Chw(c_out, h, w) = program.values[c.out].shape else { return (0, 0, 0) };
            ((h * w).div_ceil(64), c_out.div_ceil(64), n)
        }
        Op::Conv(c) => linear(c.out),
        Op::Add { out, .. } | Op::Clamp { out, .. } | Op::Gemm { out, .. } => linear(*out),
        Op::GlobalAveragePool { out, .. } => (program.values[*out].shape.len() as u32, n, 1),
    }
}

/// The uniform block of `op` for a batch of `n`, laid out as its shader's `Params`.
fn parameters(program: &Program, op: &Op, n: usize) -> Vec<u32> {
    let n = n as u32;
    let chw = |v: usize| match program.values[v].shape {
        Shape::Chw(c, h, w) => (c, h, w),
        Shape::Vector(k) => (k, 1, 1),
    };
    let len = |v: usize| program.values[v].shape.len() as u32;
    let mut p = match op {
        Op::Conv(c) if c.is_pointwise() => {
            let (c_in, _, _) = chw(c.x);
            let (c_out, h, w) = chw(c.out);
            vec![
                n,
                c_in,
                c_out,
                h * w,
                u32::from(c.bias.is_some()),
                u32::from(c.residual.is_some()),
                c.clamp.min.to_bits(),
                c.clamp.max.to_bits(),
                c.clamp.step.to_bits(),
            ]
        }
        Op::Conv(c) => {
            let (c_in, h_in, w_in) = chw(c.x);
            let (c_out, h_out, w_out) = chw(c.out);
            vec![
                n,
                c_in,
                h_in,
                w_in,
                c_out,
                h_out,
                w_out,
                c.groups,
                c.kernel[0],
                c.kernel[1],
                c.stride[0],
                c.stride[1],
                c.pads[0],
                c.pads[1],
                c.dilation[0],
                c.dilation[1],
                u32::from(c.bias.is_some()),
                u32::from(c.residual.is_some()),
                c.clamp.min.to_bits(),
                c.clamp.max.to_bits(),
                n * len(c.out),
                c.clamp.step.to_bits(),
            ]
        }
        Op::Add { out, clamp, .. } | Op::Clamp { out, clamp, .. } => {
            vec![n * len(*out), clamp.step.to_bits(), clamp.min.to_bits(), clamp.max.to_bits()]
        }
        Op::GlobalAveragePool { x, .. } => {
            let (c, h, w) = chw(*x);
            vec![n, c, h * w, 0]
        }
        Op::Gemm { a, out, trans_b, c, alpha, beta, .. } => vec![
            n,
            len(*a),
            len(*out),
            u32::from(*trans_b),
            u32::from(c.is_some()),
            alpha.to_bits(),
            beta.to_bits(),
            n * len(*out),
        ],
    };
    // Uniform blocks are multiples of 16 bytes.
    p.resize(p.len().div_ceil(4) * 4, 0);
    p
}

impl FrameEncoder for WgpuEncoder {
    fn spec(&self) -> &EncoderSpec {
        &self.spec
    }

    fn device(&self) -> String {
        format!("wgpu on {}", self.adapter_name())
    }

    fn preferred_batch(&self) -> usize {
        self.compiled.get(&self.spec.manifest.output.name).map_or(1, |c| c.max_batch)
    }

    fn encode(&mut self, batch: &ImageBatch) -> Result<Vec<f32>, VisionError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let name = self.spec.manifest.output.name.clone();
        self.run_output(batch, &name)
    }
}
