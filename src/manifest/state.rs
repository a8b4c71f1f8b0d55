//! The pure fold of manifest commits into state, and the invariants it enforces.
//!
//! [`apply`] is the one place the manifest's rules live: the writer calls it on a candidate
//! commit before writing (so an invalid commit is never written) and the reader calls it on
//! every commit it reads (so a manifest that breaks a rule never opens silently).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::{Action, Commit, Mode};
use crate::error::{Error, Result};
use crate::stage::parts::StagedFile;

/// Where a batch is.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum BatchStatus {
    /// Created; files may be partly written.
    Created,
    /// Every file is on the stage.
    Staged,
    /// Loaded into Snowflake (in at least one mode).
    Loaded,
    /// Given up.
    Failed,
}

impl std::fmt::Display for BatchStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BatchStatus::Created => "created",
            BatchStatus::Staged => "staged",
            BatchStatus::Loaded => "loaded",
            BatchStatus::Failed => "failed",
        })
    }
}

/// One load statement of a batch.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LoadStep {
    /// The requestId it is sent with.
    pub request_id: String,
    /// Snowflake's statementHandle, once finished.
    pub statement_handle: Option<String>,
    /// Snowflake's figures, once finished.
    pub result: Option<serde_json::Value>,
}

/// Everything the manifest knows about a batch.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BatchState {
    /// The batch id.
    pub batch_id: String,
    /// The object.
    pub object: String,
    /// Why it exists.
    pub mode: Mode,
    /// Window start (`None`: everything).
    pub window_from: Option<DateTime<Utc>>,
    /// Window end.
    pub window_to: DateTime<Utc>,
    /// Schema fingerprint of its parts.
    pub schema_fingerprint: String,
    /// Where it is.
    pub status: BatchStatus,
    /// The version that created it.
    pub created_version: u64,
    /// Parquet parts (once staged).
    pub files: Vec<StagedFile>,
    /// Raw pages (once staged).
    pub raw_pages: Vec<StagedFile>,
    /// Quarantine files (once staged).
    pub quarantine: Vec<StagedFile>,
    /// Rows in the parts, tombstones included.
    pub rows: u64,
    /// Of `rows`, tombstones of the delete feed (0 in states written before the feed).
    #[serde(default)]
    pub deleted_rows: u64,
    /// Bytes in the parts.
    pub bytes: u64,
    /// Load statements by step.
    pub load_steps: BTreeMap<String, LoadStep>,
    /// Modes it has been loaded in.
    pub loaded_modes: BTreeSet<Mode>,
    /// Why it failed.
    pub error: Option<String>,
}

/// Per-object marks.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ObjectState {
    /// Everything changed before this is in Snowflake (moved only by a nightly load).
    pub watermark: Option<DateTime<Utc>>,
    /// Everything changed before this is staged (moved by a nightly staged batch).
    pub staged_up_to: Option<DateTime<Utc>>,
    /// Every delete before this is staged (moved by a staged batch whose delete feed read to
    /// the end; `None`: the feed has no mark yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletes_up_to: Option<DateTime<Utc>>,
}

/// The folded manifest.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ManifestState {
    /// The last version applied (0: empty).
    pub version: u64,
    /// Marks per object.
    pub objects: BTreeMap<String, ObjectState>,
    /// Every batch by id.
    pub batches: BTreeMap<String, BatchState>,
}

impl ManifestState {
    /// Batches of one object, oldest first.
    pub fn batches_of<'a>(&'a self, object: &'a str) -> impl Iterator<Item = &'a BatchState> {
        let mut found: Vec<&BatchState> = self
            .batches
            .values()
            .filter(|b| b.object == object)
            .collect();
        found.sort_by_key(|b| b.created_version);
        found.into_iter()
    }
}

/// Folds commits (in version order) onto a checkpoint (or the empty state).
pub fn fold(checkpoint: Option<ManifestState>, commits: &[Commit]) -> Result<ManifestState> {
    let mut state = checkpoint.unwrap_or_default();
    for commit in commits {
        apply_in_place(&mut state, commit)?;
    }
    Ok(state)
}

/// The state after one commit, or why the commit is not allowed.
pub fn apply(state: &ManifestState, commit: &Commit) -> Result<ManifestState> {
    let mut next = state.clone();
    apply_in_place(&mut next, commit)?;
    Ok(next)
}

/// Applies one commit to `state`; on error `state` is partly changed and must be dropped.
pub(crate) fn apply_in_place(state: &mut ManifestState, commit: &Commit) -> Result<()> {
    if commit.version != state.version + 1 {
        return Err(violation(
            commit,
            format!("expected version {}", state.version + 1),
        ));
    }
    state.version = commit.version;
    for action in &commit.actions {
        apply_action(state, commit, action)?;
    }
    Ok(())
}

fn apply_action(state: &mut ManifestState, commit: &Commit, action: &Action) -> Result<()> {
    let id = action.batch_id();
    if let Action::BatchCreated {
        batch_id,
        object,
        mode,
        window_from,
        window_to,
        schema_fingerprint,
    } = action
    {
        if state.batches.contains_key(batch_id) {
            return Err(violation(commit, format!("batch {batch_id} created twice")));
        }
        if window_from.is_some_and(|from| from > *window_to) {
            return Err(violation(
                commit,
                format!("batch {batch_id} window ends before it starts"),
            ));
        }
        state.objects.entry(object.clone()).or_default();
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
            },
        );
        return Ok(());
    }
    let Some(batch) = state.batches.get_mut(id) else {
        return Err(violation(commit, format!("batch {id} was never created")));
    };
    if batch.status == BatchStatus::Failed {
        return Err(violation(commit, format!("batch {id} already failed")));
    }
    match action {
        Action::BatchCreated { .. } => unreachable!("handled above"),
        Action::BatchStaged {
            files,
            raw_pages,
            quarantine,
            rows,
            deleted_rows,
            bytes,
            staged_up_to,
            deletes_up_to,
            ..
        } => {
            if batch.status != BatchStatus::Created {
                return Err(violation(
                    commit,
                    format!("batch {id} is {}, not created", batch.status),
                ));
            }
            let sum_rows: u64 = files.iter().map(|f| f.rows).sum();
            let sum_bytes: u64 = files.iter().map(|f| f.bytes).sum();
            if sum_rows != *rows || sum_bytes != *bytes {
                return Err(violation(
                    commit,
                    format!(
                        "batch {id} totals ({rows} rows, {bytes} bytes) differ from its files ({sum_rows}, {sum_bytes})"
                    ),
                ));
            }
            if deleted_rows > rows {
                return Err(violation(
                    commit,
                    format!("batch {id} has {deleted_rows} deleted rows but only {rows} rows"),
                ));
            }
            if let Some(mark) = staged_up_to
                && (batch.mode != Mode::Nightly || *mark > batch.window_to)
            {
                return Err(violation(
                    commit,
                    format!("batch {id} may not move staged_up_to to {mark}"),
                ));
            }
            batch.status = BatchStatus::Staged;
            batch.files = files.clone();
            batch.raw_pages = raw_pages.clone();
            batch.quarantine = quarantine.clone();
            batch.rows = *rows;
            batch.deleted_rows = *deleted_rows;
            batch.bytes = *bytes;
            if let Some(mark) = staged_up_to {
                let object = state.objects.entry(batch.object.clone()).or_default();
                object.staged_up_to = object.staged_up_to.max(Some(*mark));
            }
            if let Some(mark) = deletes_up_to {
                let object = state.objects.entry(batch.object.clone()).or_default();
                object.deletes_up_to = object.deletes_up_to.max(Some((*mark).min(batch.window_to)));
            }
        }
        Action::LoadStepStarted {
            step, request_id, ..
        } => {
            if batch.status == BatchStatus::Created {
                return Err(violation(commit, format!("batch {id} is not staged")));
            }
            batch.load_steps.insert(
                step.clone(),
                LoadStep {
                    request_id: request_id.clone(),
                    statement_handle: None,
                    result: None,
                },
            );
        }
        Action::LoadStepFinished {
            step,
            statement_handle,
            result,
            ..
        } => {
            let Some(load_step) = batch.load_steps.get_mut(step) else {
                return Err(violation(
                    commit,
                    format!("batch {id} step {step} never started"),
                ));
            };
            load_step.statement_handle = Some(statement_handle.clone());
            load_step.result = Some(result.clone());
        }
        Action::BatchLoaded {
            mode, watermark, ..
        } => {
            if batch.status == BatchStatus::Created {
                return Err(violation(commit, format!("batch {id} is not staged")));
            }
            if !batch.loaded_modes.insert(*mode) {
                return Err(violation(
                    commit,
                    format!("batch {id} already loaded in mode {mode}"),
                ));
            }
            batch.status = BatchStatus::Loaded;
            if let Some(mark) = watermark {
                if batch.mode != Mode::Nightly || *mode != Mode::Nightly {
                    return Err(violation(
                        commit,
                        format!(
                            "batch {id} ({} batch loaded as {mode}) may not move the watermark",
                            batch.mode
                        ),
                    ));
                }
                if *mark > batch.window_to {
                    return Err(violation(
                        commit,
                        format!("watermark {mark} is beyond batch {id}'s window"),
                    ));
                }
                let object = state.objects.entry(batch.object.clone()).or_default();
                if object.watermark.is_some_and(|w| w > *mark) {
                    return Err(violation(
                        commit,
                        format!(
                            "watermark of {} would move backwards to {mark}",
                            batch.object
                        ),
                    ));
                }
                object.watermark = Some(*mark);
            }
        }
        Action::BatchFailed { error, .. } => {
            if batch.status == BatchStatus::Loaded {
                return Err(violation(commit, format!("batch {id} is already loaded")));
            }
            batch.status = BatchStatus::Failed;
            batch.error = Some(error.clone());
        }
    }
    Ok(())
}

fn violation(commit: &Commit, message: String) -> Error {
    Error::Manifest(format!("version {}: {message}", commit.version))
}

#[cfg(test)]
mod tests;
