//! Reading and writing the manifest's create-once files.
//!
//! Opening lists only `_manifest/_checkpoints/` (one file per [`CHECKPOINT_INTERVAL`]
//! versions), reads the newest checkpoint, then reads commits `v+1, v+2, …` by name until one
//! is missing: no listing of the commit files, so opening costs one checkpoint and fewer than
//! [`CHECKPOINT_INTERVAL`] small reads however long the history.
//!
//! A commit is created whole (a hard link of a file written and fsynced, or an S3 `PUT`), so
//! a commit cut short is one a power loss caught before it was on disk: a stage written
//! without fsync, or a disk that lied. Only the newest commit can be torn that way (its writer
//! never saw it succeed, so it did nothing after it): opening sets a torn newest commit aside
//! to `_manifest/_torn/<version>.json` with a warning and goes on from the version before;
//! the next commit takes its version again. Torn means the JSON ends early (or is empty, or
//! runs into the zeros of blocks never written); a commit that parses as JSON but is not a
//! commit (another shape, an unknown action: perhaps a newer version's), and a torn commit
//! with a commit after it, stay `Error::ManifestCorrupt` naming the file.

use bytes::Bytes;
use chrono::Utc;

use super::lock::Fence;
use super::parse_file;
use super::state::{ManifestState, apply_in_place, apply_undoable};
use super::{Action, Commit};
use crate::error::{Corruption, Error, ManifestFile, Result};
use crate::stage::{CreateOutcome, Stage};

/// A checkpoint is written after every this many versions.
pub const CHECKPOINT_INTERVAL: u64 = 100;
/// Attempts at writing one commit when other writers keep winning the race.
const MAX_ATTEMPTS: usize = 16;
const MANIFEST_DIR: &str = "_manifest";
const CHECKPOINT_DIR: &str = "_manifest/_checkpoints";
const TORN_DIR: &str = "_manifest/_torn";

fn commit_path(version: u64) -> String {
    format!("{MANIFEST_DIR}/{version:020}.json")
}

fn checkpoint_path(version: u64) -> String {
    format!("{CHECKPOINT_DIR}/{version:020}.json")
}

/// An open manifest: the folded state and the means to extend it.
#[derive(Debug)]
pub struct Manifest {
    stage: Stage,
    state: ManifestState,
    run_id: String,
    fence: Option<Fence>,
}

impl Manifest {
    /// Opens the manifest of `stage` (empty when there is none yet).
    pub async fn open(stage: Stage, run_id: &str) -> Result<Manifest> {
        let state = load_checkpoint(&stage).await?.unwrap_or_default();
        let mut manifest = Manifest {
            stage,
            state,
            run_id: run_id.to_owned(),
            fence: None,
        };
        manifest.refresh().await?;
        Ok(manifest)
    }

    /// The state as of the last read or write.
    pub fn state(&self) -> &ManifestState {
        &self.state
    }

    /// Writes every later commit under the run lock `fence` guards: each passes the fence
    /// first and carries its generation. Without one, commits carry the newest generation the
    /// manifest has seen (writers outside the lock: tests and tools).
    pub fn fence_with(&mut self, fence: Fence) {
        self.fence = Some(fence);
    }

    /// The stage it lives on.
    pub fn stage(&self) -> &Stage {
        &self.stage
    }

    /// Reads commits written since the last read.
    pub async fn refresh(&mut self) -> Result<()> {
        loop {
            let version = self.state.version + 1;
            let Some(body) = self.stage.get(&commit_path(version)).await? else {
                return Ok(());
            };
            let commit: Commit =
                match parse_file(&commit_path(version), ManifestFile::Commit, &body) {
                    Ok(commit) => commit,
                    Err(error) if is_torn(&body) => {
                        if self.stage.size(&commit_path(version + 1)).await?.is_some() {
                            return Err(error);
                        }
                        self.set_aside_torn(version, body).await?;
                        return Ok(());
                    }
                    Err(error) => return Err(error),
                };
            // A failed apply leaves the state half-changed: drop it rather than keep it.
            let mut state = std::mem::take(&mut self.state);
            apply_in_place(&mut state, &commit)?;
            self.state = state;
        }
    }

    /// Writes `actions` as the next version; returns that version.
    ///
    /// The commit is checked against the current state before it is written. When another
    /// writer took the version first, the manifest is re-read and the commit is checked and
    /// tried again at the next version.
    pub async fn commit(&mut self, actions: Vec<Action>) -> Result<u64> {
        self.commit_then(actions, Checkpoint::Every).await
    }

    /// [`Manifest::commit`], writing the checkpoint of the version the commit takes as told.
    async fn commit_then(&mut self, actions: Vec<Action>, checkpoint: Checkpoint) -> Result<u64> {
        for _ in 0..MAX_ATTEMPTS {
            let commit = Commit {
                version: self.state.version + 1,
                written_at: Utc::now(),
                run_id: self.run_id.clone(),
                generation: self
                    .fence
                    .as_ref()
                    .map_or(self.state.generation, Fence::generation),
                actions: actions.clone(),
            };
            // Checked by applying it in place: the undo takes it back if the write does not
            // land, so no commit copies the state (its cost is the commit's, not the history's).
            let undo = apply_undoable(&mut self.state, &commit)?;
            if let Some(fence) = &self.fence
                && let Err(lost) = fence.check()
            {
                undo.undo(&mut self.state);
                return Err(lost);
            }
            let body = serde_json::to_vec_pretty(&commit).expect("commit serialises");
            let written = self
                .stage
                .put_create(&commit_path(commit.version), Bytes::from(body))
                .await;
            match written {
                Err(error) => {
                    undo.undo(&mut self.state);
                    return Err(error);
                }
                Ok(CreateOutcome::Created) => {
                    drop(undo);
                    tracing::debug!(version = commit.version, "manifest commit written");
                    // The commit is durable already; a checkpoint only makes opening faster,
                    // so failing to write one must not fail the commit (the next interval
                    // tries again, and opening falls back to an older checkpoint).
                    if checkpoint == Checkpoint::Every
                        && commit.version.is_multiple_of(CHECKPOINT_INTERVAL)
                        && let Err(error) = self.write_checkpoint().await
                    {
                        tracing::warn!(version = commit.version, %error, "could not write the manifest checkpoint; the commit stands");
                    }
                    return Ok(commit.version);
                }
                Ok(CreateOutcome::AlreadyExists) => {
                    undo.undo(&mut self.state);
                    tracing::debug!(
                        version = commit.version,
                        "manifest version taken, re-reading"
                    );
                    self.refresh().await?;
                }
            }
        }
        Err(Error::Contended {
            path: commit_path(self.state.version + 1),
            attempts: MAX_ATTEMPTS,
        })
    }

    /// `manifest compact`: an empty commit takes the next version, and the compacted state
    /// ([`super::compact`]) is written create-once as that version's checkpoint, so opening
    /// starts from it. The caller holds the run lock. The commits stay on the stage.
    pub async fn compact(&mut self) -> Result<Compacted> {
        let before = Size::of(&self.state);
        let version = self.commit_then(vec![], Checkpoint::Compacted).await?;
        let removed = super::compact::compact(&mut self.state);
        let body = serde_json::to_vec(&self.state).expect("state serialises");
        let after = Size {
            bytes: body.len() as u64,
            batches: self.state.batches.len() as u64,
        };
        let path = checkpoint_path(version);
        match self.stage.put_create(&path, Bytes::from(body)).await? {
            CreateOutcome::Created => {}
            // The version is this writer's own commit: another checkpoint of it means another
            // writer took the version too, which the run lock rules out.
            CreateOutcome::AlreadyExists => {
                return Err(Error::Contended { path, attempts: 1 });
            }
        }
        tracing::info!(
            version,
            before_bytes = before.bytes,
            after_bytes = after.bytes,
            batches = after.batches,
            "manifest compacted"
        );
        Ok(Compacted {
            version,
            checkpoint: path,
            before,
            after,
            removed,
        })
    }

    /// Moves the torn newest commit `version` to `_manifest/_torn/` (a copy under the run's
    /// id when an earlier one of that version is there already), then removes it.
    async fn set_aside_torn(&self, version: u64, body: Bytes) -> Result<()> {
        let mut aside = format!("{TORN_DIR}/{version:020}.json");
        if self.stage.put_create(&aside, body.clone()).await? == CreateOutcome::AlreadyExists {
            aside = format!("{TORN_DIR}/{version:020}-{}.json", self.run_id);
            self.stage.put_create(&aside, body.clone()).await?;
        }
        self.stage.delete(&commit_path(version)).await?;
        tracing::warn!(
            version,
            bytes = body.len(),
            path = %commit_path(version),
            set_aside = %aside,
            "the newest manifest commit was cut short (a power loss before it reached the disk): set aside; the manifest goes on from the version before"
        );
        Ok(())
    }

    async fn write_checkpoint(&self) -> Result<()> {
        let body = serde_json::to_vec(&self.state).expect("state serialises");
        // Another writer may have written the same checkpoint: same content, nothing to do.
        self.stage
            .put_create(&checkpoint_path(self.state.version), Bytes::from(body))
            .await?;
        Ok(())
    }
}

/// Which checkpoint a commit writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Checkpoint {
    /// The full state, at every [`CHECKPOINT_INTERVAL`]th version.
    Every,
    /// None: the caller writes the compacted state as this version's checkpoint.
    Compacted,
}

/// The size of a folded state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    /// Bytes of its checkpoint (compact JSON).
    pub bytes: u64,
    /// Batches it holds.
    pub batches: u64,
}

impl Size {
    /// Measured by serialising into a counter: no copy of the checkpoint is held.
    fn of(state: &ManifestState) -> Size {
        struct Count(u64);
        impl std::io::Write for Count {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0 += buf.len() as u64;
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut count = Count(0);
        serde_json::to_writer(&mut count, state).expect("state serialises");
        Size {
            bytes: count.0,
            batches: state.batches.len() as u64,
        }
    }
}

/// What `manifest compact` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compacted {
    /// The version of its empty commit, and of the compacted checkpoint.
    pub version: u64,
    /// The checkpoint's path on the stage.
    pub checkpoint: String,
    /// The state before: what a checkpoint of it would weigh.
    pub before: Size,
    /// The compacted checkpoint.
    pub after: Size,
    /// What was dropped.
    pub removed: super::compact::Removed,
}

/// Whether `body` is JSON cut short: empty, ending early, or running into zeros (blocks a
/// power loss left unwritten), rather than whole JSON of another shape.
fn is_torn(body: &[u8]) -> bool {
    if body.iter().all(u8::is_ascii_whitespace) || body.contains(&0) {
        return true;
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(_) => false,
        Err(e) => e.is_eof(),
    }
}

async fn load_checkpoint(stage: &Stage) -> Result<Option<ManifestState>> {
    let newest = stage
        .list(CHECKPOINT_DIR)
        .await?
        .into_iter()
        .filter_map(|o| {
            let name = o.path.rsplit('/').next()?.strip_suffix(".json")?.to_owned();
            name.parse::<u64>().ok()
        })
        .max();
    let Some(version) = newest else {
        return Ok(None);
    };
    let path = checkpoint_path(version);
    let Some(body) = stage.get(&path).await? else {
        return Err(Error::ManifestCorrupt {
            path,
            problem: Corruption::Vanished,
        });
    };
    let state: ManifestState = parse_file(&path, ManifestFile::Checkpoint, &body)?;
    if state.version != version {
        return Err(Error::ManifestCorrupt {
            path,
            problem: Corruption::CheckpointVersion {
                found: state.version,
            },
        });
    }
    Ok(Some(state))
}
