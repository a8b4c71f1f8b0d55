//! The batch manifest: a log of create-once files on the stage, folded into state.
//!
//! Every change is a [`Commit`] of [`Action`]s written as `_manifest/<version>.json`
//! (20 digits, zero-padded, so lexical order is numeric order) with `PutMode::Create`. Versions
//! are contiguous from 1; the state is the pure [`fold`] of them, optionally starting from a
//! checkpoint (`_manifest/_checkpoints/<version>.json`, the folded state after that version,
//! written every [`CHECKPOINT_INTERVAL`] versions) so opening reads one checkpoint plus the few
//! commits after it. A checkpoint that fails to write is a warning, never a failed commit
//! (opening falls back to an older checkpoint and reads more commits).
//!
//! A commit costs the size of the commit, not of the history: it is checked by applying it to
//! the state in place, with an undo of the few entries it names for when a rule refuses it or
//! its write does not land (`state/undo.rs`); only the checkpoint, every
//! [`CHECKPOINT_INTERVAL`] versions, writes the whole state. `manifest compact` writes an
//! empty commit and, as that version's checkpoint, the state without the history nothing
//! reads ([`compact()`]: what goes and what stays), so opening starts from the smaller state.
//!
//! # What a stage holds
//!
//! Everything on a stage is written once and never replaced:
//!
//! ```text
//! <stage>/<OBJECT>/<batch_id>/part-00001-<attempt>.parquet  Parquet parts (zstd; dictionaries on text columns only) of one batch, named by the writing attempt
//! <stage>/<OBJECT>/<batch_id>/raw/page-00001.xml.zst  raw response pages (keep_raw_pages)
//! <stage>/<OBJECT>/<batch_id>/raw/deletes-page-00001.xml.zst  raw AUDITHISTORY pages of its delete feed
//! <stage>/<OBJECT>/<batch_id>/quarantine-00001.jsonl  values set aside (quarantine_bad_values), and unreadable AUDITHISTORY rows
//! <stage>/_schemas/<OBJECT>/<fingerprint>.json        each batch schema's columns and types (written before the batch)
//! <stage>/_manifest/00000000000000000001.json         commits 1, 2, 3, … (contiguous)
//! <stage>/_manifest/_checkpoints/<version>.json       folded state after every 100th commit (compacted after `manifest compact`'s)
//! <stage>/_manifest/_torn/<version>.json              a newest commit a power loss cut short, set aside
//! <stage>/_lock/<pipeline>/<generation>.json          the run lock: one object per acquisition (its holder and lease)
//! <stage>/_lock/<pipeline>/<generation>.renew-<n>.json   … its holder's renewals, and `<generation>.released.json` when done
//! <stage>/_reports/<run_id>.json                      one report per run (no secrets)
//! <stage>/_reports/<run_id>.html                      the status page as that run left it
//! ```
//!
//! How Intacct's values become the parts' typed columns (and what is quarantined) is in
//! [`crate::schema`]; the run lock is `lock`.
//!
//! # Commits and actions
//!
//! A commit is `{"version", "written_at", "run_id", "generation", "actions": [...]}`
//! (`generation`: the run lock generation of its writer, absent and read as 0 in manifests
//! written before it); each action is tagged by `"action"`:
//!
//! | action | fields | meaning |
//! |---|---|---|
//! | `batch_created` | batch_id, object, mode (`nightly`, `backfill`, `replay`), window_from, window_to, schema_fingerprint, replay_of (replays only), keys {key, watermark_field} (absent in manifests written before these settings: RECORDNO and WHENMODIFIED) | a batch starts (its schema is already on the stage) |
//! | `batch_entity` | batch_id, entity | the entity the batch reads (`intacct.entities`), in the commit that creates it: its marks are the stream `OBJECT@ENTITY`'s |
//! | `batch_progress` | batch_id, files, raw_pages, quarantine, cursor | the files written so far and the read position after them, so an interrupted extract of the same window resumes there |
//! | `batch_staged` | files [{path, rows, bytes, sha256}], raw_pages, quarantine, rows, deleted_rows, bytes, staged_up_to, deletes_up_to | every file is complete; `rows` counts every row of the files, `deleted_rows` the tombstones among them |
//! | `load_step_started` | step (`copy-N`, `reload-R-delete`, `reload-R-copy-N`, `merge`, `cleanup`), request_id | an attempt of the step: committed **before** its statement is first sent |
//! | `load_step_running` | step, request_id, statement_handle | Snowflake accepted the attempt's statement (`async=true`) and runs it under this handle: a resume polls it |
//! | `load_step_finished` | step, statement_handle, result | Snowflake's answer (rows loaded; inserted, updated; deleted) |
//! | `load_failed` | step, error, failed_request_id (when the statement definitely failed) | a load attempt failed; the batch stays staged and resumes at that step |
//! | `batch_loaded` | mode, copy_rows, merge_inserted, merge_updated, watermark | the batch is in Snowflake; a nightly load moves the object's watermark in the same commit |
//! | `batch_failed` | error | an extract gave up before staging (a retry is a new batch) |
//! | `schema_changes` | changes [{object, table, column, kind (`added`, `widened`), old_type, new_type}], held | what loading the batch changes in its table, committed **before** the DDL is sent; `held`: the object's schema is frozen and the batch waits for `accept-schema` |
//! | `schema_accepted` | — | `accept-schema`: the held batch may change its table now |
//! | `batch_pruned` | horizon | `stage prune`: the loaded batch's files are removed from the stage (committed before the first delete); it stays loaded and can no longer be replayed |
//! | `batch_abandoned` | batch_id, reason | `manifest abandon`: a created or staged batch never loaded is given up (it becomes failed); a staged nightly batch's stream gets back the `staged_up_to` and `deletes_up_to` it had before the batch was staged, so the next run reads its window again |
//! | `audit_type_checked` | batch_id, object_type, since, seen | while its batch was extracted, AUDITHISTORY was asked whether it holds any row of the object's `OBJECTTYPE` since `since` (`seen`); `status` warns while the newest answer is no |
//!
//! # Rules
//!
//! Commits are written put-if-absent (`PutMode::Create`: atomic on a local directory and on
//! S3). The same rules run before every write and on every read ([`apply`]); a commit that
//! breaks one is refused with the rule's name ([`crate::Error::ManifestRule`], one
//! [`ManifestRule`] each):
//! * the watermark of an object moves only in a [`Action::BatchLoaded`] of a nightly batch of
//!   that object that was staged, never beyond that batch's window, and never backwards;
//!   `extract` moves only the separate `staged_up_to` mark (the next extract starts there,
//!   minus the lookback);
//! * a batch is loaded at most once per [`Mode`]; a replay is a batch of its own
//!   ([`Mode::Replay`]) whose `replay_of` names a staged or loaded batch of the same object,
//!   so replays can repeat without limit;
//! * an object's watermark never passes an earlier nightly batch of that object that is
//!   staged and not loaded (nightly batches load in order; a batch never staged marked
//!   nothing), and a staged nightly batch never becomes failed (its window is already marked
//!   staged: it must be loaded, never dropped; a load failure is a [`Action::LoadFailed`] that
//!   leaves it staged);
//! * a load step's recorded requestId is replaced only by a new attempt after a `load_failed`
//!   named it as definitely failed (Snowflake answered 422 or 408, or cancelled it): while
//!   the outcome is unknown (no answer, a transport failure, 429 or 5xx after the request may
//!   have run, a crash after the id was recorded) a resumed load resends the same id with
//!   `retry=true`, or polls the statement handle recorded for it;
//! * a batch is staged only after it was created, once, with its file list, and its row and
//!   byte totals equal the sums over its files (its `deleted_rows`, the tombstones among
//!   those rows, are at most its rows);
//! * a failed batch takes no further action (a retry is a new batch);
//! * a batch whose schema changes were held (`schema_changes` with `held`) is loaded, and
//!   its changes applied, only after a `schema_accepted` of it ([`ManifestRule::SchemaHeld`]);
//!   only a staged, held batch is accepted ([`ManifestRule::SchemaNotHeld`]);
//! * a [`Mode::Reset`] batch never moves a mark: it rebuilds the object's table beside the
//!   live one and swaps it in; the nightly watermark stays where it was, so the next nightly
//!   window still reads what changed in Intacct while the reset ran;
//! * only a loaded batch read from Intacct is pruned, once, and never while a replay of it
//!   is not loaded yet; a pruned batch is never the source of a new replay (its files are
//!   gone);
//! * every batch of an object merges on the same key and windows on the same watermark field
//!   ([`BatchKeys`]), fixed by its first staged batch (`keys_changed`): rows already loaded
//!   were merged on that column, so a different key needs a new stage and a fresh initial load;
//! * only a created or staged batch that was never loaded is abandoned
//!   ([`ManifestRule::AbandonLoaded`]); a staged nightly batch only while no later nightly
//!   batch of its stream is staged or loaded ([`ManifestRule::AbandonOrder`]: that one's load
//!   would move the watermark past the abandoned window); abandoning it puts its stream's
//!   staged marks back to where they were before it was staged (never the watermark, which
//!   it never moved), so the next run reads the window again;
//! * two writers cannot both write version N: the loser re-reads and retries at N+1 against the
//!   new state (and gives up if its commit is no longer valid there);
//! * a commit's run lock `generation` is never older than the newest an earlier commit carries
//!   ([`ManifestRule::StaleGeneration`]): a run that lost the lock to a newer run (it stalled
//!   past its lease) cannot commit after the newer run's first commit, whatever it believes.
//!   Before writing, a writer that holds the lock also checks it is still its own (see
//!   `lock`'s fencing); a writer outside the lock (tests, tools) writes at the newest
//!   generation seen.
//!
//! A crash (even SIGKILL) leaves either a whole commit or none. Parts of a batch that never reached
//! [`Action::BatchStaged`] may remain on the stage as orphans; they are never loaded, because
//! the loader copies exactly the files the manifest lists.
//!
//! # Entities
//!
//! With `intacct.entities` each batch reads one entity ([`Action::BatchEntity`]), and the marks
//! (`watermark`, `staged_up_to`, `deletes_up_to`) are kept per object and entity, the stream
//! `OBJECT@ENTITY` ([`stream_key`]), so one entity's failed extract or load never moves, nor
//! holds back, another's; a failed load holds back only the later batches of the same object
//! and entity. Manifests written before this read as before (every batch is the company's).

mod compact;
pub(crate) mod lock;
mod log;
/// The long realistic history the compaction and index tests fold.
#[cfg(test)]
#[path = "../../tests/it/support/manifest_history.rs"]
mod manifest_history;
pub mod schemas;
mod state;

use chrono::{DateTime, Utc};

pub use crate::error::ManifestRule;
pub use compact::{Removed, compact};
pub use lock::{Fence, Holder, RunLock};
pub use log::{CHECKPOINT_INTERVAL, Compacted, Manifest, Size};
pub use schemas::{SchemaChange, SchemaChangeKind};
pub use state::{
    AuditTypeCheck, BatchState, BatchStatus, ExtractProgress, LoadStep, ManifestState, MarksBefore,
    ObjectState, Pruned, apply, fold, stream_key,
};

use crate::error::{Corruption, Error, ManifestFile, Result};
use crate::stage::parts::StagedFile;

/// Reads the JSON file at `path` (relative to the stage) as the manifest's `file`; a body that
/// does not parse is a corrupted manifest naming the file.
fn parse_file<T: serde::de::DeserializeOwned>(
    path: &str,
    file: ManifestFile,
    body: &[u8],
) -> Result<T> {
    serde_json::from_slice(body).map_err(|source| Error::ManifestCorrupt {
        path: path.to_owned(),
        problem: Corruption::Unreadable { file, source },
    })
}

/// Why a batch exists.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The nightly incremental run: the only mode that moves watermarks.
    Nightly,
    /// An explicit historical window.
    Backfill,
    /// A saved batch loaded again from the stage.
    Replay,
    /// The whole object read again, loaded into a table beside the live one and swapped in
    /// (`reset`): moves no mark.
    Reset,
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Nightly => "nightly",
            Mode::Backfill => "backfill",
            Mode::Replay => "replay",
            Mode::Reset => "reset",
        })
    }
}

/// The key a batch's rows are merged on and the timestamp its window is over: fixed per object
/// once a batch of it is staged (a changed setting would merge new rows on a different column
/// than the rows already loaded).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BatchKeys {
    /// The merge key column.
    pub key: String,
    /// The modification timestamp column.
    pub watermark_field: String,
}

impl Default for BatchKeys {
    fn default() -> BatchKeys {
        BatchKeys {
            key: crate::config::DEFAULT_KEY.to_owned(),
            watermark_field: crate::config::DEFAULT_WATERMARK_FIELD.to_owned(),
        }
    }
}

/// One change to the manifest.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// A batch was started.
    BatchCreated {
        /// Unique id (a UUID).
        batch_id: String,
        /// The Intacct object.
        object: String,
        /// Why.
        mode: Mode,
        /// Records changed at or after this instant (`None`: everything).
        window_from: Option<DateTime<Utc>>,
        /// … and before this one.
        window_to: DateTime<Utc>,
        /// [`crate::schema::schema_fingerprint`] of the parts.
        schema_fingerprint: String,
        /// For a replay: the batch whose files it loads again (its staged files, or files
        /// rebuilt from its raw pages). `None` for batches read from Intacct.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replay_of: Option<String>,
        /// The key the batch merges on and the field its window is over; `None` in manifests
        /// written before they were settings (RECORDNO and WHENMODIFIED).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        keys: Option<BatchKeys>,
    },
    /// The entity a batch reads (`intacct.entities`): written in the commit that creates the
    /// batch, after its `batch_created`. The batch's marks (watermark, `staged_up_to`,
    /// `deletes_up_to`) are then those of the stream `OBJECT@ENTITY`, apart from every other
    /// entity's. Manifests without it read as before: every batch is the object's.
    BatchEntity {
        /// The batch.
        batch_id: String,
        /// The entity's id, as configured.
        entity: String,
    },
    /// While a batch was extracted, AUDITHISTORY was asked whether it holds any row (of any
    /// access mode) of the object's `OBJECTTYPE` since `since`: written with the batch's
    /// `batch_staged`, and only then. No row at all for an object that changed means its
    /// OBJECTTYPE name is wrong and its deletes are never seen.
    AuditTypeChecked {
        /// The batch.
        batch_id: String,
        /// The `OBJECTTYPE` asked for (`apbill`, `vendor`, …).
        object_type: String,
        /// The start of the period asked about.
        since: DateTime<Utc>,
        /// True when AUDITHISTORY has a row of the type since `since`.
        seen: bool,
    },
    /// Every file of a batch is on the stage.
    BatchStaged {
        /// The batch.
        batch_id: String,
        /// The Parquet parts.
        files: Vec<StagedFile>,
        /// Raw response pages kept beside the parts.
        #[serde(default)]
        raw_pages: Vec<StagedFile>,
        /// Rows set aside by the schema (JSON lines).
        #[serde(default)]
        quarantine: Vec<StagedFile>,
        /// Rows in `files`, tombstones included.
        rows: u64,
        /// Of `rows`, the tombstones of the delete feed (`_DELETED = true`); 0 in manifests
        /// written before the feed existed.
        #[serde(default)]
        deleted_rows: u64,
        /// Bytes in `files`.
        bytes: u64,
        /// Where the next extract may start (nightly batches only; the batch's `window_to`).
        staged_up_to: Option<DateTime<Utc>>,
        /// Where the next delete feed may start: the batch's `window_to` when its delete feed
        /// read to the end, else `None` (the next run reads the same deletes again).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deletes_up_to: Option<DateTime<Utc>>,
    },
    /// Part of a batch is on the stage: every file written so far and the read position after
    /// their last row, so an interrupted extract of the same window resumes there instead of
    /// reading the window again.
    BatchProgress {
        /// The batch (still created, not staged).
        batch_id: String,
        /// Every complete Parquet part so far.
        files: Vec<StagedFile>,
        /// Raw pages kept so far.
        #[serde(default)]
        raw_pages: Vec<StagedFile>,
        /// Quarantine files so far.
        #[serde(default)]
        quarantine: Vec<StagedFile>,
        /// The reader's position after the last row of `files` (opaque to the manifest).
        cursor: serde_json::Value,
    },
    /// An attempt of a load statement is about to be sent (its requestId is recorded first).
    LoadStepStarted {
        /// The batch.
        batch_id: String,
        /// Which step (`copy-N`, `reload-R-delete`, `reload-R-copy-N`, `merge`, `cleanup`).
        step: String,
        /// The Snowflake requestId the statement is sent with.
        request_id: String,
    },
    /// Snowflake accepted a load statement and runs it: its handle, recorded before the loader
    /// waits for it, so a resume polls the statement instead of sending it again.
    LoadStepRunning {
        /// The batch.
        batch_id: String,
        /// Which step.
        step: String,
        /// The requestId of the attempt (the step's recorded one).
        request_id: String,
        /// Snowflake's statementHandle.
        statement_handle: String,
    },
    /// A load statement finished.
    LoadStepFinished {
        /// The batch.
        batch_id: String,
        /// Which step.
        step: String,
        /// Snowflake's statementHandle.
        statement_handle: String,
        /// The figures Snowflake returned.
        result: serde_json::Value,
    },
    /// The batch is in Snowflake.
    BatchLoaded {
        /// The batch.
        batch_id: String,
        /// The mode it was loaded in.
        mode: Mode,
        /// Rows COPY loaded.
        copy_rows: u64,
        /// Rows MERGE inserted.
        merge_inserted: u64,
        /// Rows MERGE updated.
        merge_updated: u64,
        /// The object's new watermark (nightly loads only).
        watermark: Option<DateTime<Utc>>,
    },
    /// A load attempt failed; the batch stays staged and the next load resumes it at the
    /// step that failed.
    LoadFailed {
        /// The batch.
        batch_id: String,
        /// The step that failed (`copy-1`, `check`, `merge`, `cleanup`, `ddl`).
        step: String,
        /// Why (no secrets).
        error: String,
        /// The requestId of the step's attempt when its statement definitely failed (422,
        /// 408, cancelled): the next attempt takes a new one. Absent when the outcome is
        /// unknown (the next attempt resends the same id) or the failure was not a statement's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        failed_request_id: Option<String>,
    },
    /// The batch failed and will not be continued.
    BatchFailed {
        /// The batch.
        batch_id: String,
        /// Why (no secrets).
        error: String,
    },
    /// What loading the batch changes in its table (columns added, types widened), committed
    /// before the DDL is sent; with `held`, the object's schema is frozen and nothing was
    /// changed: the batch waits for [`Action::SchemaAccepted`].
    SchemaChanges {
        /// The batch.
        batch_id: String,
        /// The changes, in column order.
        changes: Vec<SchemaChange>,
        /// True when the changes wait for acceptance (`schema = "freeze"`).
        #[serde(default)]
        held: bool,
    },
    /// `accept-schema`: the held batch may change its table.
    SchemaAccepted {
        /// The batch.
        batch_id: String,
    },
    /// `manifest abandon`: a created or staged batch that was never loaded is given up (its
    /// files are gone or cannot be loaded). It becomes failed; a staged nightly batch's
    /// stream gets back the staged marks it had before the batch was staged, so the next
    /// run reads the window again.
    BatchAbandoned {
        /// The batch.
        batch_id: String,
        /// Why (the operator's words, or the command's).
        reason: String,
    },
    /// `stage prune` removes a loaded batch's files from the stage (its parts, raw pages and
    /// quarantine files): written before the first file is deleted. The batch stays loaded
    /// (its rows are in Snowflake) but can no longer be replayed.
    BatchPruned {
        /// The batch (loaded, read from Intacct).
        batch_id: String,
        /// The horizon it was loaded before (`--older-than` before the command's now).
        horizon: DateTime<Utc>,
    },
}

impl Action {
    /// The batch the action is about.
    pub fn batch_id(&self) -> &str {
        match self {
            Action::BatchCreated { batch_id, .. }
            | Action::BatchEntity { batch_id, .. }
            | Action::BatchStaged { batch_id, .. }
            | Action::AuditTypeChecked { batch_id, .. }
            | Action::BatchProgress { batch_id, .. }
            | Action::LoadStepStarted { batch_id, .. }
            | Action::LoadStepRunning { batch_id, .. }
            | Action::LoadStepFinished { batch_id, .. }
            | Action::BatchLoaded { batch_id, .. }
            | Action::LoadFailed { batch_id, .. }
            | Action::BatchFailed { batch_id, .. }
            | Action::SchemaChanges { batch_id, .. }
            | Action::SchemaAccepted { batch_id } => batch_id,
            Action::BatchPruned { batch_id, .. } | Action::BatchAbandoned { batch_id, .. } => {
                batch_id
            }
        }
    }
}

/// One manifest file.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Commit {
    /// Its version (1, 2, …).
    pub version: u64,
    /// When it was written.
    pub written_at: DateTime<Utc>,
    /// The run that wrote it.
    pub run_id: String,
    /// The run lock generation its writer held (0 in manifests written before generations):
    /// never older than the newest an earlier commit carries ([`ManifestRule::StaleGeneration`]).
    #[serde(default)]
    pub generation: u64,
    /// What changed, applied in order.
    pub actions: Vec<Action>,
}
