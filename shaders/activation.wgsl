// The fused activation of conv, conv1x1, add and clip, appended to each of them when it is
// compiled (WGSL has no includes); it reads their parameters `p.act_min`, `p.act_max` and
// `p.act_step`. A clamp (Clip, ReLU, or none), then rounding to a multiple of act_step (ties to
// even, as ONNX QuantizeLinear rounds) where the op ends in a quantise-dequantise pair.
fn activate(v: f32) -> f32 {
    let c = clamp(v, p.act_min, p.act_max);
    if p.act_step > 0.0 {
        return round(c / p.act_step) * p.act_step;
    }
    return c;
}
