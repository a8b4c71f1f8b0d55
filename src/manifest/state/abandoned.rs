//! `batch_abandoned`: `manifest abandon` gives up a batch that was never loaded (its files
//! are gone, or cannot be loaded), so the runs after it are no longer held back by it.
//!
//! Rules, checked in this order:
//! * only a created or staged batch that was never loaded is abandoned
//!   ([`ManifestRule::AbandonLoaded`]; a failed one already takes no action,
//!   [`ManifestRule::ActionAfterFailure`]);
//! * a staged nightly batch only while no later nightly batch of its stream is staged or
//!   loaded ([`ManifestRule::AbandonOrder`]): a later one's load would move the watermark past
//!   the abandoned window. Later batches are abandoned first, newest first.
//!
//! The batch becomes failed (`abandoned: <reason>`). A staged nightly batch's stream gets
//! back the `staged_up_to` and `deletes_up_to` it had before the batch was staged (see
//! `staged`), so the next nightly window starts where the abandoned one did and its delete
//! feed reads the abandoned window's deletes again. In a state folded before those marks were
//! kept, `staged_up_to` becomes the latest window end among the stream's other staged
//! nightly batches (loaded ones are behind the watermark) and `deletes_up_to` is cleared (the
//! feed then starts at the stream's first extraction: more reading, nothing skipped). The
//! watermark never moves: the abandoned batch never moved it.

use super::index::Indexes;
use super::{BatchStatus, ManifestRule, ManifestState, live_batch, violation};
use crate::error::Result;
use crate::manifest::{Action, Commit, Mode};

/// `batch_abandoned`: the batch is failed and its stream's staged marks are put back.
pub(super) fn batch_abandoned(
    state: &mut ManifestState,
    commit: &Commit,
    action: &Action,
) -> Result<()> {
    let Action::BatchAbandoned {
        batch_id: id,
        reason,
    } = action
    else {
        unreachable!("apply_action routes only batch_abandoned here");
    };
    let batch = live_batch(&mut state.batches, commit, id)?;
    if !matches!(batch.status, BatchStatus::Created | BatchStatus::Staged)
        || !batch.loaded_modes.is_empty()
    {
        return Err(violation(
            commit,
            ManifestRule::AbandonLoaded,
            format!(
                "batch {id} is {}: only a created or staged batch never loaded is abandoned",
                batch.status
            ),
        ));
    }
    let staged_nightly = batch.status == BatchStatus::Staged && batch.mode == Mode::Nightly;
    let batch = batch.clone();
    if staged_nightly {
        // The stream's nightly batches staged or loaded, from the index.
        let on_stage = state
            .index
            .nightly_on_stage
            .get(&(batch.object.clone(), batch.entity.clone()));
        if let Some(later) = Indexes::first_by_id(on_stage, batch.created_version, true)
            .map(|later| &state.batches[later])
        {
            return Err(violation(
                commit,
                ManifestRule::AbandonOrder,
                format!(
                    "batch {id} of {} may not be abandoned while the later nightly batch {} is {}: abandon that one first",
                    batch.stream(),
                    later.batch_id,
                    later.status
                ),
            ));
        }
        let (staged_up_to, deletes_up_to) = match batch.marks_before {
            Some(before) => (before.staged_up_to, before.deletes_up_to),
            // The stream's staged nightly batches are among those on the stage.
            None => (
                on_stage
                    .into_iter()
                    .flatten()
                    .map(|(_, other)| &state.batches[other])
                    .filter(|b| b.batch_id != batch.batch_id && b.status == BatchStatus::Staged)
                    .map(|b| b.window_to)
                    .max(),
                None,
            ),
        };
        let marks = state.objects.entry(batch.stream()).or_default();
        marks.staged_up_to = staged_up_to;
        marks.deletes_up_to = deletes_up_to;
    }
    let abandoned = state.batches.get_mut(id.as_str()).expect("found above");
    abandoned.status = BatchStatus::Failed;
    abandoned.error = Some(format!("abandoned: {reason}"));
    Ok(())
}
