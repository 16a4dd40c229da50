//! Room noise: the quiet floor every generated or placed recording sits on, so that silence in
//! training data, clip databases and benchmarks sounds like a room, not like digital zero.

use rand::RngExt as _;
use rand_chacha::ChaCha8Rng;

/// Adds low-passed (room-like, darker than white) Gaussian noise at `rms`.
pub fn add_room_noise(samples: &mut [f32], rms: f32, rng: &mut ChaCha8Rng) {
    let mut state = 0.0_f32;
    let noise: Vec<f32> = (0..samples.len())
        .map(|_| {
            let white: f32 = (0..4).map(|_| rng.random_range(-1.0_f32..1.0)).sum();
            state = 0.95 * state + 0.05 * white;
            state
        })
        .collect();
    let measured = (noise.iter().map(|n| n * n).sum::<f32>() / noise.len().max(1) as f32).sqrt();
    if measured > 0.0 {
        for (s, n) in samples.iter_mut().zip(noise) {
            *s += n * rms / measured;
        }
    }
}
