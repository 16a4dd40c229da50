//! The moving parts, drawn over the still scene: shaded cylinders (the stick, the arm), balls
//! (the fist, particles, passing objects), soft shadows cast along the light onto the surface,
//! and marks on the surface itself (ripples, a drum head's dip). Each shape knows the rectangle
//! of the scene image it touches, so a frame redraws only there.

use super::camera::{Camera, Vec3, cross, dot, normalize, sub};
use super::scene::{Lighting, StillScene, shadow_point};

/// Where a Gaussian falloff `exp(-x)` has `x` beyond this, it changes no pixel: 1 less e^-50 is
/// 1 in `f32`, and e^-50 of light is far below one step of the sensor.
const FAINT: f64 = 50.0;

/// How close to the camera a shape is drawn, metres: what lies nearer is cut off.
const NEAR: f64 = 0.05;

/// A rectangle of the scene image, pixels, `x1`/`y1` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x0: usize,
    pub y0: usize,
    pub x1: usize,
    pub y1: usize,
}

impl Rect {
    /// The pixels within `margin` of the points, clipped to a `w` x `h` image; `None` if empty.
    fn around(points: &[[f64; 2]], margin: f64, w: usize, h: usize) -> Option<Self> {
        let (mut lo, mut hi) = ([f64::MAX; 2], [f64::MIN; 2]);
        for p in points {
            for k in 0..2 {
                lo[k] = lo[k].min(p[k] - margin);
                hi[k] = hi[k].max(p[k] + margin);
            }
        }
        let clip = |v: f64, max: usize| v.clamp(0.0, max as f64) as usize;
        let r = Self {
            x0: clip(lo[0].floor(), w),
            y0: clip(lo[1].floor(), h),
            x1: clip(hi[0].ceil() + 1.0, w),
            y1: clip(hi[1].ceil() + 1.0, h),
        };
        (r.x1 > r.x0 && r.y1 > r.y0).then_some(r)
    }

    #[must_use]
    pub fn union(self, other: Self) -> Self {
        Self {
            x0: self.x0.min(other.x0),
            y0: self.y0.min(other.y0),
            x1: self.x1.max(other.x1),
            y1: self.y1.max(other.y1),
        }
    }

    #[must_use]
    pub fn width(&self) -> usize {
        self.x1 - self.x0
    }

    #[must_use]
    pub fn height(&self) -> usize {
        self.y1 - self.y0
    }
}

/// The columns of row `y` within `reach` pixels of the segment from `a` to `b`, inside `rect`
/// (`x0 >= x1` when none are): a thin shape crossing a large rectangle is drawn row span by row
/// span.
fn span(a: [f64; 2], b: [f64; 2], reach: f64, rect: Rect, y: usize) -> (usize, usize) {
    let yc = y as f64 + 0.5;
    let dy = b[1] - a[1];
    let (t0, t1) = if dy.abs() < 1e-9 {
        if (yc - a[1]).abs() > reach {
            return (0, 0);
        }
        (0.0, 1.0)
    } else {
        let (ta, tb) = ((yc - reach - a[1]) / dy, (yc + reach - a[1]) / dy);
        (ta.min(tb).max(0.0), ta.max(tb).min(1.0))
    };
    if t0 > t1 {
        return (0, 0);
    }
    let (xa, xb) = (a[0] + t0 * (b[0] - a[0]), a[0] + t1 * (b[0] - a[0]));
    let x0 = (xa.min(xb) - reach).floor().max(rect.x0 as f64) as usize;
    let x1 = (xa.max(xb) + reach + 1.0).ceil().min(rect.x1 as f64).max(0.0) as usize;
    (x0, x1)
}

/// Something drawn in a frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A cylinder with rounded ends from `a` to `b` (metres), radius `radius`, lit like a
    /// varnished object of `gloss` (0 matte .. 1 shiny).
    Capsule { a: Vec3, b: Vec3, radius: f64, colour: [f32; 3], gloss: f32 },
    /// A ball.
    Ball { centre: Vec3, radius: f64, colour: [f32; 3] },
    /// The shadow of a capsule from `a` to `b` on the surface, `strength` 0..1 of the direct light.
    Shadow { a: Vec3, b: Vec3, radius: f64, strength: f32 },
    /// A ring of light on the surface (a ripple), `radius` and `width` metres.
    Ripple { at: [f64; 2], radius: f64, width: f64, strength: f32 },
    /// A dark dip in the surface (a drum head giving way).
    Dip { at: [f64; 2], radius: f64, depth: f32 },
}

/// Where shapes are drawn: a patch of the scene image.
#[derive(Debug)]
pub struct Patch<'a> {
    pub rect: Rect,
    pub pixels: &'a mut [[f32; 3]],
    pub still: &'a StillScene,
    pub camera: &'a Camera,
    pub light: &'a Lighting,
}

impl Shape {
    /// The part of the scene image the shape can touch, if any.
    #[must_use]
    pub fn bounds(&self, camera: &Camera, light: &Lighting, w: usize, h: usize) -> Option<Rect> {
        let project = |p: Vec3| camera.project(p).map(|(q, depth)| (q, camera.focal / depth));
        match self {
            Self::Capsule { a, b, radius, .. } => {
                let (a, b) = camera.clip_segment(*a, *b, NEAR)?;
                let ((pa, sa), (pb, sb)) = (project(a)?, project(b)?);
                Rect::around(&[pa, pb], radius * sa.max(sb) + 2.0, w, h)
            }
            Self::Ball { centre, radius, .. } => {
                let (p, s) = project(*centre)?;
                Rect::around(&[p], radius * s + 2.0, w, h)
            }
            Self::Shadow { a, b, radius, .. } => {
                let spread = radius + a[2].max(b[2]) * light.softness;
                let mut points = Vec::with_capacity(8);
                let (sa, sb) = camera.clip_segment(shadow_point(*a, light), shadow_point(*b, light), NEAR)?;
                for end in [sa, sb] {
                    for (dx, dy) in [(-spread, -spread), (spread, -spread), (-spread, spread), (spread, spread)] {
                        points.push(project([end[0] + dx, end[1] + dy, 0.0])?.0);
                    }
                }
                Rect::around(&points, 2.0, w, h)
            }
            Self::Ripple { at, radius, width, .. } => ring_bounds(camera, *at, radius + 2.0 * width, w, h),
            Self::Dip { at, radius, .. } => ring_bounds(camera, *at, 1.5 * radius, w, h),
        }
    }

    /// Draws the shape into the patch.
    pub fn draw(&self, patch: &mut Patch<'_>) {
        match self {
            Self::Capsule { a, b, radius, colour, gloss } => draw_capsule(patch, *a, *b, *radius, *colour, *gloss),
            Self::Ball { centre, radius, colour } => draw_ball(patch, *centre, *radius, *colour),
            Self::Shadow { a, b, radius, strength } => draw_shadow(patch, *a, *b, *radius, *strength),
            Self::Ripple { at, radius, width, strength } => draw_on_surface(patch, None, |g, _| {
                let d = ((f64::from(g[0]) - at[0]).powi(2) + (f64::from(g[1]) - at[1]).powi(2)).sqrt();
                let (crest, trough) = (((d - radius) / width).powi(2), ((d - radius + 1.5 * width) / width).powi(2));
                if crest.min(trough) > FAINT {
                    return None;
                }
                let (crest, trough) = ((-crest).exp() as f32, (-trough).exp() as f32);
                Some((1.0 - 0.5 * trough * strength, crest * strength * 0.35))
            }),
            Self::Dip { at, radius, depth } => draw_on_surface(patch, None, |g, _| {
                let d2 = ((f64::from(g[0]) - at[0]).powi(2) + (f64::from(g[1]) - at[1]).powi(2)) / (radius * radius);
                (2.0 * d2 <= FAINT).then(|| (1.0 - depth * (-2.0 * d2).exp() as f32, 0.0))
            }),
        }
    }
}

fn ring_bounds(camera: &Camera, at: [f64; 2], reach: f64, w: usize, h: usize) -> Option<Rect> {
    let points: Option<Vec<[f64; 2]>> = (0..16)
        .map(|k| {
            let a = f64::from(k) * std::f64::consts::TAU / 16.0;
            camera.project([at[0] + reach * a.cos(), at[1] + reach * a.sin(), 0.0]).map(|p| p.0)
        })
        .collect();
    Rect::around(&points?, 2.0, w, h)
}

/// How one shape's surface is lit, seen from one direction: what stays the same over its pixels.
struct Shading {
    direction: Vec3,
    /// Halfway between the light and the view (the highlight's direction).
    half: Vec3,
    colour: [f32; 3],
    ambient: [f32; 3],
    light: [f32; 3],
    gloss: f32,
    sharpness: u32,
}

impl Shading {
    fn new(light: &Lighting, view: Vec3, colour: [f32; 3], gloss: f32) -> Self {
        Self {
            direction: light.direction,
            half: normalize([light.direction[0] + view[0], light.direction[1] + view[1], light.direction[2] + view[2]]),
            colour,
            ambient: light.ambient,
            light: light.colour,
            gloss,
            sharpness: 8 + (60.0 * gloss) as u32,
        }
    }

    fn at(&self, normal: Vec3) -> [f32; 3] {
        let diffuse = dot(normal, self.direction).max(0.0) as f32;
        let highlight = self.gloss * power(dot(normal, self.half).max(0.0) as f32, self.sharpness);
        std::array::from_fn(|k| {
            self.colour[k] * (self.ambient[k] + self.light[k] * diffuse) + highlight * self.light[k] * 0.6
        })
    }
}

/// `x` to the power `n` by repeated squaring, inlined (a run-time `powi` is a library call per
/// pixel), with the same products in the same order as that call.
fn power(mut x: f32, mut n: u32) -> f32 {
    let mut y = 1.0;
    loop {
        if n & 1 != 0 {
            y *= x;
        }
        n >>= 1;
        if n == 0 {
            return y;
        }
        x *= x;
    }
}

/// Coverage of a pixel by an edge `d` pixels inside it (antialiasing).
fn coverage(d: f64) -> f32 {
    (d + 0.5).clamp(0.0, 1.0) as f32
}

fn draw_capsule(patch: &mut Patch<'_>, a: Vec3, b: Vec3, radius: f64, colour: [f32; 3], gloss: f32) {
    let camera = patch.camera;
    let Some((a, b)) = camera.clip_segment(a, b, NEAR) else { return };
    let (Some((pa, za)), Some((pb, zb))) = (camera.project(a), camera.project(b)) else { return };
    let (ra, rb) = (radius * camera.focal / za, radius * camera.focal / zb);
    let axis = normalize(sub(b, a));
    let seg = [pb[0] - pa[0], pb[1] - pa[1]];
    let len2 = (seg[0] * seg[0] + seg[1] * seg[1]).max(1e-9);
    // The 3D direction across the cylinder that the picture's "left of the axis" shows.
    let mid = [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0, (a[2] + b[2]) / 2.0];
    let view = camera.towards(mid);
    let mut side = normalize(cross(axis, view));
    let facing = normalize(cross(side, axis));
    if let Some((ps, _)) = camera.project([mid[0] + side[0] * 0.01, mid[1] + side[1] * 0.01, mid[2] + side[2] * 0.01])
        && let Some((pm, _)) = camera.project(mid)
        && seg[0] * (ps[1] - pm[1]) - seg[1] * (ps[0] - pm[0]) < 0.0
    {
        side = [-side[0], -side[1], -side[2]];
    }
    let shading = Shading::new(patch.light, view, colour, gloss);
    let rect = patch.rect;
    let reach = ra.max(rb) + 1.0;
    for y in rect.y0..rect.y1 {
        let (x0, x1) = span(pa, pb, reach, rect, y);
        for x in x0..x1 {
            let p = [x as f64 + 0.5 - pa[0], y as f64 + 0.5 - pa[1]];
            let t = ((p[0] * seg[0] + p[1] * seg[1]) / len2).clamp(0.0, 1.0);
            let q = [p[0] - t * seg[0], p[1] - t * seg[1]];
            let d = (q[0] * q[0] + q[1] * q[1]).sqrt();
            let r = ra + t * (rb - ra);
            let cover = coverage(r - d);
            if cover <= 0.0 {
                continue;
            }
            let s = ((seg[0] * q[1] - seg[1] * q[0]).signum() * d / r.max(1e-6)).clamp(-1.0, 1.0);
            let normal = normalize([
                side[0] * s + facing[0] * (1.0 - s * s).sqrt(),
                side[1] * s + facing[1] * (1.0 - s * s).sqrt(),
                side[2] * s + facing[2] * (1.0 - s * s).sqrt(),
            ]);
            let c = shading.at(normal);
            let px = &mut patch.pixels[(y - rect.y0) * rect.width() + (x - rect.x0)];
            *px = std::array::from_fn(|k| px[k] * (1.0 - cover) + c[k] * cover);
        }
    }
}

fn draw_ball(patch: &mut Patch<'_>, centre: Vec3, radius: f64, colour: [f32; 3]) {
    let camera = patch.camera;
    let Some((pc, z)) = camera.project(centre) else { return };
    let r = radius * camera.focal / z;
    let view = camera.towards(centre);
    let right = normalize(cross(view, [0.0, 0.0, 1.0]));
    let up = cross(right, view);
    let shading = Shading::new(patch.light, view, colour, 0.2);
    let rect = patch.rect;
    // Only the ball's own square of the patch: nothing beyond half a pixel outside it is covered.
    let (reach, clip) = (r + 2.0, |v: f64, lo: usize, hi: usize| (v.max(0.0) as usize).clamp(lo, hi));
    let (xs, xe) =
        (clip((pc[0] - reach).floor(), rect.x0, rect.x1), clip((pc[0] + reach).ceil() + 1.0, rect.x0, rect.x1));
    let (ys, ye) =
        (clip((pc[1] - reach).floor(), rect.y0, rect.y1), clip((pc[1] + reach).ceil() + 1.0, rect.y0, rect.y1));
    for y in ys..ye {
        for x in xs..xe {
            let (dx, dy) = ((x as f64 + 0.5 - pc[0]) / r, (y as f64 + 0.5 - pc[1]) / r);
            let d = (dx * dx + dy * dy).sqrt();
            let cover = coverage((1.0 - d) * r);
            if cover <= 0.0 {
                continue;
            }
            let (sx, sy) = (dx.clamp(-1.0, 1.0), dy.clamp(-1.0, 1.0));
            let sz = (1.0 - sx * sx - sy * sy).max(0.0).sqrt();
            let normal = normalize([
                right[0] * sx - up[0] * sy + view[0] * sz,
                right[1] * sx - up[1] * sy + view[1] * sz,
                right[2] * sx - up[2] * sy + view[2] * sz,
            ]);
            let c = shading.at(normal);
            let px = &mut patch.pixels[(y - rect.y0) * rect.width() + (x - rect.x0)];
            *px = std::array::from_fn(|k| px[k] * (1.0 - cover) + c[k] * cover);
        }
    }
}

/// Applies `effect(point, direct_share) -> (factor, added light)` to the surface's pixels, within
/// `reach` pixels of the segment `near` where given; the effect gives `None` where it leaves the
/// pixel as it is (most of a ring's or a soft shadow's rectangle).
fn draw_on_surface(
    patch: &mut Patch<'_>,
    near: Option<([f64; 2], [f64; 2], f64)>,
    effect: impl Fn([f32; 2], f32) -> Option<(f32, f32)>,
) {
    let rect = patch.rect;
    for y in rect.y0..rect.y1 {
        let (x0, x1) = near.map_or((rect.x0, rect.x1), |(a, b, reach)| span(a, b, reach, rect, y));
        for x in x0..x1 {
            let Some((g, direct)) = patch.still.ground_at(x, y) else { continue };
            let Some((factor, added)) = effect(g, direct) else { continue };
            let px = &mut patch.pixels[(y - rect.y0) * rect.width() + (x - rect.x0)];
            *px = std::array::from_fn(|k| px[k] * factor + added * patch.light.colour[k]);
        }
    }
}

fn draw_shadow(patch: &mut Patch<'_>, a: Vec3, b: Vec3, radius: f64, strength: f32) {
    let light = patch.light;
    let (sa, sb) = (shadow_point(a, light), shadow_point(b, light));
    let seg = [sb[0] - sa[0], sb[1] - sa[1]];
    let len2 = (seg[0] * seg[0] + seg[1] * seg[1]).max(1e-12);
    let camera = patch.camera;
    let clipped = camera.clip_segment(sa, sb, NEAR).unwrap_or((sa, sb));
    let near = match (camera.project(clipped.0), camera.project(clipped.1)) {
        (Some((pa, za)), Some((pb, zb))) => {
            let spread = radius + a[2].max(b[2]) * light.softness;
            Some((pa, pb, spread * camera.focal / za.min(zb) + 2.0))
        }
        _ => None,
    };
    draw_on_surface(patch, near, |g, direct| {
        let p = [f64::from(g[0]) - sa[0], f64::from(g[1]) - sa[1]];
        let t = ((p[0] * seg[0] + p[1] * seg[1]) / len2).clamp(0.0, 1.0);
        let d2 = (p[0] - t * seg[0]).powi(2) + (p[1] - t * seg[1]).powi(2);
        // The higher the caster, the wider and fainter its shadow.
        let height = a[2] + t * (b[2] - a[2]);
        let blur = (height * light.softness).max(1e-4);
        // Beyond the penumbra the pixel keeps its light.
        if d2 >= (radius + blur).powi(2) {
            return None;
        }
        let d = d2.sqrt();
        let darkness = (radius / (radius + blur)) as f32;
        let edge = ((radius + blur - d) / (2.0 * blur)).clamp(0.0, 1.0) as f32;
        let cover = edge * edge * (3.0 - 2.0 * edge);
        Some((1.0 - strength * direct * darkness * cover, 0.0))
    });
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng as _;

    use super::*;

    #[test]
    fn power_gives_what_powi_gives_to_the_bit() {
        for n in [0, 1, 2, 7, 8, 13, 26, 44, 68] {
            for x in [0.0_f32, 0.3, 0.5, 0.731, 0.9, 0.999, 1.0, 1.7] {
                assert_eq!(power(x, n).to_bits(), x.powi(n as i32).to_bits(), "{x}^{n}");
            }
        }
    }

    #[test]
    fn a_ball_in_a_large_patch_changes_the_pixels_it_covers_and_no_others() {
        let (w, h) = (160, 120);
        let camera = Camera::looking_down(1.0, 0.8, 0.3, 0.1, 0.9, h as f64, [w as f64, h as f64]);
        let light = Lighting::random(&mut rand_chacha::ChaCha8Rng::seed_from_u64(3));
        let still = StillScene { width: w, height: h, colour: vec![[0.5; 3]; w * h], ground: vec![None; w * h] };
        let (centre, radius) = ([0.02, 0.05, 0.1], 0.1);
        // The whole picture as the patch, as when the stick crosses it in the same frame.
        let rect = Rect { x0: 0, y0: 0, x1: w, y1: h };
        let mut pixels = still.colour.clone();
        let mut patch = Patch { rect, pixels: &mut pixels, still: &still, camera: &camera, light: &light };
        Shape::Ball { centre, radius, colour: [0.9, 0.1, 0.1] }.draw(&mut patch);
        let (pc, z) = camera.project(centre).unwrap();
        let r = radius * camera.focal / z;
        assert!(r > 3.0 && r < 20.0, "a ball of {r} pixels");
        let mut covered = 0;
        for y in 0..h {
            for x in 0..w {
                let d = ((x as f64 + 0.5 - pc[0]).powi(2) + (y as f64 + 0.5 - pc[1]).powi(2)).sqrt();
                let changed = pixels[y * w + x] != still.colour[y * w + x];
                if d < r - 0.5 {
                    assert!(changed, "({x}, {y}) lies inside the ball but was not drawn");
                    covered += 1;
                } else if d > r + 0.5 {
                    assert!(!changed, "({x}, {y}) lies outside the ball but was drawn");
                }
            }
        }
        assert!(covered > 10, "{covered}");
    }
}
