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
    /// in time order), or `None` if the edit did nothing (an index out of range).
    pub fn apply(&mut self, edit: Edit) -> Option<usize> {
        let before = self.hits.clone();
        let touched = match edit {
            Edit::Move { index, time_s } => {
                let hit = self.hits.get_mut(index)?;
                hit.time_s = time_s.max(0.0);
                Some(hit.clone())
            }
            Edit::Delete { index } => {
                if index >= self.hits.len() {
                    return None;
                }
                self.hits.remove(index);
                None
            }
            Edit::Add(hit) => {
                self.hits.push(hit.clone());
                Some(hit)
            }
            Edit::SetGain { index, gain_db } => {
                let hit = self.hits.get_mut(index)?;
                hit.gain_db = gain_db;
                Some(hit.clone())
            }
            Edit::SwapClip { index, clip, material, action } => {
                let hit = self.hits.get_mut(index)?;
                hit.clip = Some(clip);
                hit.material = material;
                hit.action = action;
                Some(hit.clone())
            }
        };
        self.hits.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
        self.undo.push(before);
        self.redo.clear();
        touched.and_then(|t| self.hits.iter().position(|h| *h == t))
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
        assert_eq!(list, before);
    }
}
