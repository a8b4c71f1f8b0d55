//! Orchestration: one [`RunContext`] per command; extract (with its delete feed,
//! `deletes`), load (through [`crate::loader`]), and `run` = load what an earlier run left
//! staged → extract → load, inside one lock and one manifest.
//!
//! Nothing here parses arguments or prints: the command bodies under `crate::cli` build the
//! plain option values these functions take and print what they return. Every run leaves a
//! report at `_reports/<run_id>.json` (counts and durations only, never a secret).

pub(crate) mod context;
mod deletes;
pub(crate) mod extract;
pub(crate) mod plan;
mod progress;
pub(crate) mod status;
pub(crate) mod verify;

use chrono::{DateTime, Duration, Utc};

use crate::config::Spec;
use crate::error::{Error, Result};
use crate::intacct::request::SenderCredentials;
use crate::intacct::{ClientConfig, ReadMethod};
use crate::loader::BatchLoadReport;
use crate::manifest::Action;
use crate::stage::parts::StageOptions;

pub use context::RunContext;
pub use extract::ObjectReport;
use extract::{ExtractOptions, ObjectJob};

/// The column tombstones of `object` name their records by, when it is not RECORDNO (an ID
/// for natural-key objects, the header's key for line objects): the loader's MERGE expands
/// such tombstones to every record that carries the value.
pub fn delete_key_column(object: &str) -> Option<&'static str> {
    match crate::intacct::objects::delete_key(object) {
        crate::intacct::objects::DeleteKey::RecordNo => None,
        crate::intacct::objects::DeleteKey::Column(column) => Some(column),
    }
}

/// Extracts every object of `options` into staged batches (one per object, or one per
/// object and window for a backfill).
pub async fn extract(ctx: &RunContext, options: &ExtractOptions) -> Result<Vec<ObjectReport>> {
    let client = ctx.intacct()?;
    let progress = progress::Progress::new(options.progress);
    let planned = plan_nightly_windows(ctx, options).await;
    Ok(extract::extract(&client, ctx.manifest.clone(), &planned, &progress).await)
}

/// Gives every nightly job its window from the plan (the manifest's marks and the clock).
async fn plan_nightly_windows(ctx: &RunContext, options: &ExtractOptions) -> ExtractOptions {
    let nightly: Vec<(String, Option<String>, Duration)> = options
        .objects
        .iter()
        .filter(|job| job.mode == crate::manifest::Mode::Nightly && job.window.is_none())
        .map(|job| {
            (
                job.name.clone(),
                job.entity.clone(),
                job.lookback.unwrap_or(options.lookback),
            )
        })
        .collect();
    let windows = {
        let manifest = ctx.manifest.lock().await;
        plan::nightly_streams(manifest.state(), &nightly, options.now)
    };
    let mut planned = options.clone();
    for job in &mut planned.objects {
        if let Some(window) = windows
            .iter()
            .find(|w| w.object == job.name && w.entity == job.entity)
            && job.window.is_none()
        {
            tracing::info!(object = %job.name, entity = ?job.entity, from = ?window.from, to = %window.to, "window planned");
            job.window = Some((window.from, window.to));
        }
    }
    planned
}

/// Opens the manifest of `stage` and extracts every object of `options`, without a run
/// lock: for tests and benchmarks that drive one extract directly.
pub async fn run_extract(
    client: &crate::intacct::client::IntacctClient,
    stage: &crate::stage::Stage,
    run_id: &str,
    options: &ExtractOptions,
) -> Result<Vec<ObjectReport>> {
    let manifest = crate::manifest::Manifest::open(stage.clone(), run_id).await?;
    let manifest = std::sync::Arc::new(tokio::sync::Mutex::new(manifest));
    let progress = progress::Progress::new(options.progress);
    Ok(extract::extract(client, manifest, options, &progress).await)
}

/// Loads every staged, unloaded batch (of `only`, when given), then creates the reporting
/// views whose tables now exist.
pub async fn load(ctx: &RunContext, only: Option<&[String]>) -> Result<Vec<BatchLoadReport>> {
    let load = ctx.load_context()?;
    let pending = {
        let manifest = ctx.manifest.lock().await;
        crate::loader::pending_batches(manifest.state(), only)
    };
    let reports = crate::loader::load_batches(&load, pending).await;
    if reports.iter().any(|r| r.error.is_none()) {
        let created = crate::loader::ensure_views(&load).await?;
        for view in created {
            tracing::info!(view, "reporting view created");
        }
    }
    Ok(reports)
}

/// The error to exit with when any batch failed to load.
pub fn load_failure(reports: &[BatchLoadReport]) -> Option<Error> {
    let failed: Vec<String> = reports
        .iter()
        .filter_map(|r| {
            r.error
                .as_ref()
                .map(|e| format!("{} batch {}: {e}", r.object, r.batch_id))
        })
        .collect();
    if failed.is_empty() {
        return None;
    }
    Some(Error::LoadFailed {
        failed: failed.len(),
        total: reports.len(),
        detail: failed.join("; "),
    })
}

/// Parses an RFC 3339 instant given for `--now`.
pub fn parse_now(text: Option<&str>) -> Result<DateTime<Utc>> {
    match text {
        Some(text) => Ok(DateTime::parse_from_rfc3339(text)
            .map_err(|e| Error::Config {
                location: "--now".into(),
                message: format!("{text:?} is not an RFC 3339 time: {e}"),
            })?
            .with_timezone(&Utc)),
        None => Ok(Utc::now()),
    }
}

/// The extract options of a pipeline: objects in scope (all, or `only`), windows ending at
/// `now`, part sizes; with `intacct.entities`, one job per object and entity, in object order.
pub fn extract_options(
    spec: &Spec,
    only: &[String],
    now: DateTime<Utc>,
    progress: bool,
) -> Result<ExtractOptions> {
    let wanted = objects_in_scope(spec, only)?;
    let entities: Vec<Option<String>> = if spec.intacct.entities.is_empty() {
        vec![None]
    } else {
        spec.intacct.entities.iter().cloned().map(Some).collect()
    };
    let objects = spec
        .extract
        .objects
        .iter()
        .filter(|o| wanted.is_empty() || wanted.contains(&o.name))
        .flat_map(|o| entities.iter().map(move |entity| (o, entity.clone())))
        .map(|(o, entity)| ObjectJob {
            entity,
            name: o.name.clone(),
            method: match o.method {
                crate::config::ReadMethod::Query => ReadMethod::Query,
                crate::config::ReadMethod::ReadByQuery => ReadMethod::ReadByQuery,
            },
            fields: o.fields.clone(),
            page_size: o.page_size.unwrap_or(spec.intacct.page_size),
            mode: crate::manifest::Mode::Nightly,
            window: None,
            resume: None,
            exclude_fields: o.exclude_fields.clone(),
            lookback: o.lookback_secs.map(|s| Duration::seconds(s as i64)),
            key: o.key.clone(),
            watermark_field: o.watermark_field.clone(),
            delete_lookback: o.delete_lookback_secs.map(|s| Duration::seconds(s as i64)),
        })
        .collect();
    Ok(ExtractOptions {
        objects,
        lookback: Duration::seconds(spec.extract.lookback_secs as i64),
        delete_lookback: Duration::seconds(spec.extract.delete_lookback_secs as i64),
        now,
        concurrent_objects: spec.intacct.max_concurrent_requests.max(1),
        // One chain more than there are request slots: a chain splits only between its own
        // requests, so the spare one waits at the limit and takes a slot the moment one frees.
        slices_per_object: u32::try_from(spec.intacct.max_concurrent_requests)
            .unwrap_or(u32::MAX)
            .saturating_add(1),
        quarantine_bad_values: spec.extract.quarantine_bad_values,
        deletes: spec.extract.deletes,
        stage: StageOptions {
            part_max_rows: spec.stage.part_max_rows as u64,
            part_max_bytes: spec.stage.part_max_bytes,
            row_group_rows: spec.stage.row_group_rows,
            keep_raw_pages: spec.stage.keep_raw_pages,
            ..StageOptions::default()
        },
        progress,
        checkpoint_pages: spec.extract.checkpoint_pages,
    })
}

/// The objects `only` names (upper-cased), each checked against the pipeline's; empty when
/// `only` is.
pub fn objects_in_scope(spec: &Spec, only: &[String]) -> Result<Vec<String>> {
    let wanted: Vec<String> = only.iter().map(|o| o.trim().to_ascii_uppercase()).collect();
    if let Some(unknown) = wanted
        .iter()
        .find(|w| !spec.extract.objects.iter().any(|o| &o.name == *w))
    {
        return Err(Error::Config {
            location: "--objects".into(),
            message: format!(
                "{unknown} is not in the pipeline's objects ({})",
                spec.extract
                    .objects
                    .iter()
                    .map(|o| o.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    Ok(wanted)
}

/// The client configuration of a pipeline.
pub fn client_config(spec: &Spec) -> ClientConfig {
    let i = &spec.intacct;
    let mut config = ClientConfig::new(
        i.endpoint.clone(),
        SenderCredentials {
            sender_id: i.sender_id.clone(),
            sender_password: i.sender_password.clone(),
        },
        i.user_id.clone(),
        i.company_id.clone(),
        i.user_password.clone(),
    );
    config.location_id = i.location_id.clone();
    config.session_ttl_secs = i.session_ttl_secs;
    config.timeout_secs = i.timeout_secs;
    config.max_concurrent_requests = i.max_concurrent_requests;
    config.retry = crate::retry::RetryPolicy {
        max_attempts: i.retry.max_attempts,
        initial_backoff_ms: i.retry.initial_backoff_ms,
        max_backoff_ms: i.retry.max_backoff_ms,
        max_elapsed_secs: i.retry.max_elapsed_secs,
    };
    config.tenant_time_zone = i.time_zone;
    config.page_buffer = spec.extract.channel_pages.max(1);
    config
}

/// The short table printed at the end of `extract`.
pub fn extract_summary(reports: &[ObjectReport]) -> String {
    let mut out = format!(
        "{:<14} {:>7} {:>10} {:>8} {:>6} {:>12} {:>8}  {}\n",
        "object", "pages", "records", "deleted", "parts", "bytes", "seconds", "result"
    );
    for r in reports {
        out.push_str(&format!(
            "{:<14} {:>7} {:>10} {:>8} {:>6} {:>12} {:>8.1}  {}\n",
            crate::manifest::stream_key(&r.object, r.entity.as_deref()),
            r.pages,
            r.records,
            r.deleted,
            r.parts,
            r.bytes,
            r.seconds,
            match (&r.error, r.quarantined) {
                (Some(e), _) => format!("FAILED: {e}"),
                (None, 0) => "staged".to_owned(),
                (None, n) => format!(
                    "staged; {n} bad values staged as NULL and quarantined ({})",
                    r.quarantined_fields
                        .iter()
                        .map(|(field, count)| format!("{field}: {count}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        ));
    }
    out
}

/// Loads saved batches again from the stage alone (no call to Intacct): each source becomes a
/// replay batch of its own (same files, `replay_of` the source) that is then loaded; safe to
/// run any number of times, and a replay a crash interrupted resumes with the next `load`.
pub async fn replay(
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

fn backfill_job(
    options: &ExtractOptions,
    planned: &plan::PlannedExtract,
    resume: Option<extract::ResumeFrom>,
) -> ObjectJob {
    let template = options
        .objects
        .iter()
        .find(|o| o.name == planned.object && o.entity == planned.entity)
        .expect("planned from these objects");
    ObjectJob {
        mode: planned.mode,
        window: Some((planned.from, planned.to)),
        resume,
        ..template.clone()
    }
}

/// What a backfill did: windows skipped because an earlier backfill loaded them, batches it
/// extracted, and every load.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct BackfillReport {
    /// (object, window) pairs an earlier backfill already loaded: not redone.
    pub windows_done: u64,
    /// Windows an earlier backfill staged (loaded now, not extracted again) or was reading
    /// (read on from its recorded position).
    pub windows_resumed: u64,
    /// The extracts of this run.
    pub extracted: Vec<ObjectReport>,
    /// The loads of this run.
    pub loaded: Vec<BatchLoadReport>,
}

/// Backfills `[from, to)` in windows of `window` for the objects of `options`: windows an
/// earlier backfill loaded are skipped, ones it staged are loaded, the rest are extracted (in
/// parallel, within the pipeline's concurrency) and loaded. The nightly marks never move.
pub async fn backfill(
    ctx: &RunContext,
    options: &ExtractOptions,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    window: Duration,
) -> Result<BackfillReport> {
    let windows = plan::windows(from, to, window)?;
    let streams: Vec<(String, Option<String>)> = options
        .objects
        .iter()
        .map(|o| (o.name.clone(), o.entity.clone()))
        .collect();
    let mut objects: Vec<String> = options.objects.iter().map(|o| o.name.clone()).collect();
    objects.dedup();
    let steps = {
        let manifest = ctx.manifest.lock().await;
        plan::backfill_streams(manifest.state(), &streams, &windows)
    };
    let mut report = BackfillReport::default();
    let mut jobs = Vec::new();
    for step in steps {
        match step {
            plan::BackfillStep::Done { .. } => report.windows_done += 1,
            plan::BackfillStep::Load { .. } => report.windows_resumed += 1,
            plan::BackfillStep::Extract(planned) => {
                jobs.push(backfill_job(options, &planned, None));
            }
            plan::BackfillStep::Resume { planned, batch_id } => {
                report.windows_resumed += 1;
                let resume = {
                    let manifest = ctx.manifest.lock().await;
                    let batch = &manifest.state().batches[&batch_id];
                    batch.progress.clone().map(|progress| extract::ResumeFrom {
                        batch_id: batch_id.clone(),
                        schema_fingerprint: batch.schema_fingerprint.clone(),
                        progress,
                    })
                };
                jobs.push(backfill_job(options, &planned, resume));
            }
        }
    }
    tracing::info!(
        windows = windows.len(),
        done = report.windows_done,
        resumed = report.windows_resumed,
        to_extract = jobs.len(),
        "backfill planned"
    );
    let only: Vec<String> = objects.clone();
    // Staged windows of an earlier attempt load first, then each extracted window loads as
    // soon as the extract is through.
    report.loaded = load(ctx, Some(&only)).await?;
    if !jobs.is_empty() {
        let extract_options = ExtractOptions {
            objects: jobs,
            ..options.clone()
        };
        report.extracted = extract(ctx, &extract_options).await?;
        report.loaded.extend(load(ctx, Some(&only)).await?);
    }
    Ok(report)
}
