//! The LSTM's inner loops for inference: the recurrent product, the input products and the state
//! update, with AVX-512 or AVX2 and FMA where the processor has them, and a fast `exp`.

/// `gates += hidden . w_hh` (`w_hh` row-major `[hidden][gates]`), row by row so the inner loop runs
/// along memory; with AVX-512 or AVX2 and FMA where the processor has them.
pub(super) fn add_recurrent(gates: &mut [f32], hidden: &[f32], w_hh: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the features the function is compiled for were just detected.
            unsafe { add_recurrent_avx512(gates, hidden, w_hh) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: as above.
            unsafe { add_recurrent_avx2(gates, hidden, w_hh) };
            return;
        }
    }
    add_recurrent_plain(gates, hidden, w_hh);
}

/// Without FMA in hardware `mul_add` would be a slow library call: plain products instead.
fn add_recurrent_plain(gates: &mut [f32], hidden: &[f32], w_hh: &[f32]) {
    let width = gates.len();
    for (row, &hj) in w_hh.chunks_exact(width).zip(hidden) {
        for (g, w) in gates.iter_mut().zip(row) {
            *g += hj * w;
        }
    }
}

/// 128 gates (eight 16-lane registers) at a time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
fn add_recurrent_avx512(gates: &mut [f32], hidden: &[f32], w_hh: &[f32]) {
    add_recurrent_tiled::<128>(gates, hidden, w_hh);
}

/// 64 gates (eight 8-lane registers) at a time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn add_recurrent_avx2(gates: &mut [f32], hidden: &[f32], w_hh: &[f32]) {
    add_recurrent_tiled::<64>(gates, hidden, w_hh);
}

/// `TILE` gates are held in registers while every row of `w_hh` adds into them.
#[inline(always)]
fn add_recurrent_tiled<const TILE: usize>(gates: &mut [f32], hidden: &[f32], w_hh: &[f32]) {
    let width = gates.len();
    let mut start = 0;
    while start + TILE <= width {
        let mut acc = [0.0f32; TILE];
        acc.copy_from_slice(&gates[start..start + TILE]);
        for (j, &hj) in hidden.iter().enumerate() {
            let row = &w_hh[j * width + start..j * width + start + TILE];
            for (a, w) in acc.iter_mut().zip(row) {
                *a = hj.mul_add(*w, *a);
            }
        }
        gates[start..start + TILE].copy_from_slice(&acc);
        start += TILE;
    }
    if start < width {
        for (j, &hj) in hidden.iter().enumerate() {
            for (g, w) in gates[start..].iter_mut().zip(&w_hh[j * width + start..(j + 1) * width]) {
                *g = hj.mul_add(*w, *g);
            }
        }
    }
}

/// `out[s] += x[s] . w` for every row `s` (`x` rows of `w.len() / out_width` values, `w`
/// row-major `[input][out_width]`): a small matrix product. Several rows share each load of a
/// weight, so it moves a fraction of the bytes that one product per row would.
pub(super) fn add_products(out: &mut [f32], x: &[f32], w: &[f32], out_width: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the features the function is compiled for were just detected.
            unsafe { add_products_avx512(out, x, w, out_width) };
            return;
        }
    }
    for (o, xr) in out.chunks_exact_mut(out_width).zip(x.chunks_exact(w.len() / out_width)) {
        add_recurrent(o, xr, w);
    }
}

/// Four rows of 64 outputs (sixteen 16-lane registers) at a time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
fn add_products_avx512(out: &mut [f32], x: &[f32], w: &[f32], out_width: usize) {
    const ROWS: usize = 4;
    const TILE: usize = 64;
    let k = w.len() / out_width;
    let rows = out.len() / out_width;
    let grouped = rows - rows % ROWS;
    if out_width.is_multiple_of(TILE) {
        for g in (0..grouped).step_by(ROWS) {
            for start in (0..out_width).step_by(TILE) {
                let mut acc = [[0.0f32; TILE]; ROWS];
                for (r, a) in acc.iter_mut().enumerate() {
                    a.copy_from_slice(&out[(g + r) * out_width + start..][..TILE]);
                }
                for j in 0..k {
                    let row = &w[j * out_width + start..][..TILE];
                    for (r, a) in acc.iter_mut().enumerate() {
                        let xr = x[(g + r) * k + j];
                        for (a, w) in a.iter_mut().zip(row) {
                            *a = xr.mul_add(*w, *a);
                        }
                    }
                }
                for (r, a) in acc.iter().enumerate() {
                    out[(g + r) * out_width + start..][..TILE].copy_from_slice(a);
                }
            }
        }
    } else {
        for r in 0..grouped {
            add_recurrent_tiled::<128>(&mut out[r * out_width..][..out_width], &x[r * k..][..k], w);
        }
    }
    for r in grouped..rows {
        add_recurrent_tiled::<128>(&mut out[r * out_width..][..out_width], &x[r * k..][..k], w);
    }
}

/// One LSTM step's gate nonlinearities and state update, from `gates` (`[i, f, g, o]`, each
/// `hidden.len()` long, the pre-activations), which it leaves holding the activations; with AVX2
/// and FMA where the processor has them.
pub(super) fn update_state(gates: &mut [f32], cell: &mut [f32], hidden: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the features the function is compiled for were just detected.
            unsafe { update_state_avx2(gates, cell, hidden) };
            return;
        }
    }
    activate_and_update(gates, cell, hidden);
}

/// The same update compiled for AVX2: branch-free `exp` lets the compiler run eight lanes at once.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn update_state_avx2(gates: &mut [f32], cell: &mut [f32], hidden: &mut [f32]) {
    activate_and_update(gates, cell, hidden);
}

/// The update itself, inlined into each caller's compiled variant: inference's and training's
/// (which keeps the activations for its backward pass) are one arithmetic, so the two agree to
/// the last bit.
#[inline(always)]
pub(super) fn activate_and_update(gates: &mut [f32], cell: &mut [f32], hidden: &mut [f32]) {
    let h = hidden.len();
    let (i, rest) = gates.split_at_mut(h);
    let (f, rest) = rest.split_at_mut(h);
    let (g, o) = rest.split_at_mut(h);
    for k in 0..h {
        i[k] = sigmoid(i[k]);
        f[k] = sigmoid(f[k]);
        g[k] = tanh(g[k]);
        o[k] = sigmoid(o[k]);
        let c = f[k] * cell[k] + i[k] * g[k];
        cell[k] = c;
        hidden[k] = o[k] * tanh(c);
    }
}

/// `e^x` within 2 ulp over the whole `f32` range that does not overflow (Cephes' `expf`: a
/// degree-6 polynomial on `x` reduced by multiples of ln 2), written without branches so that it
/// vectorises; libm's `expf`/`tanhf` calls were a third of the LSTM's time.
#[inline(always)]
fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // ln 2 in two parts, so that `x - n ln 2` loses nothing for |n| up to 127.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * LOG2E + 0.5).floor();
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let e = p * r * r + r + 1.0;
    // 2^n from its exponent bits, n + 127 (within [1, 254] after the clamp) read from the low
    // mantissa bits of n + 127 + 1.5 * 2^23: no float-to-integer conversion, which would not
    // vectorise.
    let biased = n + (127.0 + 12_582_912.0);
    e * f32::from_bits(biased.to_bits() << 23)
}

#[inline(always)]
pub(super) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `tanh(x) = 2 sigmoid(2x) - 1`: within 1e-7 absolute, which is what the state needs.
#[inline(always)]
pub(super) fn tanh(x: f32) -> f32 {
    2.0 * sigmoid(2.0 * x) - 1.0
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fast_exp_sigmoid_and_tanh_match_libm() {
        let mut worst_exp = 0.0_f64;
        let mut worst_tanh = 0.0_f64;
        let mut worst_sigmoid = 0.0_f64;
        for k in -200_000..=200_000 {
            let x = k as f32 * 4.35e-4; // -87 ... 87
            let want = f64::from(x).exp();
            worst_exp = worst_exp.max((f64::from(super::exp(x)) - want).abs() / want);
            let y = x / 8.0;
            worst_tanh = worst_tanh.max((f64::from(super::tanh(y)) - f64::from(y).tanh()).abs());
            worst_sigmoid =
                worst_sigmoid.max((f64::from(super::sigmoid(y)) - 1.0 / (1.0 + (-f64::from(y)).exp())).abs());
        }
        assert!(worst_exp < 3e-7, "exp relative error {worst_exp}");
        assert!(worst_tanh < 3e-7, "tanh error {worst_tanh}");
        assert!(worst_sigmoid < 2e-7, "sigmoid error {worst_sigmoid}");
        // Far out of range, the results saturate instead of turning into NaN or infinity.
        assert!((0.0..1e-30).contains(&super::sigmoid(-1e6)) && super::sigmoid(1e6) == 1.0);
        assert!(super::tanh(1e6) == 1.0 && super::tanh(-1e6) == -1.0);
        assert!(super::exp(1e6).is_finite());
    }
}
