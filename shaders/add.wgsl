// Elementwise a + b of two tensors of one shape, then a clamp (a fused Clip/ReLU, or none).

struct Params {
    total: u32, act_step: f32, act_min: f32, act_max: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = (wg.x + wg.y * nwg.x) * 64u + li;
    if i >= p.total {
        return;
    }
    y[i] = activate(a[i] + b[i]);
}
