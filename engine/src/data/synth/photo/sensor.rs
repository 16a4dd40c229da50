//! The camera as a device: it shakes (or pans) over the scene image (moving it, not turning
//! it: the frame is a shifted window of the scene image, resampled bilinearly), its exposure and white
//! balance drift, its lens darkens the corners, and its sensor adds noise before the picture is
//! stored as 8-bit sRGB.

use rand::RngExt as _;
use rand_chacha::ChaCha8Rng;

/// A slow random wander: a sum of three sinusoids.
#[derive(Debug, Clone, PartialEq)]
struct Wander {
    waves: [(f64, f64, f64); 3],
}

impl Wander {
    /// Amplitude about `amplitude`, frequencies within `hz`.
    fn new(amplitude: f64, hz: std::ops::Range<f64>, rng: &mut ChaCha8Rng) -> Self {
        Self {
            waves: std::array::from_fn(|k| {
                let weight = [0.6, 0.3, 0.15][k];
                (amplitude * weight, rng.random_range(hz.clone()), rng.random_range(0.0..std::f64::consts::TAU))
            }),
        }
    }

    fn at(&self, t: f64) -> f64 {
        self.waves.iter().map(|(a, f, p)| a * (std::f64::consts::TAU * f * t + p).sin()).sum()
    }
}

/// One video's camera.
#[derive(Debug, Clone, PartialEq)]
pub struct Sensor {
    /// Frame size, pixels.
    pub width: usize,
    pub height: usize,
    shake: [Wander; 2],
    /// Where the frame's centre lies in the scene image at the start and end of the video.
    pan: ([f64; 2], [f64; 2]),
    seconds: f64,
    exposure: f32,
    exposure_drift: Wander,
    balance: [f32; 3],
    balance_drift: [Wander; 3],
    vignette: f32,
    /// Noise, in 8-bit steps: a floor and a part that grows with brightness.
    noise_floor: f32,
    noise_shot: f32,
    /// Linear 0..1 to sRGB 0..255, 4096 steps.
    encode: Box<[f32; 4096]>,
}

/// How a video's camera moves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CameraMove {
    /// Held still on a tripod, or by a hand that shakes by about this share of the frame height.
    Shake(f64),
    /// Turned across the scene by the given offset (pixels) over the video, shaking a little.
    Pan([f64; 2]),
}

fn srgb_encode(c: f32) -> f32 {
    let c = c.clamp(0.0, 1.0);
    255.0 * if c <= 0.003_130_8 { c * 12.92 } else { 1.055 * c.powf(1.0 / 2.4) - 0.055 }
}

impl Sensor {
    /// A camera for frames of `width` x `height` over a scene image of `scene` pixels, whose
    /// still image has mean linear brightness `scene_mean`.
    pub fn new(
        width: usize,
        height: usize,
        scene: [usize; 2],
        scene_mean: f32,
        motion: CameraMove,
        seconds: f64,
        rng: &mut ChaCha8Rng,
    ) -> Self {
        let centre = [scene[0] as f64 / 2.0, scene[1] as f64 / 2.0];
        let (shake, pan) = match motion {
            CameraMove::Shake(share) => (share * height as f64, (centre, centre)),
            CameraMove::Pan(by) => (
                0.002 * height as f64,
                (
                    [centre[0] - by[0] / 2.0, centre[1] - by[1] / 2.0],
                    [centre[0] + by[0] / 2.0, centre[1] + by[1] / 2.0],
                ),
            ),
        };
        // Auto-exposure aims at a mid grey, missing it now and then, within the gain it has.
        let target = rng.random_range(0.12_f32..0.32);
        let exposure = (target / scene_mean.max(1e-3)).min(2.5);
        let noise_floor = rng.random_range(0.3_f32..3.0);
        Self {
            width,
            height,
            shake: [Wander::new(shake, 0.2..3.0, rng), Wander::new(shake, 0.2..3.0, rng)],
            pan,
            seconds,
            exposure,
            exposure_drift: Wander::new(rng.random_range(0.0..0.12), 0.03..0.4, rng),
            balance: std::array::from_fn(|_| rng.random_range(0.93..1.07)),
            balance_drift: std::array::from_fn(|_| Wander::new(rng.random_range(0.0..0.02), 0.03..0.3, rng)),
            vignette: rng.random_range(0.0..0.4),
            noise_floor,
            noise_shot: rng.random_range(0.0..1.0) * noise_floor,
            encode: Box::new(std::array::from_fn(|i| srgb_encode(i as f32 / 4095.0))),
        }
    }

    /// The frame at `t` from the scene image `scene` (linear RGB, `scene_width` wide), as packed
    /// 8-bit sRGB; `seed` seeds the sensor noise.
    #[must_use]
    pub fn expose(&self, scene: &[[f32; 3]], scene_width: usize, t: f64, seed: u64) -> Vec<u8> {
        let scene_height = scene.len() / scene_width;
        let u = if self.seconds > 0.0 { (t / self.seconds).clamp(0.0, 1.0) } else { 0.0 };
        let u = u * u * (3.0 - 2.0 * u);
        let centre = [
            self.pan.0[0] + (self.pan.1[0] - self.pan.0[0]) * u + self.shake[0].at(t),
            self.pan.0[1] + (self.pan.1[1] - self.pan.0[1]) * u + self.shake[1].at(t),
        ];
        let exposure = self.exposure * (self.exposure_drift.at(t) as f32).exp();
        let gain: [f32; 3] =
            std::array::from_fn(|k| exposure * self.balance[k] * (1.0 + self.balance_drift[k].at(t) as f32));
        let (w, h) = (self.width, self.height);
        let corner2 = ((w * w + h * h) as f64 / 4.0) as f32;
        let column_falloff: Vec<f32> =
            (0..w).map(|x| (x as f64 + 0.5 - w as f64 / 2.0).powi(2) as f32 / corner2).collect();
        let sigma: [f32; 256] = std::array::from_fn(|v| self.noise_floor + self.noise_shot * (v as f32 / 255.0).sqrt());
        // The frame's top-left corner in the scene image, kept inside it.
        let left = (centre[0] - w as f64 / 2.0).clamp(0.0, (scene_width - w - 1) as f64);
        let top = (centre[1] - h as f64 / 2.0).clamp(0.0, (scene_height - h - 1) as f64);
        let (ix, iy) = (left as usize, top as usize);
        let (fx, fy) = ((left - ix as f64) as f32, (top - iy as f64) as f32);
        let weights = [(1.0 - fx) * (1.0 - fy), fx * (1.0 - fy), (1.0 - fx) * fy, fx * fy];
        let flat: &[f32] = bytemuck::cast_slice(scene);
        let stride = scene_width * 3;
        let mut noise = NoiseSource::new(seed);
        let mut out = vec![0_u8; w * h * 3];
        let mut warped = vec![0.0_f32; w * 3];
        for (y, row) in out.chunks_exact_mut(w * 3).enumerate() {
            let dy = y as f64 + 0.5 - h as f64 / 2.0;
            let row_falloff = (dy * dy) as f32 / corner2;
            let r0 = &flat[(iy + y) * stride + ix * 3..][..w * 3 + 3];
            let r1 = &flat[(iy + y + 1) * stride + ix * 3..][..w * 3 + 3];
            for (j, v) in warped.iter_mut().enumerate() {
                *v = weights[0] * r0[j] + weights[1] * r0[j + 3] + weights[2] * r1[j] + weights[3] * r1[j + 3];
            }
            for ((px, c), col) in row.chunks_exact_mut(3).zip(warped.chunks_exact(3)).zip(&column_falloff) {
                let scale = 4095.0 * (1.0 - self.vignette * (col + row_falloff));
                let [grain, n0, n1, n2] = noise.four();
                for (k, chroma) in [n0, n1, n2].into_iter().enumerate() {
                    // A float-to-int cast saturates: the index is within the table.
                    let v = self.encode[((c[k] * gain[k] * scale) as u32).min(4095) as usize];
                    // Luma noise shared by the channels, a little chroma noise of each.
                    let n = sigma[usize::from(v as u8)] * (grain + 0.35 * chroma);
                    px[k] = (v + n + 0.5) as u8;
                }
            }
        }
        out
    }
}

/// Cheap reproducible noise, about unit variance (the sum of two uniforms, scaled).
#[derive(Debug)]
struct NoiseSource(u64);

impl NoiseSource {
    fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// 64 random bits (xorshift64*).
    fn bits(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Four samples, each the sum of two 8-bit uniforms, centred and scaled to about unit variance.
    fn four(&mut self) -> [f32; 4] {
        let b = self.bits();
        std::array::from_fn(|k| {
            let (u, v) = ((b >> (16 * k)) & 0xff, (b >> (16 * k + 8)) & 0xff);
            (u as f32 + v as f32 - 255.0) * (2.45 / 255.0)
        })
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng as _;

    use super::*;

    #[test]
    fn a_flat_grey_scene_comes_out_near_the_exposure_target_with_noise() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let sensor = Sensor::new(64, 48, [80, 64], 0.2, CameraMove::Shake(0.01), 2.0, &mut rng);
        let scene = vec![[0.2_f32; 3]; 80 * 64];
        let frame = sensor.expose(&scene, 80, 0.5, 7);
        assert_eq!(frame.len(), 64 * 48 * 3);
        let mean = frame.iter().map(|&v| f64::from(v)).sum::<f64>() / frame.len() as f64;
        // Targets 0.12-0.32 linear, i.e. about 97-154 in sRGB, less the vignette.
        assert!((60.0..170.0).contains(&mean), "{mean}");
        let spread = frame.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / frame.len() as f64;
        assert!(spread > 0.0);
        // The same seed, the same frame.
        assert_eq!(frame, sensor.expose(&scene, 80, 0.5, 7));
    }
}
