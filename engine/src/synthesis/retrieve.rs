//! Choosing a clip for each hit: the database clip whose hit window is nearest to the predicted
//! cochleagram's window around the hit, with a gain that makes it as loud as the prediction.

use super::PlacedHit;
use crate::retrieval::{ClipDatabase, hit_window, loudness};
use crate::sound::{Cochleagram, Hit};

/// How much farther (squared distance) the runner-up may be and still replace a repeat of the
/// previous hit's clip (another take of the same sound is typically within this).
const REPEAT_TOLERANCE: f32 = 2.0;

/// Gains are kept within this range, dB: a prediction far quieter or louder than any clip should
/// not turn a clip into silence or into a blast.
pub const GAIN_RANGE_DB: (f32, f32) = (-40.0, 12.0);

/// For each hit, the nearest clip and its gain. Never a clip from `exclude_source` (the video
/// being evaluated); only clips of `material` where the database has any (the material the
/// video's look shows). Hits for which no clip is allowed are dropped.
#[must_use]
pub fn choose_clips(
    predicted: &Cochleagram,
    hits: &[Hit],
    db: &ClipDatabase,
    compression: f64,
    exclude_source: Option<&str>,
    material: Option<&str>,
) -> Vec<(PlacedHit, usize)> {
    let not_excluded = |e: &crate::retrieval::ClipEntry| exclude_source.is_none_or(|s| e.source != s);
    let material =
        material.filter(|m| db.manifest.entries.iter().any(|e| not_excluded(e) && e.material.as_deref() == Some(*m)));
    let mut out: Vec<(PlacedHit, usize)> = Vec::with_capacity(hits.len());
    for hit in hits {
        let query = hit_window(predicted, hit.time_s);
        let allow = |e: &crate::retrieval::ClipEntry| {
            not_excluded(e) && material.is_none_or(|m| e.material.as_deref() == Some(m))
        };
        // The same recording on consecutive hits sounds mechanical: the next nearest clip is taken
        // instead when it is nearly as near.
        let nearest = db.nearest(&query, 2, &allow);
        let Some(&(first, best)) = nearest.first() else { continue };
        let previous = out.last().map(|(_, i)| *i);
        let index = match nearest.get(1) {
            Some(&(second, d)) if previous == Some(first) && d <= REPEAT_TOLERANCE * best => second,
            _ => first,
        };
        let entry = &db.manifest.entries[index];
        out.push((
            PlacedHit {
                time_s: hit.time_s,
                material: entry.material.clone(),
                action: entry.action.clone(),
                strength: hit.strength,
                clip: Some(entry.id.clone()),
                gain_db: gain_db(loudness(&query, predicted.bands, compression), entry.loudness),
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
