//! What happens in a generated video: when the stick touches the surface, how hard, for how
//! long, and where the tip is at every moment.

use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

/// One contact of the stick with the surface.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedContact {
    /// Seconds from the start of the video; exactly on a sample of the 48 kHz track.
    pub time_s: f64,
    /// Tip speed at contact, in frame heights per second (sets the loudness).
    pub speed: f64,
    /// `Some(seconds)` for a scratch: the tip slides along the surface this long.
    pub slide_s: Option<f64>,
    /// Horizontal position of the contact, 0..1 of the frame width.
    pub x: f64,
}

/// Contacts at irregular intervals, sometimes close together, over `seconds`.
pub fn plan_contacts(seconds: f64, can_scratch: bool, rng: &mut ChaCha8Rng) -> Vec<PlannedContact> {
    let mut contacts = Vec::new();
    let mut t = rng.random_range(0.6..1.2);
    while t < seconds - 0.8 {
        let scratch = can_scratch && rng.random_range(0.0..1.0) < 0.3;
        let slide_s = scratch.then(|| rng.random_range(0.3..0.8));
        let time_s = (t * 48_000.0).round() / 48_000.0;
        contacts.push(PlannedContact {
            time_s,
            speed: rng.random_range(0.6..3.0),
            slide_s,
            x: rng.random_range(0.3..0.7),
        });
        // Mostly relaxed strikes, sometimes a quick double.
        let gap =
            if rng.random_range(0.0..1.0) < 0.15 { rng.random_range(0.25..0.4) } else { rng.random_range(0.7..1.8) };
        t += gap + slide_s.unwrap_or(0.0);
    }
    contacts
}

/// Height of the stick's tip above the surface (frame heights) at time `t`: resting high, a
/// slow wind-up, an accelerating fall that meets the surface at the contact time with the
/// planned speed, a rebound, and for a scratch a slide at height 0.
#[must_use]
pub fn tip_height(t: f64, contacts: &[PlannedContact]) -> (f64, f64) {
    const REST: f64 = 0.35;
    let mut height = REST;
    let mut x = contacts.first().map_or(0.5, |c| c.x);
    for c in contacts {
        let fall = (REST / c.speed * 2.0).clamp(0.08, 0.35); // seconds of falling
        let end = c.time_s + c.slide_s.unwrap_or(0.0);
        let start = c.time_s - fall - 0.25;
        if t < start {
            break;
        }
        x = c.x;
        if t < c.time_s - fall {
            // Wind-up: lift a little above rest.
            let u = (t - start) / 0.25;
            height = REST + 0.08 * (std::f64::consts::PI * u).sin();
        } else if t < c.time_s {
            // Accelerating fall (constant acceleration) that reaches the surface at the contact.
            let u = (c.time_s - t) / fall;
            height = REST * u * u;
        } else if t <= end {
            height = 0.0;
            if let Some(slide) = c.slide_s {
                x = c.x + 0.15 * ((t - c.time_s) / slide);
            }
        } else if t < end + 0.35 {
            // Rebound, damped, back to rest.
            let u = (t - end) / 0.35;
            height = REST * (1.0 - (1.0 - u).powi(3)) + 0.06 * (std::f64::consts::PI * u).sin() * (1.0 - u);
            if c.slide_s.is_some() {
                x = c.x + 0.15;
            }
        } else {
            height = REST;
            x = c.x + if c.slide_s.is_some() { 0.15 } else { 0.0 };
        }
    }
    (height, x)
}

/// A generator seeded for one video.
#[must_use]
pub fn rng_for(seed: u64, video: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ video.wrapping_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tip_meets_the_surface_exactly_at_each_contact() {
        let mut rng = rng_for(3, 0);
        let contacts = plan_contacts(10.0, true, &mut rng);
        assert!(contacts.len() >= 4, "{contacts:?}");
        for c in &contacts {
            assert_eq!(tip_height(c.time_s, &contacts).0, 0.0);
            // Just before contact the tip is above the surface and falling.
            let before = tip_height(c.time_s - 0.03, &contacts).0;
            let earlier = tip_height(c.time_s - 0.06, &contacts).0;
            assert!(before > 0.0 && earlier > before, "{c:?}");
        }
    }
}
