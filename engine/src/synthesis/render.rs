//! The clips of placed hits mixed into a track: mono, or stereo with each hit panned to where its
//! contact happened in the picture; whole, or one stem per material.

use serde::{Deserialize, Serialize};

use super::blocks::TrackBlocks;
use super::{PlacedHit, SynthesisError};
use crate::retrieval::ClipDatabase;

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
/// -1 dBFS with one gain for every channel, so the limiter never moves a sound's place. A track
/// too long to hold is written block by block through [`TrackBlocks`] instead.
pub fn render_retrieval_in(
    db: &ClipDatabase,
    hits: &[PlacedHit],
    len: usize,
    channels: Channels,
) -> Result<Vec<f32>, SynthesisError> {
    Ok(TrackBlocks::new(db, hits, len, channels, false)?.collect()?.0)
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
    Ok(TrackBlocks::new(db, hits, len, channels, true)?.collect()?.1)
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
