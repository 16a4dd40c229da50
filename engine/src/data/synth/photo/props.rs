//! The scene's random props: the backdrop, the surface's look, the stick, the hand's skin, the
//! particles a hit throws, and what passes through the air in videos without contact.

use rand::RngExt as _;
use rand_chacha::ChaCha8Rng;

use super::camera::Camera;
use super::motion::{SurfacePoints as _, Trajectory};
use super::scene::{Backdrop, Inset, StillScene, SurfaceLook};
use super::{Hand, Particle, Passer, Photos, Stick, Visible, motion};

pub(super) fn skin_tone(rng: &mut ChaCha8Rng) -> [f32; 3] {
    let (light, dark) = ([0.75, 0.45, 0.33], [0.22, 0.08, 0.03]);
    let t = rng.random_range(0.0_f32..1.0);
    std::array::from_fn(|k| light[k] + (dark[k] - light[k]) * t)
}

pub(super) fn random_colour(rng: &mut ChaCha8Rng) -> [f32; 3] {
    std::array::from_fn(|_| rng.random_range(0.01_f32..0.35))
}

pub(super) fn random_backdrop(outdoor: bool, rng: &mut ChaCha8Rng) -> Backdrop {
    if outdoor {
        Backdrop {
            distance: rng.random_range(3.0..10.0),
            tile: rng.random_range(3.0..8.0),
            offset: [rng.random_range(0.0..1.0), 0.0],
            indoor: false,
        }
    } else {
        Backdrop {
            distance: rng.random_range(0.5..2.0),
            tile: rng.random_range(0.5..2.0),
            offset: [rng.random_range(0.0..1.0), rng.random_range(0.0..1.0)],
            indoor: true,
        }
    }
}

/// The surface's look: its photo, or for a material drawn procedurally, that drawing around
/// `centre` (metres) over the photo.
pub(super) fn surface_look(material: &str, photos: &Photos, centre: [f64; 2], rng: &mut ChaCha8Rng) -> SurfaceLook {
    match material {
        "glass" => SurfaceLook::Inset {
            floor: photos.surface.clone(),
            inset: Inset::Pane {
                centre,
                half: [rng.random_range(0.15..0.35), rng.random_range(0.12..0.25)],
                angle: rng.random_range(-0.5..0.5),
                tint: [rng.random_range(0.6..0.8), rng.random_range(0.8..0.95), rng.random_range(0.75..0.9)],
            },
        },
        "skin" => SurfaceLook::Inset {
            floor: photos.surface.clone(),
            inset: Inset::Drum {
                centre,
                radius: rng.random_range(0.15..0.3),
                membrane: [rng.random_range(0.2..0.45), rng.random_range(0.17..0.4), rng.random_range(0.1..0.3)],
                rim: random_colour(rng),
            },
        },
        _ => SurfaceLook::Photo(photos.surface.clone()),
    }
}

/// A stick making `strokes`, of a random length, thickness and colour, held by a hand (or from
/// outside the frame) from a random side.
pub(super) fn random_stick(strokes: Vec<motion::Stroke>, rng: &mut ChaCha8Rng) -> Stick {
    let rest = strokes.first().map_or([0.0, 0.0, 0.2], |s| [s.at[0], s.at[1], s.apex]);
    // The hand is beside or beyond the spot more often than between it and the camera.
    let azimuth = if rng.random_range(0.0..1.0) < 0.8 {
        rng.random_range(-0.3..std::f64::consts::PI + 0.3)
    } else {
        rng.random_range(0.0..std::f64::consts::TAU)
    };
    let path = Trajectory::new(
        strokes,
        rest,
        rng.random_range(0.28..0.42),
        [azimuth.cos(), azimuth.sin()],
        rng.random_range(0.12..0.3),
    );
    let woods = [
        [0.58, 0.35, 0.16],
        [0.1, 0.045, 0.02],
        [0.013, 0.013, 0.013],
        [0.72, 0.72, 0.68],
        [0.4, 0.012, 0.012],
        [0.45, 0.3, 0.12],
    ];
    let base = woods[rng.random_range(0..woods.len())];
    let hand = (rng.random_range(0.0..1.0) < 0.6).then(|| {
        let skin = skin_tone(rng);
        Hand {
            skin,
            sleeve: if rng.random_range(0.0..1.0) < 0.4 { skin } else { random_colour(rng) },
            lift: rng.random_range(0.2..0.9),
            twist: rng.random_range(-0.6..0.6),
        }
    });
    Stick {
        path,
        radius: rng.random_range(0.006..0.011),
        colour: base.map(|c: f32| (c * rng.random_range(0.8..1.2)).min(1.0)),
        gloss: rng.random_range(0.1..0.6),
        hand,
    }
}

/// Bits thrown up by a contact: grains of a loose surface, droplets from water.
pub(super) fn particles(
    reaction: &str,
    speed: f64,
    camera: &Camera,
    still: &StillScene,
    at: [f64; 2],
    rng: &mut ChaCha8Rng,
) -> Vec<Particle> {
    let (count, vanishes) = match reaction {
        "scatter" => ((speed * rng.random_range(3.0..8.0)) as usize, false),
        "splash" => ((speed * rng.random_range(4.0..10.0)) as usize, true),
        _ => return Vec::new(),
    };
    let surface_colour = camera
        .project([at[0], at[1], 0.0])
        .map(|(p, _)| {
            let (x, y) = ((p[0] as usize).min(still.width - 1), (p[1] as usize).min(still.height - 1));
            still.colour[y * still.width + x]
        })
        .unwrap_or([0.3; 3]);
    let kick = speed.sqrt();
    (0..count.min(40))
        .map(|_| {
            let angle = rng.random_range(0.0..std::f64::consts::TAU);
            let out = rng.random_range(0.1..0.5) * kick;
            let shade = rng.random_range(0.6_f32..1.3);
            Particle {
                velocity: [angle.cos() * out, angle.sin() * out, rng.random_range(0.3..1.1) * kick],
                radius: rng.random_range(0.002..0.006),
                colour: if vanishes { [0.7, 0.75, 0.8] } else { surface_colour.map(|c| (c * shade * 2.0).min(1.0)) },
                vanishes,
            }
        })
        .collect()
}

pub(super) fn random_passer(points: &Visible<'_>, seconds: f64, rng: &mut ChaCha8Rng) -> Passer {
    let (a, b) = (points.random_point(rng), points.random_point(rng));
    let radius = rng.random_range(0.015..0.07);
    // Always clear of the surface, however it bobs.
    let height = rng.random_range(0.1..0.5) + radius;
    let spread = rng.random_range(0.3..1.0);
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let norm = (dx * dx + dy * dy).sqrt().max(1e-3);
    let from = [a[0] - dx / norm * spread, a[1] - dy / norm * spread, height];
    let to = [b[0] + dx / norm * spread, b[1] + dy / norm * spread, height + rng.random_range(0.0..0.2)];
    let duration_s = rng.random_range(0.8_f64..4.0).min(seconds);
    let arm = rng.random_range(0.0..1.0) < 0.3;
    Passer {
        from,
        to,
        start_s: rng.random_range(0.0..(seconds - duration_s).max(0.01)),
        duration_s,
        bob: (rng.random_range(0.0..0.05), rng.random_range(0.5..4.0)),
        radius: if arm { 0.04 } else { radius },
        colour: if arm { skin_tone(rng) } else { random_colour(rng) },
        arm,
    }
}
