//! What a method places on test videos where nothing is struck, in all and by what the video
//! shows instead: the generator's scene notes (`{id}_scene.json`) name it, so that hits on
//! swings that stop short of the surface are told apart from hits on scenes with no stick at all.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::data::VideoNotes;

/// The kind of a video without contact whose notes do not say (real footage, drawn scenes).
pub const UNNOTED: &str = "unnoted";

/// Hits placed on videos where nothing is struck.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SilentScores {
    pub videos: usize,
    pub minutes: f64,
    pub hits: usize,
    /// `None` without such videos.
    pub hits_per_minute: Option<f64>,
    /// The same per kind of video: the scene notes' `negative` (`swings`: the stick swings
    /// but never touches; `passing`: things pass by, no stick; `pan`: the camera pans, no stick),
    /// or `unnoted` where the notes do not say.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub by_kind: BTreeMap<String, SilentScores>,
}

impl SilentScores {
    /// Counts a video of `kind` where nothing is struck, `duration_s` long, with `hits` placed.
    pub fn add(&mut self, kind: &str, duration_s: f64, hits: usize) {
        self.count(duration_s, hits);
        self.by_kind.entry(kind.to_owned()).or_default().count(duration_s, hits);
    }

    fn count(&mut self, duration_s: f64, hits: usize) {
        self.videos += 1;
        self.minutes += duration_s / 60.0;
        self.hits += hits;
    }

    /// Fills in the hits per minute, in all and per kind.
    pub fn finish(&mut self) {
        self.hits_per_minute = (self.minutes > 0.0).then(|| self.hits as f64 / self.minutes);
        self.by_kind.values_mut().for_each(Self::finish);
    }
}

/// Air swings that stop short of the surface, on every test video whose scene notes list them,
/// and how many a method gave a hit: the false hits that come from reading motion, not contact.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SwingScores {
    pub swings: usize,
    /// Swings with a hit within the tolerance that no contact lies within the tolerance of.
    pub heard: usize,
    /// `heard / swings`; `None` without swings.
    pub share_heard: Option<f64>,
}

impl SwingScores {
    /// Counts one video's `swings`, given its `contacts` and the `hits` placed (seconds).
    pub fn add(&mut self, swings: &[f64], contacts: &[f64], hits: &[f64], tolerance_s: f64) {
        let near = |a: f64, list: &[f64]| list.iter().any(|&b| (a - b).abs() <= tolerance_s);
        let unexplained: Vec<f64> = hits.iter().copied().filter(|&h| !near(h, contacts)).collect();
        self.swings += swings.len();
        self.heard += swings.iter().filter(|&&s| near(s, &unexplained)).count();
        self.share_heard = (self.swings > 0).then(|| self.heard as f64 / self.swings as f64);
    }
}

/// What a video shows where it has no contact, from its scene notes; `unnoted` where they do
/// not say.
#[must_use]
pub fn no_contact_kind(notes: &VideoNotes) -> &str {
    notes.negative.as_deref().unwrap_or(UNNOTED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_are_counted_in_all_and_per_kind() {
        let mut s = SilentScores::default();
        s.add("swings", 30.0, 3);
        s.add("pan", 60.0, 0);
        s.add("swings", 30.0, 1);
        s.finish();
        assert_eq!((s.videos, s.hits, s.hits_per_minute), (3, 4, Some(2.0)));
        assert_eq!(s.by_kind["swings"].hits_per_minute, Some(4.0));
        assert_eq!((s.by_kind["pan"].videos, s.by_kind["pan"].hits_per_minute), (1, Some(0.0)));
        assert!(s.by_kind["swings"].by_kind.is_empty());
        let mut none = SilentScores::default();
        none.finish();
        assert_eq!(none.hits_per_minute, None);
    }

    #[test]
    fn a_swing_is_heard_when_a_hit_no_contact_explains_lies_near_it() {
        let mut s = SwingScores::default();
        s.add(&[], &[1.0], &[1.0], 0.1);
        assert_eq!(s, SwingScores::default());
        // Swings at 2 and 5 s: a hit at 2.05 s with no contact near; the hit at 5.02 s is a
        // contact's at 5.08 s. A hit at 7 s is far from any swing.
        s.add(&[2.0, 5.0], &[5.08], &[2.05, 5.02, 7.0], 0.1);
        assert_eq!((s.swings, s.heard, s.share_heard), (2, 1, Some(0.5)));
        s.add(&[3.0, 4.0], &[], &[3.2], 0.1);
        assert_eq!((s.swings, s.heard, s.share_heard), (4, 1, Some(0.25)));
    }

    #[test]
    fn the_kind_comes_from_the_scene_notes_and_is_unnoted_without_it() {
        let noted = VideoNotes { negative: Some("passing".into()), ..VideoNotes::default() };
        assert_eq!(no_contact_kind(&noted), "passing");
        assert_eq!(no_contact_kind(&VideoNotes::default()), UNNOTED);
    }
}
