// 1x1 convolution (stride 1, no padding, one group), NCHW: per image a matrix product
// Y[c_out, hw] = W[c_out, c_in] * X[c_in, hw]. Most of an efficient CNN's arithmetic is here, so
// it is tiled: a 16x16 workgroup computes a 64x64 output tile, each invocation 4x4 of it, with
// 16-deep slices of W and X staged in workgroup memory. Bias, a residual and a clamp are fused.
// Dispatch: (ceil(hw / 64), ceil(c_out / 64), n).

struct Params {
    n: u32, c_in: u32, c_out: u32, plane: u32,
    has_bias: u32, has_residual: u32, act_min: f32, act_max: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> residual: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

const TILE: u32 = 64u;
const DEPTH: u32 = 16u;

// [DEPTH][TILE]: weights by (k, output channel) and inputs by (k, pixel).
var<workgroup> w_tile: array<f32, 1024>;
var<workgroup> x_tile: array<f32, 1024>;

@compute @workgroup_size(16, 16)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let n = wg.z;
    let p0 = wg.x * TILE;
    let oc0 = wg.y * TILE;
    var acc: array<f32, 16>;
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
            w_tile[wk * TILE + row] = wv;
        }
        workgroupBarrier();
        for (var k = 0u; k < DEPTH; k++) {
            var xs: array<f32, 4>;
            for (var j = 0u; j < 4u; j++) {
                xs[j] = x_tile[k * TILE + lid.x + 16u * j];
            }
            for (var i = 0u; i < 4u; i++) {
                let wv = w_tile[k * TILE + lid.y + 16u * i];
                for (var j = 0u; j < 4u; j++) {
                    acc[i * 4u + j] += wv * xs[j];
                }
            }
        }
        workgroupBarrier();
    }
    for (var i = 0u; i < 4u; i++) {
        let oc = oc0 + lid.y + 16u * i;
        if oc >= p.c_out {
            continue;
        }
        var b = 0.0;
        if p.has_bias != 0u {
            b = bias[oc];
        }
        for (var j = 0u; j < 4u; j++) {
            let px = p0 + lid.x + 16u * j;
            if px >= p.plane {
                continue;
            }
            let at = (n * p.c_out + oc) * p.plane + px;
            var v = acc[i * 4u + j] + b;
            if p.has_residual != 0u {
                v += residual[at];
            }
            y[at] = clamp(v, p.act_min, p.act_max);
        }
    }
}
