//! A generated sound being worked on: the hits and their history, the rendered track, and what
//! the timeline draws (the cochleagram image, the waveform's peaks).

use std::collections::BTreeSet;
use std::sync::Arc;

use foley_engine::retrieval::{ClipDatabase, hit_window};

use foley_engine::synthesis::{Channels, Method, PlacedHit, SynthOptions, gain_db, render_retrieval_in};

use super::edits::{Edit, HitList};
use super::generate::Generated;

/// Peaks of the waveform per bucket of this many samples (5 ms).
pub const PEAK_BUCKET: usize = 240;

/// The generated sound of the open video.
pub struct Session {
    pub generated: Generated,
    pub hits: HitList,
    /// The track as the hits are now (48 kHz mono).
    pub track: Vec<f32>,
    /// The same in stereo (interleaved left, right), each hit panned to where it is in the
    /// picture; `Some` while stereo is on.
    pub stereo: Option<Vec<f32>>,
    /// (min, max) per [`PEAK_BUCKET`] samples.
    pub peaks: Vec<(f32, f32)>,
    pub selected: Option<usize>,
    /// The predicted cochleagram as an image, low bands at the bottom.
    pub cochleagram: Option<egui::TextureHandle>,
    /// How long the last re-render took, ms.
    pub render_ms: f64,
    /// The hits as generated, opened or last saved: edits since then are unsaved.
    pub saved: Vec<PlacedHit>,
    /// Materials whose lanes are muted, and those soloed (when any is, only they sound).
    pub muted: BTreeSet<String>,
    pub soloed: BTreeSet<String>,
}

/// The lane of a hit: its material, or "hit" for one without.
#[must_use]
pub fn lane_of(hit: &PlacedHit) -> &str {
    hit.material.as_deref().unwrap_or("hit")
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("hits", &self.hits.hits().len()).finish_non_exhaustive()
    }
}

impl Session {
    /// Starts from a generation; `hits` replaces the generated hits (a reopened project).
    pub fn new(generated: Generated, hits: Option<Vec<PlacedHit>>) -> Result<Self, String> {
        // A project file may have been edited by hand or made for another video.
        for (i, hit) in hits.iter().flatten().enumerate() {
            if let Some(problem) = hit.problem(Some(generated.synthesis.placement.duration_s)) {
                return Err(format!("the project's hit {} cannot be used: {problem}", i + 1));
            }
        }
        // The generated track already matches the generated hits; saved hits need a render.
        let saved = hits.is_some();
        let list = HitList::new(hits.unwrap_or_else(|| generated.synthesis.placement.hits.clone()));
        let saved_hits = list.hits().to_vec();
        let mut session = Self {
            track: generated.synthesis.track.clone(),
            stereo: None,
            generated,
            hits: list,
            peaks: Vec::new(),
            selected: None,
            cochleagram: None,
            render_ms: 0.0,
            saved: saved_hits,
            muted: BTreeSet::new(),
            soloed: BTreeSet::new(),
        };
        if saved {
            session.render()?;
        } else {
            session.peaks = peaks(&session.track);
        }
        Ok(session)
    }

    /// Whether the hits differ from those generated, opened or last saved.
    #[must_use]
    pub fn unsaved(&self) -> bool {
        self.hits.hits() != self.saved.as_slice()
    }

    #[must_use]
    pub fn db(&self) -> Option<&Arc<ClipDatabase>> {
        self.generated.db.as_ref()
    }

    /// Whether hits can be edited (the track is made of clips).
    #[must_use]
    pub fn editable(&self) -> bool {
        self.generated.method == Method::Retrieval && self.db().is_some()
    }

    /// The lanes, one per material among the hits, in name order.
    #[must_use]
    pub fn lanes(&self) -> Vec<String> {
        let set: BTreeSet<&str> = self.hits.hits().iter().map(lane_of).collect();
        set.into_iter().map(str::to_owned).collect()
    }

    /// Whether `lane` is heard: soloed, or not muted while nothing is soloed.
    #[must_use]
    pub fn audible(&self, lane: &str) -> bool {
        if self.soloed.is_empty() { !self.muted.contains(lane) } else { self.soloed.contains(lane) }
    }

    /// Mutes or unmutes `lane` (`solo` false), or solos or unsolos it, and re-renders.
    pub fn toggle_lane(&mut self, lane: &str, solo: bool) -> Result<(), String> {
        let set = if solo { &mut self.soloed } else { &mut self.muted };
        if !set.remove(lane) {
            set.insert(lane.to_owned());
        }
        self.render()
    }

    /// Turns the stereo track on (a retrieval track only: a parametric one has no hits to
    /// place) or off.
    pub fn set_stereo(&mut self, on: bool) -> Result<(), String> {
        if on && !self.editable() {
            return Err("stereo needs a retrieval track: generate with retrieval".to_owned());
        }
        self.stereo = if on { Some(self.render_heard(Channels::Stereo)?) } else { None };
        Ok(())
    }

    /// The channels of what is played and exported.
    #[must_use]
    pub fn channels(&self) -> Channels {
        if self.stereo.is_some() { Channels::Stereo } else { Channels::Mono }
    }

    /// What to play or export: the stereo track while stereo is on, else the mono one, and its
    /// number of channels.
    #[must_use]
    pub fn output(&self) -> (&[f32], u16) {
        (self.stereo.as_deref().unwrap_or(&self.track), self.channels().count())
    }

    /// Re-renders the track (and the stereo one while it is on) from the hits of the lanes
    /// heard (retrieval), or keeps the parametric track.
    pub fn render(&mut self) -> Result<(), String> {
        let start = std::time::Instant::now();
        if self.editable() {
            self.track = self.render_heard(Channels::Mono)?;
            if self.stereo.is_some() {
                self.stereo = Some(self.render_heard(Channels::Stereo)?);
            }
        }
        self.peaks = peaks(&self.track);
        self.render_ms = start.elapsed().as_secs_f64() * 1000.0;
        Ok(())
    }

    /// The retrieval track of the hits of the lanes heard, in `channels`.
    fn render_heard(&self, channels: Channels) -> Result<Vec<f32>, String> {
        let (Method::Retrieval, Some(db)) = (self.generated.method, self.generated.db.as_deref()) else {
            return Err("a track of hits needs retrieval: generate with retrieval".to_owned());
        };
        let heard: Vec<PlacedHit> = self.hits.hits().iter().filter(|h| self.audible(lane_of(h))).cloned().collect();
        render_retrieval_in(db, &heard, self.generated.synthesis.track.len(), channels).map_err(|e| e.to_string())
    }

    /// One edit that puts on every hit the clip of `material` nearest its predicted sound (gains
    /// kept): for a surface the look read wrong.
    #[must_use]
    pub fn swap_all_to(&self, material: &str) -> Edit {
        let swaps = self.hits.hits().iter().enumerate().filter_map(|(index, hit)| {
            let (i, clip, material) = self.candidates(hit.time_s, Some(material), 1).pop()?;
            let action = self.db()?.manifest.entries[i].action.clone();
            Some(Edit::SwapClip { index, clip, material, action })
        });
        Edit::Batch(swaps.collect())
    }

    /// One edit that replaces every hit by those the prediction gives at contact `threshold`, with
    /// clips as generated; where every hit now has one material (chosen by hand, say), the new
    /// ones keep it. `None` where the model gave no contact probabilities to cut.
    pub fn hits_at_threshold(&self, threshold: f32) -> Result<Option<Edit>, String> {
        let placement = &self.generated.synthesis.placement;
        if placement.contact.is_none() {
            return Ok(None);
        }
        let Some(db) = self.db() else { return Ok(None) };
        let mut materials = self.hits.hits().iter().map(|h| h.material.clone());
        let shared = materials.next().flatten().filter(|first| materials.all(|m| m.as_ref() == Some(first)));
        let mut options = SynthOptions { method: self.generated.method, material: shared, ..SynthOptions::default() };
        options.contact_params.threshold = threshold;
        let hits = placement.place_again(Some(db), &db.manifest.cochleagram, &options).map_err(|e| e.to_string())?;
        Ok(Some(Edit::ReplaceAll(hits)))
    }

    /// Applies an edit, re-renders, and keeps the edited hit selected.
    pub fn edit(&mut self, edit: Edit) -> Result<(), String> {
        let deleted = matches!(edit, Edit::Delete { .. });
        let at = self.hits.apply(edit);
        self.selected = if deleted { None } else { at };
        self.render()
    }

    pub fn undo(&mut self) -> Result<(), String> {
        if self.hits.undo() {
            self.selected = None;
            self.render()?;
        }
        Ok(())
    }

    pub fn redo(&mut self) -> Result<(), String> {
        if self.hits.redo() {
            self.selected = None;
            self.render()?;
        }
        Ok(())
    }

    /// The clips nearest to the predicted sound at `time_s`, nearest first, among those of
    /// `material` if given: (clip index, id, material).
    #[must_use]
    pub fn candidates(&self, time_s: f64, material: Option<&str>, k: usize) -> Vec<(usize, String, Option<String>)> {
        let Some(db) = self.db() else { return Vec::new() };
        let window = hit_window(&self.generated.synthesis.placement.cochleagram, time_s);
        db.nearest(&window, k, &|e| material.is_none_or(|m| e.material.as_deref() == Some(m)))
            .into_iter()
            .map(|(i, _)| {
                let e = &db.manifest.entries[i];
                (i, e.id.clone(), e.material.clone())
            })
            .collect()
    }

    /// A new hit at `time_s` with the nearest clip of the material of the hit nearest in time
    /// (so it follows materials chosen by hand; with no hits, the material the video looks
    /// like), the matched gain, and its place in the picture where something moved then.
    #[must_use]
    pub fn new_hit(&self, time_s: f64) -> Option<PlacedHit> {
        let db = self.db()?;
        let neighbour =
            self.hits.hits().iter().min_by(|a, b| (a.time_s - time_s).abs().total_cmp(&(b.time_s - time_s).abs()));
        let material = match neighbour {
            Some(hit) => hit.material.clone(),
            None => self.generated.synthesis.placement.material.clone(),
        };
        let (index, id, material) = self.candidates(time_s, material.as_deref(), 1).pop()?;
        let c = &self.generated.synthesis.placement.cochleagram;
        let compression = db.manifest.cochleagram.compression;
        let target = foley_engine::retrieval::loudness(&hit_window(c, time_s), c.bands, compression);
        let entry = &db.manifest.entries[index];
        Some(PlacedHit {
            time_s,
            material,
            action: entry.action.clone(),
            strength: 0.0,
            clip: Some(id),
            gain_db: gain_db(target, entry.loudness),
            x: self.generated.synthesis.placement.motion.as_ref().and_then(|m| m.x_at(time_s)),
        })
    }

    /// Materials the database has clips of.
    #[must_use]
    pub fn materials(&self) -> Vec<String> {
        self.db().map(|db| db.materials()).unwrap_or_default()
    }
}

/// (min, max) of every [`PEAK_BUCKET`] samples.
fn peaks(track: &[f32]) -> Vec<(f32, f32)> {
    track.chunks(PEAK_BUCKET).map(|c| c.iter().fold((0.0f32, 0.0f32), |(lo, hi), &s| (lo.min(s), hi.max(s)))).collect()
}

/// The cochleagram as an image: one column per step, one row per band, low bands at the bottom,
/// scaled to its largest value.
#[must_use]
pub fn cochleagram_image(c: &foley_engine::sound::Cochleagram) -> egui::ColorImage {
    let (w, h) = (c.steps().max(1), c.bands.max(1));
    let peak = c.data.iter().copied().fold(0.0f32, f32::max).max(1e-6);
    let mut pixels = vec![egui::Color32::BLACK; w * h];
    for step in 0..c.steps() {
        for (band, &v) in c.row(step).iter().enumerate() {
            pixels[(h - 1 - band) * w + step] = heat(v / peak);
        }
    }
    egui::ColorImage::new([w, h], pixels)
}

/// The engine's colour map as egui colours.
fn heat(v: f32) -> egui::Color32 {
    let [r, g, b] = foley_engine::colour::heat(v);
    egui::Color32::from_rgb(r, g, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session over the shipped clip database: hits of metal at 1 s and wood at 3 s on a
    /// video the look read as grass.
    fn session() -> Session {
        session_with(None)
    }

    /// The same, with these contact probabilities (one per step at 90 Hz over the 4 s).
    fn session_with(contact: Option<Vec<f32>>) -> Session {
        let dir = foley_engine::predict::default_model_dir();
        let db = Arc::new(ClipDatabase::load(&dir).unwrap());
        let params = db.manifest.cochleagram.clone();
        let steps = (4.0 * params.step_rate_hz) as usize;
        let cochleagram = foley_engine::sound::Cochleagram {
            start_s: 0.0,
            rate_hz: params.step_rate_hz,
            bands: params.bands(),
            data: vec![0.1; steps * params.bands()],
        };
        let clip_of =
            |material: &str| db.manifest.entries.iter().find(|e| e.material.as_deref() == Some(material)).unwrap();
        let hit = |time_s: f64, material: &str| PlacedHit {
            time_s,
            material: Some(material.to_owned()),
            action: Some("hit".to_owned()),
            strength: 1.0,
            clip: Some(clip_of(material).id.clone()),
            gain_db: 0.0,
            x: None,
        };
        let placement = foley_engine::synthesis::Placement {
            method: Method::Retrieval,
            hits: vec![hit(1.0, "metal"), hit(3.0, "wood")],
            cochleagram,
            contact,
            duration_s: 4.0,
            material: Some("grass".to_owned()),
            video: None,
            motion: None,
        };
        let cochleagram_image = cochleagram_image(&placement.cochleagram);
        let synthesis = placement.render(Some(&db), &params).unwrap();
        let generated = Generated { synthesis, cochleagram_image, db: Some(db), method: Method::Retrieval };
        Session::new(generated, None).unwrap()
    }

    #[test]
    fn an_added_hit_takes_the_material_of_its_neighbour_in_time() {
        let mut s = session();
        assert_eq!(s.new_hit(1.4).unwrap().material.as_deref(), Some("metal"));
        assert_eq!(s.new_hit(2.6).unwrap().material.as_deref(), Some("wood"));
        // Every hit put on another material: a new one follows.
        s.edit(s.swap_all_to("snow")).unwrap();
        assert!(s.hits.hits().iter().all(|h| h.material.as_deref() == Some("snow")));
        assert_eq!(s.new_hit(2.0).unwrap().material.as_deref(), Some("snow"));
        // With no hits left, the material the video looks like.
        s.edit(Edit::Batch(vec![Edit::Delete { index: 1 }, Edit::Delete { index: 0 }])).unwrap();
        assert!(s.hits.hits().is_empty());
        assert_eq!(s.new_hit(2.0).unwrap().material.as_deref(), Some("grass"));
    }

    #[test]
    fn hits_found_again_at_a_threshold_keep_the_peaks_that_reach_it() {
        // Peaks of 0.9 at 1 s, 0.6 at 2 s and 0.3 at 3 s.
        let mut p = vec![0.01f32; 360];
        for (step, peak) in [(90, 0.9f32), (180, 0.6), (270, 0.3)] {
            p[step] = peak;
            p[step - 1] = peak / 2.0;
            p[step + 1] = peak / 2.0;
        }
        let mut s = session_with(Some(p));
        let found = |s: &Session, threshold: f32| -> Vec<PlacedHit> {
            match s.hits_at_threshold(threshold).unwrap() {
                Some(Edit::ReplaceAll(hits)) => hits,
                other => panic!("{other:?}"),
            }
        };
        let times = |hits: &[PlacedHit]| hits.iter().map(|h| (h.time_s * 1000.0).round() / 1000.0).collect::<Vec<_>>();
        // The hits have mixed materials, so the new ones take the look's.
        let at_half = found(&s, 0.5);
        assert_eq!(times(&at_half), [1.0, 2.0]);
        assert!(at_half.iter().all(|h| h.material.as_deref() == Some("grass") && h.clip.is_some()), "{at_half:?}");
        assert_eq!(times(&found(&s, 0.2)), [1.0, 2.0, 3.0]);
        assert!(found(&s, 0.95).is_empty());
        // One material chosen for every hit stays on the hits found again.
        s.edit(s.swap_all_to("snow")).unwrap();
        s.edit(s.hits_at_threshold(0.2).unwrap().unwrap()).unwrap();
        assert_eq!(times(s.hits.hits()), [1.0, 2.0, 3.0]);
        assert!(s.hits.hits().iter().all(|h| h.material.as_deref() == Some("snow")));
        s.undo().unwrap();
        assert_eq!(times(s.hits.hits()), [1.0, 3.0]);
        // Without contact probabilities there is nothing to cut.
        assert!(session().hits_at_threshold(0.5).unwrap().is_none());
    }
}
