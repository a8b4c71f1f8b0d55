//! Derived indexes over the batches: what the rules that read other batches look up, so that
//! a commit's check costs O(log n) in the number of batches instead of a walk over all of them.
//!
//! Every entry is a pure function of ONE batch ([`Facts::of`]), and holds that batch's id:
//! the indexes of a state are the union of its batches' entries, so entries of two batches
//! never collide and an index can be kept one batch at a time. Whoever changes a batch
//! replaces the batch's entries before the change with its entries after it
//! ([`Indexes::replace`]): the fold does so for the batch each action names, and `undo` for
//! each batch it puts back. Sets that become empty are removed, so the kept indexes equal the
//! ones [`Indexes::build`] makes from the batches alone (`reindex`).
//!
//! The indexes are never written: a state read from a checkpoint is indexed once as it is
//! read (see [`super::ManifestState`]'s deserialisation), and compaction changes none of the
//! fields an entry reads (status, mode, created version, stream, `replay_of`, loaded modes).

use std::collections::{BTreeMap, BTreeSet};

use super::{BatchState, BatchStatus};
use crate::manifest::Mode;

/// A stream as the rules compare it: object and entity.
type Stream = (String, Option<String>);

/// A batch in creation order: (created version, id).
type Ordered = (u64, String);

/// The indexes of a state (see the module docs).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Indexes {
    /// Per stream: nightly batches staged and not loaded as nightly (the load order rule,
    /// `loaded`).
    pub(crate) unloaded_nightly: BTreeMap<Stream, BTreeSet<Ordered>>,
    /// Per stream: nightly batches staged or loaded, or loaded in some mode (the abandon
    /// order rule, `abandoned`).
    pub(crate) nightly_on_stage: BTreeMap<Stream, BTreeSet<Ordered>>,
    /// Per source batch: its replays still created or staged (the prune rule, `pruned`).
    pub(crate) open_replays: BTreeMap<String, BTreeSet<String>>,
    /// Per object: its staged or loaded batches, every entity's (the keys rule).
    pub(crate) keyed: BTreeMap<String, BTreeSet<Ordered>>,
}

/// The entries one batch has in the indexes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Facts {
    id: String,
    object: String,
    entity: Option<String>,
    created_version: u64,
    unloaded_nightly: bool,
    nightly_on_stage: bool,
    open_replay_of: Option<String>,
    keyed: bool,
}

impl Facts {
    /// What `batch` puts in the indexes.
    pub(crate) fn of(batch: &BatchState) -> Facts {
        let nightly = batch.mode == Mode::Nightly;
        let staged_or_loaded = matches!(batch.status, BatchStatus::Staged | BatchStatus::Loaded);
        Facts {
            id: batch.batch_id.clone(),
            object: batch.object.clone(),
            entity: batch.entity.clone(),
            created_version: batch.created_version,
            unloaded_nightly: nightly
                && batch.status == BatchStatus::Staged
                && !batch.loaded_modes.contains(&Mode::Nightly),
            nightly_on_stage: nightly && (staged_or_loaded || !batch.loaded_modes.is_empty()),
            open_replay_of: batch
                .replay_of
                .clone()
                .filter(|_| matches!(batch.status, BatchStatus::Created | BatchStatus::Staged)),
            keyed: staged_or_loaded,
        }
    }

    fn stream(&self) -> Stream {
        (self.object.clone(), self.entity.clone())
    }

    fn ordered(&self) -> Ordered {
        (self.created_version, self.id.clone())
    }
}

impl Indexes {
    /// The indexes of `batches`, made from nothing else.
    pub(crate) fn build<'a>(batches: impl IntoIterator<Item = &'a BatchState>) -> Indexes {
        let mut indexes = Indexes::default();
        for batch in batches {
            indexes.insert(&Facts::of(batch));
        }
        indexes
    }

    /// One batch changed from `before` to `after` (`None`: it does not exist).
    pub(crate) fn replace(&mut self, before: Option<&Facts>, after: Option<&Facts>) {
        if before == after {
            return;
        }
        if let Some(before) = before {
            self.remove(before);
        }
        if let Some(after) = after {
            self.insert(after);
        }
    }

    fn insert(&mut self, facts: &Facts) {
        if facts.unloaded_nightly {
            let set = self.unloaded_nightly.entry(facts.stream()).or_default();
            set.insert(facts.ordered());
        }
        if facts.nightly_on_stage {
            let set = self.nightly_on_stage.entry(facts.stream()).or_default();
            set.insert(facts.ordered());
        }
        if let Some(source) = &facts.open_replay_of {
            let set = self.open_replays.entry(source.clone()).or_default();
            set.insert(facts.id.clone());
        }
        if facts.keyed {
            let set = self.keyed.entry(facts.object.clone()).or_default();
            set.insert(facts.ordered());
        }
    }

    fn remove(&mut self, facts: &Facts) {
        if facts.unloaded_nightly {
            remove_from(
                &mut self.unloaded_nightly,
                &facts.stream(),
                &facts.ordered(),
            );
        }
        if facts.nightly_on_stage {
            remove_from(
                &mut self.nightly_on_stage,
                &facts.stream(),
                &facts.ordered(),
            );
        }
        if let Some(source) = &facts.open_replay_of {
            remove_from(&mut self.open_replays, source, &facts.id);
        }
        if facts.keyed {
            remove_from(&mut self.keyed, &facts.object, &facts.ordered());
        }
    }

    /// The ids in `set` (of one stream) created strictly before or after `created_version`,
    /// as the rules name them: the first by id. Finding that there is none costs O(log n);
    /// naming one, the count of those entries.
    pub(crate) fn first_by_id(
        set: Option<&BTreeSet<Ordered>>,
        created_version: u64,
        later: bool,
    ) -> Option<&str> {
        let set = set?;
        let pivot = (created_version, String::new());
        let found: Box<dyn Iterator<Item = &Ordered>> = if later {
            Box::new(
                set.range(pivot..)
                    .filter(move |(v, _)| *v > created_version),
            )
        } else {
            Box::new(set.range(..pivot))
        };
        found.map(|(_, id)| id.as_str()).min()
    }
}

fn remove_from<K, T>(index: &mut BTreeMap<K, BTreeSet<T>>, key: &K, entry: &T)
where
    K: Ord,
    T: Ord,
{
    if let Some(set) = index.get_mut(key) {
        set.remove(entry);
        if set.is_empty() {
            index.remove(key);
        }
    }
}

#[cfg(test)]
mod tests;
