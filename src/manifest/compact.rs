//! Compaction: the folded state without the history nothing reads any more.
//!
//! The state keeps every batch ever created, so it grows with the history. Most of what a
//! finished batch carries is read by nothing once it is finished: `manifest compact` writes a
//! checkpoint of the state without it, and opening starts from that checkpoint.
//!
//! # What goes
//!
//! * a **failed** batch's files, raw pages, quarantine files and extract progress: no rule,
//!   load, replay, prune or status reads them (a retry is a new batch, a failed batch takes no
//!   action, its files lie in its own directory, which `stage prune` never enters, and
//!   `status` counts only staged and loaded batches);
//! * a **loaded** batch's load statements' handles and Snowflake's figures: the loader reads
//!   the steps of staged batches only. Each step keeps its requestId, whether it was marked
//!   definitely failed and whether it finished (its figures become `{}`), which is all the
//!   requestId rule reads ([`crate::manifest::ManifestRule::RequestIdReplaced`]);
//! * a **pruned** batch's Parquet parts and raw pages: `stage prune` deleted them, and a
//!   pruned batch is never replayed. Its quarantine files stay listed: `status` counts their
//!   rows and the status page lists them.
//!
//! # What stays
//!
//! Every batch stays, with its id, object, entity, mode, window, schema fingerprint, keys,
//! status, loaded modes, load time, row and byte totals, `replay_of`, prune record, schema
//! changes (held, accepted), audit type check and errors; and every stream's marks
//! (watermark, `staged_up_to`, `deletes_up_to`, last run, last load). So:
//! * every rule answers any later commit as it would on the full state: created-once,
//!   `replay_of` targets (staged or loaded, not pruned), keys fixed by the first staged
//!   batch, nightly load order, requestIds of every step, held schemas, prunes;
//! * a created batch keeps its progress (an extract resumes from it) and a staged batch all
//!   of it (its files and every load step, finished or not: a resumed load polls or resends
//!   them);
//! * a loaded batch read from Intacct and not pruned keeps its files and raw pages (a replay
//!   loads or rebuilds them);
//! * `status`, `plan`, `replay`, `stage prune` and the next version answer as before.
//!
//! Compaction never changes what is true, only what is remembered: the commits themselves
//! stay on the stage, and folding them from version 1 still gives the full state. Nor does it
//! touch anything the state's indexes read (status, mode, stream, created version,
//! `replay_of`, loaded modes), so they stay as they are; the checkpoint it writes is indexed
//! afresh when read, and equals the compacted state, indexes included.

use super::state::{BatchStatus, ManifestState};

/// What a compaction removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Removed {
    /// Files no longer listed (parts, raw pages, quarantine files, progress files).
    pub files: u64,
    /// Load steps that lost their handle and figures.
    pub load_steps: u64,
    /// Extract progress records dropped.
    pub progress: u64,
}

/// Drops, in place, what no rule, load, replay, prune or status reads any more (see the
/// module docs).
pub fn compact(state: &mut ManifestState) -> Removed {
    let mut removed = Removed::default();
    let count = |files: &[crate::stage::parts::StagedFile]| files.len() as u64;
    for batch in state.batches.values_mut() {
        match batch.status {
            BatchStatus::Failed => {
                removed.files +=
                    count(&batch.files) + count(&batch.raw_pages) + count(&batch.quarantine);
                batch.files = Vec::new();
                batch.raw_pages = Vec::new();
                batch.quarantine = Vec::new();
                if let Some(progress) = batch.progress.take() {
                    removed.progress += 1;
                    removed.files += count(&progress.files)
                        + count(&progress.raw_pages)
                        + count(&progress.quarantine);
                }
            }
            BatchStatus::Loaded => {
                for step in batch.load_steps.values_mut() {
                    let handle = step.statement_handle.take();
                    let figures = step.result.as_mut().filter(|r| !is_empty_object(r));
                    if let Some(figures) = figures {
                        *figures = serde_json::Value::Object(serde_json::Map::new());
                        removed.load_steps += 1;
                    } else if handle.is_some() {
                        removed.load_steps += 1;
                    }
                }
                if batch.pruned.is_some() {
                    removed.files += count(&batch.files) + count(&batch.raw_pages);
                    batch.files = Vec::new();
                    batch.raw_pages = Vec::new();
                }
            }
            BatchStatus::Created | BatchStatus::Staged => {}
        }
    }
    removed
}

fn is_empty_object(value: &serde_json::Value) -> bool {
    value.as_object().is_some_and(serde_json::Map::is_empty)
}

#[cfg(test)]
mod tests;
