//! How the stick moves, in continuous time: strokes that fall with constant acceleration from
//! rest and meet the surface at full speed on the exact contact time, then rebound; scratches
//! that drag the tip along the surface; air swings that slow down and stop short of it; and,
//! between strokes, smooth moves to the next stroke's start. Nothing is snapped to frames.

use rand::RngExt as _;
use rand_chacha::ChaCha8Rng;

use super::camera::{Vec3, add, length, scale, sub};
use crate::data::synth::plan::PlannedContact;

/// What a stroke does at its end.
#[derive(Debug, Clone, PartialEq)]
pub enum StrokeKind {
    /// The tip strikes the surface and bounces off.
    Hit,
    /// The tip lands and drags along the surface by `drag` (metres) for `slide_s` seconds.
    Scratch { slide_s: f64, drag: [f64; 2] },
    /// The tip slows down and stops `stop_height` metres above the surface: no contact, no sound.
    Swing { stop_height: f64 },
}

/// One downward stroke of the stick.
#[derive(Debug, Clone, PartialEq)]
pub struct Stroke {
    pub kind: StrokeKind,
    /// When the tip arrives (contact, or the stop of a swing), seconds; on a 48 kHz sample.
    pub time_s: f64,
    /// Where on the surface, metres.
    pub at: [f64; 2],
    /// Height the stroke starts from, at rest, metres.
    pub apex: f64,
    /// How long the fall takes, seconds.
    pub fall_s: f64,
    /// Share of the arrival speed the tip rebounds with.
    pub restitution: f64,
    /// How long the rebound rises, seconds.
    pub rise_s: f64,
}

impl Stroke {
    /// Speed at arrival (m/s): the fall is uniformly accelerated from rest.
    #[must_use]
    pub fn speed(&self) -> f64 {
        2.0 * (self.apex - self.stop_height()) / self.fall_s
    }

    fn stop_height(&self) -> f64 {
        match self.kind {
            StrokeKind::Swing { stop_height } => stop_height,
            _ => 0.0,
        }
    }

    fn start_s(&self) -> f64 {
        self.time_s - self.fall_s
    }

    /// When the tip leaves the surface (or the swing's stop ends).
    fn leave_s(&self) -> f64 {
        match self.kind {
            StrokeKind::Scratch { slide_s, .. } => self.time_s + slide_s,
            _ => self.time_s,
        }
    }

    fn end_s(&self) -> f64 {
        self.leave_s() + self.rise_s
    }

    fn leave_at(&self) -> [f64; 2] {
        match self.kind {
            StrokeKind::Scratch { drag, .. } => [self.at[0] + drag[0], self.at[1] + drag[1]],
            _ => self.at,
        }
    }

    /// Height after the rebound or the swing's recoil.
    fn end_height(&self) -> f64 {
        match self.kind {
            StrokeKind::Swing { stop_height } => stop_height + 0.5 * (self.apex - stop_height),
            _ => {
                let v = self.restitution * self.speed();
                0.5 * v * self.rise_s
            }
        }
    }

    fn start_point(&self) -> Vec3 {
        [self.at[0], self.at[1], self.apex]
    }

    fn end_point(&self) -> Vec3 {
        let at = self.leave_at();
        [at[0], at[1], self.end_height()]
    }

    /// The tip at `t`, which lies within `start_s()..=end_s()`.
    fn tip(&self, t: f64) -> Vec3 {
        if t <= self.time_s {
            let u = ((t - self.start_s()) / self.fall_s).clamp(0.0, 1.0);
            let h = match self.kind {
                // Uniformly accelerated from rest: full speed on arrival.
                StrokeKind::Hit | StrokeKind::Scratch { .. } => self.apex * (1.0 - u * u),
                // Speeds up, then brakes to a stop above the surface.
                StrokeKind::Swing { stop_height } => stop_height + (self.apex - stop_height) * (1.0 - smooth(u)),
            };
            return [self.at[0], self.at[1], h];
        }
        if t <= self.leave_s() {
            let StrokeKind::Scratch { slide_s, drag } = self.kind else { return [self.at[0], self.at[1], 0.0] };
            let u = smooth((t - self.time_s) / slide_s);
            return [self.at[0] + drag[0] * u, self.at[1] + drag[1] * u, 0.0];
        }
        let at = self.leave_at();
        let dt = (t - self.leave_s()).min(self.rise_s);
        let h = match self.kind {
            StrokeKind::Swing { stop_height } => {
                stop_height + (self.end_height() - stop_height) * smooth(dt / self.rise_s)
            }
            // Decelerated uniformly to rest at the top of the rebound.
            _ => {
                let v = self.restitution * self.speed();
                v * dt - 0.5 * (v / self.rise_s) * dt * dt
            }
        };
        [at[0], at[1], h]
    }
}

/// Smoothstep: 0 to 1 with zero slope at both ends.
fn smooth(u: f64) -> f64 {
    let u = u.clamp(0.0, 1.0);
    u * u * (3.0 - 2.0 * u)
}

/// Where the strokes of one video land: picks points on the visible surface.
pub trait SurfacePoints {
    /// A point of the surface well inside the picture, chosen by `rng`.
    fn random_point(&self, rng: &mut ChaCha8Rng) -> [f64; 2];
}

/// How often each kind of stroke comes, and what a video's strokes may be.
#[derive(Debug, Clone, PartialEq)]
pub struct StrokeMix {
    /// Share of strokes that are air swings (there is at least one in every video with strokes).
    pub swing_share: f64,
    /// Share of contacts that are scratches (0 where the material has no scraped recordings).
    pub scratch_share: f64,
    /// `false` for a video with air swings only.
    pub contacts: bool,
}

/// The strokes of a video of `seconds`.
pub fn plan_strokes(seconds: f64, mix: &StrokeMix, surface: &dyn SurfacePoints, rng: &mut ChaCha8Rng) -> Vec<Stroke> {
    let mut strokes: Vec<Stroke> = Vec::new();
    let mut at = surface.random_point(rng);
    let mut ready = rng.random_range(0.2..0.6); // when the stick may start its first fall
    let mut swung = false;
    loop {
        let swing = !mix.contacts || rng.random_range(0.0..1.0) < mix.swing_share;
        let scratch = !swing && rng.random_range(0.0..1.0) < mix.scratch_share;
        // Mostly the same spot again, sometimes elsewhere.
        if rng.random_range(0.0..1.0) < 0.4 {
            at = surface.random_point(rng);
        } else {
            at = [at[0] + rng.random_range(-0.02..0.02), at[1] + rng.random_range(-0.02..0.02)];
        }
        // A quick second strike now and then: a short stroke straight after the last.
        let quick = rng.random_range(0.0..1.0) < 0.15;
        let apex = if quick { rng.random_range(0.02..0.06) } else { rng.random_range(0.04..0.3) };
        let fall_s = if quick { rng.random_range(0.05..0.1) } else { rng.random_range(0.08..0.45) };
        let kind = if swing {
            StrokeKind::Swing { stop_height: rng.random_range(0.015_f64..0.12).min(apex * 0.7) }
        } else if scratch {
            let angle = rng.random_range(0.0..std::f64::consts::TAU);
            let reach = rng.random_range(0.04..0.18);
            StrokeKind::Scratch {
                slide_s: rng.random_range(0.3..0.8),
                drag: [angle.cos() * reach, angle.sin() * reach],
            }
        } else {
            StrokeKind::Hit
        };
        // Between strokes the stick travels to the next start; far moves take longer.
        let travel = strokes.last().map_or(0.0, |s: &Stroke| {
            let from = s.end_point();
            let gap = length(sub([at[0], at[1], apex], from));
            0.05 + gap * rng.random_range(0.5..1.5)
        });
        let pause = if quick { rng.random_range(0.0..0.05) } else { rng.random_range(0.05..0.6) };
        let start = ready + travel + pause;
        let time_s = ((start + fall_s) * 48_000.0).round() / 48_000.0;
        let stroke = Stroke {
            kind,
            time_s,
            at,
            apex,
            fall_s,
            restitution: rng.random_range(0.15..0.55),
            rise_s: rng.random_range(0.06..0.22),
        };
        if stroke.end_s() > seconds - 0.3 {
            break;
        }
        swung |= matches!(stroke.kind, StrokeKind::Swing { .. });
        ready = stroke.end_s();
        strokes.push(stroke);
    }
    // A video with contacts has at least one, even when chance made every stroke a swing.
    if mix.contacts && !strokes.is_empty() && strokes.iter().all(|s| matches!(s.kind, StrokeKind::Swing { .. })) {
        let k = rng.random_range(0..strokes.len());
        strokes[k].kind = StrokeKind::Hit;
        swung = strokes.len() > 1;
    }
    // Every video has an air swing: make one of the hits (if none came by chance) a swing.
    if !swung && strokes.len() > 1 {
        let k = rng.random_range(0..strokes.len());
        let s = &mut strokes[k];
        s.kind = StrokeKind::Swing { stop_height: rng.random_range(0.015_f64..0.12).min(s.apex * 0.7) };
        if s.end_s() > seconds - 0.3 {
            s.kind = StrokeKind::Hit;
        }
    }
    strokes
}

/// The contacts among `strokes`, as the sound and the labels take them. `speed` is mapped onto the
/// range the soundtrack's loudness expects (0.6 to 3.0); `frame_x` gives the share of the frame's
/// width where a point of the surface appears.
#[must_use]
pub fn contacts_of(strokes: &[Stroke], frame_x: impl Fn([f64; 2]) -> f64) -> Vec<PlannedContact> {
    strokes
        .iter()
        .filter_map(|s| {
            let slide_s = match s.kind {
                StrokeKind::Hit => None,
                StrokeKind::Scratch { slide_s, .. } => Some(slide_s),
                StrokeKind::Swing { .. } => return None,
            };
            let v = s.speed().clamp(0.3, 6.0);
            let speed = 0.6 + 2.4 * (v / 0.3).ln() / (6.0_f64 / 0.3).ln();
            Some(PlannedContact { time_s: s.time_s, speed, slide_s, x: frame_x(s.at) })
        })
        .collect()
}

/// Where the tip and the hand's grip are over time.
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory {
    strokes: Vec<Stroke>,
    rest: Vec3,
    /// Stick length from tip to grip, metres.
    pub length: f64,
    /// Horizontal direction from the tip towards the hand.
    toward_hand: [f64; 2],
    /// Height of the wrist above the surface when the tip touches it.
    wrist_height: f64,
}

impl Trajectory {
    #[must_use]
    pub fn new(strokes: Vec<Stroke>, rest: Vec3, length: f64, toward_hand: [f64; 2], wrist_height: f64) -> Self {
        Self { strokes, rest, length, toward_hand, wrist_height: wrist_height.min(0.9 * length) }
    }

    #[must_use]
    pub fn strokes(&self) -> &[Stroke] {
        &self.strokes
    }

    /// The planned point at `t`: where over the surface and how high the tip is.
    fn planned(&self, t: f64) -> Vec3 {
        let next = self.strokes.partition_point(|s| s.start_s() <= t);
        // Within a stroke?
        if let Some(s) = next.checked_sub(1).map(|k| &self.strokes[k]).filter(|s| t <= s.end_s()) {
            return s.tip(t);
        }
        // Between strokes (or before the first, after the last): a smooth move.
        let (from, from_t) = match next.checked_sub(1).map(|k| &self.strokes[k]) {
            Some(s) => (s.end_point(), s.end_s()),
            None => (self.rest, 0.0),
        };
        let Some(to) = self.strokes.get(next) else { return from };
        let (target, target_t) = (to.start_point(), to.start_s());
        let u = smooth((t - from_t) / (target_t - from_t).max(1e-6));
        add(from, scale(sub(target, from), u))
    }

    /// The wrist for a planned point: behind the place the tip touches, rising a little as the
    /// tip rises.
    fn wrist(&self, planned: Vec3) -> Vec3 {
        let reach = (self.length * self.length - self.wrist_height * self.wrist_height).sqrt();
        [
            planned[0] + self.toward_hand[0] * reach,
            planned[1] + self.toward_hand[1] * reach,
            self.wrist_height + 0.3 * planned[2],
        ]
    }

    /// The tip at `t` seconds: at the planned height, on the arc the stick turns through about
    /// the wrist (so a raised tip also moves along the surface, as a drummer's does).
    #[must_use]
    pub fn tip(&self, t: f64) -> Vec3 {
        let planned = self.planned(t);
        let wrist = self.wrist(planned);
        let below = ((wrist[2] - planned[2]) / self.length).clamp(-0.95, 0.95);
        let out = self.length * (1.0 - below * below).sqrt();
        [wrist[0] - self.toward_hand[0] * out, wrist[1] - self.toward_hand[1] * out, planned[2]]
    }

    /// Where the hand holds the stick at `t`: the wrist, the stick's length from the tip.
    #[must_use]
    pub fn grip(&self, t: f64) -> Vec3 {
        self.wrist(self.planned(t))
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng as _;

    use super::*;

    struct Square;

    impl SurfacePoints for Square {
        fn random_point(&self, rng: &mut ChaCha8Rng) -> [f64; 2] {
            [rng.random_range(-0.2..0.2), rng.random_range(-0.2..0.2)]
        }
    }

    fn plan(seed: u64, mix: &StrokeMix) -> Trajectory {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let strokes = plan_strokes(12.0, mix, &Square, &mut rng);
        Trajectory::new(strokes, [0.0, 0.0, 0.2], 0.35, [0.6, -0.8], 0.2)
    }

    #[test]
    fn hits_arrive_at_full_speed_on_time_and_swings_stop_short() {
        let mix = StrokeMix { swing_share: 0.2, scratch_share: 0.3, contacts: true };
        for seed in 0..20 {
            let path = plan(seed, &mix);
            assert!(path.strokes().len() >= 4, "{seed}");
            assert!(path.strokes().iter().any(|s| matches!(s.kind, StrokeKind::Swing { .. })), "{seed}: no air swing");
            for s in path.strokes() {
                let at = path.tip(s.time_s);
                let before = path.tip(s.time_s - 0.004);
                match s.kind {
                    StrokeKind::Swing { stop_height } => {
                        assert!((at[2] - stop_height).abs() < 1e-9 && stop_height > 0.01);
                        // Braking: nearly still just before the stop.
                        assert!((before[2] - at[2]) / 0.004 < 0.5 * s.speed().max(0.1) + 0.05, "{seed} {s:?}");
                        // Never below the stop during the swing.
                        let span = s.end_s() - s.start_s();
                        let lowest = (0..=200)
                            .map(|k| path.tip(s.start_s() + span * f64::from(k) / 200.0)[2])
                            .fold(f64::MAX, f64::min);
                        assert!(lowest >= stop_height - 1e-9, "{seed}: {lowest} < {stop_height}");
                    }
                    _ => {
                        assert!(at[2].abs() < 1e-12, "{seed}: tip at {at:?} at contact");
                        // Falling at nearly the planned speed just before.
                        let v = (before[2] - at[2]) / 0.004;
                        assert!(v > 0.8 * s.speed(), "{seed}: {v} vs {}", s.speed());
                        assert!(path.tip(s.time_s + 0.03)[2] >= 0.0);
                    }
                }
            }
            // Above the surface between contacts, and continuous everywhere.
            let mut last = path.tip(0.0);
            for k in 1..12_000 {
                let t = f64::from(k) * 0.001;
                let p = path.tip(t);
                assert!(p[2] >= -1e-12, "{seed}: below the surface at {t}");
                assert!(length(sub(p, last)) < 0.012, "{seed}: a jump at {t}: {last:?} -> {p:?}");
                last = p;
                let g = path.grip(t);
                assert!((length(sub(g, p)) - 0.35).abs() < 1e-9);
                // The hand stays well above the surface (the tip may rise above it).
                assert!(g[2] > 0.1, "{seed}: the grip at {g:?}");
            }
        }
    }

    #[test]
    fn a_video_without_contacts_has_only_swings() {
        let path = plan(3, &StrokeMix { swing_share: 0.2, scratch_share: 0.3, contacts: false });
        assert!(!path.strokes().is_empty());
        assert!(path.strokes().iter().all(|s| matches!(s.kind, StrokeKind::Swing { .. })));
        assert!(contacts_of(path.strokes(), |_| 0.5).is_empty());
    }
}
