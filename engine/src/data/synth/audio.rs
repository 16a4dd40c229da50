//! The sound of a generated video: a bank recording of the surface's material at every contact,
//! from its first hit on, starting on the contact's exact sample, louder for a faster stick; scratches held for the
//! contact's length; a quiet room-noise floor under everything.

use rand::RngExt as _;
use rand_chacha::ChaCha8Rng;

use super::plan::PlannedContact;

/// A recording ready to place: peak-normalised to 0.5, with its first hit's sample.
#[derive(Debug, Clone)]
pub struct Recording {
    pub id: String,
    pub samples: Vec<f32>,
    pub first_hit: usize,
    pub scratch: bool,
}

/// Mixes one recording per contact into a track of `len` samples at 48 kHz. Returns the track
/// and the recording used at each contact.
pub fn soundtrack(
    len: usize,
    contacts: &[PlannedContact],
    recordings: &[&Recording],
    rng: &mut ChaCha8Rng,
) -> (Vec<f32>, Vec<String>) {
    let mut track = vec![0.0_f32; len];
    let mut used = Vec::with_capacity(contacts.len());
    let hits: Vec<&&Recording> = recordings.iter().filter(|r| !r.scratch).collect();
    let scratches: Vec<&&Recording> = recordings.iter().filter(|r| r.scratch).collect();
    for c in contacts {
        let pool = if c.slide_s.is_some() && !scratches.is_empty() { &scratches } else { &hits };
        let recording = pool[rng.random_range(0..pool.len())];
        used.push(recording.id.clone());
        // A faster stick is louder: 20 dB over the range of speeds.
        let gain = 10_f32.powf((20.0 * (c.speed / 3.0).log10()) as f32 / 20.0);
        let at = (c.time_s * 48_000.0).round() as usize;
        let source: Vec<f32> = match c.slide_s {
            Some(slide) if recording.scratch => {
                held(&recording.samples[recording.first_hit..], (slide * 48_000.0) as usize)
            }
            _ => recording.samples[recording.first_hit..].to_vec(),
        };
        // Nothing sounds before the stick arrives: the recording starts at its first hit, faded in
        // over a millisecond so the cut makes no click of its own.
        for (k, s) in source.iter().enumerate() {
            let fade = (k as f32 / 48.0).min(1.0);
            if let Some(out) = track.get_mut(at + k) {
                *out += gain * fade * s;
            }
        }
    }
    crate::sound::add_room_noise(&mut track, 10_f32.powf(-60.0 / 20.0), rng);
    let peak = track.iter().fold(0.0_f32, |m, s| m.max(s.abs()));
    if peak > 0.99 {
        track.iter_mut().for_each(|s| *s *= 0.99 / peak);
    }
    (track, used)
}

/// `samples` repeated with short crossfades until `len` samples, faded out at the end.
fn held(samples: &[f32], len: usize) -> Vec<f32> {
    let fade = 480.min(samples.len() / 4).max(1);
    let mut out = Vec::with_capacity(len + fade);
    while out.len() < len {
        let start = out.len().saturating_sub(fade);
        for (k, s) in samples.iter().enumerate() {
            let i = start + k;
            let ramp = if k < fade && !out.is_empty() { k as f32 / fade as f32 } else { 1.0 };
            if i < out.len() {
                out[i] = out[i] * (1.0 - ramp) + s * ramp;
            } else {
                out.push(*s);
            }
        }
    }
    out.truncate(len.max(fade));
    for (k, s) in out.iter_mut().rev().take(fade).enumerate() {
        *s *= k as f32 / fade as f32;
    }
    out
}
