//! One run's context: the pipeline spec, the clock, the run id, the run lock (renewed in the
//! background), the manifest, the stage and the clients.
//!
//! Every command that changes the manifest opens exactly one [`RunContext`], so a `run` is
//! plan → extract → load inside one lock and one manifest. The lock is released by
//! [`RunContext::finish`] (also after a failure); a process killed outright leaves a lock that
//! the next run takes over once it has watched it go a whole `lock_lease_secs` without a
//! renewal (at once when the dead process ran in its own process namespace).
//!
//! The lock's fence guards the run's manifest commits and every request of its Snowflake
//! client: once the lock is lost (taken over, or not renewed in time) nothing more of the run
//! reaches either, and [`RunContext::lock_lost`] resolves so the command stops.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::Mutex;

use crate::config::Spec;
use crate::error::{Error, LockLoss, Result};
use crate::intacct::IntacctClient;
use crate::loader::{ExternalStage, LoadContext, Names};
use crate::manifest::Fence;
use crate::manifest::Manifest;
use crate::manifest::lock::RunLock;
use crate::snowflake::SnowflakeClient;
use crate::stage::Stage;

/// Everything one run shares.
pub struct RunContext {
    /// The validated pipeline.
    pub spec: Spec,
    /// This run's id (`<start time>-<random>`), in every manifest commit and the report.
    pub run_id: String,
    /// The end of every nightly window (normally the time the run started).
    pub now: DateTime<Utc>,
    /// When the command started (wall clock, whatever `now` says), for its report.
    pub started_at: DateTime<Utc>,
    /// The stage.
    pub stage: Stage,
    /// The manifest, shared by the run's extract and load.
    pub manifest: Arc<Mutex<Manifest>>,
    renewal: Option<Renewal>,
    fence: Option<Fence>,
    intacct: std::sync::OnceLock<IntacctClient>,
    snowflake: Arc<std::sync::OnceLock<SnowflakeClient>>,
    load_progress: Arc<super::progress::LoadProgress>,
    /// `now` was set by the `INTACCT_SNOWFLAKE_NOW` test hook (or `--now`), not the clock.
    clock_hook: bool,
}

impl RunContext {
    /// Opens the stage, takes the pipeline's run lock and opens the manifest.
    pub async fn open(spec: Spec, now: DateTime<Utc>) -> Result<RunContext> {
        let started_at = Utc::now();
        let stage = Stage::open(&spec.stage.url)?;
        let run_id = new_run_id(now);
        let lease = std::time::Duration::from_secs(spec.stage.lock_lease_secs);
        let mut lock = RunLock::acquire(&stage, &spec.name, &run_id, lease).await?;
        let mut manifest = match Manifest::open(stage.clone(), &run_id).await {
            Ok(manifest) => manifest,
            Err(error) => {
                let _ = lock.release().await;
                return Err(error);
            }
        };
        let seen = manifest.state().generation;
        if seen >= lock.generation() {
            // The manifest saw a later generation than the lock's objects say (they were
            // removed, or the pipeline was renamed): take the lock again above it, or every
            // commit of this run would be refused as stale.
            tracing::warn!(
                pipeline = spec.name,
                generation = lock.generation(),
                manifest_generation = seen,
                "the run lock's generations are behind the manifest's; taking the lock again above them"
            );
            lock.release().await?;
            lock = RunLock::acquire_after(&stage, &spec.name, &run_id, lease, seen).await?;
            if let Err(error) = manifest.refresh().await {
                let _ = lock.release().await;
                return Err(error);
            }
        }
        let fence = lock.fence();
        manifest.fence_with(fence.clone());
        let renewal = spawn_renewal(lock);
        Ok(RunContext {
            spec,
            run_id,
            now,
            started_at,
            stage,
            manifest: Arc::new(Mutex::new(manifest)),
            renewal: Some(renewal),
            fence: Some(fence),
            intacct: std::sync::OnceLock::new(),
            snowflake: Arc::new(std::sync::OnceLock::new()),
            load_progress: Arc::new(super::progress::LoadProgress::default()),
            clock_hook: false,
        })
    }

    /// Records that `now` came from the `INTACCT_SNOWFLAKE_NOW` test hook (or `--now`) when
    /// `set`: every report of the run then says so in its warnings.
    pub fn note_clock_hook(&mut self, set: bool) {
        self.clock_hook = set;
    }

    /// The warning a report carries when `now` came from the test hook, else `None`.
    pub fn clock_hook_warning(&self) -> Option<String> {
        self.clock_hook.then(|| clock_hook_warning(self.now))
    }

    /// Draw load progress on a terminal (off by default, e.g. for `--no-progress`).
    pub fn draw_load_progress(&mut self, draw: bool) {
        self.load_progress = super::progress::LoadProgress::new(draw);
    }

    /// The Intacct client of the pipeline: one per run, so every request of the run shares
    /// its sessions, request slots and transaction count.
    pub fn intacct(&self) -> Result<IntacctClient> {
        if let Some(client) = self.intacct.get() {
            return Ok(client.clone());
        }
        let client = IntacctClient::new(super::settings::client_config(&self.spec))?;
        Ok(self.intacct.get_or_init(|| client).clone())
    }

    /// What the run's Intacct requests cost and met (`None` when it sent none).
    pub fn intacct_usage(&self) -> Option<crate::intacct::IntacctUsage> {
        self.intacct.get().map(IntacctClient::usage)
    }

    /// The Snowflake client of the pipeline (built once: its key is read and checked then).
    pub fn snowflake(&self) -> Result<SnowflakeClient> {
        if let Some(client) = self.snowflake.get() {
            return Ok(client.clone());
        }
        let client = client(
            super::settings::snowflake_config(&self.spec),
            self.fence.clone(),
        )?;
        Ok(self.snowflake.get_or_init(|| client).clone())
    }

    /// A Snowflake client of the pipeline with its own retry policy, behind the same fence as
    /// [`RunContext::snowflake`]: a run that lost its lock sends nothing, not even its run row.
    pub(crate) fn snowflake_with(
        &self,
        config: crate::snowflake::SnowflakeConfig,
    ) -> Result<SnowflakeClient> {
        client(config, self.fence.clone())
    }

    /// A maker of the pipeline's Snowflake client that builds it only when first called (the
    /// same client [`RunContext::snowflake`] gives), for work that needs Snowflake only
    /// sometimes.
    pub(crate) fn snowflake_source(
        &self,
    ) -> impl Fn() -> Result<SnowflakeClient> + Send + Sync + 'static {
        let cell = self.snowflake.clone();
        let config = super::settings::snowflake_config(&self.spec);
        let fence = self.fence.clone();
        move || {
            if let Some(client) = cell.get() {
                return Ok(client.clone());
            }
            let client = client(config.clone(), fence.clone())?;
            Ok(cell.get_or_init(|| client).clone())
        }
    }

    /// A handle that sees the Snowflake client once it is built, so an interrupt can cancel
    /// its running statements while the work is still in flight.
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle {
            snowflake: self.snowflake.clone(),
        }
    }

    /// What loading needs.
    pub fn load_context(&self) -> Result<LoadContext> {
        Ok(LoadContext {
            client: self.snowflake()?,
            manifest: self.manifest.clone(),
            names: names(&self.spec)?,
            pipeline: self.spec.name.clone(),
            concurrency: self.spec.snowflake.load_concurrency,
            delete_key: super::delete_key_column,
            observer: Some(self.load_progress.clone()),
            frozen: self
                .spec
                .extract
                .objects
                .iter()
                .filter(|o| o.schema == crate::config::SchemaPolicy::Freeze)
                .map(|o| o.name.clone())
                .collect(),
        })
    }

    /// Resolves, to the [`Error::LockLost`] that says how, when this run's lock was taken over
    /// by another run or its lease vanished (never, while it holds).
    pub fn lock_lost(&self) -> impl std::future::Future<Output = Error> + Send + 'static {
        let lost = self.renewal.as_ref().map(|r| r.lost.clone());
        async move {
            if let Some(mut lost) = lost
                && let Ok(loss) = lost.wait_for(Option::is_some).await
                && let Some((path, how)) = loss.clone()
            {
                return Error::LockLost { path, how };
            }
            std::future::pending().await
        }
    }

    /// Releases the run lock. Call it after success and failure alike.
    pub async fn finish(mut self) -> Result<()> {
        match self.renewal.take() {
            Some(renewal) => renewal.release().await,
            None => Ok(()),
        }
    }
}

/// Cancels what a run has running in Snowflake (Ctrl-C).
#[derive(Clone)]
pub struct CancelHandle {
    snowflake: Arc<std::sync::OnceLock<SnowflakeClient>>,
}

impl CancelHandle {
    /// Cancels every statement the run's Snowflake client has in flight (best effort).
    pub async fn cancel(&self) {
        if let Some(client) = self.snowflake.get() {
            client.cancel_running().await;
        }
    }
}

/// The Snowflake names of a pipeline.
pub(crate) fn names(spec: &Spec) -> Result<Names> {
    let s = &spec.snowflake;
    Names::stored(&s.database, &s.schema, &s.stage_name, &s.file_format)
}

/// Where Snowflake reads the pipeline's stage.
pub(crate) fn external_stage(spec: &Spec) -> ExternalStage {
    ExternalStage {
        url: spec.snowflake.stage_url.clone(),
        storage_integration: spec.snowflake.storage_integration.clone(),
        create_database: spec.snowflake.create_database,
    }
}

fn new_run_id(now: DateTime<Utc>) -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{}-{}", now.format("%Y%m%dT%H%M%SZ"), &random[..8])
}

/// The Snowflake client of a run: every request passes the run lock's fence first.
fn client(
    config: crate::snowflake::SnowflakeConfig,
    fence: Option<Fence>,
) -> Result<SnowflakeClient> {
    match fence {
        Some(fence) => SnowflakeClient::gated(config, Arc::new(move || fence.check())),
        None => SnowflakeClient::new(config),
    }
}

/// The run lock, renewed in the background until released; `lost` is set (to the fields of
/// [`Error::LockLost`], which is not `Clone`) when the lock is no longer this run's.
struct Renewal {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<()>>,
    lost: tokio::sync::watch::Receiver<Option<(String, LockLoss)>>,
}

/// Renews every quarter of the lease; a renewal that fails is tried again sooner, and one
/// that has not succeeded by the fence's deadline loses the lock ([`LockLoss::LeaseRanOut`]):
/// the run stops before a contender may take over.
fn spawn_renewal(mut lock: RunLock) -> Renewal {
    let (stop, mut stopped) = tokio::sync::oneshot::channel();
    let (lost_tx, lost) = tokio::sync::watch::channel(None);
    let period = lock.lease() / 4;
    let task = tokio::spawn(async move {
        let mut next = tokio::time::Instant::now() + period;
        loop {
            let deadline = lock.deadline();
            tokio::select! {
                _ = &mut stopped => return lock.release().await,
                _ = tokio::time::sleep_until(next.min(deadline)) => {
                    // A renewal still unanswered at the deadline is abandoned; the next
                    // attempt then finds the lease run out.
                    let renewed = tokio::time::timeout_at(deadline, lock.renew()).await;
                    match renewed {
                        Ok(Ok(())) => next = tokio::time::Instant::now() + period,
                        Ok(Err(Error::LockLost { path, how })) => {
                            tracing::error!(path, %how, "the run lock is no longer this run's: stopping the run");
                            let _ = lost_tx.send(Some((path.clone(), how.clone())));
                            return Err(Error::LockLost { path, how });
                        }
                        Ok(Err(e)) => {
                            tracing::warn!(error = %e, "could not renew the run lock; trying again");
                            next = tokio::time::Instant::now() + period / 4;
                        }
                        Err(_) => {
                            tracing::warn!("the run lock's renewal was not answered before its lease ran out");
                            next = tokio::time::Instant::now();
                        }
                    }
                }
            }
        }
    });
    Renewal { stop, task, lost }
}

impl Renewal {
    async fn release(self) -> Result<()> {
        let _ = self.stop.send(());
        self.task.await.map_err(|source| Error::Task {
            task: "the run lock's renewal",
            source,
        })?
    }
}

/// What a report and the log say when the run's clock came from the test hook: windows end
/// at `now` instead of the current time, which a production run must never do unnoticed.
fn clock_hook_warning(now: DateTime<Utc>) -> String {
    format!(
        "the run's clock was set to {} by INTACCT_SNOWFLAKE_NOW (or --now), a test hook: windows end there, not at the current time; unset it outside tests and demos",
        now.to_rfc3339()
    )
}
