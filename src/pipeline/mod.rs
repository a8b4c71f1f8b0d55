//! Orchestration: one [`RunContext`] per command; the command's work (extract with its
//! delete feed, load through [`crate::loader`], backfill, replay, verify) inside one lock and
//! one manifest, and its typed [`RunReport`].
//!
//! * `settings` turns the pipeline spec into the clients' configurations and the extract's
//!   options; `clock` decides where nightly windows end from this machine's clock and the
//!   Intacct gateway's (and refuses a run when they disagree); `plan` decides every window
//!   from the manifest and that end; `extract` carries
//!   a plan out; `report` is the run report and its outcome; `status` the per-object view of
//!   the manifest, `page` the HTML status page, `dbt` the dbt sources file; `reset` rebuilds an
//!   object beside its table and accepts held schema changes.
//! * `run` = load what an earlier run left staged → plan → extract → load.
//! * `prune` removes the files of batches loaded before a horizon (`stage prune`), keeping
//!   what replay, resume and load need.
//!
//! Nothing here parses arguments or prints: the command bodies under `crate::cli` build the
//! plain option values these functions take and print the [`RunReport`] they return. Every
//! command that changes the manifest leaves its report at `_reports/<run_id>.json` (counts
//! and durations only, never a secret).

pub mod check;
pub(crate) mod clock;
pub(crate) mod context;
pub(crate) mod dbt;
mod deletes;
pub(crate) mod extract;
mod lines;
pub(crate) mod page;
pub(crate) mod plan;
mod progress;
pub(crate) mod prune;
pub(crate) mod report;
mod reset;
mod settings;
pub(crate) mod status;
pub(crate) mod verify;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::Mutex;

use crate::error::{Error, Result};
use crate::intacct::IntacctClient;
use crate::loader::BatchLoadReport;
use crate::manifest::{Action, Manifest};
use crate::stage::Stage;

pub use clock::ClockReport;
pub use context::RunContext;
pub(crate) use progress::{end_bars, write_above_bars};
pub use prune::{prune, prune_dry_run};
pub use report::{
    BackfillWindows, CommandName, Failure, ObjectReport, Outcome, PruneReport, PrunedBatch,
    RunReport, SCHEMA_VERSION, SavedReport, StopReason,
};
pub use reset::{accept_schema, reset};
pub use settings::{
    ExtractOptions, ObjectJob, client_config, extract_options, objects_in_scope, snowflake_config,
};
pub use verify::VerifyReport;

/// The column tombstones of `object` name their records by, when it is not RECORDNO (an ID
/// for natural-key objects, the header's key for line objects): the loader's MERGE expands
/// such tombstones to every record that carries the value.
pub fn delete_key_column(object: &str) -> Option<&'static str> {
    match crate::intacct::objects::delete_key(object) {
        crate::intacct::objects::DeleteKey::RecordNo => None,
        crate::intacct::objects::DeleteKey::Column(column) => Some(column),
    }
}

/// `run`, the nightly job: loads what an earlier run left staged, extracts every object of
/// `options` from its planned window, loads that; the report of all three.
pub async fn run(
    ctx: &RunContext,
    options: &ExtractOptions,
    only: Option<&[String]>,
) -> Result<SavedReport> {
    let mut report = RunReport::new(CommandName::Run, ctx);
    let (options, clock) = bounded_by_gateway(ctx, options).await?;
    report.clock = Some(clock);
    report.leftover_loads = load_staged(ctx, only, &mut report.views_skipped).await?;
    report.objects = extract_nightly(ctx, &options).await?;
    report.loads = load_staged(ctx, only, &mut report.views_skipped).await?;
    report.save(ctx).await
}

/// `extract`: every object of `options` from its planned window into a staged batch, nothing
/// loaded.
pub async fn extract(ctx: &RunContext, options: &ExtractOptions) -> Result<SavedReport> {
    let mut report = RunReport::new(CommandName::Extract, ctx);
    let (options, clock) = bounded_by_gateway(ctx, options).await?;
    report.clock = Some(clock);
    report.objects = extract_nightly(ctx, &options).await?;
    report.save(ctx).await
}

/// `load`: every staged, unloaded batch (of `only`, when given).
pub async fn load(ctx: &RunContext, only: Option<&[String]>) -> Result<SavedReport> {
    let mut report = RunReport::new(CommandName::Load, ctx);
    report.loads = load_staged(ctx, only, &mut report.views_skipped).await?;
    report.save(ctx).await
}

/// `options` with its nightly windows ending where both clocks have been
/// (`super::clock`): this machine's (`options.now`) and the Intacct gateway's, read from the
/// `sessiontimestamp` of a login (with `intacct.entities`, the first entity's: a user may be
/// refused the top level). [`Error::ClockSkew`] when they differ by more than the lookback:
/// nothing has been loaded or extracted then, and no mark moves.
async fn bounded_by_gateway(
    ctx: &RunContext,
    options: &ExtractOptions,
) -> Result<(ExtractOptions, ClockReport)> {
    let client = ctx.intacct()?;
    let client = match ctx.spec.intacct.entities.first() {
        Some(entity) => client.for_entity(entity),
        None => client,
    };
    let gateway = client.gateway_time().await?;
    let lookback = clock::smallest_lookback(options).unwrap_or(options.lookback);
    let margin = Duration::seconds(i64::try_from(ctx.spec.extract.clock_margin_secs).unwrap_or(0));
    let clock = clock::windows_end(options.now, gateway, margin, lookback).inspect_err(|e| {
        tracing::error!(error = %e, "the clocks disagree: no window is planned");
    })?;
    tracing::info!(
        local = %clock.local.to_rfc3339(),
        gateway = %clock.gateway.to_rfc3339(),
        skew_secs = clock.skew_secs,
        windows_end = %clock.windows_end.to_rfc3339(),
        "clocks compared"
    );
    let mut bounded = options.clone();
    bounded.now = clock.windows_end;
    Ok((bounded, clock))
}

/// The nightly extract of every object of `options`: planned from the manifest's marks and
/// the clock, then carried out.
async fn extract_nightly(ctx: &RunContext, options: &ExtractOptions) -> Result<Vec<ObjectReport>> {
    let client = ctx.intacct()?;
    let live = lines::LiveLines::new(
        ctx.snowflake_source(),
        context::names(&ctx.spec)?,
        ctx.spec.name.clone(),
    );
    extract_planned(&client, &ctx.manifest, options, None, Some(&live)).await
}

/// Extracts `planned` (`None`: the nightly plan of `options`, from the manifest as it is now);
/// `live` reads the lines Snowflake holds, for line objects.
async fn extract_planned(
    client: &IntacctClient,
    manifest: &Arc<Mutex<Manifest>>,
    options: &ExtractOptions,
    planned: Option<Vec<plan::PlannedExtract>>,
    live: Option<&lines::LiveLines>,
) -> Result<Vec<ObjectReport>> {
    let planned = match planned {
        Some(planned) => planned,
        None => plan::nightly(manifest.lock().await.state(), options),
    };
    for p in &planned {
        tracing::info!(object = %p.job.name, entity = ?p.job.entity, mode = %p.mode, from = ?p.window.from, to = %p.window.to, deletes_from = ?p.deletes.map(|d| d.from), "window planned");
    }
    let progress = progress::Progress::new(options.progress);
    Ok(extract::extract(client, manifest.clone(), options, &planned, &progress, live).await)
}

/// Opens the manifest of `stage` and extracts every object of `options` from its planned
/// nightly window, without a run lock: for tests and benchmarks that drive one extract
/// directly. There is no Snowflake here: line objects compare removed lines only against
/// what their batches read, and put the comparison off once a batch of theirs was loaded.
pub async fn run_extract(
    client: &IntacctClient,
    stage: &Stage,
    run_id: &str,
    options: &ExtractOptions,
) -> Result<Vec<ObjectReport>> {
    let manifest = Manifest::open(stage.clone(), run_id).await?;
    let manifest = Arc::new(Mutex::new(manifest));
    extract_planned(client, &manifest, options, None, None).await
}

/// Loads every staged, unloaded batch (of `only`, when given), then, when a load sent
/// statements (tables may have been created or grown), creates the reporting views whose
/// tables now exist; the views that cannot be built replace `views_skipped` (a warning, never
/// a failed load). A load that sent nothing (no batch, or only batches without rows) checks
/// no view: nothing in the tables changed.
async fn load_staged(
    ctx: &RunContext,
    only: Option<&[String]>,
    views_skipped: &mut Option<Vec<crate::loader::ViewSkipped>>,
) -> Result<Vec<BatchLoadReport>> {
    let load = ctx.load_context()?;
    let pending = {
        let manifest = ctx.manifest.lock().await;
        crate::loader::pending_batches(manifest.state(), only)
    };
    let reports = crate::loader::load_batches(&load, pending).await;
    if reports
        .iter()
        .any(|r| r.error.is_none() && r.statements > 0)
    {
        let views = crate::loader::ensure_views(&load).await;
        for view in &views.created {
            tracing::info!(view, "reporting view created");
        }
        *views_skipped = Some(views.skipped);
    }
    Ok(reports)
}

/// Parses an RFC 3339 instant given for `--now`.
pub fn parse_now(text: Option<&str>) -> Result<DateTime<Utc>> {
    match text {
        Some(text) => {
            let now = DateTime::parse_from_rfc3339(text)
                .map_err(|e| Error::Config {
                    location: "--now".into(),
                    message: format!("{text:?} is not an RFC 3339 time: {e}"),
                })?
                .with_timezone(&Utc);
            tracing::warn!(now = %now.to_rfc3339(), "the clock is set by the test hook INTACCT_SNOWFLAKE_NOW (or --now), not read from the system");
            Ok(now)
        }
        None => Ok(Utc::now()),
    }
}

/// Loads saved batches again from the stage alone (no call to Intacct): each source becomes a
/// replay batch of its own (same files, `replay_of` the source) that is then loaded; safe to
/// run any number of times, and a replay a crash interrupted resumes with the next `load`.
pub async fn replay(ctx: &RunContext, selection: &plan::ReplaySelection) -> Result<SavedReport> {
    let mut report = RunReport::new(CommandName::Replay, ctx);
    report.loads = replay_batches(ctx, selection).await?;
    report.save(ctx).await
}

/// Creates the replay batches of `selection` and loads them.
async fn replay_batches(
    ctx: &RunContext,
    selection: &plan::ReplaySelection,
) -> Result<Vec<BatchLoadReport>> {
    let load = ctx.load_context()?;
    let mut batches: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    {
        let mut manifest = ctx.manifest.lock().await;
        let sources: Vec<crate::manifest::BatchState> =
            plan::replay_sources(manifest.state(), selection)?
                .into_iter()
                .cloned()
                .collect();
        if sources.is_empty() {
            return Ok(vec![]);
        }
        let mut actions = Vec::new();
        for source in &sources {
            let batch_id = uuid::Uuid::new_v4().to_string();
            actions.push(Action::BatchCreated {
                batch_id: batch_id.clone(),
                object: source.object.clone(),
                mode: crate::manifest::Mode::Replay,
                window_from: source.window_from,
                window_to: source.window_to,
                schema_fingerprint: source.schema_fingerprint.clone(),
                replay_of: Some(source.batch_id.clone()),
                keys: Some(source.keys.clone()),
            });
            if let Some(entity) = &source.entity {
                actions.push(Action::BatchEntity {
                    batch_id: batch_id.clone(),
                    entity: entity.clone(),
                });
            }
            actions.push(Action::BatchStaged {
                batch_id: batch_id.clone(),
                files: source.files.clone(),
                raw_pages: vec![],
                quarantine: vec![],
                rows: source.rows,
                deleted_rows: source.deleted_rows,
                bytes: source.bytes,
                staged_up_to: None,
                deletes_up_to: None,
            });
            tracing::info!(object = %source.object, source = %source.batch_id, replay = %batch_id, "replay batch created");
            batches
                .entry(source.object.clone())
                .or_default()
                .push(batch_id);
        }
        manifest.commit(actions).await?;
    }
    Ok(crate::loader::load_batches(&load, batches).await)
}

/// `backfill`: `[from, to)` in windows of `window` for the objects of `options`. Windows an
/// earlier backfill loaded are skipped, ones it staged are loaded, ones it was reading go on
/// from their recorded position, the rest are extracted (in parallel, within the pipeline's
/// concurrency) and loaded. The nightly marks never move.
pub async fn backfill(
    ctx: &RunContext,
    options: &ExtractOptions,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    window: Duration,
) -> Result<SavedReport> {
    let windows = plan::windows(from, to, window)?;
    let mut objects: Vec<String> = options.objects.iter().map(|o| o.name.clone()).collect();
    objects.dedup();
    let steps = {
        let manifest = ctx.manifest.lock().await;
        plan::backfill(manifest.state(), options, &windows)
    };
    let mut done = BackfillWindows::new(from, to, window);
    let mut jobs = Vec::new();
    for step in steps {
        match step {
            plan::BackfillStep::Done { .. } => done.windows_done += 1,
            plan::BackfillStep::Load { .. } => done.windows_resumed += 1,
            plan::BackfillStep::Extract(planned) => jobs.push(planned),
            plan::BackfillStep::Resume { planned, .. } => {
                done.windows_resumed += 1;
                jobs.push(planned);
            }
        }
    }
    tracing::info!(
        windows = windows.len(),
        done = done.windows_done,
        resumed = done.windows_resumed,
        to_extract = jobs.len(),
        "backfill planned"
    );
    let mut report = RunReport::new(CommandName::Backfill, ctx);
    report.backfill = Some(done);
    // Staged windows of an earlier attempt load first, then each extracted window loads as
    // soon as the extract is through.
    report.loads = load_staged(ctx, Some(&objects), &mut report.views_skipped).await?;
    if !jobs.is_empty() {
        let client = ctx.intacct()?;
        report.objects = extract_planned(&client, &ctx.manifest, options, Some(jobs), None).await?;
        let loads = load_staged(ctx, Some(&objects), &mut report.views_skipped).await?;
        report.loads.extend(loads);
    }
    report.save(ctx).await
}

/// `verify`: each of `objects`, Intacct's keys against Snowflake's live rows.
pub async fn verify(ctx: &RunContext, objects: &[String]) -> Result<SavedReport> {
    let mut report = RunReport::new(CommandName::Verify, ctx);
    report.verify = verify::verify(ctx, objects).await?;
    report.save(ctx).await
}
