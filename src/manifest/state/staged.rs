//! `batch_progress` and `batch_staged`: an extract writes a batch's files to the stage.
//!
//! Rules, checked in this order:
//! * progress is recorded only while the batch is being extracted
//!   ([`ManifestRule::StagedOnce`]), and each record keeps every file the one before it listed
//!   ([`ManifestRule::StagedTotals`]): a resumed extract never forgets a part it wrote;
//! * a batch is staged with its object's key and watermark field
//!   ([`ManifestRule::KeysChanged`], checked again here because two batches may be created
//!   with different keys before either is staged);
//! * a batch is staged once, from created ([`ManifestRule::StagedOnce`]);
//! * its row and byte totals equal the sums over its files, it keeps every file its progress
//!   recorded, and it has no more tombstones than rows ([`ManifestRule::StagedTotals`]);
//! * only a nightly batch moves its stream's `staged_up_to`, and never beyond its window
//!   ([`ManifestRule::StagedMark`]). Both `staged_up_to` and `deletes_up_to` only move
//!   forward; `deletes_up_to` is held to the batch's window rather than refused.
//!
//! Staging clears the batch's progress: its files are the batch's now. A nightly batch keeps
//! its stream's staged marks as they were before it (`marks_before`), which abandoning it
//! puts back (`abandoned`).
//!
//! `audit_type_checked` records AUDITHISTORY's answer on a batch still being extracted
//! ([`ManifestRule::StagedOnce`] otherwise): it is written with the batch's `batch_staged`.

use super::{
    BatchStatus, ExtractProgress, ManifestRule, ManifestState, check_keys, live_batch, violation,
};
use crate::error::Result;
use crate::manifest::{Action, Commit, Mode};

/// `batch_progress`: the files written so far and the read position after them.
pub(super) fn batch_progress(
    state: &mut ManifestState,
    commit: &Commit,
    action: &Action,
) -> Result<()> {
    let Action::BatchProgress {
        batch_id: id,
        files,
        raw_pages,
        quarantine,
        cursor,
    } = action
    else {
        unreachable!("apply_action routes only batch_progress here");
    };
    let batch = live_batch(&mut state.batches, commit, id)?;
    if batch.status != BatchStatus::Created {
        return Err(violation(
            commit,
            ManifestRule::StagedOnce,
            format!(
                "batch {id} is {}: progress is for batches being extracted",
                batch.status
            ),
        ));
    }
    let before = batch.progress.as_ref().map_or(0, |p| p.files.len());
    let keeps_earlier = batch
        .progress
        .as_ref()
        .is_none_or(|p| files.starts_with(&p.files));
    if files.len() < before || !keeps_earlier {
        return Err(violation(
            commit,
            ManifestRule::StagedTotals,
            format!("batch {id} progress drops files it recorded before"),
        ));
    }
    batch.progress = Some(ExtractProgress {
        files: files.clone(),
        raw_pages: raw_pages.clone(),
        quarantine: quarantine.clone(),
        cursor: cursor.clone(),
    });
    Ok(())
}

/// `audit_type_checked`: AUDITHISTORY's answer about the batch's `OBJECTTYPE`, on a batch
/// being extracted.
pub(super) fn audit_type_checked(
    state: &mut ManifestState,
    commit: &Commit,
    action: &Action,
) -> Result<()> {
    let Action::AuditTypeChecked {
        batch_id: id,
        object_type,
        since,
        seen,
    } = action
    else {
        unreachable!("apply_action routes only audit_type_checked here");
    };
    let batch = live_batch(&mut state.batches, commit, id)?;
    if batch.status != BatchStatus::Created {
        return Err(violation(
            commit,
            ManifestRule::StagedOnce,
            format!(
                "batch {id} is {}: an audit type check is recorded while it is extracted",
                batch.status
            ),
        ));
    }
    batch.audit_type_check = Some(super::AuditTypeCheck {
        object_type: object_type.clone(),
        since: *since,
        seen: *seen,
    });
    Ok(())
}

/// `batch_staged`: every file of the batch is on the stage; its stream's marks move.
pub(super) fn batch_staged(
    state: &mut ManifestState,
    commit: &Commit,
    action: &Action,
) -> Result<()> {
    let Action::BatchStaged {
        batch_id: id,
        files,
        raw_pages,
        quarantine,
        rows,
        deleted_rows,
        bytes,
        staged_up_to,
        deletes_up_to,
    } = action
    else {
        unreachable!("apply_action routes only batch_staged here");
    };
    if let Some(batch) = state.batches.get(id)
        && batch.status == BatchStatus::Created
    {
        check_keys(state, commit, &batch.object, id, &batch.keys)?;
    }
    let batch = live_batch(&mut state.batches, commit, id)?;
    if batch.status != BatchStatus::Created {
        return Err(violation(
            commit,
            ManifestRule::StagedOnce,
            format!("batch {id} is {}, not created", batch.status),
        ));
    }
    let sum_rows: u64 = files.iter().map(|f| f.rows).sum();
    let sum_bytes: u64 = files.iter().map(|f| f.bytes).sum();
    if sum_rows != *rows || sum_bytes != *bytes {
        return Err(violation(
            commit,
            ManifestRule::StagedTotals,
            format!(
                "batch {id} totals ({rows} rows, {bytes} bytes) differ from its files ({sum_rows}, {sum_bytes})"
            ),
        ));
    }
    if let Some(progress) = &batch.progress
        && !files.starts_with(&progress.files)
    {
        return Err(violation(
            commit,
            ManifestRule::StagedTotals,
            format!("batch {id} is staged without the files its progress recorded"),
        ));
    }
    if deleted_rows > rows {
        return Err(violation(
            commit,
            ManifestRule::StagedTotals,
            format!("batch {id} has {deleted_rows} deleted rows but only {rows} rows"),
        ));
    }
    if let Some(mark) = staged_up_to
        && (batch.mode != Mode::Nightly || *mark > batch.window_to)
    {
        return Err(violation(
            commit,
            ManifestRule::StagedMark,
            format!("batch {id} may not move staged_up_to to {mark}"),
        ));
    }
    let stream = batch.stream();
    let before = state.objects.get(&stream).cloned().unwrap_or_default();
    let batch = state
        .batches
        .get_mut(id.as_str())
        .expect("checked live above");
    if batch.mode == Mode::Nightly {
        batch.marks_before = Some(super::MarksBefore {
            staged_up_to: before.staged_up_to,
            deletes_up_to: before.deletes_up_to,
        });
    }
    batch.status = BatchStatus::Staged;
    batch.progress = None;
    batch.files = files.clone();
    batch.raw_pages = raw_pages.clone();
    batch.quarantine = quarantine.clone();
    batch.rows = *rows;
    batch.deleted_rows = *deleted_rows;
    batch.bytes = *bytes;
    let stream = batch.stream();
    if let Some(mark) = staged_up_to {
        let object = state.objects.entry(stream.clone()).or_default();
        object.staged_up_to = object.staged_up_to.max(Some(*mark));
    }
    if let Some(mark) = deletes_up_to {
        let object = state.objects.entry(stream.clone()).or_default();
        object.deletes_up_to = object.deletes_up_to.max(Some((*mark).min(batch.window_to)));
    }
    Ok(())
}
