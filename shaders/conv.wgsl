// Direct 2-D convolution, NCHW, one invocation per output element: any kernel size, stride,
// padding (asymmetric), dilation and group count (depthwise included). Optionally adds a residual
// tensor of the output's shape, then clamps (Clip/ReLU fused). Used for every Conv that is not a
// plain 1x1 (see conv1x1.wgsl).

struct Params {
    n: u32, c_in: u32, h_in: u32, w_in: u32,
    c_out: u32, h_out: u32, w_out: u32, groups: u32,
    kh: u32, kw: u32, stride_y: u32, stride_x: u32,
    pad_top: u32, pad_left: u32, dil_y: u32, dil_x: u32,
    has_bias: u32, has_residual: u32, act_min: f32, act_max: f32,
    total: u32, act_step: f32, _pad1: u32, _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> residual: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    // Dispatches are 2-D when there are more than 65535 workgroups.
    let i = (wg.x + wg.y * nwg.x) * 64u + li;
    if i >= p.total {
        return;
    }
    let ox = i % p.w_out;
    let oy = (i / p.w_out) % p.h_out;
    let oc = (i / (p.w_out * p.h_out)) % p.c_out;
    let n = i / (p.w_out * p.h_out * p.c_out);
    let cin_g = p.c_in / p.groups;
    let cout_g = p.c_out / p.groups;
    let g = oc / cout_g;
    var acc = 0.0;
    if p.has_bias != 0u {
        acc = bias[oc];
    }
    let y0 = i32(oy * p.stride_y) - i32(p.pad_top);
    let x0 = i32(ox * p.stride_x) - i32(p.pad_left);
    for (var ic = 0u; ic < cin_g; ic++) {
        let x_base = (n * p.c_in + g * cin_g + ic) * p.h_in * p.w_in;
        let w_base = (oc * cin_g + ic) * p.kh * p.kw;
        for (var ky = 0u; ky < p.kh; ky++) {
            let iy = y0 + i32(ky * p.dil_y);
            if iy < 0 || iy >= i32(p.h_in) {
                continue;
            }
            let row = x_base + u32(iy) * p.w_in;
            for (var kx = 0u; kx < p.kw; kx++) {
                let ix = x0 + i32(kx * p.dil_x);
                if ix < 0 || ix >= i32(p.w_in) {
                    continue;
                }
                acc += x[row + u32(ix)] * w[w_base + ky * p.kw + kx];
            }
        }
    }
    if p.has_residual != 0u {
        acc += residual[i];
    }
    y[i] = activate(acc);
}
