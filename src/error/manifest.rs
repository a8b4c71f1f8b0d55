//! What can be wrong with the manifest on the stage, as the crate error carries it.
//!
//! Four kinds, matched apart: a commit that would break one of the manifest's rules
//! ([`ManifestRule`], in `Error::ManifestRule`), a file on the stage that is not what
//! it should be ([`Corruption`], in `Error::ManifestCorrupt`), a run lock that is no
//! longer this run's (`Error::LockLost`, how in [`LockLoss`]) and a batch the manifest does
//! not know (`Error::UnknownBatch`). The rules themselves live in `crate::manifest`; this
//! module only names them.

use std::fmt;

/// The rule a rejected commit breaks (the manifest's rules are listed in its module docs,
/// `crate::manifest`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ManifestRule {
    /// Versions are contiguous from 1.
    VersionOrder,
    /// A batch id is created once.
    CreatedTwice,
    /// A window ends after it starts.
    WindowOrder,
    /// An action names a batch that was never created (or a replay a source that was never staged).
    UnknownBatch,
    /// Nothing follows a batch's failure.
    ActionAfterFailure,
    /// A batch is staged once, after it was created.
    StagedOnce,
    /// Staged totals equal the sums over the files.
    StagedTotals,
    /// `staged_up_to` moves only for nightly batches, within their window.
    StagedMark,
    /// Loading needs a staged batch.
    NotStaged,
    /// A step finishes only after it started.
    StepNotStarted,
    /// A load step's requestId is replaced only by a new attempt after a definite failure.
    RequestIdReplaced,
    /// A batch loads at most once per mode.
    LoadedTwice,
    /// Only a nightly batch loaded as nightly moves the watermark.
    WatermarkMode,
    /// The watermark stays within the batch's window.
    WatermarkBeyondWindow,
    /// The watermark never moves backwards.
    WatermarkBackwards,
    /// The watermark never passes an earlier nightly batch that is staged and not loaded (a
    /// batch never staged marked nothing, and the next extract covers its window).
    WatermarkPassesUnloaded,
    /// A loaded batch cannot fail.
    FailedAfterLoad,
    /// A staged nightly batch cannot fail: its window is marked staged and must be loaded.
    StagedWindowDropped,
    /// Every batch of an object merges on the key and windows on the watermark field its
    /// first staged batch used.
    KeysChanged,
    /// A batch's entity is named once, in the commit that creates it.
    EntityNamed,
    /// A batch whose schema changes are held loads (and changes its table) only after they
    /// were accepted.
    SchemaHeld,
    /// Only a staged batch whose schema changes are held can be accepted.
    SchemaNotHeld,
    /// Only a loaded batch read from Intacct (not a replay) is pruned, and once.
    PruneNotLoaded,
    /// A batch is not pruned while a replay of it is not loaded yet (the replay loads its
    /// files).
    PruneInUse,
    /// A pruned batch's files are gone: no new replay names it.
    ReplayOfPruned,
    /// A commit carries a run lock generation older than the newest the manifest has seen:
    /// its writer lost the lock to a newer run.
    StaleGeneration,
    /// Only a created or staged batch that was never loaded is abandoned.
    AbandonLoaded,
    /// A nightly batch is abandoned only once no later nightly batch of its stream is staged
    /// or loaded (that one's load would move the watermark past the abandoned window).
    AbandonOrder,
}

impl fmt::Display for ManifestRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        f.write_str(&text)
    }
}

/// Which kind of file of the manifest (or beside it) a [`Corruption`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManifestFile {
    /// `_manifest/<version>.json`.
    Commit,
    /// `_manifest/_checkpoints/<version>.json`.
    Checkpoint,
    /// `_lock/<pipeline>/<generation>.json` and its renewals (or the old `_lock/<pipeline>.json`).
    Lease,
    /// `_schemas/<object>/<fingerprint>.json`.
    BatchSchema,
}

impl fmt::Display for ManifestFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ManifestFile::Commit => "commit",
            ManifestFile::Checkpoint => "checkpoint",
            ManifestFile::Lease => "lease",
            ManifestFile::BatchSchema => "batch schema",
        })
    }
}

/// How a file on the stage is not what the manifest needs it to be.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Corruption {
    /// It does not parse as the file it should be.
    #[error("is not a {file}: {source}")]
    Unreadable {
        /// What it should be.
        file: ManifestFile,
        /// The parser's complaint.
        #[source]
        source: serde_json::Error,
    },
    /// It was listed a moment ago and is gone.
    #[error("vanished while opening")]
    Vanished,
    /// A batch's schema is not on the stage.
    #[error(
        "is missing: the batch's column types are unknown (was it staged by an older version?)"
    )]
    SchemaMissing,
    /// A checkpoint holds another version than its name says.
    #[error("holds version {found} instead")]
    CheckpointVersion {
        /// The version inside.
        found: u64,
    },
    /// A batch schema describes another object or fingerprint than its path says.
    #[error("describes {object} {fingerprint} instead")]
    SchemaOfAnother {
        /// The object inside.
        object: String,
        /// The fingerprint inside.
        fingerprint: String,
    },
    /// A batch schema already on the stage differs from the one being written.
    #[error("holds other columns than the batch being created")]
    SchemaDiffers,
}

/// How a run lost its lock (the cause of `Error::LockLost`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LockLoss {
    /// A newer generation of the lock exists: another run took it over while this one did
    /// not renew (it was paused, or the stage did not answer).
    #[error("was taken over by {by} (generation {generation})")]
    TakenOver {
        /// The run that holds it now (run id, pid, host, start).
        by: String,
        /// Its generation.
        generation: u64,
    },
    /// No renewal succeeded within the lease: the run stops before the lease ends, so a run
    /// that waits the lease out never overlaps it.
    #[error(
        "could not be renewed within its {lease_secs} s lease (the stage did not answer, or this process was paused)"
    )]
    LeaseRanOut {
        /// The lease, in seconds.
        lease_secs: u64,
    },
}
