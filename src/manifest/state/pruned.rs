//! `batch_pruned`: `stage prune` removes a loaded batch's files from the stage.
//!
//! Rules, checked in this order:
//! * only a loaded batch read from Intacct (not a replay, whose files are its source's) is
//!   pruned, and only once ([`ManifestRule::PruneNotLoaded`]);
//! * never while a replay of it is not loaded yet: that replay's load copies its files
//!   ([`ManifestRule::PruneInUse`]).
//!
//! The batch stays loaded: its rows are in Snowflake and its stream's marks do not move. A
//! new replay of it is refused where replays are created ([`ManifestRule::ReplayOfPruned`],
//! in `created`).

use super::{BatchStatus, ManifestRule, ManifestState, Pruned, live_batch, violation};
use crate::error::Result;
use crate::manifest::{Action, Commit};

/// `batch_pruned`: the batch's files are gone from the stage from this commit on.
pub(super) fn batch_pruned(
    state: &mut ManifestState,
    commit: &Commit,
    action: &Action,
) -> Result<()> {
    let Action::BatchPruned {
        batch_id: id,
        horizon,
    } = action
    else {
        unreachable!("apply_action routes only batch_pruned here");
    };
    // Checked before the batch is borrowed mutably: it reads the other batches, in the index
    // of replays still created or staged (the first by id).
    if let Some(replay) = state
        .index
        .open_replays
        .get(id)
        .and_then(|replays| replays.first())
        .map(|replay| &state.batches[replay])
    {
        return Err(violation(
            commit,
            ManifestRule::PruneInUse,
            format!(
                "batch {id} may not be pruned: its replay {} is {} and loads its files",
                replay.batch_id, replay.status
            ),
        ));
    }
    let batch = live_batch(&mut state.batches, commit, id)?;
    if batch.status != BatchStatus::Loaded || batch.replay_of.is_some() || batch.pruned.is_some() {
        return Err(violation(
            commit,
            ManifestRule::PruneNotLoaded,
            format!(
                "batch {id} ({}{}{}) may not be pruned: only a loaded batch read from Intacct is, once",
                batch.status,
                if batch.replay_of.is_some() {
                    ", a replay"
                } else {
                    ""
                },
                if batch.pruned.is_some() {
                    ", already pruned"
                } else {
                    ""
                },
            ),
        ));
    }
    batch.pruned = Some(Pruned {
        at: commit.written_at,
        horizon: *horizon,
    });
    Ok(())
}
