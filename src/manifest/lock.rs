//! The run lock: one lease object per pipeline so two runs never interleave.
//!
//! `_lock/<pipeline>.json` is created with `PutMode::Create` and names its holder (host, pid,
//! run id, start) and an expiry. A second run finds it and fails with [`Error::LockHeld`]
//! naming the holder — unless the lease has expired, or its holder ran on this host and its
//! process is gone (a crashed or killed run), in which case the lease is deleted and created
//! afresh. The holder renews it (see [`RunLock::renew`]) during long runs
//! and deletes it when done.
//!
//! Taking over a stale lease is delete-then-create (a local directory has no compare-and-swap),
//! so two runs that find the same stale lease may both delete it and both create theirs; each
//! then waits a moment and re-reads the lease, and the one that finds another run's lease backs
//! off with [`Error::LockHeld`]. Renewal checks the lease is still ours before extending it;
//! a holder whose lease was taken over (it stalled past its expiry), or whose lease is gone,
//! learns so at its next renewal ([`Error::LockLost`]), and the run is then cancelled (see `pipeline::context`): its manifest stays valid,
//! because every commit is one create-once file.

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use object_store::{ObjectStore, PutMode, PutOptions, PutPayload};

use crate::error::{Error, ManifestFile, Result};
use crate::stage::{CreateOutcome, OnStage, Stage};

/// The content of a lease.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Lease {
    /// Host name of the holder.
    pub host: String,
    /// Process id of the holder.
    pub pid: u32,
    /// Run id of the holder.
    pub run_id: String,
    /// When the holder started.
    pub started_at: DateTime<Utc>,
    /// When the lease runs out unless renewed.
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Display for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "run {} (pid {} on {}, started {})",
            self.run_id,
            self.pid,
            self.host,
            self.started_at.to_rfc3339()
        )
    }
}

/// A held lease; call [`RunLock::release`] when done.
#[derive(Debug)]
pub struct RunLock {
    stage: Stage,
    pipeline: String,
    lease: Lease,
    ttl: Duration,
}

/// How long a run that created its lease waits before checking the lease is still its own:
/// longer than a competing takeover takes between reading a stale lease and deleting it.
const TAKEOVER_SETTLE: std::time::Duration = std::time::Duration::from_millis(500);
/// Attempts at taking a stale lease when other runs keep taking it first.
const TAKEOVER_ATTEMPTS: usize = 3;

fn lock_path(pipeline: &str) -> String {
    format!("_lock/{pipeline}.json")
}

impl RunLock {
    /// Takes the lock of `pipeline` for `ttl`, or fails naming the holder.
    pub async fn acquire(
        stage: &Stage,
        pipeline: &str,
        run_id: &str,
        ttl: Duration,
    ) -> Result<RunLock> {
        let path = lock_path(pipeline);
        let now = Utc::now();
        let lease = Lease {
            host: host_name(),
            pid: std::process::id(),
            run_id: run_id.to_owned(),
            started_at: now,
            expires_at: now + ttl,
        };
        let body = Bytes::from(serde_json::to_vec_pretty(&lease).expect("lease serialises"));
        for _ in 0..TAKEOVER_ATTEMPTS {
            if stage.put_create(&path, body.clone()).await? == CreateOutcome::Created {
                match settled_holder(stage, &path, run_id).await? {
                    Settled::Ours => {
                        tracing::info!(pipeline, run_id, "run lock taken");
                        return Ok(RunLock {
                            stage: stage.clone(),
                            pipeline: pipeline.to_owned(),
                            lease,
                            ttl,
                        });
                    }
                    Settled::Theirs(found) => {
                        return Err(Error::LockHeld {
                            pipeline: pipeline.to_owned(),
                            holder: found.to_string(),
                            expires_at: found.expires_at.to_rfc3339(),
                            path,
                        });
                    }
                    Settled::Gone => continue,
                }
            }
            let Some(current) = read_lease(stage, &path).await? else {
                continue; // released between our create and our read
            };
            if current.expires_at > Utc::now() && !holder_is_gone(&current) {
                return Err(Error::LockHeld {
                    pipeline: pipeline.to_owned(),
                    holder: current.to_string(),
                    expires_at: current.expires_at.to_rfc3339(),
                    path,
                });
            }
            tracing::warn!(pipeline, holder = %current, "taking over a run lock whose holder expired or is no longer running");
            stage.delete(&path).await?;
        }
        Err(Error::Contended {
            path,
            attempts: TAKEOVER_ATTEMPTS,
        })
    }

    /// The lease held.
    pub fn lease(&self) -> &Lease {
        &self.lease
    }

    /// Pushes the expiry out by the lock's time-to-live, if the lease is still ours; fails
    /// with [`Error::LockLost`] when another run took it over or the lease is gone.
    pub async fn renew(&mut self) -> Result<()> {
        let path = lock_path(&self.pipeline);
        match self.holder(&path).await? {
            Holder::Us => {}
            Holder::Other(current) => {
                return Err(Error::LockLost {
                    path,
                    taken_by: Some(current.to_string()),
                });
            }
            Holder::Nobody => {
                return Err(Error::LockLost {
                    path,
                    taken_by: None,
                });
            }
        }
        let mut lease = self.lease.clone();
        lease.expires_at = Utc::now() + self.ttl;
        let body = serde_json::to_vec_pretty(&lease).expect("lease serialises");
        let options = PutOptions {
            mode: PutMode::Overwrite,
            ..PutOptions::default()
        };
        self.stage
            .store()
            .put_opts(&self.stage.path(&path), PutPayload::from(body), options)
            .await
            .on_stage(&self.stage, &path)?;
        self.lease = lease;
        Ok(())
    }

    /// Deletes the lease, if it is still ours: a lease another run holds now is left alone
    /// ([`Error::LockHeld`], naming that run), and a lease that is gone is [`Error::LockLost`].
    pub async fn release(self) -> Result<()> {
        let path = lock_path(&self.pipeline);
        match self.holder(&path).await? {
            Holder::Us => {}
            Holder::Other(current) => {
                return Err(Error::LockHeld {
                    pipeline: self.pipeline.clone(),
                    holder: current.to_string(),
                    expires_at: current.expires_at.to_rfc3339(),
                    path,
                });
            }
            Holder::Nobody => {
                return Err(Error::LockLost {
                    path,
                    taken_by: None,
                });
            }
        }
        self.stage.delete(&path).await?;
        tracing::info!(pipeline = self.pipeline, "run lock released");
        Ok(())
    }

    async fn holder(&self, path: &str) -> Result<Holder> {
        Ok(match read_lease(&self.stage, path).await? {
            Some(current) if current.run_id == self.lease.run_id => Holder::Us,
            Some(current) => Holder::Other(current),
            None => Holder::Nobody,
        })
    }
}

/// Who holds a lease this run took.
enum Holder {
    Us,
    Other(Lease),
    Nobody,
}

enum Settled {
    Ours,
    Theirs(Lease),
    Gone,
}

/// Who holds the lease once concurrent takeovers have settled: a run that found a stale lease
/// deletes whatever lease is there and creates its own, so a lease just created may already be
/// gone; whoever's lease is on the stage after the wait holds the lock.
async fn settled_holder(stage: &Stage, path: &str, run_id: &str) -> Result<Settled> {
    tokio::time::sleep(TAKEOVER_SETTLE).await;
    Ok(match read_lease(stage, path).await? {
        Some(found) if found.run_id == run_id => Settled::Ours,
        Some(found) => Settled::Theirs(found),
        None => Settled::Gone,
    })
}

async fn read_lease(stage: &Stage, path: &str) -> Result<Option<Lease>> {
    let Some(body) = stage.get(path).await? else {
        return Ok(None);
    };
    super::parse_file(path, ManifestFile::Lease, &body).map(Some)
}

/// True when the holder ran on this host and its process no longer exists (it was killed or
/// crashed): its lease need not be waited out.
fn holder_is_gone(lease: &Lease) -> bool {
    lease.host == host_name()
        && lease.pid != std::process::id()
        && std::path::Path::new("/proc/self").exists()
        && !std::path::Path::new(&format!("/proc/{}", lease.pid)).exists()
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_owned())
}
