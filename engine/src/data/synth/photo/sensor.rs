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
    /// How it moves.
    pub motion: CameraMove,
    /// Linear 0..1 to sRGB 0..255, 4096 steps, and the same truncated to 8 bits (a second table
    /// rather than a conversion per channel: about 3% of a generated video's time).
    encode: Box<[f32; 4096]>,
    encode_level: Box<[u8; 4096]>,
    /// Unit-variance noise the frames take their grain from, at offsets that change every frame.
    grain: Box<[f32; GRAIN_MASK + 1]>,
}

/// The grain table's size less one (a power of two less one, to wrap offsets with a mask).
const GRAIN_MASK: usize = (1 << 18) - 1;

/// How a video's camera moves.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CameraMove {
    /// Held still on a tripod, or by a hand that shakes by about this share of the frame height.
    Shake(f64),
    /// Turned across the scene by the given offset (pixels) over the video, shaking a little.
    Pan([f64; 2]),
}

/// `v` truncated to an integer within 0..=`max`, as a saturating `as` cast to an unsigned type
/// would give it but cheaper: a value clamped in range converts in one instruction.
fn to_level(v: f32, max: f32) -> u16 {
    // `max` returns the other operand for NaN, so the value is a number in range: the
    // unchecked conversion is defined for it.
    let v = v.max(0.0).min(max);
    // SAFETY: `v` is finite and within 0..=max, which is at most 65535.
    unsafe { v.to_int_unchecked::<i32>() as u16 }
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
            motion,
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
            encode_level: Box::new(std::array::from_fn(|i| srgb_encode(i as f32 / 4095.0) as u8)),
            // The sum of two uniforms, scaled to unit variance.
            grain: (0..=GRAIN_MASK)
                .map(|_| (rng.random_range(-1.0_f32..1.0) + rng.random_range(-1.0..1.0)) * 1.225)
                .collect::<Vec<_>>()
                .into_boxed_slice()
                .try_into()
                .expect("the grain table has GRAIN_MASK + 1 entries"),
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
        // Vignetting as a column factor times a row factor; per column and channel the gain too.
        let column_gain: Vec<f32> = (0..w * 3)
            .map(|j| {
                let dx = (j / 3) as f64 + 0.5 - w as f64 / 2.0;
                4095.0 * gain[j % 3] * (1.0 - self.vignette * (dx * dx) as f32 / corner2)
            })
            .collect();
        let sigma: [f32; 256] = std::array::from_fn(|v| self.noise_floor + self.noise_shot * (v as f32 / 255.0).sqrt());
        // The frame's top-left corner in the scene image, kept inside it.
        let left = (centre[0] - w as f64 / 2.0).clamp(0.0, (scene_width - w - 1) as f64);
        let top = (centre[1] - h as f64 / 2.0).clamp(0.0, (scene_height - h - 1) as f64);
        let (ix, iy) = (left as usize, top as usize);
        let (fx, fy) = ((left - ix as f64) as f32, (top - iy as f64) as f32);
        let weights = [(1.0 - fx) * (1.0 - fy), fx * (1.0 - fy), (1.0 - fx) * fy, fx * fy];
        let flat: &[f32] = bytemuck::cast_slice(scene);
        let stride = scene_width * 3;
        let (luma_at, chroma_at) = ((seed as usize) & GRAIN_MASK, ((seed >> 24) as usize) & GRAIN_MASK);
        let mut out = vec![0_u8; w * h * 3];
        let mut warped = vec![0.0_f32; w * 3];
        let mut index = vec![0_u16; w * 3];
        for (y, row) in out.chunks_exact_mut(w * 3).enumerate() {
            let dy = y as f64 + 0.5 - h as f64 / 2.0;
            let row_gain = 1.0 - self.vignette * (dy * dy) as f32 / corner2;
            let r0 = &flat[(iy + y) * stride + ix * 3..][..w * 3 + 3];
            let r1 = &flat[(iy + y + 1) * stride + ix * 3..][..w * 3 + 3];
            // Zipped slices rather than indices, so that the loop has no bounds checks and runs
            // on vectors.
            for ((((v, a), b), c), d) in warped.iter_mut().zip(r0).zip(&r0[3..]).zip(r1).zip(&r1[3..]) {
                *v = weights[0] * a + weights[1] * b + weights[2] * c + weights[3] * d;
            }
            for ((i, v), g) in index.iter_mut().zip(&warped).zip(&column_gain) {
                *i = to_level(v * g * row_gain, 4095.0);
            }
            for (x, (px, i)) in row.chunks_exact_mut(3).zip(index.chunks_exact(3)).enumerate() {
                let p = y * w + x;
                let luma = self.grain[(luma_at + p) & GRAIN_MASK];
                for k in 0..3 {
                    let step = usize::from(i[k]) & 4095;
                    let v = self.encode[step];
                    // Luma noise shared by the channels, a little chroma noise of each.
                    let chroma = self.grain[(chroma_at + 3 * p + k) & GRAIN_MASK];
                    let n = sigma[usize::from(self.encode_level[step])] * (luma + 0.35 * chroma);
                    px[k] = to_level(v + n + 0.5, 255.0) as u8;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng as _;

    use super::*;

    #[test]
    fn to_level_truncates_and_saturates_as_the_casts_do() {
        for v in [f32::NAN, f32::NEG_INFINITY, -3.5, -0.2, 0.0, 0.7, 1.0, 254.99, 255.0, 255.5, 300.0, 4095.9, 1e12] {
            assert_eq!(to_level(v, 255.0), u16::from(v as u8), "{v}");
            assert_eq!(to_level(v, 4095.0), (v as u32).min(4095) as u16, "{v}");
        }
    }

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
