//! Applying a commit in place, with what it takes to take it back.
//!
//! The writer checks a candidate commit by applying it to the live state: cloning the state
//! for that would cost the size of the whole history on every commit. Instead the entries a
//! commit can change are saved first, and put back when a rule refuses the commit or when its
//! write does not land (another writer took the version, or the stage failed). The cost is
//! the size of the commit and of the batches and streams it names, never of the history.
//!
//! What a commit can change: the version, the newest lock generation, the batches its actions name (an action changes
//! only its own batch) and the streams of those batches (`batch_created` makes its stream's
//! marks, staging and loading move them, every action dates them). A batch created by the
//! commit has its stream from the commit's own `batch_entity`, as `created` reads it.
//!
//! The indexes (see `index`) hold entries that are functions of one batch each: putting a
//! batch back also puts back its entries (those of the batch as it is now give way to those of
//! the batch as it was), so after `undo` the indexes are again the ones the batches make.

use std::collections::BTreeMap;

use super::index::Facts;
use super::{BatchState, ManifestState, ObjectState, apply_in_place, stream_key};
use crate::error::Result;
use crate::manifest::{Action, Commit};

/// The entries of a state as they were before one commit was applied to it.
#[derive(Debug)]
#[must_use = "a commit whose write fails must be taken back with `undo`"]
pub(crate) struct Undo {
    version: u64,
    /// The newest run lock generation seen.
    generation: u64,
    /// Each named batch as it was (`None`: it did not exist).
    batches: BTreeMap<String, Option<BatchState>>,
    /// Each stream those batches move, as it was (`None`: it did not exist).
    objects: BTreeMap<String, Option<ObjectState>>,
}

impl Undo {
    /// Saves what `commit` can change in `state`.
    fn save(state: &ManifestState, commit: &Commit) -> Undo {
        let mut undo = Undo {
            version: state.version,
            generation: state.generation,
            batches: BTreeMap::new(),
            objects: BTreeMap::new(),
        };
        for action in &commit.actions {
            let id = action.batch_id();
            if !undo.batches.contains_key(id) {
                let before = state.batches.get(id).cloned();
                if let Some(batch) = &before {
                    undo.save_stream(state, batch.stream());
                }
                undo.batches.insert(id.to_owned(), before);
            }
            if let Action::BatchCreated { object, .. } = action {
                let entity = commit.actions.iter().find_map(|a| match a {
                    Action::BatchEntity {
                        batch_id: named,
                        entity,
                    } if named == id => Some(entity.as_str()),
                    _ => None,
                });
                undo.save_stream(state, stream_key(object, entity));
            }
        }
        undo
    }

    fn save_stream(&mut self, state: &ManifestState, stream: String) {
        if let std::collections::btree_map::Entry::Vacant(entry) = self.objects.entry(stream) {
            let before = state.objects.get(entry.key()).cloned();
            entry.insert(before);
        }
    }

    /// Puts back what the commit changed: `state` is as it was before [`apply_undoable`].
    pub(crate) fn undo(self, state: &mut ManifestState) {
        state.version = self.version;
        state.generation = self.generation;
        for (id, before) in self.batches {
            // Entries of the batch as it is now give way to those it had before.
            let now = state.batches.get(&id).map(Facts::of);
            state
                .index
                .replace(now.as_ref(), before.as_ref().map(Facts::of).as_ref());
            match before {
                Some(batch) => state.batches.insert(id, batch),
                None => state.batches.remove(&id),
            };
        }
        for (stream, before) in self.objects {
            match before {
                Some(marks) => state.objects.insert(stream, marks),
                None => state.objects.remove(&stream),
            };
        }
    }
}

/// Applies `commit` to `state` in place, under the same rules as [`super::apply`]. A refused
/// commit leaves `state` as it was; an accepted one returns the [`Undo`] that takes it back.
pub(crate) fn apply_undoable(state: &mut ManifestState, commit: &Commit) -> Result<Undo> {
    let undo = Undo::save(state, commit);
    match apply_in_place(state, commit) {
        Ok(()) => Ok(undo),
        Err(error) => {
            undo.undo(state);
            Err(error)
        }
    }
}
