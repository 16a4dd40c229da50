//! Choosing a clip for each hit: the database clip whose hit window is nearest to the predicted
//! cochleagram's window around the hit, with a gain that makes it as loud as the prediction.

use super::PlacedHit;
use crate::retrieval::{ClipDatabase, hit_window, loudness};
use crate::sound::{Cochleagram, Hit};

/// Gains are kept within this range, dB: a prediction far quieter or louder than any clip should
/// not turn a clip into silence or into a blast.
pub const GAIN_RANGE_DB: (f32, f32) = (-40.0, 12.0);

/// For each hit, the nearest clip (never one from `exclude_source`, the video being evaluated)
/// and its gain. Hits for which no clip is allowed are dropped.
#[must_use]
pub fn choose_clips(
    predicted: &Cochleagram,
    hits: &[Hit],
    db: &ClipDatabase,
    compression: f64,
    exclude_source: Option<&str>,
) -> Vec<(PlacedHit, usize)> {
    let mut out = Vec::with_capacity(hits.len());
    for hit in hits {
        let query = hit_window(predicted, hit.time_s);
        let allow = |e: &crate::retrieval::ClipEntry| exclude_source.is_none_or(|s| e.source != s);
        let Some(&(index, _)) = db.nearest(&query, 1, &allow).first() else { continue };
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
