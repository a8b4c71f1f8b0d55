//! The run lock: a create-once sequence of generations per pipeline, so two runs never
//! interleave and a run that lost the lock can no longer change anything.
//!
//! # On the stage
//!
//! ```text
//! _lock/<pipeline>/<generation, 20 digits>.json                 an acquisition: its holder (run id, pid, host, start) and lease
//! _lock/<pipeline>/<generation>.renew-<n, 10 digits>.json       the holder's n-th renewal
//! _lock/<pipeline>/<generation>.released.json                   the holder is done
//! ```
//!
//! Every object is written once with `PutMode::Create` ([`Stage::put_create`]); nothing is
//! read-then-written, and nothing is deleted and created again. The holder is the owner of the
//! **newest** generation, as long as it is not released and its holder keeps renewing it. An
//! acquisition creates `newest + 1`: of two runs that do so at once, exactly one creates it
//! and the other is told the lock is held ([`Error::LockHeld`]).
//!
//! # Liveness: judged by what this process observes
//!
//! A holder renews every quarter of its lease (`stage.lock_lease_secs`, two minutes by
//! default) by creating its next renewal object. A run that finds the newest generation
//! unreleased watches it: when its renewal count changes, its holder is alive
//! ([`Error::LockHeld`]); when it does not change during a whole lease (the longer of the
//! holder's and this run's), measured on this process's monotonic clock, its holder is dead,
//! wherever it ran, and the generation after it is created. No wall clock is compared with
//! another machine's. After creating its generation, the run looks once more: a renewal of the
//! old generation that landed meanwhile means its holder was alive after all, and the new
//! generation is released at once ([`Error::LockHeld`]); the old holder stops anyway, since
//! a newer generation exists.
//!
//! A holder that runs in the same kernel and process namespace as the contender (same boot
//! id, same pid namespace) and whose process is gone (or is another process under the same
//! pid, told apart by its start time) is dead at once, without the wait: in that namespace
//! `/proc` is authoritative. In another container or on another host that shortcut never
//! applies, and the lease decides.
//!
//! # Fencing
//!
//! Each held lock has a [`Fence`]: a cheap, synchronous check that the lock is still this
//! run's, which every manifest commit and every request to Snowflake passes first. It fails
//! ([`Error::LockLost`]) once
//! * a renewal found a newer generation ([`LockLoss::TakenOver`]), or
//! * three quarters of a lease passed, on the monotonic clock, since the start of the last
//!   renewal that succeeded ([`LockLoss::LeaseRanOut`]): a contender takes over only after
//!   watching a whole lease without a renewal, so the holder stops a quarter of a lease before
//!   anyone else can start. The monotonic clock keeps counting while a process is paused
//!   (SIGSTOP, a frozen container), so a holder resumed past its lease fails the check before
//!   doing anything.
//!
//! The generation is also written into every manifest commit, and the manifest refuses a
//! commit from an older generation than the newest it has seen
//! ([`crate::ManifestRule::StaleGeneration`]): a commit that passed the fence just before
//! the process stalled still cannot land after the new holder's first commit. What the
//! fence cannot stop is a request already on the wire when the holder stalled; a statement
//! Snowflake runs is resumed by the new holder through its recorded requestId.
//!
//! # The old single-file lease
//!
//! Releases before generations kept one object, `_lock/<pipeline>.json`, with a wall-clock
//! expiry. When it is present and unexpired, a run of an older release may hold the lock:
//! acquisition fails with [`Error::LockHeld`] (generation 0) naming it. An expired one is
//! ignored (with a warning) and may be deleted by hand.
//!
//! Old generations are removed by the next holder (all but the one before its own), and a
//! holder removes its own older renewals, so the directory stays a few objects long.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use tokio::time::Instant;

use crate::error::{Error, LockLoss, ManifestFile, Result};
use crate::stage::{CreateOutcome, Stage};

/// What a generation's object says about its holder.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Holder {
    /// The generation.
    pub generation: u64,
    /// Run id of the holder.
    pub run_id: String,
    /// Host name of the holder (for people; liveness never depends on it).
    pub host: String,
    /// Process id of the holder.
    pub pid: u32,
    /// When the holder started, by its own clock (for people).
    pub started_at: DateTime<Utc>,
    /// The lease the holder renews within, in seconds.
    pub lease_secs: u64,
    /// Where the holder's process lives: set on Linux, where `/proc` can tell whether it
    /// still runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<ProcessId>,
}

/// A process, named so that `/proc` can tell whether it still runs: the kernel's boot id,
/// the pid namespace and the process's start time (clock ticks after boot).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProcessId {
    /// `/proc/sys/kernel/random/boot_id`.
    pub boot_id: String,
    /// `/proc/self/ns/pid` (`pid:[inode]`).
    pub pid_namespace: String,
    /// Field 22 of `/proc/<pid>/stat`.
    pub start_ticks: u64,
}

impl std::fmt::Display for Holder {
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

/// A renewal object's content (for people; only its name counts).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Renewal {
    generation: u64,
    n: u64,
    run_id: String,
    written_at: DateTime<Utc>,
}

/// What the names under `_lock/<pipeline>/` say about one generation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Generation {
    /// Its holder object exists.
    pub(crate) created: bool,
    /// The highest renewal number seen (0: none).
    pub(crate) renewals: u64,
    /// Its release marker exists.
    pub(crate) released: bool,
}

/// The generations found under `_lock/<pipeline>/`, by number.
pub(crate) type Generations = std::collections::BTreeMap<u64, Generation>;

/// Reads the object names (relative to the pipeline's lock directory) into generations;
/// names that are none of the three kinds are ignored.
pub(crate) fn parse_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Generations {
    let mut found = Generations::new();
    for name in names {
        let Some(stem) = name.strip_suffix(".json") else {
            continue;
        };
        let (number, rest) = stem.split_once('.').unwrap_or((stem, ""));
        let Ok(generation) = number.parse::<u64>() else {
            continue;
        };
        match rest {
            "" => found.entry(generation).or_default().created = true,
            "released" => found.entry(generation).or_default().released = true,
            _ => {
                if let Some(n) = rest
                    .strip_prefix("renew-")
                    .and_then(|n| n.parse::<u64>().ok())
                {
                    let entry = found.entry(generation).or_default();
                    entry.renewals = entry.renewals.max(n);
                }
            }
        }
    }
    found
}

/// What the newest generation says about the lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Newest {
    /// No generation, or the newest is released: the next one is free to take.
    Free { next: u64 },
    /// The newest generation is not released: its holder may be alive.
    Taken { generation: u64, renewals: u64 },
}

/// The state of the lock from its generations.
pub(crate) fn newest(generations: &Generations) -> Newest {
    match generations.iter().next_back() {
        None => Newest::Free { next: 1 },
        Some((&generation, g)) if g.released => Newest::Free {
            next: generation + 1,
        },
        Some((&generation, g)) => Newest::Taken {
            generation,
            renewals: g.renewals,
        },
    }
}

/// A contender's watch over a taken generation: what it saw first, and when (monotonic).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Watch {
    seen: Newest,
    since: Instant,
    lease: Duration,
}

/// What a [`Watch`] concludes from a new look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The lock changed hands or was renewed: its holder is alive.
    Alive,
    /// The newest generation was released: try again.
    Free,
    /// Unchanged, but for less than a lease: look again later.
    Waiting,
    /// Unchanged for a whole lease: its holder is dead.
    Dead,
}

impl Watch {
    /// Starts watching `seen` at `now`, for `lease`.
    pub(crate) fn new(seen: Newest, now: Instant, lease: Duration) -> Watch {
        Watch {
            seen,
            since: now,
            lease,
        }
    }

    /// Judges a look at the lock taken at `now`.
    pub(crate) fn judge(&self, looked: Newest, now: Instant) -> Verdict {
        if let Newest::Free { .. } = looked {
            return Verdict::Free;
        }
        if looked != self.seen {
            return Verdict::Alive;
        }
        if now.saturating_duration_since(self.since) >= self.lease {
            Verdict::Dead
        } else {
            Verdict::Waiting
        }
    }
}

/// The part of a lease the holder may still act in after the start of its last successful
/// renewal: three quarters, leaving a quarter of a lease between the holder's last act and the
/// earliest takeover.
fn acting_window(lease: Duration) -> Duration {
    lease - lease / 4
}

/// The check every manifest commit and Snowflake request of a lock holder passes first.
#[derive(Clone, Debug)]
pub struct Fence {
    inner: Arc<FenceState>,
}

#[derive(Debug)]
struct FenceState {
    generation: u64,
    path: String,
    lease: Duration,
    /// Until when (monotonic) the holder may act, and how the lock was lost once it was.
    held: Mutex<(Instant, Option<LockLoss>)>,
}

impl Fence {
    fn new(generation: u64, path: String, lease: Duration, renewed_from: Instant) -> Fence {
        Fence {
            inner: Arc::new(FenceState {
                generation,
                path,
                lease,
                held: Mutex::new((renewed_from + acting_window(lease), None)),
            }),
        }
    }

    /// The lock's generation.
    pub fn generation(&self) -> u64 {
        self.inner.generation
    }

    /// Fails with [`Error::LockLost`] once the lock is no longer certainly this run's.
    pub fn check(&self) -> Result<()> {
        self.check_at(Instant::now())
    }

    fn check_at(&self, now: Instant) -> Result<()> {
        let held = self.inner.held.lock().expect("fence lock");
        let how = match &held.1 {
            Some(loss) => loss.clone(),
            None if now >= held.0 => LockLoss::LeaseRanOut {
                lease_secs: self.inner.lease.as_secs(),
            },
            None => return Ok(()),
        };
        Err(Error::LockLost {
            path: self.inner.path.clone(),
            how,
        })
    }

    /// Until when (monotonic) the holder may act.
    fn deadline(&self) -> Instant {
        self.inner.held.lock().expect("fence lock").0
    }

    /// A renewal that started at `started` succeeded.
    fn renewed(&self, started: Instant) {
        let mut held = self.inner.held.lock().expect("fence lock");
        let until = started + acting_window(self.inner.lease);
        if held.1.is_none() && until > held.0 {
            held.0 = until;
        }
    }

    /// The lock is lost.
    fn lose(&self, how: LockLoss) {
        let mut held = self.inner.held.lock().expect("fence lock");
        if held.1.is_none() {
            held.1 = Some(how);
        }
    }
}

/// A held lock; call [`RunLock::release`] when done.
#[derive(Debug)]
pub struct RunLock {
    stage: Stage,
    pipeline: String,
    holder: Holder,
    renewals: u64,
    fence: Fence,
}

/// Attempts at taking the lock when generations keep being released under us.
const ATTEMPTS: usize = 3;
/// The longest pause between two looks at a taken lock.
const LOOK_EVERY_MAX: Duration = Duration::from_secs(5);

fn lock_dir(pipeline: &str) -> String {
    format!("_lock/{pipeline}")
}

fn legacy_path(pipeline: &str) -> String {
    format!("_lock/{pipeline}.json")
}

fn generation_path(pipeline: &str, generation: u64) -> String {
    format!("_lock/{pipeline}/{generation:020}.json")
}

fn renewal_path(pipeline: &str, generation: u64, n: u64) -> String {
    format!("_lock/{pipeline}/{generation:020}.renew-{n:010}.json")
}

fn released_path(pipeline: &str, generation: u64) -> String {
    format!("_lock/{pipeline}/{generation:020}.released.json")
}

impl RunLock {
    /// Takes the lock of `pipeline`, renewed within `lease`, or fails naming the holder.
    pub async fn acquire(
        stage: &Stage,
        pipeline: &str,
        run_id: &str,
        lease: Duration,
    ) -> Result<RunLock> {
        RunLock::acquire_after(stage, pipeline, run_id, lease, 0).await
    }

    /// Takes the lock at a generation above `floor` (the newest the manifest has seen, when
    /// the lock's objects were removed or the pipeline renamed), or fails naming the holder.
    pub async fn acquire_after(
        stage: &Stage,
        pipeline: &str,
        run_id: &str,
        lease: Duration,
        floor: u64,
    ) -> Result<RunLock> {
        check_legacy(stage, pipeline, lease).await?;
        for _ in 0..ATTEMPTS {
            // The generation judged dead, and its renewal count then.
            let mut judged_dead = None;
            let generation = match newest(&look(stage, pipeline).await?) {
                Newest::Free { next } => next.max(floor + 1),
                taken @ Newest::Taken {
                    generation,
                    renewals,
                } => match watch(stage, pipeline, taken, lease).await? {
                    Verdict::Free => continue,
                    Verdict::Dead => {
                        judged_dead = Some((generation, renewals));
                        generation.max(floor) + 1
                    }
                    Verdict::Alive | Verdict::Waiting => {
                        let newest = match newest(&look(stage, pipeline).await?) {
                            Newest::Taken { generation, .. } => generation,
                            Newest::Free { .. } => continue,
                        };
                        return Err(held(stage, pipeline, newest, lease).await);
                    }
                },
            };
            let started = Instant::now();
            let holder = Holder {
                generation,
                run_id: run_id.to_owned(),
                host: host_name(),
                pid: std::process::id(),
                started_at: Utc::now(),
                lease_secs: lease.as_secs().max(1),
                process: this_process(),
            };
            let path = generation_path(pipeline, generation);
            let body = Bytes::from(serde_json::to_vec_pretty(&holder).expect("holder serialises"));
            if stage.put_create(&path, body).await? == CreateOutcome::AlreadyExists {
                return Err(held(stage, pipeline, generation, lease).await);
            }
            let lock = RunLock {
                stage: stage.clone(),
                pipeline: pipeline.to_owned(),
                fence: Fence::new(generation, path, lease, started),
                holder,
                renewals: 0,
            };
            // A renewal of the generation judged dead that landed while ours was created: its
            // holder was alive after all. Give ours up (that holder stops anyway: a newer
            // generation exists).
            if let Some((dead, renewals)) = judged_dead {
                let now = look(stage, pipeline).await?;
                if now.get(&dead).map(|g| g.renewals) != Some(renewals) {
                    tracing::warn!(
                        pipeline,
                        generation = dead,
                        "the run lock's holder renewed it after all; giving up the generation taken over"
                    );
                    lock.mark_released().await?;
                    return Err(held(stage, pipeline, dead, lease).await);
                }
            }
            tracing::info!(pipeline, run_id, generation, "run lock taken");
            lock.remove_old_generations().await;
            return Ok(lock);
        }
        Err(Error::Contended {
            path: lock_dir(pipeline),
            attempts: ATTEMPTS,
        })
    }

    /// Who holds the lock: this run.
    pub fn holder(&self) -> &Holder {
        &self.holder
    }

    /// The lock's generation, written into every manifest commit.
    pub fn generation(&self) -> u64 {
        self.holder.generation
    }

    /// The check every manifest commit and Snowflake request of this run passes first.
    pub fn fence(&self) -> Fence {
        self.fence.clone()
    }

    /// The lease, as taken.
    pub fn lease(&self) -> Duration {
        self.fence.inner.lease
    }

    /// Until when (monotonic) the holder may act unless it renews.
    pub(crate) fn deadline(&self) -> Instant {
        self.fence.deadline()
    }

    /// Creates the next renewal object, then checks that no newer generation exists. Fails
    /// with [`Error::LockLost`] when one does ([`LockLoss::TakenOver`]), or when the lock was
    /// already lost; any other failure (the stage did not answer) leaves the fence as it was,
    /// running out by itself.
    pub async fn renew(&mut self) -> Result<()> {
        self.fence.check()?;
        let started = Instant::now();
        let n = self.renewals + 1;
        let generation = self.holder.generation;
        let renewal = Renewal {
            generation,
            n,
            run_id: self.holder.run_id.clone(),
            written_at: Utc::now(),
        };
        let body = Bytes::from(serde_json::to_vec(&renewal).expect("renewal serialises"));
        // "Already there" is this run's own write answered twice: renewals are this run's only.
        self.stage
            .put_create(&renewal_path(&self.pipeline, generation, n), body)
            .await?;
        self.renewals = n;
        let generations = look(&self.stage, &self.pipeline).await?;
        if let Some((&newer, _)) = generations.range(generation + 1..).next_back() {
            let by = read_holder(&self.stage, &self.pipeline, newer)
                .await
                .ok()
                .flatten()
                .map(|h| h.to_string())
                .unwrap_or_else(|| format!("generation {newer}"));
            let how = LockLoss::TakenOver {
                by,
                generation: newer,
            };
            self.fence.lose(how);
            return self.fence.check();
        }
        self.fence.renewed(started);
        self.fence.check()?;
        if n > 1 {
            // The newest renewal's name carries the count: the older ones say nothing more.
            let _ = self
                .stage
                .delete(&renewal_path(&self.pipeline, generation, n - 1))
                .await;
        }
        Ok(())
    }

    /// Marks this generation released (a create-once marker): the next run takes the lock at
    /// once. The fence fails from then on.
    pub async fn release(self) -> Result<()> {
        self.mark_released().await?;
        tracing::info!(
            pipeline = self.pipeline,
            generation = self.holder.generation,
            "run lock released"
        );
        Ok(())
    }

    async fn mark_released(&self) -> Result<()> {
        self.fence.lose(LockLoss::LeaseRanOut {
            lease_secs: self.lease().as_secs(),
        });
        let body = Bytes::from(
            serde_json::to_vec(&serde_json::json!({
                "generation": self.holder.generation,
                "run_id": self.holder.run_id,
                "released_at": Utc::now(),
            }))
            .expect("marker serialises"),
        );
        self.stage
            .put_create(&released_path(&self.pipeline, self.holder.generation), body)
            .await?;
        Ok(())
    }

    /// Removes the objects of every generation but ours and the one before it (best effort:
    /// they only cost a longer listing).
    async fn remove_old_generations(&self) {
        let prefix = format!("{}/", lock_dir(&self.pipeline));
        let Ok(objects) = self.stage.list(&lock_dir(&self.pipeline)).await else {
            return;
        };
        let keep_from = self.holder.generation.saturating_sub(1);
        for object in objects {
            let Some(name) = object.path.strip_prefix(&prefix) else {
                continue;
            };
            let old = parse_names([name])
                .keys()
                .next()
                .is_some_and(|&generation| generation < keep_from);
            if old && let Err(error) = self.stage.delete(&object.path).await {
                tracing::debug!(path = object.path, %error, "could not remove an old run lock object");
            }
        }
    }
}

/// The generations of `pipeline`'s lock as the stage lists them now.
async fn look(stage: &Stage, pipeline: &str) -> Result<Generations> {
    let prefix = format!("{}/", lock_dir(pipeline));
    let objects = stage.list(&lock_dir(pipeline)).await?;
    Ok(parse_names(
        objects.iter().filter_map(|o| o.path.strip_prefix(&prefix)),
    ))
}

async fn read_holder(stage: &Stage, pipeline: &str, generation: u64) -> Result<Option<Holder>> {
    let path = generation_path(pipeline, generation);
    let Some(body) = stage.get(&path).await? else {
        return Ok(None);
    };
    super::parse_file(&path, ManifestFile::Lease, &body).map(Some)
}

/// Watches a taken generation until its holder proves alive (a renewal, a newer generation)
/// or dead (no change for a whole lease on this process's monotonic clock), or releases it.
async fn watch(stage: &Stage, pipeline: &str, taken: Newest, lease: Duration) -> Result<Verdict> {
    let Newest::Taken { generation, .. } = taken else {
        return Ok(Verdict::Free);
    };
    let holder = read_holder(stage, pipeline, generation).await?;
    if let Some(holder) = &holder
        && process_is_gone(holder)
    {
        tracing::warn!(pipeline, holder = %holder, generation, "taking over the run lock of a process that no longer runs");
        return Ok(Verdict::Dead);
    }
    // The holder's own lease when it is longer: it renews only that often.
    let lease = holder
        .as_ref()
        .map(|h| Duration::from_secs(h.lease_secs))
        .unwrap_or_default()
        .max(lease);
    tracing::info!(
        pipeline,
        generation,
        holder = holder.as_ref().map(|h| h.to_string()),
        lease_secs = lease.as_secs(),
        "the run lock is taken; watching whether its holder renews it"
    );
    let watch = Watch::new(taken, Instant::now(), lease);
    let every = (lease / 8).clamp(Duration::from_millis(50), LOOK_EVERY_MAX);
    loop {
        tokio::time::sleep(every).await;
        let looked = newest(&look(stage, pipeline).await?);
        match watch.judge(looked, Instant::now()) {
            Verdict::Waiting => {}
            Verdict::Dead => {
                tracing::warn!(
                    pipeline,
                    generation,
                    lease_secs = lease.as_secs(),
                    "the run lock was not renewed for a whole lease: taking it over"
                );
                return Ok(Verdict::Dead);
            }
            verdict => return Ok(verdict),
        }
    }
}

/// The error of a lock held by `generation`'s holder.
async fn held(stage: &Stage, pipeline: &str, generation: u64, lease: Duration) -> Error {
    let holder = read_holder(stage, pipeline, generation)
        .await
        .ok()
        .flatten();
    Error::LockHeld {
        pipeline: pipeline.to_owned(),
        holder: holder
            .as_ref()
            .map(|h| h.to_string())
            .unwrap_or_else(|| "another run".to_owned()),
        generation,
        lease_secs: holder
            .map(|h| h.lease_secs)
            .unwrap_or(0)
            .max(lease.as_secs()),
        path: generation_path(pipeline, generation),
    }
}

/// The single-file lease of releases before generations.
#[derive(serde::Deserialize)]
struct LegacyLease {
    host: String,
    pid: u32,
    run_id: String,
    expires_at: DateTime<Utc>,
}

/// Refuses while an unexpired old-style lease is on the stage (a run of an older release may
/// hold it); an expired one is ignored.
async fn check_legacy(stage: &Stage, pipeline: &str, lease: Duration) -> Result<()> {
    let path = legacy_path(pipeline);
    let Some(body) = stage.get(&path).await? else {
        return Ok(());
    };
    let old: LegacyLease = super::parse_file(&path, ManifestFile::Lease, &body)?;
    if old.expires_at <= Utc::now() {
        tracing::warn!(
            path,
            "ignoring an expired run lock of an older release; it may be deleted"
        );
        return Ok(());
    }
    Err(Error::LockHeld {
        pipeline: pipeline.to_owned(),
        holder: format!(
            "run {} (pid {} on {}, an older release's lease until {})",
            old.run_id,
            old.pid,
            old.host,
            old.expires_at.to_rfc3339()
        ),
        generation: 0,
        lease_secs: lease.as_secs(),
        path,
    })
}

/// True when the holder ran in this kernel and this pid namespace and its process is gone
/// (or the pid now names another process): there `/proc` is authoritative.
fn process_is_gone(holder: &Holder) -> bool {
    let (Some(theirs), Some(ours)) = (&holder.process, this_process()) else {
        return false;
    };
    if theirs.boot_id != ours.boot_id || theirs.pid_namespace != ours.pid_namespace {
        return false;
    }
    if holder.pid == std::process::id() {
        return theirs.start_ticks != ours.start_ticks;
    }
    start_ticks(&holder.pid.to_string()) != Some(theirs.start_ticks)
}

fn this_process() -> Option<ProcessId> {
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let pid_namespace = std::fs::read_link("/proc/self/ns/pid").ok()?;
    Some(ProcessId {
        boot_id: boot_id.trim().to_owned(),
        pid_namespace: pid_namespace.to_string_lossy().into_owned(),
        start_ticks: start_ticks("self")?,
    })
}

/// Field 22 of `/proc/<pid>/stat`: when the process started, in clock ticks after boot.
fn start_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_start_ticks(&stat)
}

fn parse_start_ticks(stat: &str) -> Option<u64> {
    // The command name (field 2) is in parentheses and may hold spaces and parentheses.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_owned())
}

#[cfg(test)]
mod tests;
