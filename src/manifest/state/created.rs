//! `batch_created` and `batch_entity`: a batch comes into being.
//!
//! Rules, checked in this order:
//! * a new batch merges on the key and windows on the watermark field of its object's first
//!   staged batch ([`ManifestRule::KeysChanged`]); a replay that names no keys takes its
//!   source's, a batch of a manifest written before keys were settings takes RECORDNO and
//!   WHENMODIFIED;
//! * a batch id is created once ([`ManifestRule::CreatedTwice`]);
//! * a window does not end before it starts ([`ManifestRule::WindowOrder`]);
//! * a batch that names a source (`replay_of`) is a [`Mode::Replay`] batch, and its source is a
//!   staged or loaded batch of the same object ([`ManifestRule::UnknownBatch`]) whose files
//!   `stage prune` has not removed ([`ManifestRule::ReplayOfPruned`]);
//! * a batch's entity is named by a `batch_entity` in the commit that creates it, and only
//!   there ([`ManifestRule::EntityNamed`]). The creation reads it ahead from that commit, so
//!   the batch belongs to its stream (`OBJECT@ENTITY`, [`stream_key`]) from the start.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    BatchState, BatchStatus, ManifestRule, ManifestState, check_keys, live_batch, stream_key,
    violation,
};
use crate::error::Result;
use crate::manifest::{Action, Commit, Mode};

/// `batch_created`: a new batch in [`BatchStatus::Created`], its stream's marks made.
pub(super) fn batch_created(
    state: &mut ManifestState,
    commit: &Commit,
    action: &Action,
) -> Result<()> {
    let Action::BatchCreated {
        batch_id,
        object,
        mode,
        window_from,
        window_to,
        schema_fingerprint,
        replay_of,
        keys,
    } = action
    else {
        unreachable!("apply_action routes only batch_created here");
    };
    let keys = match (replay_of, keys) {
        // A replay merges as its source did.
        (Some(source), None) => state
            .batches
            .get(source)
            .map(|b| b.keys.clone())
            .unwrap_or_default(),
        (_, keys) => keys.clone().unwrap_or_default(),
    };
    check_keys(state, commit, object, batch_id, &keys)?;
    if state.batches.contains_key(batch_id) {
        return Err(violation(
            commit,
            ManifestRule::CreatedTwice,
            format!("batch {batch_id} created twice"),
        ));
    }
    if window_from.is_some_and(|from| from > *window_to) {
        return Err(violation(
            commit,
            ManifestRule::WindowOrder,
            format!("batch {batch_id} window ends before it starts"),
        ));
    }
    if let Some(source) = replay_of {
        if let Some(pruned) = state.batches.get(source).and_then(|b| b.pruned) {
            return Err(violation(
                commit,
                ManifestRule::ReplayOfPruned,
                format!(
                    "replay {batch_id} names {source}, whose files stage prune removed at {}",
                    pruned.at
                ),
            ));
        }
        let known = state.batches.get(source).is_some_and(|b| {
            b.object == *object && matches!(b.status, BatchStatus::Staged | BatchStatus::Loaded)
        });
        if *mode != Mode::Replay || !known {
            return Err(violation(
                commit,
                ManifestRule::UnknownBatch,
                format!(
                    "replay {batch_id} ({mode}) names {source}, which is no staged batch of {object}"
                ),
            ));
        }
    }
    // Named by a `batch_entity` of this same commit.
    let entity = commit.actions.iter().find_map(|a| match a {
        Action::BatchEntity {
            batch_id: named,
            entity,
        } if named == batch_id => Some(entity.clone()),
        _ => None,
    });
    state
        .objects
        .entry(stream_key(object, entity.as_deref()))
        .or_default();
    state.batches.insert(
        batch_id.clone(),
        BatchState {
            batch_id: batch_id.clone(),
            object: object.clone(),
            mode: *mode,
            window_from: *window_from,
            window_to: *window_to,
            schema_fingerprint: schema_fingerprint.clone(),
            status: BatchStatus::Created,
            created_version: commit.version,
            files: vec![],
            raw_pages: vec![],
            quarantine: vec![],
            rows: 0,
            deleted_rows: 0,
            bytes: 0,
            load_steps: BTreeMap::new(),
            loaded_modes: BTreeSet::new(),
            error: None,
            replay_of: replay_of.clone(),
            last_load_error: None,
            progress: None,
            keys,
            entity,
            audit_type_check: None,
            schema_changes: vec![],
            schema_held: false,
            schema_accepted: false,
            loaded_at: None,
            pruned: None,
            marks_before: None,
        },
    );
    Ok(())
}

/// `batch_entity`: changes nothing (the creation already took the entity); refused anywhere
/// but in the commit that created the batch, or naming another entity than it took.
pub(super) fn batch_entity(
    state: &mut ManifestState,
    commit: &Commit,
    action: &Action,
) -> Result<()> {
    let Action::BatchEntity {
        batch_id: id,
        entity,
    } = action
    else {
        unreachable!("apply_action routes only batch_entity here");
    };
    let batch = live_batch(&mut state.batches, commit, id)?;
    if batch.created_version != commit.version || batch.entity.as_ref() != Some(entity) {
        return Err(violation(
            commit,
            ManifestRule::EntityNamed,
            format!("batch {id}'s entity {entity} must be named in the commit that creates it"),
        ));
    }
    Ok(())
}
