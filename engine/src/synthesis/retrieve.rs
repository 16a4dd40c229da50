//! Choosing a clip for each hit: the database clip whose hit window is nearest to the predicted
//! cochleagram's window around the hit, with a gain that makes it as loud as the prediction.

use std::collections::HashMap;

use rand::{RngExt as _, SeedableRng as _};

use super::PlacedHit;
use crate::retrieval::{ClipDatabase, hit_window, loudness};
use crate::sound::{Cochleagram, Hit};

/// How retrieval avoids "machine-gun" repeats: one recording on consecutive hits of a material.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Variation {
    /// How many nearest clips are candidates for each hit; 1 turns variation off.
    pub k: usize,
    /// How much farther (squared distance, as a multiple of the nearest's) a candidate may be and
    /// still stand in for the nearest (another take of the same sound is typically within this).
    pub max_distance_ratio: f32,
    /// Picks among near-equal candidates (within [`NEAR_EQUAL`] of the best allowed), the same
    /// way for the same seed.
    pub seed: u64,
}

impl Default for Variation {
    fn default() -> Self {
        Self { k: 5, max_distance_ratio: 3.0, seed: 0 }
    }
}

/// Candidates this close (squared distance, times the best allowed one's) count as equal.
pub const NEAR_EQUAL: f32 = 1.1;

/// Clips searched per candidate recording: enough to find k different recordings where the
/// nearest clips are several hits of one.
const CLIPS_PER_RECORDING: usize = 4;

/// Gains are kept within this range, dB: a prediction far quieter or louder than any clip should
/// not turn a clip into silence or into a blast.
pub const GAIN_RANGE_DB: (f32, f32) = (-40.0, 12.0);

/// For each hit, the nearest clip and its gain. Never a clip from `exclude_source` (the video
/// being evaluated); only clips of `material` where the database has any (the material the
/// video's look shows). Hits for which no clip is allowed are dropped. Within `variation`, a
/// hit does not take the recording the previous hit of its material took.
#[must_use]
pub fn choose_clips(
    predicted: &Cochleagram,
    hits: &[Hit],
    db: &ClipDatabase,
    compression: f64,
    exclude_source: Option<&str>,
    material: Option<&str>,
    variation: &Variation,
) -> Vec<(PlacedHit, usize)> {
    let not_excluded = |e: &crate::retrieval::ClipEntry| exclude_source.is_none_or(|s| e.source != s);
    let material =
        material.filter(|m| db.manifest.entries.iter().any(|e| not_excluded(e) && e.material.as_deref() == Some(*m)));
    let mut out: Vec<(PlacedHit, usize)> = Vec::with_capacity(hits.len());
    // The recording the last hit of each material took.
    // The clip the last hit of each material took.
    let mut last: HashMap<Option<String>, usize> = HashMap::new();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(variation.seed);
    for hit in hits {
        let query = hit_window(predicted, hit.time_s);
        let allow = |e: &crate::retrieval::ClipEntry| {
            not_excluded(e) && material.is_none_or(|m| e.material.as_deref() == Some(m))
        };
        let entries = &db.manifest.entries;
        let k = variation.k.max(1);
        // A few more clips than k: a recording may hold several hits.
        let found = db.nearest(&query, (k * CLIPS_PER_RECORDING).max(2), &allow);
        let Some(&(first, best)) = found.first() else { continue };
        let kind = &entries[first].material;
        // Stand-ins: of the nearest's material (variation never changes what is heard as the
        // material), near enough.
        let near: Vec<(usize, f32)> = found
            .iter()
            .copied()
            .filter(|&(i, d)| entries[i].material == *kind && d <= variation.max_distance_ratio * best)
            .collect();
        let previous = last.get(kind).copied();
        // First choice: another recording than the previous hit's, among the k nearest
        // recordings (each by its nearest clip); then another take of the same recording; then
        // the nearest, repeat or not.
        let mut recordings: Vec<(usize, f32)> = Vec::with_capacity(k);
        for &(i, d) in &near {
            let new_recording = !recordings.iter().any(|&(j, _)| entries[j].source == entries[i].source);
            if recordings.len() < k && new_recording {
                recordings.push((i, d));
            }
        }
        let other_recording: Vec<(usize, f32)> = recordings
            .iter()
            .copied()
            .filter(|&(i, _)| previous.is_none_or(|p| entries[p].source != entries[i].source))
            .collect();
        let index = if let Some(&(_, closest)) = other_recording.first() {
            let equal: Vec<usize> =
                other_recording.iter().filter(|&&(_, d)| d <= NEAR_EQUAL * closest).map(|&(i, _)| i).collect();
            equal[rng.random_range(0..equal.len())]
        } else if let Some(&(i, _)) = near.iter().find(|&&(i, _)| k > 1 && Some(i) != previous) {
            i
        } else {
            first
        };
        let entry = &entries[index];
        last.insert(entry.material.clone(), index);
        out.push((
            PlacedHit {
                time_s: hit.time_s,
                material: entry.material.clone(),
                action: entry.action.clone(),
                strength: hit.strength,
                clip: Some(entry.id.clone()),
                gain_db: gain_db(loudness(&query, predicted.bands, compression), entry.loudness),
                x: None,
            },
            index,
        ));
    }
    out
}

/// The gain that brings a clip of loudness `clip` to `target`, within [`GAIN_RANGE_DB`].
#[must_use]
pub fn gain_db(target: f32, clip: f32) -> f32 {
    if clip <= 0.0 || target <= 0.0 {
        return 0.0;
    }
    (20.0 * (target / clip).log10()).clamp(GAIN_RANGE_DB.0, GAIN_RANGE_DB.1)
}
