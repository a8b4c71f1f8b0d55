//! The pure fold of manifest commits into state, and the invariants it enforces.
//!
//! [`apply`] is the one place the manifest's rules live: the writer calls it on a candidate
//! commit before writing (so an invalid commit is never written) and the reader calls it on
//! every commit it reads (so a manifest that breaks a rule never opens silently).
//!
//! Each family of actions has its rules in a file of its own, and `apply_action` only routes
//! to them: `created` (a batch and its entity), `staged` (extract progress and the staged
//! batch), `load_steps` (the statements of a load and its failures), `loaded` (the loaded
//! batch and the watermark), `failed` (a batch given up), `schema` (the table changes a load
//! makes, held under a frozen schema until accepted), `pruned` (a loaded batch's files
//! removed) and `abandoned` (an unloaded batch given up, its stream's staged marks put
//! back). The fold stays pure: a family reads and changes only the state it is handed
//! (no IO, no clock), or returns the rule the action breaks.
//!
//! The writer applies a candidate commit in place and keeps an `undo` of the few entries it
//! changes, so checking a commit never copies the state (see `undo`).
//!
//! The rules that read other batches than the one an action names (nightly load order,
//! abandon order, a prune while a replay is open, the object's keys) look them up in indexes
//! kept beside the batches (`index`): per stream, its nightly batches staged and not loaded,
//! and those staged or loaded; per batch, its replays still created or staged; per object,
//! its staged or loaded batches in creation order. So a commit's check costs O(log n) in the
//! number of batches, not a walk over the history. The invariant: the indexes are exactly the
//! ones `reindex` builds from `batches` alone. Every entry is a function of one batch, so the
//! fold replaces the entries of the batch each action names (refused or not), `undo` those of
//! each batch it puts back, and a state read from a checkpoint is indexed as it is read; the
//! indexes are never written. Under test, `apply` checks the invariant after every commit it
//! accepts, and `ManifestState`'s equality includes the indexes, so its undo checks prove
//! that taking a commit back restores them too.

mod abandoned;
mod created;
mod failed;
mod index;
mod load_steps;
mod loaded;
mod pruned;
mod schema;
mod staged;
mod undo;

pub(crate) use undo::apply_undoable;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::{Action, BatchKeys, Commit, Mode, SchemaChange};
use crate::error::{Error, ManifestRule, Result};
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

/// One load statement of a batch: its latest attempt.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LoadStep {
    /// The requestId the attempt is sent with.
    pub request_id: String,
    /// Snowflake's statementHandle, once Snowflake accepted the statement (it may still run
    /// while `result` is empty).
    pub statement_handle: Option<String>,
    /// Snowflake's figures, once finished.
    pub result: Option<serde_json::Value>,
    /// The attempt's statement definitely failed (422, 408, cancelled): the next attempt
    /// takes a new requestId.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub failed: bool,
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
    /// For a replay, the batch whose files it loads.
    #[serde(default)]
    pub replay_of: Option<String>,
    /// The last load failure (step and error), cleared when the batch loads.
    #[serde(default)]
    pub last_load_error: Option<String>,
    /// How far an unfinished extract got (created batches only).
    #[serde(default)]
    pub progress: Option<ExtractProgress>,
    /// The key it merges on and the field its window is over.
    #[serde(default)]
    pub keys: BatchKeys,
    /// The entity it reads (`intacct.entities`); `None`: the company (one session).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// What AUDITHISTORY answered when asked, during its extract, whether it holds rows of
    /// the object's `OBJECTTYPE` ([`Action::AuditTypeChecked`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_type_check: Option<AuditTypeCheck>,
    /// What loading it changed (or, while held, would change) in its table.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schema_changes: Vec<SchemaChange>,
    /// Its changes wait for `accept-schema` (the object's schema is frozen).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub schema_held: bool,
    /// `accept-schema` accepted its changes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub schema_accepted: bool,
    /// When it was first loaded (the commit's time); `None` before it is, and in states
    /// folded before load times were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loaded_at: Option<DateTime<Utc>>,
    /// When `stage prune` removed its files, and the horizon it pruned to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pruned: Option<Pruned>,
    /// A nightly batch's stream marks just before it was staged: what `manifest abandon`
    /// puts back (`None` for other batches, and in states folded before they were kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marks_before: Option<MarksBefore>,
}

/// A stream's staged marks as they were before a nightly batch was staged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MarksBefore {
    /// The stream's `staged_up_to`.
    pub staged_up_to: Option<DateTime<Utc>>,
    /// The stream's `deletes_up_to`.
    pub deletes_up_to: Option<DateTime<Utc>>,
}

/// AUDITHISTORY's answer to whether it holds any row of an `OBJECTTYPE` since an instant.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditTypeCheck {
    /// The `OBJECTTYPE` asked for.
    pub object_type: String,
    /// The start of the period asked about.
    pub since: DateTime<Utc>,
    /// True when it holds one.
    pub seen: bool,
}

/// A batch whose files `stage prune` removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pruned {
    /// When (the commit's time).
    pub at: DateTime<Utc>,
    /// The horizon: batches loaded before it were pruned.
    pub horizon: DateTime<Utc>,
}

/// The files an unfinished extract completed and the read position after them.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ExtractProgress {
    /// Complete Parquet parts.
    pub files: Vec<StagedFile>,
    /// Raw pages kept.
    pub raw_pages: Vec<StagedFile>,
    /// Quarantine files.
    pub quarantine: Vec<StagedFile>,
    /// The reader's position after the last row of `files`.
    pub cursor: serde_json::Value,
}

impl BatchState {
    /// The batch id written in the rows of its files (`_BATCH_ID`): the source's for a replay.
    pub fn rows_batch_id(&self) -> &str {
        self.replay_of.as_deref().unwrap_or(&self.batch_id)
    }

    /// The stream whose marks the batch moves: its object, or `OBJECT@ENTITY`.
    pub fn stream(&self) -> String {
        stream_key(&self.object, self.entity.as_deref())
    }
}

/// The key of an (object, entity) stream in [`ManifestState::objects`]: the object alone for
/// the company, `OBJECT@ENTITY` for one entity (entity ids never contain `@`).
pub fn stream_key(object: &str, entity: Option<&str>) -> String {
    match entity {
        None => object.to_owned(),
        Some(entity) => format!("{object}@{entity}"),
    }
}

/// Per-object marks.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ObjectState {
    /// Everything changed before this is in Snowflake (moved only by a nightly load).
    pub watermark: Option<DateTime<Utc>>,
    /// Everything changed before this is staged (moved by a nightly staged batch).
    pub staged_up_to: Option<DateTime<Utc>>,
    /// The run that last changed one of the object's batches.
    #[serde(default)]
    pub last_run_id: Option<String>,
    /// When it did.
    #[serde(default)]
    pub last_run_at: Option<DateTime<Utc>>,
    /// Every delete before this is staged (moved by a staged batch whose delete feed read to
    /// the end; `None`: the feed has no mark yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletes_up_to: Option<DateTime<Utc>>,
    /// When a batch of the stream last loaded (in any mode): the commit's time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_loaded_at: Option<DateTime<Utc>>,
}

/// The folded manifest.
///
/// Its indexes (see `index`) are derived from `batches` and never written: the fold keeps
/// them, a state read is indexed as it is read, and code that changes `batches` other than by
/// folding commits calls [`ManifestState::reindex`] after.
#[derive(Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(from = "StateOnDisk")]
pub struct ManifestState {
    /// The last version applied (0: empty).
    pub version: u64,
    /// The newest run lock generation a commit carried (0: none, or written before them).
    #[serde(default)]
    pub generation: u64,
    /// Marks per stream: per object, or per (object, entity) as `OBJECT@ENTITY`
    /// ([`stream_key`]).
    pub objects: BTreeMap<String, ObjectState>,
    /// Every batch by id.
    pub batches: BTreeMap<String, BatchState>,
    /// What the rules look up instead of walking `batches`.
    #[serde(skip)]
    pub(crate) index: index::Indexes,
}

/// [`ManifestState`] as written: everything but its indexes, which are made as it is read.
#[derive(serde::Deserialize)]
struct StateOnDisk {
    version: u64,
    #[serde(default)]
    generation: u64,
    objects: BTreeMap<String, ObjectState>,
    batches: BTreeMap<String, BatchState>,
}

impl From<StateOnDisk> for ManifestState {
    fn from(read: StateOnDisk) -> ManifestState {
        let mut state = ManifestState {
            version: read.version,
            generation: read.generation,
            objects: read.objects,
            batches: read.batches,
            index: index::Indexes::default(),
        };
        state.reindex();
        state
    }
}

#[cfg(test)]
thread_local! {
    /// How many times this thread cloned a whole state: the commit path must not.
    pub(crate) static STATE_CLONES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

impl Clone for ManifestState {
    fn clone(&self) -> ManifestState {
        #[cfg(test)]
        STATE_CLONES.with(|n| n.set(n.get() + 1));
        ManifestState {
            version: self.version,
            generation: self.generation,
            objects: self.objects.clone(),
            batches: self.batches.clone(),
            index: self.index.clone(),
        }
    }
}

impl ManifestState {
    /// Makes the indexes again from the batches alone: after a change to `batches` that did
    /// not go through a commit.
    pub fn reindex(&mut self) {
        self.index = index::Indexes::build(self.batches.values());
    }

    /// The key and watermark field every batch of `object` uses: those of its first staged
    /// batch (in every entity's stream; the first created, then the first by id; batches
    /// staged before they were recorded used RECORDNO and WHENMODIFIED); `None` before one is
    /// staged.
    pub fn object_keys(&self, object: &str) -> Option<BatchKeys> {
        let (_, first) = self.index.keyed.get(object)?.first()?;
        Some(self.batches[first].keys.clone())
    }

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

    /// Staged batches of `object` whose schema changes wait for `accept-schema`, oldest first.
    pub fn held_batches<'a>(&'a self, object: &'a str) -> impl Iterator<Item = &'a BatchState> {
        self.batches_of(object)
            .filter(|b| b.status == BatchStatus::Staged && b.schema_held && !b.schema_accepted)
    }

    /// Batches of one (object, entity) stream, oldest first.
    pub fn batches_of_stream<'a>(
        &'a self,
        object: &'a str,
        entity: Option<&'a str>,
    ) -> impl Iterator<Item = &'a BatchState> {
        self.batches_of(object)
            .filter(move |b| b.entity.as_deref() == entity)
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

/// The state after one commit, or why the commit is not allowed. A pure function for callers
/// that keep the state before; the writer applies in place ([`apply_undoable`]).
pub fn apply(state: &ManifestState, commit: &Commit) -> Result<ManifestState> {
    let mut next = state.clone();
    match apply_undoable(&mut next, commit) {
        Ok(undo) => {
            // … and an accepted one is taken back entirely by its undo, and leaves indexes
            // that match its batches.
            #[cfg(test)]
            {
                assert_eq!(
                    next.index,
                    index::Indexes::build(next.batches.values()),
                    "the kept indexes are the batches' own"
                );
                let mut back = next.clone();
                undo.undo(&mut back);
                assert_eq!(&back, state, "an accepted commit's undo restores the state");
            }
            #[cfg(not(test))]
            drop(undo);
            Ok(next)
        }
        Err(error) => {
            // Every rule's test goes through here: a refused commit must leave nothing behind.
            #[cfg(test)]
            assert_eq!(&next, state, "a refused commit is undone entirely");
            Err(error)
        }
    }
}

/// Applies one commit to `state`; on error `state` is partly changed and must be dropped.
pub(crate) fn apply_in_place(state: &mut ManifestState, commit: &Commit) -> Result<()> {
    if commit.version != state.version + 1 {
        return Err(violation(
            commit,
            ManifestRule::VersionOrder,
            format!("expected version {}", state.version + 1),
        ));
    }
    if commit.generation < state.generation {
        return Err(violation(
            commit,
            ManifestRule::StaleGeneration,
            format!(
                "run {} wrote under run lock generation {}, but generation {} has committed since: the lock is no longer that run's",
                commit.run_id, commit.generation, state.generation
            ),
        ));
    }
    state.version = commit.version;
    state.generation = commit.generation;
    for action in &commit.actions {
        // An action changes only the batch it names: its index entries follow it, refused or
        // not, so the indexes always match the batches.
        let id = action.batch_id();
        let before = state.batches.get(id).map(index::Facts::of);
        let applied = apply_action(state, commit, action);
        let after = state.batches.get(id).map(index::Facts::of);
        state.index.replace(before.as_ref(), after.as_ref());
        applied?;
        if let Some(object) = state.batches.get(action.batch_id()).map(BatchState::stream) {
            let marks = state.objects.entry(object).or_default();
            marks.last_run_id = Some(commit.run_id.clone());
            marks.last_run_at = Some(commit.written_at);
        }
    }
    Ok(())
}

/// The keys of a new batch of `object` must be the ones its staged batches use.
fn check_keys(
    state: &ManifestState,
    commit: &Commit,
    object: &str,
    batch_id: &str,
    keys: &BatchKeys,
) -> Result<()> {
    let established = state.object_keys(object);
    match established {
        Some(fixed) if fixed != *keys => Err(violation(
            commit,
            ManifestRule::KeysChanged,
            format!(
                "batch {batch_id} of {object} merges on {} and windows on {}, but the object's \
                 staged batches use {} and {}; a different key needs a new stage",
                keys.key, keys.watermark_field, fixed.key, fixed.watermark_field
            ),
        )),
        _ => Ok(()),
    }
}

/// Applies one action: each family of actions checks its own rules (see its module).
fn apply_action(state: &mut ManifestState, commit: &Commit, action: &Action) -> Result<()> {
    match action {
        Action::BatchCreated { .. } => created::batch_created(state, commit, action),
        Action::BatchEntity { .. } => created::batch_entity(state, commit, action),
        Action::BatchProgress { .. } => staged::batch_progress(state, commit, action),
        Action::BatchStaged { .. } => staged::batch_staged(state, commit, action),
        Action::AuditTypeChecked { .. } => staged::audit_type_checked(state, commit, action),
        Action::LoadStepStarted { .. } => load_steps::load_step_started(state, commit, action),
        Action::LoadStepRunning { .. } => load_steps::load_step_running(state, commit, action),
        Action::LoadStepFinished { .. } => load_steps::load_step_finished(state, commit, action),
        Action::LoadFailed { .. } => load_steps::load_failed(state, commit, action),
        Action::BatchLoaded { .. } => loaded::batch_loaded(state, commit, action),
        Action::BatchFailed { .. } => failed::batch_failed(state, commit, action),
        Action::SchemaChanges { .. } => schema::schema_changes(state, commit, action),
        Action::SchemaAccepted { .. } => schema::schema_accepted(state, commit, action),
        Action::BatchPruned { .. } => pruned::batch_pruned(state, commit, action),
        Action::BatchAbandoned { .. } => abandoned::batch_abandoned(state, commit, action),
    }
}

/// The batch an action names, for every action but `batch_created`: it was created
/// ([`ManifestRule::UnknownBatch`]) and has not failed ([`ManifestRule::ActionAfterFailure`]).
fn live_batch<'s>(
    batches: &'s mut BTreeMap<String, BatchState>,
    commit: &Commit,
    id: &str,
) -> Result<&'s mut BatchState> {
    let Some(batch) = batches.get_mut(id) else {
        return Err(violation(
            commit,
            ManifestRule::UnknownBatch,
            format!("batch {id} was never created"),
        ));
    };
    if batch.status == BatchStatus::Failed {
        return Err(violation(
            commit,
            ManifestRule::ActionAfterFailure,
            format!("batch {id} already failed"),
        ));
    }
    Ok(batch)
}

fn violation(commit: &Commit, rule: ManifestRule, detail: String) -> Error {
    Error::ManifestRule {
        version: commit.version,
        rule,
        detail,
    }
}

#[cfg(test)]
mod tests;
