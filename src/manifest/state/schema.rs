//! `schema_changes` and `schema_accepted`: what a load changes in its table, and the
//! acceptance a frozen object's change waits for.
//!
//! Rules:
//! * both name a staged batch ([`ManifestRule::NotStaged`]; a loaded one changes nothing
//!   more);
//! * `schema_changes` with `held` marks the batch held; a later `schema_changes` that applies
//!   changes (not held) to a held batch needs its acceptance first
//!   ([`ManifestRule::SchemaHeld`]), as does its `batch_loaded` (in `loaded`);
//! * only a held batch is accepted ([`ManifestRule::SchemaNotHeld`]).
//!
//! The batch keeps every change recorded for it, one per (table, column), the newest last:
//! a load resumed after a crash part-way through its DDL records only what is left to change,
//! and the earlier record stays.

use super::{BatchStatus, ManifestRule, ManifestState, live_batch, violation};
use crate::error::Result;
use crate::manifest::{Action, Commit};

/// `schema_changes`: the batch's recorded changes, and whether they are held.
pub(super) fn schema_changes(
    state: &mut ManifestState,
    commit: &Commit,
    action: &Action,
) -> Result<()> {
    let Action::SchemaChanges {
        batch_id: id,
        changes,
        held,
    } = action
    else {
        unreachable!("apply_action routes only schema_changes here");
    };
    let batch = live_batch(&mut state.batches, commit, id)?;
    if batch.status != BatchStatus::Staged {
        return Err(violation(
            commit,
            ManifestRule::NotStaged,
            format!("batch {id} is {}, not staged", batch.status),
        ));
    }
    if !held && batch.schema_held && !batch.schema_accepted {
        return Err(violation(
            commit,
            ManifestRule::SchemaHeld,
            format!("batch {id}'s schema changes are held and were not accepted"),
        ));
    }
    for change in changes {
        batch
            .schema_changes
            .retain(|c| (&c.table, &c.column) != (&change.table, &change.column));
        batch.schema_changes.push(change.clone());
    }
    if *held {
        batch.schema_held = true;
    }
    Ok(())
}

/// `schema_accepted`: the held batch may change its table.
pub(super) fn schema_accepted(
    state: &mut ManifestState,
    commit: &Commit,
    action: &Action,
) -> Result<()> {
    let Action::SchemaAccepted { batch_id: id } = action else {
        unreachable!("apply_action routes only schema_accepted here");
    };
    let batch = live_batch(&mut state.batches, commit, id)?;
    if batch.status != BatchStatus::Staged || !batch.schema_held {
        return Err(violation(
            commit,
            ManifestRule::SchemaNotHeld,
            format!(
                "batch {id} is {} and has no schema change waiting for acceptance",
                batch.status
            ),
        ));
    }
    batch.schema_accepted = true;
    Ok(())
}
