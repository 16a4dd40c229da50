//! Scenes that look filmed: a photo of the material's surface on a ground plane in perspective,
//! a photo of a wall or of outdoors behind it, one light with shading and soft shadows, a
//! shaded stick held by a hand (or from outside the frame) moving in continuous time with
//! motion blur over the shutter, the surface's reactions, and a camera that shakes, drifts in
//! exposure and white balance and adds sensor noise. Some videos have no contact at all: air
//! swings only, things passing through the air, or a camera panning over the scene.

mod camera;
mod draw;
mod motion;
mod props;
mod scene;
mod sensor;
mod texture;

use rand::RngExt as _;
use rand_chacha::ChaCha8Rng;

use self::camera::{Camera, Vec3, add, scale};
use self::draw::{Patch, Rect, Shape};
use self::motion::{StrokeKind, StrokeMix, SurfacePoints, Trajectory};
use self::props::{particles, random_backdrop, random_passer, random_stick, surface_look};
use self::scene::{Finish, Ground, Inset, Lighting, SceneSpec, StillScene, SurfaceLook};
pub use self::sensor::CameraMove;
use self::sensor::Sensor;
pub use self::texture::Texture;
use super::plan::PlannedContact;

/// What a video without contacts shows instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Negative {
    /// The stick swings but never touches the surface.
    Swings,
    /// No stick: things pass through the air above the surface.
    Passing,
    /// No stick: the camera pans across the scene, things may pass.
    Pan,
}

/// The photos a scene is made of.
#[derive(Debug)]
pub struct Photos {
    /// The surface: a photo of its material, or what a procedural material is drawn over.
    pub surface: Texture,
    pub background: Texture,
    /// Whether the background is outdoors (far, no wall corner).
    pub outdoor: bool,
}

/// Everything that does not change during a video, and what moves in it.
#[derive(Debug)]
pub struct PhotoStage {
    sensor: Sensor,
    camera: Camera,
    light: Lighting,
    still: StillScene,
    /// The still scene with the last frame's moving parts drawn in.
    work: Vec<[f32; 3]>,
    dirty: Option<Rect>,
    stick: Option<Stick>,
    reaction: &'static str,
    contacts: Vec<ContactMark>,
    passers: Vec<Passer>,
    /// Seconds the shutter is open.
    shutter_s: f64,
    /// The camera's angle below the horizon, degrees.
    pitch_deg: f64,
}

/// A contact as the surface's reaction needs it.
#[derive(Debug, Clone, PartialEq)]
struct ContactMark {
    time_s: f64,
    at: [f64; 2],
    speed: f64,
    particles: Vec<Particle>,
}

#[derive(Debug, Clone, PartialEq)]
struct Particle {
    velocity: Vec3,
    radius: f64,
    colour: [f32; 3],
    /// Droplets vanish into the surface; grains lie on it for a while.
    vanishes: bool,
}

impl ContactMark {
    /// Where particle `p` of this contact is at instant `t`: thrown up at the contact, it falls
    /// back and lies on the surface a while, or vanishes into it (`None` before the contact and
    /// once it is gone).
    fn particle_at(&self, p: &Particle, t: f64) -> Option<Vec3> {
        let age = t - self.time_s;
        let flight = 2.0 * p.velocity[2] / 9.81;
        if !(0.0..3.0).contains(&age) || p.vanishes && age > flight || age > flight + 0.8 {
            return None;
        }
        let tau = age.min(flight);
        Some([
            self.at[0] + p.velocity[0] * tau,
            self.at[1] + p.velocity[1] * tau,
            (p.velocity[2] * tau - 4.9 * tau * tau).max(0.0) + p.radius,
        ])
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Stick {
    path: Trajectory,
    radius: f64,
    colour: [f32; 3],
    gloss: f32,
    hand: Option<Hand>,
}

#[derive(Debug, Clone, PartialEq)]
struct Hand {
    skin: [f32; 3],
    sleeve: [f32; 3],
    /// The forearm's direction away from the grip, relative to the stick's.
    lift: f64,
    twist: f64,
}

/// Something moving through the air without touching the surface: a ball, a bird, a hand.
#[derive(Debug, Clone, PartialEq)]
struct Passer {
    from: Vec3,
    to: Vec3,
    start_s: f64,
    duration_s: f64,
    bob: (f64, f64),
    radius: f64,
    colour: [f32; 3],
    /// Drawn as a waving forearm rather than a ball.
    arm: bool,
}

impl PhotoStage {
    /// How the camera moves: its shake (a share of the frame height) or pan (pixels).
    #[must_use]
    pub fn camera_move(&self) -> CameraMove {
        self.sensor.motion
    }

    /// The camera's angle below the horizon, degrees.
    #[must_use]
    pub fn camera_pitch_deg(&self) -> f64 {
        self.pitch_deg
    }

    /// Whether a hand holds the stick in the picture (`None`: no stick).
    #[must_use]
    pub fn hand(&self) -> Option<bool> {
        self.stick.as_ref().map(|s| s.hand.is_some())
    }

    /// When the stick's air swings stop short of the surface, seconds.
    #[must_use]
    pub fn swing_times(&self) -> Vec<f64> {
        self.stick.as_ref().map_or_else(Vec::new, |s| {
            s.path.strokes().iter().filter(|s| matches!(s.kind, StrokeKind::Swing { .. })).map(|s| s.time_s).collect()
        })
    }
}

impl Passer {
    fn centre(&self, t: f64) -> Option<Vec3> {
        let u = (t - self.start_s) / self.duration_s;
        if !(0.0..=1.0).contains(&u) {
            return None;
        }
        let mut p = add(self.from, scale(camera::sub(self.to, self.from), u));
        p[2] += self.bob.0 * (std::f64::consts::TAU * self.bob.1 * (t - self.start_s)).sin();
        Some(p)
    }
}

/// Picks surface points inside the picture (or on the inset).
struct Visible<'a> {
    camera: &'a Camera,
    frame: [f64; 2],
    margin: [f64; 2],
    inset: Option<&'a Inset>,
}

impl SurfacePoints for Visible<'_> {
    fn random_point(&self, rng: &mut ChaCha8Rng) -> [f64; 2] {
        if let Some(inset) = self.inset {
            return inset.random_point(rng);
        }
        for _ in 0..50 {
            let x = self.margin[0] + self.frame[0] * rng.random_range(0.2..0.8);
            let y = self.margin[1] + self.frame[1] * rng.random_range(0.35..0.85);
            if let Some(p) = self.camera.ground_at(x, y) {
                return [p[0], p[1]];
            }
        }
        [0.0, 0.0]
    }
}

/// The frame a scene is filmed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameSize {
    pub width: u32,
    pub height: u32,
}

/// What scene to make.
#[derive(Debug, Clone, PartialEq)]
pub struct SceneRequest<'a> {
    pub material: &'a str,
    pub size: FrameSize,
    /// Frames per second.
    pub fps: f64,
    pub seconds: f64,
    /// `Some` for a scene without contacts.
    pub negative: Option<Negative>,
    /// Whether the material has scraped recordings (so scratches can sound).
    pub can_scratch: bool,
    /// The chance that the scene is filmed from a low camera, 8-30 degrees below the horizon.
    pub low_camera_share: f64,
}

impl PhotoStage {
    /// The scene `request` asks for, from `photos`. Returns the stage and the contacts the sound
    /// must follow.
    pub fn new(request: &SceneRequest<'_>, photos: &Photos, rng: &mut ChaCha8Rng) -> (Self, Vec<PlannedContact>) {
        let SceneRequest { material, size, fps, seconds, negative, can_scratch, low_camera_share } = *request;
        let (w, h) = (size.width as usize, size.height as usize);
        let motion = match negative {
            Some(Negative::Pan) => {
                let (ax, ay) = (rng.random_range(-0.25..0.25) * w as f64, rng.random_range(-0.1..0.1) * h as f64);
                CameraMove::Pan([ax, ay])
            }
            _ if rng.random_range(0.0..1.0) < 0.3 => CameraMove::Shake(0.0),
            _ => CameraMove::Shake(rng.random_range(0.0..0.012)),
        };
        let margin = match motion {
            CameraMove::Pan(by) => {
                [by[0].abs() / 2.0 + 0.03 * w as f64 + 4.0, by[1].abs() / 2.0 + 0.03 * h as f64 + 4.0]
            }
            CameraMove::Shake(_) => [0.03 * w as f64 + 4.0, 0.03 * h as f64 + 4.0],
        }
        .map(f64::ceil);
        let scene_size = [w + 2 * margin[0] as usize, h + 2 * margin[1] as usize];
        // A low camera films from the side, the background filling the upper frame (as much
        // footage is), 0.5-1.5 m from the point it looks at. Without any share asked for no
        // number is drawn, so such a request makes the scenes it made before the choice existed.
        let (height, pitch) = if low_camera_share > 0.0 && rng.random_range(0.0..1.0) < low_camera_share {
            let pitch = rng.random_range(8.0_f64..super::LOW_CAMERA_MAX_DEG).to_radians();
            (rng.random_range(0.5..1.5) * pitch.sin(), pitch)
        } else {
            (rng.random_range(0.3..0.9), rng.random_range(super::LOW_CAMERA_MAX_DEG..75.0).to_radians())
        };
        let camera = Camera::looking_down(
            height,
            pitch,
            rng.random_range(-15.0_f64..15.0).to_radians(),
            rng.random_range(-5.0_f64..5.0).to_radians(),
            rng.random_range(40.0_f64..65.0).to_radians(),
            h as f64,
            [scene_size[0] as f64, scene_size[1] as f64],
        );
        let light = Lighting::random(rng);
        let finish = Finish::of(material, rng);
        let ground = Ground {
            tile: rng.random_range(0.3..1.2),
            angle: rng.random_range(0.0..std::f64::consts::TAU),
            offset: [rng.random_range(0.0..1.0), rng.random_range(0.0..1.0)],
        };
        let backdrop = random_backdrop(photos.outdoor, rng);
        let centre_ground =
            camera.ground_at(scene_size[0] as f64 / 2.0, scene_size[1] as f64 * 0.6).unwrap_or([0.0; 3]);
        let look = surface_look(material, photos, [centre_ground[0], centre_ground[1]], rng);
        let still = scene::render(&SceneSpec {
            camera: &camera,
            size: scene_size,
            surface: &look,
            ground: &ground,
            finish: &finish,
            background: &photos.background,
            backdrop: &backdrop,
            light: &light,
        });
        let inset = match &look {
            SurfaceLook::Inset { inset, .. } => Some(inset),
            SurfaceLook::Photo(_) => None,
        };
        let points = Visible { camera: &camera, frame: [w as f64, h as f64], margin, inset };
        let with_stick = !matches!(negative, Some(Negative::Passing | Negative::Pan));
        let stick = with_stick.then(|| {
            let mix = StrokeMix {
                swing_share: rng.random_range(0.1..0.3),
                scratch_share: if can_scratch { 0.3 } else { 0.0 },
                contacts: negative.is_none(),
            };
            let strokes = motion::plan_strokes(seconds, &mix, &points, rng);
            random_stick(strokes, rng)
        });
        let mut passers = Vec::new();
        let passing = match negative {
            Some(Negative::Passing) => rng.random_range(1..4),
            Some(Negative::Pan) => rng.random_range(0..2),
            _ => usize::from(rng.random_range(0.0..1.0) < 0.15),
        };
        for _ in 0..passing {
            passers.push(random_passer(&points, seconds, rng));
        }
        let reaction = super::reaction_of(material);
        // Where the contact appears in the frame (the scene image less its margin), for stereo
        // placement's ground truth; the camera's shake moves it by under 2% of the width.
        let frame_x = |at: [f64; 2]| {
            camera.project([at[0], at[1], 0.0]).map_or(0.5, |(p, _)| ((p[0] - margin[0]) / w as f64).clamp(0.0, 1.0))
        };
        let contacts = stick.as_ref().map(|s| motion::contacts_of(s.path.strokes(), frame_x)).unwrap_or_default();
        let marks = stick
            .as_ref()
            .map(|s| {
                s.path
                    .strokes()
                    .iter()
                    .filter(|s| !matches!(s.kind, StrokeKind::Swing { .. }))
                    .map(|s| ContactMark {
                        time_s: s.time_s,
                        at: s.at,
                        speed: s.speed(),
                        particles: particles(reaction, s.speed(), &camera, &still, s.at, rng),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mean =
            still.colour.iter().map(|c| (c[0] + c[1] + c[2]) / 3.0).sum::<f32>() / still.colour.len().max(1) as f32;
        let sensor = Sensor::new(w, h, scene_size, mean, motion, seconds, rng);
        let shutter_s = rng.random_range(0.15..1.0) / fps;
        let work = still.colour.clone();
        let stage = Self {
            sensor,
            camera,
            light,
            still,
            work,
            dirty: None,
            stick,
            reaction,
            contacts: marks,
            passers,
            shutter_s,
            pitch_deg: pitch.to_degrees(),
        };
        (stage, contacts)
    }

    /// The frame at `t` seconds, packed RGB8; `seed` seeds its sensor noise.
    pub fn frame(&mut self, t: f64, seed: u64) -> Vec<u8> {
        let (w, h) = (self.still.width, self.still.height);
        // How many instants the shutter's time is sampled at: enough that the stick's tip and
        // anything passing move about 3 pixels between them (under 2 of the encoder's 224-pixel
        // input at every frame size), their blur a smooth streak rather than copies. A contact's
        // particles, a few pixels across, are not counted: sampled for them, the frames after
        // every contact would cost the most instants.
        let (t0, t1) = (t - self.shutter_s / 2.0, t + self.shutter_s / 2.0);
        let project = |p| self.camera.project(p).map(|q| q.0);
        let travel = self
            .movers(t0)
            .zip(self.movers(t1))
            .filter_map(|(a, b)| Some((project(a?)?, project(b?)?)))
            .map(|(a, b)| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt())
            .fold(0.0, f64::max);
        let samples = ((travel / 3.0).ceil() as usize).clamp(1, 10);
        let instants: Vec<f64> = (0..samples)
            .map(|k| if samples == 1 { t } else { t0 + (t1 - t0) * (k as f64 + 0.5) / samples as f64 })
            .collect();
        let shapes: Vec<Vec<Shape>> = instants.iter().map(|&ti| self.shapes_at(ti)).collect();
        let area =
            shapes.iter().flatten().filter_map(|s| s.bounds(&self.camera, &self.light, w, h)).reduce(Rect::union);
        // Put back the still scene where the last frame drew.
        if let Some(r) = self.dirty.take() {
            for y in r.y0..r.y1 {
                self.work[y * w + r.x0..y * w + r.x1].copy_from_slice(&self.still.colour[y * w + r.x0..y * w + r.x1]);
            }
        }
        if let Some(rect) = area {
            let copy = |dst: &mut Vec<[f32; 3]>| {
                dst.clear();
                for y in rect.y0..rect.y1 {
                    dst.extend_from_slice(&self.still.colour[y * w + rect.x0..y * w + rect.x1]);
                }
            };
            // The first instant is drawn straight into the sum, the others added to it.
            let mut sum = Vec::with_capacity(rect.width() * rect.height());
            let mut patch_pixels = Vec::with_capacity(sum.capacity());
            for (k, instant) in shapes.iter().enumerate() {
                let pixels = if k == 0 { &mut sum } else { &mut patch_pixels };
                copy(pixels);
                let mut patch = Patch { rect, pixels, still: &self.still, camera: &self.camera, light: &self.light };
                for shape in instant {
                    shape.draw(&mut patch);
                }
                if k > 0 {
                    for (s, p) in sum.iter_mut().zip(&patch_pixels) {
                        *s = std::array::from_fn(|k| s[k] + p[k]);
                    }
                }
            }
            let n = shapes.len() as f32;
            for y in rect.y0..rect.y1 {
                for x in rect.x0..rect.x1 {
                    self.work[y * w + x] = sum[(y - rect.y0) * rect.width() + (x - rect.x0)].map(|v| v / n);
                }
            }
            self.dirty = Some(rect);
        }
        self.sensor.expose(&self.work, w, t, seed)
    }

    /// Where the large things that move are at instant `t`, one slot each, in the same order at
    /// every instant (`None` while it is not there): the stick's tip and each passing object.
    fn movers(&self, t: f64) -> impl Iterator<Item = Option<Vec3>> + '_ {
        let tip = self.stick.as_ref().map(|s| s.path.tip(t));
        std::iter::once(tip).chain(self.passers.iter().map(move |p| p.centre(t)))
    }

    /// What is drawn at instant `t`, back to front.
    fn shapes_at(&self, t: f64) -> Vec<Shape> {
        let mut marks = Vec::new();
        let mut shadows = Vec::new();
        let mut solids: Vec<(f64, Shape)> = Vec::new();
        let depth = |p: Vec3| self.camera.project(p).map_or(0.0, |q| q.1);
        for c in &self.contacts {
            let age = t - c.time_s;
            if !(0.0..3.0).contains(&age) {
                continue;
            }
            match self.reaction {
                "splash" if age < 1.5 => {
                    for (k, speed) in [0.22, 0.14].into_iter().enumerate() {
                        let fade = (1.0 - age / 1.5) as f32 * (0.5 + 0.2 * c.speed.min(3.0) as f32) / (k as f32 + 1.0);
                        marks.push(Shape::Ripple {
                            at: c.at,
                            radius: speed * age,
                            width: 0.004 + 0.012 * age,
                            strength: fade,
                        });
                    }
                }
                "deform" if age < 0.25 => {
                    let depth = (1.0 - age / 0.25) as f32 * (0.15 * c.speed.min(4.0)) as f32;
                    marks.push(Shape::Dip { at: c.at, radius: 0.04 + 0.01 * c.speed.min(4.0), depth });
                }
                _ => {}
            }
            for p in &c.particles {
                if let Some(centre) = c.particle_at(p, t) {
                    solids.push((depth(centre), Shape::Ball { centre, radius: p.radius, colour: p.colour }));
                }
            }
        }
        for passer in &self.passers {
            let Some(c) = passer.centre(t) else { continue };
            if passer.arm {
                let elbow = add(c, [0.0, 0.25, 0.12]);
                shadows.push(Shape::Shadow { a: c, b: elbow, radius: passer.radius, strength: 0.6 });
                solids.push((
                    depth(c),
                    Shape::Capsule { a: c, b: elbow, radius: passer.radius, colour: passer.colour, gloss: 0.1 },
                ));
            } else {
                shadows.push(Shape::Shadow { a: c, b: c, radius: passer.radius, strength: 0.6 });
                solids.push((depth(c), Shape::Ball { centre: c, radius: passer.radius, colour: passer.colour }));
            }
        }
        solids.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut out = marks;
        if let Some(stick) = &self.stick {
            let tip = stick.path.tip(t);
            let grip = stick.path.grip(t);
            let along = scale(camera::sub(grip, tip), 1.0 / stick.path.length);
            match &stick.hand {
                Some(hand) => {
                    // The fist closes round the stick: a rounded block along it, the forearm
                    // leaving it towards the elbow, the stick's butt showing past it.
                    let butt = add(grip, scale(along, 0.11));
                    let side = [-along[1], along[0], 0.0];
                    let arm_dir = camera::normalize(add(add(along, [0.0, 0.0, hand.lift]), scale(side, hand.twist)));
                    let (fist_a, fist_b) = (add(grip, scale(along, -0.025)), add(grip, scale(along, 0.045)));
                    let (wrist, elbow) = (add(grip, scale(arm_dir, 0.06)), add(grip, scale(arm_dir, 0.45)));
                    for (a, b, r) in [(tip, butt, stick.radius), (wrist, elbow, 0.036), (fist_a, fist_b, 0.04)] {
                        shadows.push(Shape::Shadow { a, b, radius: r, strength: 0.75 });
                    }
                    out.extend(shadows);
                    out.extend(solids.into_iter().map(|s| s.1));
                    out.push(Shape::Capsule { a: wrist, b: elbow, radius: 0.036, colour: hand.sleeve, gloss: 0.05 });
                    out.push(Shape::Capsule {
                        a: tip,
                        b: butt,
                        radius: stick.radius,
                        colour: stick.colour,
                        gloss: stick.gloss,
                    });
                    out.push(Shape::Capsule { a: grip, b: wrist, radius: 0.032, colour: hand.skin, gloss: 0.15 });
                    out.push(Shape::Capsule { a: fist_a, b: fist_b, radius: 0.04, colour: hand.skin, gloss: 0.15 });
                }
                None => {
                    let end = add(tip, scale(along, 4.0 * stick.path.length));
                    shadows.push(Shape::Shadow { a: tip, b: end, radius: stick.radius, strength: 0.75 });
                    out.extend(shadows);
                    out.extend(solids.into_iter().map(|s| s.1));
                    out.push(Shape::Capsule {
                        a: tip,
                        b: end,
                        radius: stick.radius,
                        colour: stick.colour,
                        gloss: stick.gloss,
                    });
                }
            }
        } else {
            out.extend(shadows);
            out.extend(solids.into_iter().map(|s| s.1));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng as _;

    use super::*;

    fn photos() -> Photos {
        let checker: Vec<[f32; 3]> =
            (0..64).map(|i| if (i % 8 + i / 8) % 2 == 0 { [0.4, 0.3, 0.2] } else { [0.2, 0.15, 0.1] }).collect();
        Photos {
            surface: Texture::from_rgb(8, 8, &checker),
            background: Texture::from_rgb(2, 2, &[[0.5, 0.5, 0.45]; 4]),
            outdoor: false,
        }
    }

    fn scene(material: &str, size: FrameSize, seconds: f64) -> SceneRequest<'_> {
        SceneRequest { material, size, fps: 30.0, seconds, negative: None, can_scratch: true, low_camera_share: 0.0 }
    }

    #[test]
    fn the_stick_touches_the_surface_in_the_picture_at_each_contact_and_swings_stop_short() {
        let size = FrameSize { width: 160, height: 120 };
        for seed in 0..4 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let request = SceneRequest { low_camera_share: 0.5, ..scene("wood", size, 6.0) };
            let (mut stage, contacts) = PhotoStage::new(&request, &photos(), &mut rng);
            assert!(!contacts.is_empty(), "{seed}");
            let path = stage.stick.as_ref().unwrap().path.clone();
            for c in &contacts {
                let tip = path.tip(c.time_s);
                assert!(tip[2].abs() < 1e-12, "{seed}: {tip:?}");
                let (p, _) = stage.camera.project(tip).unwrap();
                assert!(
                    p[0] > 0.0 && p[1] > 0.0 && p[0] < stage.still.width as f64 && p[1] < stage.still.height as f64
                );
                // The stick is drawn there: the frame differs from the still scene around the tip.
                let with = stage.frame(c.time_s, 1);
                let without = stage.sensor.expose(&stage.still.colour, stage.still.width, c.time_s, 1);
                assert!(with != without, "{seed}: nothing drawn at the contact at {}", c.time_s);
            }
            for t in stage.swing_times() {
                assert!(path.tip(t)[2] > 0.01, "{seed}: a swing touches the surface at {t}");
            }
        }
        // With a share asked for, that share of the scenes is filmed from low, the background
        // filling the frame's top rows and the surface its bottom; without, none is.
        for (share, expected) in [(0.25, 12..=40), (0.0, 0..=0)] {
            let mut low = 0;
            for seed in 100..200 {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                let request = SceneRequest { low_camera_share: share, ..scene("wood", size, 2.0) };
                let (stage, _) = PhotoStage::new(&request, &photos(), &mut rng);
                let pitch = stage.camera_pitch_deg();
                assert!((8.0..75.0).contains(&pitch), "{seed}: {pitch}");
                let ground_share = |rows: std::ops::Range<usize>| {
                    let s = &stage.still;
                    let n = rows.len() * s.width;
                    rows.flat_map(|y| (0..s.width).map(move |x| (x, y)))
                        .filter(|&(x, y)| s.ground_at(x, y).is_some())
                        .count() as f64
                        / n as f64
                };
                let h = stage.still.height;
                if pitch < super::super::LOW_CAMERA_MAX_DEG {
                    low += 1;
                    assert!(ground_share(0..h / 10) < 0.5 && ground_share(h * 9 / 10..h) > 0.99, "{seed}: {pitch}");
                }
            }
            assert!(expected.contains(&low), "{low} of 100 scenes from a low camera with a share of {share}");
        }
        // Without a stick: no contacts, nothing to swing.
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let request = SceneRequest {
            fps: 25.0,
            negative: Some(Negative::Passing),
            can_scratch: false,
            ..scene("rock", size, 6.0)
        };
        let (stage, contacts) = PhotoStage::new(&request, &photos(), &mut rng);
        assert!(contacts.is_empty() && stage.stick.is_none() && !stage.passers.is_empty());
    }
}
