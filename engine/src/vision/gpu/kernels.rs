//! The WGSL compute shaders (in the repository's `shaders/` folder) and their pipelines.

/// Every shader the wgpu encoder uses, by file name, as compiled. The fused activation
/// (`activate`, in `activation.wgsl`) is appended to those that end in one: WGSL has no includes.
pub const SHADERS: [(&str, &str); 6] = [
    (
        "conv.wgsl",
        concat!(include_str!("../../../../shaders/conv.wgsl"), include_str!("../../../../shaders/activation.wgsl")),
    ),
    (
        "conv1x1.wgsl",
        concat!(include_str!("../../../../shaders/conv1x1.wgsl"), include_str!("../../../../shaders/activation.wgsl")),
    ),
    (
        "add.wgsl",
        concat!(include_str!("../../../../shaders/add.wgsl"), include_str!("../../../../shaders/activation.wgsl")),
    ),
    (
        "clip.wgsl",
        concat!(include_str!("../../../../shaders/clip.wgsl"), include_str!("../../../../shaders/activation.wgsl")),
    ),
    ("global_avg_pool.wgsl", include_str!("../../../../shaders/global_avg_pool.wgsl")),
    ("gemm.wgsl", include_str!("../../../../shaders/gemm.wgsl")),
];

/// Invocations per workgroup of the one-element-per-invocation shaders.
pub const LINEAR_WORKGROUP: u32 = 64;

/// Compute pipelines, one per shader.
#[derive(Debug)]
pub struct Kernels {
    pub conv: wgpu::ComputePipeline,
    pub conv1x1: wgpu::ComputePipeline,
    pub add: wgpu::ComputePipeline,
    pub clip: wgpu::ComputePipeline,
    pub global_avg_pool: wgpu::ComputePipeline,
    pub gemm: wgpu::ComputePipeline,
}

impl Kernels {
    /// The pipeline that runs `op`.
    #[must_use]
    pub fn for_op(&self, op: &super::graph::Op) -> &wgpu::ComputePipeline {
        use super::graph::Op;
        match op {
            Op::Conv(c) if c.is_pointwise() => &self.conv1x1,
            Op::Conv(_) => &self.conv,
            Op::Add { .. } => &self.add,
            Op::Clamp { .. } => &self.clip,
            Op::GlobalAveragePool { .. } => &self.global_avg_pool,
            Op::Gemm { .. } => &self.gemm,
        }
    }

    pub fn new(device: &wgpu::Device) -> Self {
        let pipeline = |file: &str| {
            let source = SHADERS.iter().find(|(name, _)| *name == file).map_or("", |(_, s)| *s);
            let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(file),
                source: wgpu::ShaderSource::Wgsl(source.into()),
            });
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(file),
                layout: None,
                module: &module,
                entry_point: Some("main"),
                compilation_options: wgpu::PipelineCompilationOptions::default(),
                cache: None,
            })
        };
        Self {
            conv: pipeline("conv.wgsl"),
            conv1x1: pipeline("conv1x1.wgsl"),
            add: pipeline("add.wgsl"),
            clip: pipeline("clip.wgsl"),
            global_avg_pool: pipeline("global_avg_pool.wgsl"),
            gemm: pipeline("gemm.wgsl"),
        }
    }
}

/// Workgroup counts for `total` invocations at [`LINEAR_WORKGROUP`] each, spread over x and y so
/// neither exceeds `max_per_dim`.
#[must_use]
pub fn linear_dispatch(total: u32, max_per_dim: u32) -> (u32, u32) {
    let groups = total.div_ceil(LINEAR_WORKGROUP).max(1);
    if groups <= max_per_dim {
        (groups, 1)
    } else {
        let y = groups.div_ceil(max_per_dim);
        (groups.div_ceil(y), y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shader parses and validates with naga (what wgpu does at pipeline creation, here
    /// without a device).
    #[test]
    fn every_shader_validates_with_naga() {
        for (name, source) in SHADERS {
            let module =
                naga::front::wgsl::parse_str(source).unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
            naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::all())
                .validate(&module)
                .unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert!(module.entry_points.iter().any(|e| e.name == "main"), "{name} has no `main`");
        }
    }

    #[test]
    fn every_shader_file_in_the_folder_is_used() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shaders");
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let name = entry.map(|e| e.file_name().to_string_lossy().into_owned()).unwrap_or_default();
            if name.ends_with(".wgsl") {
                assert!(
                    name == "activation.wgsl" || SHADERS.iter().any(|(n, _)| *n == name),
                    "{name} is not compiled into the encoder"
                );
            }
        }
    }

    #[test]
    fn large_dispatches_are_spread_over_two_dimensions() {
        assert_eq!(linear_dispatch(64 * 10, 65535), (10, 1));
        let (x, y) = linear_dispatch(64 * 200_000, 65535);
        assert!(x <= 65535 && y > 1 && u64::from(x) * u64::from(y) * 64 >= 64 * 200_000);
        assert_eq!(linear_dispatch(0, 65535), (1, 1));
    }
}
