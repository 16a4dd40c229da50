//! The still part of a scene, rendered once per video by casting a ray through every pixel of
//! the scene image: the surface photo tiled on the ground plane in perspective, the background
//! photo on a wall (or a far backdrop outdoors) behind it, lit by one light from a random
//! direction plus ambient light, with gloss, reflections and a darker corner where wall meets
//! floor. Kept per pixel for the moving parts: where on the surface it lies and how much of its
//! light comes straight from the light (what a shadow takes away).

use rand::RngExt as _;
use rand_chacha::ChaCha8Rng;

use super::camera::{Camera, Vec3, add, dot, normalize, scale, sub};
use super::texture::Texture;

/// How a material's surface reflects light.
#[derive(Debug, Clone, PartialEq)]
pub struct Finish {
    /// Strength and sharpness of the highlight of the light.
    pub specular: f32,
    pub shininess: f32,
    /// Reflectance of the background at normal incidence (Fresnel's F0) and how sharp the
    /// reflection is (0 mirror .. 1 very blurred).
    pub reflect_f0: f32,
    pub reflect_blur: f32,
    /// Multiplies the photo's colour.
    pub albedo: f32,
}

impl Finish {
    /// A finish for `material`, varied by `rng`.
    pub fn of(material: &str, rng: &mut ChaCha8Rng) -> Self {
        let (specular, shininess, reflect_f0, reflect_blur, albedo) = match material {
            "metal" => {
                (rng.random_range(0.2..0.7), rng.random_range(15.0..60.0), rng.random_range(0.05..0.3), 0.6, 1.0)
            }
            "water" => (rng.random_range(0.6..1.2), rng.random_range(150.0..400.0), 0.02, 0.05, 0.55),
            "ice" => (rng.random_range(0.4..0.9), rng.random_range(60.0..200.0), 0.03, 0.3, 0.9),
            "glass" => (rng.random_range(0.6..1.2), rng.random_range(150.0..400.0), 0.05, 0.05, 1.0),
            "wood" => {
                (rng.random_range(0.0..0.25), rng.random_range(20.0..50.0), rng.random_range(0.0..0.04), 0.7, 1.0)
            }
            "rock" | "snow" | "skin" => (rng.random_range(0.0..0.08), 20.0, 0.0, 1.0, 1.0),
            _ => (rng.random_range(0.0..0.03), 10.0, 0.0, 1.0, 1.0),
        };
        Self { specular, shininess, reflect_f0, reflect_blur, albedo }
    }
}

/// The light of a scene.
#[derive(Debug, Clone, PartialEq)]
pub struct Lighting {
    /// Unit vector towards the light.
    pub direction: Vec3,
    pub colour: [f32; 3],
    /// Irradiance of the ambient light beside the direct light's (1 on a surface facing it).
    pub ambient: [f32; 3],
    /// A pool of light on the surface: centre (metres) and radius; outside it the direct light
    /// falls off.
    pool: ([f64; 2], f64),
    /// Apparent size of the light, radians: how quickly a shadow blurs with height.
    pub softness: f64,
}

impl Lighting {
    pub fn random(rng: &mut ChaCha8Rng) -> Self {
        let elevation = rng.random_range(0.45_f64..1.4);
        let azimuth = rng.random_range(0.0..std::f64::consts::TAU);
        let warmth = rng.random_range(-0.15_f32..0.2);
        let colour = [1.0 + warmth, 1.0, 1.0 - warmth];
        let ambient_level = rng.random_range(0.25_f32..0.7);
        let cool = rng.random_range(-0.05_f32..0.1);
        Self {
            direction: [elevation.cos() * azimuth.cos(), elevation.cos() * azimuth.sin(), elevation.sin()],
            colour,
            ambient: [ambient_level * (1.0 - cool), ambient_level, ambient_level * (1.0 + cool)],
            pool: ([rng.random_range(-0.5..0.5), rng.random_range(-0.3..0.6)], rng.random_range(0.4..3.0)),
            softness: rng.random_range(0.02..0.15),
        }
    }

    /// The direct light's strength at a surface point (1 inside the pool).
    fn pool_at(&self, x: f64, y: f64) -> f32 {
        let (c, r) = self.pool;
        let d2 = ((x - c[0]).powi(2) + (y - c[1]).powi(2)) / (r * r);
        (1.0 / (1.0 + d2)) as f32
    }
}

/// What lies behind the surface.
#[derive(Debug, Clone, PartialEq)]
pub struct Backdrop {
    /// Distance of the wall from the origin along y, metres.
    pub distance: f64,
    /// Metres one tile of the background photo covers.
    pub tile: f64,
    pub offset: [f64; 2],
    /// A wall meets the floor with a darker corner; a backdrop outdoors does not.
    pub indoor: bool,
}

/// How the surface photo lies on the ground.
#[derive(Debug, Clone, PartialEq)]
pub struct Ground {
    /// Metres one tile of the photo covers.
    pub tile: f64,
    pub angle: f64,
    pub offset: [f64; 2],
}

impl Ground {
    /// Texture coordinates of a surface point.
    #[must_use]
    pub fn uv(&self, x: f64, y: f64) -> (f32, f32) {
        let (s, c) = self.angle.sin_cos();
        (((c * x - s * y) / self.tile + self.offset[0]) as f32, ((s * x + c * y) / self.tile + self.offset[1]) as f32)
    }
}

/// A surface the generator draws itself, lying on a photo of another: a drum head (skin) or a
/// pane of glass. Contacts land on it.
#[derive(Debug, Clone, PartialEq)]
pub enum Inset {
    Drum {
        centre: [f64; 2],
        radius: f64,
        membrane: [f32; 3],
        rim: [f32; 3],
    },
    /// A rectangle of glass, `half` its half sizes (metres) before turning by `angle`.
    Pane {
        centre: [f64; 2],
        half: [f64; 2],
        angle: f64,
        tint: [f32; 3],
    },
}

impl Inset {
    /// A point of the inset well inside its edge.
    pub fn random_point(&self, rng: &mut ChaCha8Rng) -> [f64; 2] {
        match self {
            Self::Drum { centre, radius, .. } => {
                let (r, a) = (
                    radius * 0.75 * rng.random_range(0.0_f64..1.0).sqrt(),
                    rng.random_range(0.0..std::f64::consts::TAU),
                );
                [centre[0] + r * a.cos(), centre[1] + r * a.sin()]
            }
            Self::Pane { centre, half, angle, .. } => {
                let (u, v) = (rng.random_range(-0.8..0.8) * half[0], rng.random_range(-0.8..0.8) * half[1]);
                let (s, c) = angle.sin_cos();
                [centre[0] + c * u - s * v, centre[1] + s * u + c * v]
            }
        }
    }

    /// The colour of the inset at a surface point given the floor's colour there, and whether
    /// the point is on the inset (the floor around it is matte).
    fn colour(&self, x: f64, y: f64, floor: [f32; 3]) -> ([f32; 3], bool) {
        match self {
            Self::Drum { centre, radius, membrane, rim } => {
                let r = ((x - centre[0]).powi(2) + (y - centre[1]).powi(2)).sqrt() / radius;
                if r < 0.93 {
                    // The membrane: a faint mottling of the floor photo's own detail.
                    let l = (floor[0] + floor[1] + floor[2]) / 3.0;
                    (membrane.map(|m| m * (0.9 + 0.3 * l)), true)
                } else if r < 1.0 {
                    (*rim, true)
                } else {
                    (floor, false)
                }
            }
            Self::Pane { centre, half, angle, tint } => {
                let (s, c) = angle.sin_cos();
                let (dx, dy) = (x - centre[0], y - centre[1]);
                let (u, v) = ((c * dx + s * dy).abs(), (-s * dx + c * dy).abs());
                if u > half[0] || v > half[1] {
                    (floor, false)
                } else if u > half[0] - 0.006 || v > half[1] - 0.006 {
                    // The pane's edge, seen through its thickness: bright and green.
                    (tint.map(|t| t * 0.8), true)
                } else {
                    (std::array::from_fn(|k| floor[k] * tint[k] * 0.85), true)
                }
            }
        }
    }
}

/// What the surface looks like.
#[derive(Debug)]
pub enum SurfaceLook {
    Photo(Texture),
    Inset { floor: Texture, inset: Inset },
}

/// Everything that does not move, rendered.
#[derive(Debug, Clone)]
pub struct StillScene {
    pub width: usize,
    pub height: usize,
    /// Linear RGB.
    pub colour: Vec<[f32; 3]>,
    /// For pixels of the surface: its point (x, y, metres) and the direct light's share of the
    /// pixel's brightness; `None` for the background.
    pub ground: Vec<Option<([f32; 2], f32)>>,
}

impl StillScene {
    #[must_use]
    pub fn ground_at(&self, x: usize, y: usize) -> Option<([f32; 2], f32)> {
        self.ground[y * self.width + x]
    }
}

/// Everything the still render needs.
#[derive(Debug)]
pub struct SceneSpec<'a> {
    pub camera: &'a Camera,
    pub size: [usize; 2],
    pub surface: &'a SurfaceLook,
    pub ground: &'a Ground,
    pub finish: &'a Finish,
    pub background: &'a Texture,
    pub backdrop: &'a Backdrop,
    pub light: &'a Lighting,
}

fn mul(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] * b[0], a[1] * b[1], a[2] * b[2]]
}

/// Renders the still scene.
#[must_use]
pub fn render(spec: &SceneSpec<'_>) -> StillScene {
    let [w, h] = spec.size;
    let camera = spec.camera;
    let mut colour = Vec::with_capacity(w * h);
    let mut ground = Vec::with_capacity(w * h);
    for py in 0..h {
        for px in 0..w {
            let dir = camera.ray(px as f64 + 0.5, py as f64 + 0.5);
            let to_ground = (dir[2] < -1e-9).then(|| -camera.position[2] / dir[2]);
            let to_wall = (dir[1] > 1e-9).then(|| (spec.backdrop.distance - camera.position[1]) / dir[1]);
            match (to_ground, to_wall) {
                (Some(t), wall) if wall.is_none_or(|tw| t < tw) => {
                    let p = add(camera.position, scale(dir, t));
                    let (c, direct) = shade_ground(spec, p, dir, t);
                    colour.push(c);
                    ground.push(Some(([p[0] as f32, p[1] as f32], direct)));
                }
                (_, Some(t)) => {
                    colour.push(shade_wall(spec, add(camera.position, scale(dir, t)), footprint(camera, t, 1.0)));
                    ground.push(None);
                }
                _ => {
                    colour.push(spec.background.mean());
                    ground.push(None);
                }
            }
        }
    }
    StillScene { width: w, height: h, colour, ground }
}

/// World size of one pixel at distance `t` seen at incidence `cos_i`.
fn footprint(camera: &Camera, t: f64, cos_i: f64) -> f64 {
    t / camera.focal / cos_i.abs().max(0.05).sqrt()
}

fn wall_colour(spec: &SceneSpec<'_>, p: Vec3, footprint_m: f64) -> [f32; 3] {
    let b = spec.backdrop;
    let c = spec.background.sample(
        (p[0] / b.tile + b.offset[0]) as f32,
        (-p[2] / b.tile + b.offset[1]) as f32,
        (footprint_m / b.tile) as f32,
    );
    [c[0], c[1], c[2]]
}

fn shade_wall(spec: &SceneSpec<'_>, p: Vec3, footprint_m: f64) -> [f32; 3] {
    let light = spec.light;
    let normal = [0.0, -1.0, 0.0];
    let albedo = wall_colour(spec, p, footprint_m);
    let lambert = dot(normal, light.direction).max(0.0) as f32 * 0.8 + 0.2;
    // Light falls off up the wall, and the corner with the floor is darker.
    let corner = if spec.backdrop.indoor { 1.0 - 0.45 * (-p[2] / 0.12).exp() as f32 } else { 1.0 };
    let height_falloff = 1.0 / (1.0 + 0.3 * p[2].max(0.0) as f32);
    let e: [f32; 3] = std::array::from_fn(|k| (light.ambient[k] + light.colour[k] * lambert * height_falloff) * corner);
    mul(albedo, e)
}

fn shade_ground(spec: &SceneSpec<'_>, p: Vec3, dir: Vec3, t: f64) -> ([f32; 3], f32) {
    let light = spec.light;
    let view = normalize(scale(dir, -1.0));
    let cos_view = view[2];
    let pixel = footprint(spec.camera, t, cos_view);
    let (albedo, finish_scale) = surface_albedo(spec, p, pixel);
    let albedo = albedo.map(|c| c * spec.finish.albedo);
    let pool = light.pool_at(p[0], p[1]);
    let direct_irradiance = light.direction[2].max(0.0) as f32 * pool;
    let corner = if spec.backdrop.indoor {
        1.0 - 0.35 * (-(spec.backdrop.distance - p[1]).max(0.0) / 0.15).exp() as f32
    } else {
        1.0
    };
    let direct: [f32; 3] = std::array::from_fn(|k| albedo[k] * light.colour[k] * direct_irradiance * corner);
    let ambient: [f32; 3] = std::array::from_fn(|k| albedo[k] * light.ambient[k] * corner);
    let finish = spec.finish;
    // The light's highlight (Blinn-Phong), part of the direct light.
    let half = normalize(add(light.direction, view));
    let highlight = finish.specular * finish_scale * (half[2].max(0.0) as f32).powf(finish.shininess) * pool;
    let direct: [f32; 3] = std::array::from_fn(|k| direct[k] + highlight * light.colour[k]);
    // The background mirrored in the surface (Schlick's Fresnel).
    let mut c: [f32; 3] = std::array::from_fn(|k| direct[k] + ambient[k]);
    if finish.reflect_f0 > 0.0 {
        let fresnel = finish.reflect_f0 + (1.0 - finish.reflect_f0) * (1.0 - cos_view.max(0.0) as f32).powi(5);
        let mirrored = [dir[0], dir[1], -dir[2]];
        if mirrored[1] > 1e-6 {
            let s = (spec.backdrop.distance - p[1]) / mirrored[1];
            let q = add(p, scale(mirrored, s));
            let seen = shade_wall(spec, q, pixel + f64::from(finish.reflect_blur) * 0.05 * s);
            c = std::array::from_fn(|k| c[k] * (1.0 - fresnel) + seen[k] * fresnel * finish_scale);
        }
    }
    let total = c[0] + c[1] + c[2];
    let direct_share = if total > 0.0 { (direct[0] + direct[1] + direct[2]) / total } else { 0.0 };
    (c, direct_share.clamp(0.0, 1.0))
}

/// The surface's colour at a point, and how much of the finish applies there (the floor around
/// an inset is matte).
fn surface_albedo(spec: &SceneSpec<'_>, p: Vec3, pixel: f64) -> ([f32; 3], f32) {
    let tile = spec.ground.tile;
    let (u, v) = spec.ground.uv(p[0], p[1]);
    let fp = (pixel / tile) as f32;
    match spec.surface {
        SurfaceLook::Photo(texture) => {
            let c = texture.sample(u, v, fp);
            ([c[0], c[1], c[2]], 1.0)
        }
        SurfaceLook::Inset { floor, inset } => {
            let c = floor.sample(u, v, fp);
            let (colour, on) = inset.colour(p[0], p[1], [c[0], c[1], c[2]]);
            (colour, if on { 1.0 } else { 0.0 })
        }
    }
}

/// The point `p` moved onto the surface along the light: where its shadow falls.
#[must_use]
pub fn shadow_point(p: Vec3, light: &Lighting) -> Vec3 {
    let l = light.direction;
    sub(p, scale(l, p[2] / l[2].max(0.05)))
}
