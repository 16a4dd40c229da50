//! The clips of placed hits mixed into a track: mono, or stereo with each hit panned to where its
//! contact happened in the picture; whole, or one stem per material.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::mix::{CEILING, limit_frames, limiter_gain, place_clip, place_clip_in_channel};
use super::{PlacedHit, SynthesisError};
use crate::retrieval::ClipDatabase;
use crate::timeline::{OUTPUT_SAMPLE_RATE, sample_at};

/// How many channels a track has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channels {
    #[default]
    Mono,
    /// Left and right, interleaved; each hit panned by its [`PlacedHit::x`].
    Stereo,
}

impl Channels {
    #[must_use]
    pub fn count(self) -> u16 {
        match self {
            Self::Mono => 1,
            Self::Stereo => 2,
        }
    }
}

/// The left and right gains of a hit at `x` (0 at the picture's left edge, 1 at its right; `None`
/// in the centre): constant power, so a hit is as loud wherever it is placed.
#[must_use]
pub fn pan_gains(x: Option<f64>) -> [f32; 2] {
    let angle = x.unwrap_or(0.5).clamp(0.0, 1.0) * std::f64::consts::FRAC_PI_2;
    [angle.cos() as f32, angle.sin() as f32]
}

/// Mixes the clips named by `hits` into a mono track of `len` samples (limited to -1 dBFS).
pub fn render_retrieval(db: &ClipDatabase, hits: &[PlacedHit], len: usize) -> Result<Vec<f32>, SynthesisError> {
    render_retrieval_in(db, hits, len, Channels::Mono)
}

/// Mixes the clips named by `hits` into `len` frames of `channels` (interleaved), limited to
/// -1 dBFS with one gain for every channel, so the limiter never moves a sound's place.
pub fn render_retrieval_in(
    db: &ClipDatabase,
    hits: &[PlacedHit],
    len: usize,
    channels: Channels,
) -> Result<Vec<f32>, SynthesisError> {
    let mut track = place_hits(db, hits, len, channels)?;
    if limit_frames(&mut track, usize::from(channels.count()), OUTPUT_SAMPLE_RATE) {
        track.iter_mut().for_each(|s| *s = s.clamp(-CEILING, CEILING));
    }
    Ok(track)
}

/// One material's part of a retrieval track.
#[derive(Debug, Clone, PartialEq)]
pub struct Stem {
    /// The material of its hits ("unknown" for hits without one).
    pub material: String,
    /// Interleaved as the track's channels.
    pub samples: Vec<f32>,
}

/// The retrieval track of `hits` split by material, each `len` frames of `channels`: every stem
/// carries the gain the limiter gives the whole mix, so the stems sum to
/// [`render_retrieval_in`]'s track (except where the limiter's final clamp cuts a peak). In the
/// order materials first appear.
pub fn render_stems(
    db: &ClipDatabase,
    hits: &[PlacedHit],
    len: usize,
    channels: Channels,
) -> Result<Vec<Stem>, SynthesisError> {
    let mut stems: Vec<Stem> = Vec::new();
    for hit in hits {
        let material = hit.material.clone().unwrap_or_else(|| "unknown".to_owned());
        if !stems.iter().any(|s| s.material == material) {
            let own: Vec<PlacedHit> =
                hits.iter().filter(|h| h.material.as_deref().unwrap_or("unknown") == material).cloned().collect();
            stems.push(Stem { material, samples: place_hits(db, &own, len, channels)? });
        }
    }
    let mut mix = vec![0.0f32; len * usize::from(channels.count())];
    for stem in &stems {
        for (m, s) in mix.iter_mut().zip(&stem.samples) {
            *m += s;
        }
    }
    if let Some(gain) = limiter_gain(&mix, usize::from(channels.count()), OUTPUT_SAMPLE_RATE) {
        for stem in &mut stems {
            apply(&mut stem.samples, &gain, channels);
        }
    }
    Ok(stems)
}

fn apply(track: &mut [f32], gain: &[f32], channels: Channels) {
    for (frame, g) in track.chunks_exact_mut(usize::from(channels.count())).zip(gain) {
        frame.iter_mut().for_each(|s| *s *= g);
    }
}

/// The clips of `hits` placed on `len` silent frames of `channels`, not limited.
fn place_hits(
    db: &ClipDatabase,
    hits: &[PlacedHit],
    len: usize,
    channels: Channels,
) -> Result<Vec<f32>, SynthesisError> {
    // Interleaved from the start: a stereo track is never held twice.
    let count = usize::from(channels.count());
    let mut track = vec![0.0f32; len * count];
    let mut clips: HashMap<usize, Vec<f32>> = HashMap::new();
    for hit in hits {
        let Some(id) = hit.clip.as_deref() else { continue };
        let index = db.find(id).ok_or_else(|| {
            SynthesisError::NoDatabase(format!("the clip `{id}` is not in the database in {}", db.dir.display()))
        })?;
        let clip = match clips.entry(index) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(db.clip_samples(index)?),
        };
        let at = sample_at(hit.time_s, 0.0, OUTPUT_SAMPLE_RATE);
        let onset = db.manifest.entries[index].onset as usize;
        let gain = 10f32.powf(hit.gain_db / 20.0);
        match channels {
            Channels::Mono => place_clip(&mut track, clip, onset, at, gain),
            Channels::Stereo => {
                for (channel, pan) in pan_gains(hit.x).into_iter().enumerate() {
                    place_clip_in_channel(&mut track, count, channel, clip, onset, at, gain * pan);
                }
            }
        }
    }
    Ok(track)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panning_keeps_the_power_and_follows_the_picture() {
        for x in [None, Some(0.0), Some(0.2), Some(0.5), Some(0.9), Some(1.0)] {
            let [l, r] = pan_gains(x);
            assert!((l * l + r * r - 1.0).abs() < 1e-6, "{x:?}");
        }
        let [l, r] = pan_gains(None);
        assert!((l - r).abs() < 1e-6);
        assert_eq!(pan_gains(Some(0.0)), [1.0, 0.0]);
        let [l, r] = pan_gains(Some(0.2));
        assert!(l > 2.0 * r, "left of centre sounds from the left: {l} {r}");
        let [l, r] = pan_gains(Some(0.8));
        assert!(r > 2.0 * l);
    }
}
