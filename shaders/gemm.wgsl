// ONNX Gemm with A the activations [n, k] (transA = 0) and B, C constant weights:
// Y = alpha * A * op(B) + beta * C, op(B) = B^T when trans_b (B stored [m, k]) else B ([k, m]);
// C is a vector of m (broadcast over rows). One invocation per output element.

struct Params {
    n: u32, k: u32, m: u32, trans_b: u32,
    has_c: u32, alpha: f32, beta: f32, total: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> c: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

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
    let row = i / p.m;
    let col = i % p.m;
    var acc = 0.0;
    for (var j = 0u; j < p.k; j++) {
        var bv: f32;
        if p.trans_b != 0u {
            bv = b[col * p.k + j];
        } else {
            bv = b[j * p.m + col];
        }
        acc += a[row * p.k + j] * bv;
    }
    var v = p.alpha * acc;
    if p.has_c != 0u {
        v += p.beta * c[col];
    }
    y[i] = v;
}
