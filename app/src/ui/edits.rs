//! The hit list being edited, with undo and redo: every change is an [`Edit`], applied to a copy
//! of the list kept for undo, so any sequence of edits can be walked back and forth.

use foley_engine::synthesis::PlacedHit;

/// One change to the hit list.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// Moves hit `index` to `time_s`.
    Move {
        index: usize,
        time_s: f64,
    },
    Delete {
        index: usize,
    },
    Add(PlacedHit),
    SetGain {
        index: usize,
        gain_db: f32,
    },
    /// Puts another clip on hit `index`.
    SwapClip {
        index: usize,
        clip: String,
        material: Option<String>,
        action: Option<String>,
    },
    /// Several edits, in order, as one: a single undo walks them all back.
    Batch(Vec<Edit>),
    /// Every hit replaced by these (the hits found again at another contact threshold).
    ReplaceAll(Vec<PlacedHit>),
}

/// The hits, in time order, and the history of edits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HitList {
    hits: Vec<PlacedHit>,
    undo: Vec<Vec<PlacedHit>>,
    redo: Vec<Vec<PlacedHit>>,
}

impl HitList {
    /// A fresh list with no history.
    #[must_use]
    pub fn new(mut hits: Vec<PlacedHit>) -> Self {
        hits.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
        Self { hits, undo: Vec::new(), redo: Vec::new() }
    }

    #[must_use]
    pub fn hits(&self) -> &[PlacedHit] {
        &self.hits
    }

    /// Applies `edit`; returns the index the edited or added hit has afterwards (the list stays
    /// in time order), or `None` if the edit did nothing (an index out of range) or touched no
    /// single hit (a delete, a batch). An edit that did nothing leaves no history.
    pub fn apply(&mut self, edit: Edit) -> Option<usize> {
        let before = self.hits.clone();
        let touched = self.apply_one(edit)?;
        self.hits.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
        self.undo.push(before);
        self.redo.clear();
        touched.and_then(|t| self.hits.iter().position(|h| *h == t))
    }

    /// `None` if the edit did nothing; else the hit it leaves edited or added, if one.
    fn apply_one(&mut self, edit: Edit) -> Option<Option<PlacedHit>> {
        match edit {
            Edit::Move { index, time_s } => {
                let hit = self.hits.get_mut(index)?;
                hit.time_s = time_s.max(0.0);
                Some(Some(hit.clone()))
            }
            Edit::Delete { index } => {
                if index >= self.hits.len() {
                    return None;
                }
                self.hits.remove(index);
                Some(None)
            }
            Edit::Add(hit) => {
                self.hits.push(hit.clone());
                Some(Some(hit))
            }
            Edit::SetGain { index, gain_db } => {
                let hit = self.hits.get_mut(index)?;
                hit.gain_db = gain_db;
                Some(Some(hit.clone()))
            }
            Edit::SwapClip { index, clip, material, action } => {
                let hit = self.hits.get_mut(index)?;
                hit.clip = Some(clip);
                hit.material = material;
                hit.action = action;
                Some(Some(hit.clone()))
            }
            Edit::Batch(edits) => {
                let mut any = false;
                for edit in edits {
                    any |= self.apply_one(edit).is_some();
                }
                any.then_some(None)
            }
            Edit::ReplaceAll(mut hits) => {
                hits.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
                if hits == self.hits {
                    return None;
                }
                self.hits = hits;
                Some(None)
            }
        }
    }

    /// Walks one edit back; `false` when there is none.
    pub fn undo(&mut self) -> bool {
        let Some(previous) = self.undo.pop() else { return false };
        self.redo.push(std::mem::replace(&mut self.hits, previous));
        true
    }

    /// Walks one undone edit forward again; `false` when there is none.
    pub fn redo(&mut self) -> bool {
        let Some(next) = self.redo.pop() else { return false };
        self.undo.push(std::mem::replace(&mut self.hits, next));
        true
    }

    #[must_use]
    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    #[must_use]
    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(t: f64) -> PlacedHit {
        PlacedHit {
            time_s: t,
            material: Some("wood".into()),
            action: Some("hit".into()),
            strength: 1.0,
            clip: Some(format!("c@{t}")),
            gain_db: 0.0,
            x: None,
        }
    }

    #[test]
    fn edits_keep_time_order_and_undo_redo_walk_the_history() {
        let mut list = HitList::new(vec![hit(2.0), hit(1.0), hit(3.0)]);
        assert_eq!(list.hits().iter().map(|h| h.time_s).collect::<Vec<_>>(), [1.0, 2.0, 3.0]);
        // Moving the first hit past the others re-sorts and reports where it went.
        assert_eq!(list.apply(Edit::Move { index: 0, time_s: 2.5 }), Some(1));
        assert_eq!(list.hits().iter().map(|h| h.time_s).collect::<Vec<_>>(), [2.0, 2.5, 3.0]);
        assert_eq!(list.apply(Edit::SetGain { index: 2, gain_db: -6.0 }), Some(2));
        assert_eq!(list.apply(Edit::Delete { index: 0 }), None);
        assert_eq!(list.apply(Edit::Add(hit(0.5))), Some(0));
        assert_eq!(list.hits().len(), 3);
        let edited = list.hits().to_vec();
        for _ in 0..4 {
            assert!(list.undo());
        }
        assert!(!list.undo());
        assert_eq!(list.hits().iter().map(|h| h.time_s).collect::<Vec<_>>(), [1.0, 2.0, 3.0]);
        for _ in 0..4 {
            assert!(list.redo());
        }
        assert!(!list.redo());
        assert_eq!(list.hits(), edited.as_slice());
        // A new edit after an undo drops what could have been redone.
        assert!(list.undo());
        list.apply(Edit::SwapClip { index: 0, clip: "other".into(), material: Some("metal".into()), action: None });
        assert!(!list.can_redo());
        // Out-of-range edits change nothing and leave no history.
        let before = list.clone();
        assert_eq!(list.apply(Edit::Delete { index: 99 }), None);
        assert_eq!(list.apply(Edit::Batch(vec![Edit::SetGain { index: 99, gain_db: 0.0 }])), None);
        assert_eq!(list, before);
    }

    #[test]
    fn replacing_every_hit_is_one_edit_and_the_same_hits_leave_no_history() {
        let mut list = HitList::new(vec![hit(1.0), hit(2.0)]);
        let before = list.clone();
        // The same hits, in another order: nothing changes.
        assert_eq!(list.apply(Edit::ReplaceAll(vec![hit(2.0), hit(1.0)])), None);
        assert_eq!(list, before);
        assert_eq!(list.apply(Edit::ReplaceAll(vec![hit(3.0), hit(0.5), hit(1.0)])), None);
        assert_eq!(list.hits().iter().map(|h| h.time_s).collect::<Vec<_>>(), [0.5, 1.0, 3.0]);
        assert!(list.undo());
        assert_eq!(list.hits(), before.hits());
        assert!(!list.can_undo());
    }

    #[test]
    fn a_batch_is_one_edit_to_undo_and_redo() {
        let mut list = HitList::new(vec![hit(1.0), hit(2.0), hit(3.0)]);
        let swap = |index| Edit::SwapClip {
            index,
            clip: format!("metal-{index}"),
            material: Some("metal".into()),
            action: Some("hit".into()),
        };
        assert_eq!(list.apply(Edit::Batch(vec![swap(0), swap(1), swap(2)])), None);
        let swapped = list.hits().to_vec();
        assert!(swapped.iter().all(|h| h.material.as_deref() == Some("metal")));
        assert_eq!(swapped[2].clip.as_deref(), Some("metal-2"));
        assert!(list.undo());
        assert!(!list.undo(), "the batch left more than one step of history");
        assert!(list.hits().iter().all(|h| h.material.as_deref() == Some("wood")));
        assert!(list.redo());
        assert_eq!(list.hits(), swapped.as_slice());
    }
}
