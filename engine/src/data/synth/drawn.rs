//! How a generated video looks: a surface whose texture, colour and gloss identify its material,
//! a wall with distractors behind it, a drumstick, the surface's reaction to each contact, and
//! the camera's lighting, shake and sensor noise.

use rand::RngExt as _;
use rand_chacha::ChaCha8Rng;

use super::plan::{PlannedContact, tip_height};

pub const WIDTH: u32 = 456;
pub const HEIGHT: u32 = 256;

/// What a surface does when struck, in the dataset's words.
#[must_use]
pub fn reaction_of(material: &str) -> &'static str {
    match material {
        "water" => "splash",
        "leaf" | "gravel" | "dirt" | "sand" | "snow" | "grass" => "scatter",
        "skin" => "deform",
        _ => "static",
    }
}

#[derive(Debug, Clone, Copy)]
enum Pattern {
    Grain,
    Brushed,
    Glassy,
    Blotchy,
    Grainy,
    Pebbles,
    Strands,
    Leaves,
    Ripples,
    Cracks,
    Drum,
}

/// Colours (linear 0..1 RGB), pattern and gloss of a material.
fn look(material: &str) -> ([f32; 3], [f32; 3], Pattern, f32) {
    match material {
        "wood" => ([0.55, 0.35, 0.18], [0.35, 0.2, 0.09], Pattern::Grain, 0.15),
        "metal" => ([0.62, 0.64, 0.68], [0.42, 0.44, 0.48], Pattern::Brushed, 0.7),
        "glass" => ([0.6, 0.75, 0.8], [0.85, 0.95, 1.0], Pattern::Glassy, 0.9),
        "rock" => ([0.45, 0.44, 0.42], [0.25, 0.24, 0.23], Pattern::Blotchy, 0.1),
        "dirt" => ([0.4, 0.28, 0.17], [0.25, 0.17, 0.1], Pattern::Grainy, 0.0),
        "sand" => ([0.85, 0.75, 0.55], [0.7, 0.6, 0.42], Pattern::Grainy, 0.05),
        "snow" => ([0.93, 0.95, 0.98], [0.78, 0.84, 0.95], Pattern::Blotchy, 0.2),
        "gravel" => ([0.5, 0.48, 0.45], [0.3, 0.29, 0.27], Pattern::Pebbles, 0.05),
        "grass" => ([0.25, 0.5, 0.18], [0.12, 0.32, 0.08], Pattern::Strands, 0.05),
        "leaf" => ([0.55, 0.4, 0.12], [0.3, 0.45, 0.12], Pattern::Leaves, 0.1),
        "water" => ([0.15, 0.35, 0.55], [0.35, 0.6, 0.8], Pattern::Ripples, 0.8),
        "ice" => ([0.75, 0.9, 0.95], [0.55, 0.7, 0.8], Pattern::Cracks, 0.85),
        "skin" => ([0.82, 0.7, 0.5], [0.45, 0.3, 0.18], Pattern::Drum, 0.2),
        _ => ([0.5, 0.5, 0.5], [0.3, 0.3, 0.3], Pattern::Blotchy, 0.1),
    }
}

/// Smooth value noise in 0..1 on a lattice of unit cells.
fn value_noise(x: f32, y: f32, seed: u32) -> f32 {
    let hash = |ix: i32, iy: i32| -> f32 {
        let mut h = (ix as u32).wrapping_mul(0x8da6_b343)
            ^ (iy as u32).wrapping_mul(0xd816_3841)
            ^ seed.wrapping_mul(0xcb1a_b31f);
        h ^= h >> 13;
        h = h.wrapping_mul(0x5bd1_e995);
        h ^= h >> 15;
        (h & 0xffff) as f32 / 65_535.0
    };
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let (sx, sy) = (fx * fx * (3.0 - 2.0 * fx), fy * fy * (3.0 - 2.0 * fy));
    let (ix, iy) = (x0 as i32, y0 as i32);
    let top = hash(ix, iy) + (hash(ix + 1, iy) - hash(ix, iy)) * sx;
    let bottom = hash(ix, iy + 1) + (hash(ix + 1, iy + 1) - hash(ix, iy + 1)) * sx;
    top + (bottom - top) * sy
}

fn fbm(x: f32, y: f32, seed: u32) -> f32 {
    (value_noise(x, y, seed) * 0.55
        + value_noise(x * 2.1, y * 2.1, seed + 1) * 0.3
        + value_noise(x * 4.3, y * 4.3, seed + 2) * 0.15)
        .clamp(0.0, 1.0)
}

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t]
}

/// The still parts of one video: wall, distractors and surface, plus its camera settings.
pub struct Stage {
    material: String,
    /// Linear RGB, row-major, a margin of `MARGIN` pixels around the frame for camera shake.
    image: Vec<[f32; 3]>,
    /// The row (in frame coordinates) where the surface begins, and where the tip touches it.
    surface_top: f32,
    contact_row: f32,
    brightness: f32,
    tint: [f32; 3],
    noise_level: f32,
    shake: f32,
    stick_colour: [f32; 3],
}

const MARGIN: usize = 6;
const SW: usize = WIDTH as usize + 2 * MARGIN;
const SH: usize = HEIGHT as usize + 2 * MARGIN;

impl std::fmt::Debug for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stage").field("material", &self.material).finish_non_exhaustive()
    }
}

impl Stage {
    /// A stage for `material`, varied by `rng`: texture scale and seed, lighting, the wall and
    /// its distractors, camera shake and sensor noise.
    pub fn new(material: &str, rng: &mut ChaCha8Rng) -> Self {
        let (base, accent, pattern, gloss) = look(material);
        let vary = |c: [f32; 3], rng: &mut ChaCha8Rng| c.map(|v| (v * rng.random_range(0.85..1.15)).clamp(0.0, 1.0));
        let (base, accent) = (vary(base, rng), vary(accent, rng));
        let seed: u32 = rng.random_range(0..1_000_000);
        let scale: f32 = rng.random_range(0.7..1.4);
        let surface_top = HEIGHT as f32 * rng.random_range(0.45..0.6);
        let wall = [rng.random_range(0.35..0.8), rng.random_range(0.35..0.8), rng.random_range(0.35..0.8)];
        let mut image = vec![[0.0_f32; 3]; SW * SH];
        // The wall: a soft gradient with low-contrast blotches.
        for y in 0..SH {
            for x in 0..SW {
                let n = fbm(x as f32 / 60.0, y as f32 / 60.0, seed + 10);
                image[y * SW + x] =
                    mix(wall, [wall[0] * 0.7, wall[1] * 0.7, wall[2] * 0.7], 0.3 * n + 0.3 * y as f32 / SH as f32);
            }
        }
        // Distractors: a few boxes and discs on the wall, in unrelated colours.
        for _ in 0..rng.random_range(1..5) {
            let colour = [rng.random_range(0.1..0.9), rng.random_range(0.1..0.9), rng.random_range(0.1..0.9)];
            let (cx, cy) = (rng.random_range(0.0..SW as f32), rng.random_range(0.0..surface_top));
            let (rx, ry) = (rng.random_range(8.0..45.0), rng.random_range(8.0..35.0));
            let disc = rng.random_range(0.0..1.0) < 0.5;
            for y in (cy - ry).max(0.0) as usize..((cy + ry) as usize).min(SH) {
                for x in (cx - rx).max(0.0) as usize..((cx + rx) as usize).min(SW) {
                    let (dx, dy) = ((x as f32 - cx) / rx, (y as f32 - cy) / ry);
                    if !disc || dx * dx + dy * dy < 1.0 {
                        image[y * SW + x] = colour;
                    }
                }
            }
        }
        // The surface.
        let pebbles: Vec<(f32, f32, f32, f32)> = (0..400)
            .map(|_| {
                (
                    rng.random_range(0.0..SW as f32),
                    rng.random_range(0.0..SH as f32),
                    rng.random_range(3.0..9.0) * scale,
                    rng.random_range(0.0..1.0),
                )
            })
            .collect();
        let top = surface_top as usize + MARGIN;
        for y in top.min(SH)..SH {
            for x in 0..SW {
                let (u, v) = (x as f32 / (40.0 * scale), (y - top) as f32 / (40.0 * scale));
                let n = fbm(u, v, seed);
                let colour = match pattern {
                    Pattern::Grain => mix(base, accent, 0.5 + 0.5 * ((u * 9.0 + n * 6.0).sin())),
                    Pattern::Brushed => mix(base, accent, value_noise(u * 0.3, v * 20.0, seed) * 0.7),
                    Pattern::Glassy => mix(base, accent, (0.5 + 0.5 * ((u * 2.0 + v * 3.0).sin())).powi(8)),
                    Pattern::Blotchy => mix(base, accent, n.powi(2)),
                    Pattern::Grainy => mix(base, accent, value_noise(u * 12.0, v * 12.0, seed) * 0.6 + n * 0.4),
                    Pattern::Strands => mix(base, accent, value_noise(u * 14.0, v * 1.5, seed)),
                    Pattern::Ripples => mix(base, accent, 0.5 + 0.5 * ((v * 7.0 + n * 3.0).sin())),
                    Pattern::Cracks => {
                        let crack =
                            if (value_noise(u * 3.0, v * 3.0, seed + 5) - 0.5).abs() < 0.02 { 1.0 } else { 0.0 };
                        mix(mix(base, accent, n * 0.5), [0.95, 1.0, 1.0], crack)
                    }
                    Pattern::Drum => {
                        let (dx, dy) = (
                            (x as f32 - SW as f32 / 2.0) / (SW as f32 * 0.32),
                            (y as f32 - (top as f32 + (SH - top) as f32 * 0.45)) / ((SH - top) as f32 * 0.5),
                        );
                        let r = (dx * dx + dy * dy).sqrt();
                        if r < 0.92 {
                            mix(base, accent, 0.15 * n)
                        } else if r < 1.0 {
                            accent
                        } else {
                            [0.2, 0.15, 0.12]
                        }
                    }
                    Pattern::Pebbles | Pattern::Leaves => mix(base, accent, n * 0.3),
                };
                // Gloss: a bright band across the surface, as from a window.
                let band = (-(((x as f32 / SW as f32) - 0.3 - 0.4 * (y - top) as f32 / (SH - top) as f32) * 6.0)
                    .powi(2))
                .exp();
                image[y * SW + x] = mix(colour, [1.0, 1.0, 1.0], gloss * 0.5 * band);
            }
        }
        if matches!(pattern, Pattern::Pebbles | Pattern::Leaves) {
            for (px, py, r, shade) in pebbles {
                if (py as usize) < top {
                    continue;
                }
                let colour = if matches!(pattern, Pattern::Leaves) {
                    mix([0.7, 0.45, 0.1], [0.35, 0.55, 0.15], shade)
                } else {
                    mix(accent, [base[0] * 1.3, base[1] * 1.3, base[2] * 1.3], shade)
                };
                let (rx, ry) = if matches!(pattern, Pattern::Leaves) { (r * 1.8, r * 0.8) } else { (r, r * 0.7) };
                for y in (py - ry).max(top as f32) as usize..((py + ry) as usize).min(SH) {
                    for x in (px - rx).max(0.0) as usize..((px + rx) as usize).min(SW) {
                        let (dx, dy) = ((x as f32 - px) / rx, (y as f32 - py) / ry);
                        if dx * dx + dy * dy < 1.0 {
                            image[y * SW + x] = mix(colour, [0.0, 0.0, 0.0], 0.25 * (dx + dy).max(0.0));
                        }
                    }
                }
            }
        }
        let contact_row = surface_top + (HEIGHT as f32 - surface_top) * rng.random_range(0.25..0.45);
        Self {
            material: material.to_owned(),
            image,
            surface_top,
            contact_row,
            brightness: rng.random_range(0.75..1.15),
            tint: [rng.random_range(0.92..1.08), rng.random_range(0.92..1.08), rng.random_range(0.92..1.08)],
            noise_level: rng.random_range(0.005..0.025),
            shake: rng.random_range(0.0..2.5),
            stick_colour: [rng.random_range(0.75..0.9), rng.random_range(0.6..0.75), rng.random_range(0.4..0.55)],
        }
    }

    /// The frame at `t` seconds, packed RGB8.
    pub fn frame(&self, t: f64, contacts: &[PlannedContact], rng: &mut ChaCha8Rng) -> Vec<u8> {
        let (w, h) = (WIDTH as usize, HEIGHT as usize);
        // Camera shake: a slow wander within the margin.
        let sx = (self.shake * ((t * 3.1).sin() as f32 + 0.5 * (t * 7.3).sin() as f32)).round() as isize;
        let sy = (self.shake * ((t * 2.3).cos() as f32 + 0.5 * (t * 5.9).sin() as f32)).round() as isize;
        let mut frame: Vec<[f32; 3]> = (0..h)
            .flat_map(|y| {
                let row = (y as isize + MARGIN as isize + sy) as usize;
                let col = (MARGIN as isize + sx) as usize;
                self.image[row * SW + col..row * SW + col + w].iter().copied()
            })
            .collect();

        let (height, x_frac) = tip_height(t, contacts);
        let tip = (x_frac as f32 * w as f32, self.contact_row - height as f32 * h as f32);
        self.draw_reactions(&mut frame, t, contacts);
        // The stick's shadow: darker and tighter as the tip nears the surface.
        let spread = 6.0 + 60.0 * height as f32;
        let strength = 0.45 / (1.0 + 4.0 * height as f32);
        for y in (self.contact_row - spread * 0.4).max(self.surface_top) as usize
            ..((self.contact_row + spread * 0.4) as usize).min(h)
        {
            for x in (tip.0 - spread).max(0.0) as usize..((tip.0 + spread) as usize).min(w) {
                let (dx, dy) = (
                    (x as f32 - tip.0 - 10.0 * height as f32) / spread,
                    (y as f32 - self.contact_row) / (spread * 0.4),
                );
                let d = dx * dx + dy * dy;
                if d < 1.0 {
                    let p = &mut frame[y * w + x];
                    *p = mix(*p, [0.0, 0.0, 0.0], strength * (1.0 - d));
                }
            }
        }
        // The stick: from the tip up and to the right, out of the frame.
        let dir = (0.38_f32, -1.0_f32);
        let len = (dir.0 * dir.0 + dir.1 * dir.1).sqrt();
        let (dx, dy) = (dir.0 / len, dir.1 / len);
        for y in 0..(tip.1.ceil().max(0.0) as usize).min(h) {
            for x in 0..w {
                let (px, py) = (x as f32 - tip.0, y as f32 - tip.1);
                let along = px * dx + py * dy;
                let across = (px * -dy + py * dx).abs();
                let radius = 3.0 + 0.012 * along.max(0.0);
                if along >= -1.0 && across < radius {
                    let shade = 0.75 + 0.35 * (1.0 - across / radius);
                    frame[y * w + x] = self.stick_colour.map(|c| (c * shade).min(1.0));
                }
            }
        }
        frame
            .iter()
            .flat_map(|p| {
                let noise = self.noise_level * (rng.random_range(-1.0_f32..1.0) + rng.random_range(-1.0_f32..1.0));
                [0, 1, 2]
                    .map(|c| ((p[c] * self.brightness * self.tint[c] + noise).clamp(0.0, 1.0) * 255.0).round() as u8)
            })
            .collect()
    }

    /// Ripples on water, scattered bits on loose surfaces, a dip in a drum head.
    fn draw_reactions(&self, frame: &mut [[f32; 3]], t: f64, contacts: &[PlannedContact]) {
        let (w, h) = (WIDTH as usize, HEIGHT as usize);
        let reaction = reaction_of(&self.material);
        for c in contacts.iter().filter(|c| t >= c.time_s && t < c.time_s + 1.0) {
            let age = (t - c.time_s) as f32;
            let (cx, cy) = (c.x as f32 * w as f32, self.contact_row);
            match reaction {
                "splash" => {
                    let radius = 8.0 + 90.0 * age;
                    let fade = (1.0 - age).max(0.0);
                    for y in (cy - radius * 0.35).max(self.surface_top) as usize..((cy + radius * 0.35) as usize).min(h)
                    {
                        for x in (cx - radius).max(0.0) as usize..((cx + radius) as usize).min(w) {
                            let d = (((x as f32 - cx) / radius).powi(2) + ((y as f32 - cy) / (radius * 0.35)).powi(2))
                                .sqrt();
                            if (d - 1.0).abs() < 0.08 {
                                let p = &mut frame[y * w + x];
                                *p = mix(*p, [0.9, 0.95, 1.0], 0.6 * fade);
                            }
                        }
                    }
                }
                "scatter" => {
                    for k in 0..14 {
                        let angle = (k as f32 * 2.4 + c.x as f32 * 10.0) % std::f32::consts::TAU;
                        let v = 40.0 + 50.0 * ((k * 7 % 5) as f32 / 5.0) * c.speed as f32;
                        let (px, py) =
                            (cx + angle.cos() * v * age, cy - (angle.sin().abs() * v * age - 250.0 * age * age));
                        if py > cy + 2.0 || age > 0.6 {
                            continue;
                        }
                        let (ix, iy) = (px as isize, py as isize);
                        for (ox, oy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                            let (x, y) = (ix + ox, iy + oy);
                            if x >= 0 && y >= 0 && (x as usize) < w && (y as usize) < h {
                                frame[y as usize * w + x as usize] =
                                    mix(frame[y as usize * w + x as usize], [0.2, 0.16, 0.1], 0.8);
                            }
                        }
                    }
                }
                "deform" if age < 0.25 => {
                    let depth = (1.0 - age / 0.25) * 0.35 * c.speed as f32;
                    for y in (cy - 30.0).max(self.surface_top) as usize..((cy + 30.0) as usize).min(h) {
                        for x in (cx - 60.0).max(0.0) as usize..((cx + 60.0) as usize).min(w) {
                            let d = ((x as f32 - cx) / 60.0).powi(2) + ((y as f32 - cy) / 30.0).powi(2);
                            if d < 1.0 {
                                let p = &mut frame[y * w + x];
                                *p = mix(*p, [0.0, 0.0, 0.0], depth * (1.0 - d));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::synth::plan::{plan_contacts, rng_for};

    #[test]
    fn the_same_seed_draws_the_same_frames() {
        let draw = || {
            let mut rng = rng_for(5, 3);
            let contacts = plan_contacts(4.0, false, &mut rng);
            let stage = Stage::new("gravel", &mut rng);
            let mut noise = rng_for(6, 3);
            (0..20).flat_map(|k| stage.frame(f64::from(k) * 0.1, &contacts, &mut noise)).collect::<Vec<u8>>()
        };
        assert!(draw() == draw());
    }
}
