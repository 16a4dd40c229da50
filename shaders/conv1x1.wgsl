// 1x1 convolution (stride 1, no padding, one group), NCHW: per image a matrix product
// Y[c_out, hw] = W[c_out, c_in] * X[c_in, hw]. Most of an efficient CNN's arithmetic is here, so
// it is tiled: a 16x16 workgroup computes a 64x64 output tile, each invocation 4x4 of it, with
// 16-deep slices of W and X staged in workgroup memory. Bias, a residual and a clamp are fused.
// Dispatch: (ceil(hw / 64), ceil(c_out / 64), n).

struct Params {
    n: u32, c_in: u32, c_out: u32, plane: u32,
    has_bias: u32, has_residual: u32, act_min: f32, act_max: f32,
    act_step: f32, _pad0: u32, _pad1: u32, _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> residual: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

const TILE: u32 = 64u;
const DEPTH: u32 = 16u;
// The weight tile's rows are padded by one so that its column-wise stores hit different banks.
const W_STRIDE: u32 = 65u;

// [DEPTH][TILE]: weights by (k, output channel) and inputs by (k, pixel).
var<workgroup> w_tile: array<f32, 1040>;
var<workgroup> x_tile: array<f32, 1024>;

// The accumulators are four vectors rather than an indexed array: an array indexed in a loop
// can be placed in slow local memory instead of registers.
@compute @workgroup_size(16, 16)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let n = wg.z;
    let p0 = wg.x * TILE;
    let oc0 = wg.y * TILE;
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    for (var k0 = 0u; k0 < p.c_in; k0 += DEPTH) {
        for (var r = 0u; r < 4u; r++) {
            let e = li + 256u * r;
            // Inputs: 64 consecutive pixels per k, read along the row.
            let xk = k0 + e / TILE;
            let px = p0 + e % TILE;
            var xv = 0.0;
            if xk < p.c_in && px < p.plane {
                xv = x[(n * p.c_in + xk) * p.plane + px];
            }
            x_tile[e] = xv;
            // Weights: 16 consecutive input channels per output channel.
            let wk = e % DEPTH;
            let row = e / DEPTH;
            let oc = oc0 + row;
            var wv = 0.0;
            if oc < p.c_out && k0 + wk < p.c_in {
                wv = w[oc * p.c_in + k0 + wk];
            }
            w_tile[wk * W_STRIDE + row] = wv;
        }
        workgroupBarrier();
        for (var k = 0u; k < DEPTH; k++) {
            let xb = k * TILE + lid.x;
            let xs = vec4<f32>(x_tile[xb], x_tile[xb + 16u], x_tile[xb + 32u], x_tile[xb + 48u]);
            let wb = k * W_STRIDE + lid.y;
            acc0 += w_tile[wb] * xs;
            acc1 += w_tile[wb + 16u] * xs;
            acc2 += w_tile[wb + 32u] * xs;
            acc3 += w_tile[wb + 48u] * xs;
        }
        workgroupBarrier();
    }
    store(n, oc0 + lid.y, p0 + lid.x, acc0);
    store(n, oc0 + lid.y + 16u, p0 + lid.x, acc1);
    store(n, oc0 + lid.y + 32u, p0 + lid.x, acc2);
    store(n, oc0 + lid.y + 48u, p0 + lid.x, acc3);
}

// Writes one output channel's four pixels (px, px + 16, px + 32, px + 48) with bias, residual
// and clamp.
fn store(n: u32, oc: u32, px: u32, row: vec4<f32>) {
    if oc >= p.c_out {
        return;
    }
    var b = 0.0;
    if p.has_bias != 0u {
        b = bias[oc];
    }
    for (var j = 0u; j < 4u; j++) {
        let at_px = px + 16u * j;
        if at_px >= p.plane {
            continue;
        }
        let at = (n * p.c_out + oc) * p.plane + at_px;
        var v = row[j] + b;
        if p.has_residual != 0u {
            v += residual[at];
        }
        y[at] = activate(v);
    }
}
