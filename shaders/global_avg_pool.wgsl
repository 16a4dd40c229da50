// GlobalAveragePool, NCHW: the mean of each channel's plane. One workgroup per (image, channel):
// 64 invocations sum strided parts of the plane, then a tree reduction in workgroup memory.
// Dispatch: (channels, n, 1).

struct Params {
    n: u32, channels: u32, plane: u32, _pad0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let c = wg.x;
    let n = wg.y;
    let base = (n * p.channels + c) * p.plane;
    var sum = 0.0;
    for (var i = li; i < p.plane; i += 64u) {
        sum += x[base + i];
    }
    partial[li] = sum;
    workgroupBarrier();
    for (var stride = 32u; stride > 0u; stride /= 2u) {
        if li < stride {
            partial[li] += partial[li + stride];
        }
        workgroupBarrier();
    }
    if li == 0u {
        y[n * p.channels + c] = partial[0] / f32(p.plane);
    }
}
