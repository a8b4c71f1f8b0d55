//! `batch_failed`: a batch is given up; a retry is a new batch.
//!
//! Rules:
//! * a loaded batch cannot fail ([`ManifestRule::FailedAfterLoad`]);
//! * a staged nightly batch cannot fail ([`ManifestRule::StagedWindowDropped`]): its window is
//!   already marked staged, so dropping it would lose the window; it must be loaded (a load
//!   failure is a `load_failed`, which leaves it staged);
//! * after a batch failed, no action may name it ([`ManifestRule::ActionAfterFailure`],
//!   enforced for every action by [`super::live_batch`]).

use super::{BatchStatus, ManifestRule, ManifestState, live_batch, violation};
use crate::error::Result;
use crate::manifest::{Action, Commit, Mode};

/// `batch_failed`: the batch's status and why.
pub(super) fn batch_failed(
    state: &mut ManifestState,
    commit: &Commit,
    action: &Action,
) -> Result<()> {
    let Action::BatchFailed {
        batch_id: id,
        error,
    } = action
    else {
        unreachable!("apply_action routes only batch_failed here");
    };
    let batch = live_batch(&mut state.batches, commit, id)?;
    if batch.status == BatchStatus::Loaded {
        return Err(violation(
            commit,
            ManifestRule::FailedAfterLoad,
            format!("batch {id} is already loaded"),
        ));
    }
    if batch.status == BatchStatus::Staged && batch.mode == Mode::Nightly {
        return Err(violation(
            commit,
            ManifestRule::StagedWindowDropped,
            format!(
                "batch {id} is staged and its window is marked staged: it must be loaded, not failed"
            ),
        ));
    }
    batch.status = BatchStatus::Failed;
    batch.error = Some(error.clone());
    Ok(())
}
