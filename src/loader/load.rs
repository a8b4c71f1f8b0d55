//! Loading staged batches into Snowflake: per batch, COPY → count → MERGE → cleanup → one
//! manifest commit that marks it loaded and moves the watermark.
//!
//! Invariants:
//! * every load statement is a recorded step (`copy-N`, `reload-R-delete`, `reload-R-copy-N`,
//!   `merge`, `cleanup`); each attempt's requestId is committed to the manifest
//!   (`load_step_started`) before the statement is first sent, and the statement is submitted
//!   with `async=true` so its handle is committed (`load_step_running`) before the loader
//!   waits for it;
//! * while an attempt's outcome is unknown (a crash or Ctrl-C after its id was recorded, a
//!   transport failure, 429 or 5xx after the request may have run) a resumed load polls the
//!   recorded handle, or resends the recorded requestId with `retry=true` when there is none
//!   (or Snowflake no longer knows it), so a statement that ran is answered, not run again;
//!   after a definite failure (422, 408, a cancelled statement) the failure is recorded with
//!   the attempt's requestId and the next attempt takes a new one (Snowflake documents
//!   `retry=true` for unknown outcomes only; a resend would be answered with the same
//!   failure);
//! * a step whose answer is recorded (`load_step_finished`) is never sent again: a crash
//!   between any two steps resumes at the first unfinished one;
//! * the MERGE runs only when the staging table holds exactly the batch's rows, counted by
//!   `_BATCH_ID` against the manifest: "Copy executed with 0 files processed." is trusted for
//!   nothing, since Snowflake says it for files it loaded before, for files of uncertain load
//!   status (staged or last loaded more than 64 days ago, skipped silently) and for a staging
//!   table emptied or re-created since. When the count differs, the batch's staging rows are
//!   deleted and its files copied again with `FORCE = TRUE` (a reload round, itself recorded
//!   steps), and the count must then match or the batch fails naming both counts;
//! * before a batch's files are first copied (in a load or a resume whose MERGE has no
//!   answer yet), every file it names is checked against the size and sha256 the manifest
//!   recorded when it was written: a file missing or changed fails the batch
//!   ([`Error::StagedFile`], naming the object, batch, file and the difference) before any
//!   statement reads it, so nothing of it reaches the target table and no mark moves;
//! * a batch with no rows sends no statement at all (an unchanged object never resumes the
//!   warehouse) and is marked loaded;
//! * a batch is committed loaded, with the new watermark of its stream (`OBJECT@ENTITY` with
//!   `intacct.entities`), only after its staging rows are deleted, in one commit; a failure
//!   records `load_failed` and leaves the batch staged (its window is never dropped), and
//!   later batches of the same object (and entity) wait for it;
//! * objects load in parallel (bounded), each object's batches in the order they were created.
//! * what a batch's load changes in its target table (columns added, types widened) is
//!   committed (`schema_changes`) before the DDL is sent; for an object whose schema is frozen
//!   (`schema = "freeze"`) the changes are committed held, nothing is sent, and the load fails
//!   naming each column until `accept-schema` accepts them (a table that does not exist yet is
//!   created from the first batch, frozen or not);
//! * a [`Mode::Reset`] batch is loaded into `<OBJECT>__RESET` (created from its schema plus the
//!   live table's other columns), which then swaps with the live table in one statement, and
//!   the old rows are dropped: each of these is a recorded step like COPY and MERGE, so a crash
//!   anywhere resumes, and the live table is readable throughout. It moves no mark.
//!
//! Guesses about Snowflake this relies on (each listed, with a statement that settles it on a
//! real account, in `sql/README.md`, "To confirm on a real account"): a `retry=true` resend of
//! a requestId whose statement failed is answered with that failure and runs nothing (the
//! emulator's reading; either way a new attempt takes a new id); a requestId stays matchable
//! for a limited time and a statement handle can be polled for a limited time (when neither
//! matches any more, the statement runs again, which every load statement survives).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use tokio::sync::Mutex;
use tracing::Instrument;

use super::ddl::{self, ExistingColumn, SnowflakeType};
use super::names::{Names, TableRole};
use super::sql::Sql;
use super::statements::{self, MergeSpec};
use crate::error::{Error, LoadFailure, Result};
use crate::manifest::schemas::{self, BatchSchema, SchemaChange};
use crate::manifest::{Action, BatchState, BatchStatus, Manifest, Mode};
use crate::snowflake::{
    FailureKind, SnowflakeClient, Statement, StatementOutcome, Submitted, failure_kind,
};

/// Everything loading needs.
#[derive(Clone)]
pub struct LoadContext {
    /// The SQL API client.
    pub client: SnowflakeClient,
    /// The pipeline's manifest (shared with the extract of the same run).
    pub manifest: Arc<Mutex<Manifest>>,
    /// Database, schema, stage and file format names.
    pub names: Names,
    /// The pipeline's name (query tags).
    pub pipeline: String,
    /// Objects loaded at once.
    pub concurrency: usize,
    /// The column tombstones of an object name their records by, when not RECORDNO.
    pub delete_key: fn(&str) -> Option<&'static str>,
    /// Told of every step and every finished batch (progress display).
    pub observer: Option<Arc<dyn LoadObserver>>,
    /// Objects whose schema is frozen (`schema = "freeze"`): a batch that would change their
    /// table waits for `accept-schema`.
    pub frozen: std::collections::BTreeSet<String>,
}

/// Watches a load: each step as it starts, each batch as it ends.
pub trait LoadObserver: Send + Sync {
    /// `step` (`ddl`, `copy-1`, `merge`, `cleanup`) of a batch starts.
    fn step(&self, object: &str, batch_id: &str, step: &str);
    /// A batch is loaded or failed.
    fn finished(&self, report: &BatchLoadReport);
}

/// What loading one batch did.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BatchLoadReport {
    /// The object.
    pub object: String,
    /// The batch.
    pub batch_id: String,
    /// Its mode.
    pub mode: String,
    /// Rows in its files (tombstones included).
    pub rows: u64,
    /// Rows COPY loaded in this attempt (0 when Snowflake had them already), the copies of a
    /// reload included.
    pub copy_rows: u64,
    /// Rows MERGE inserted.
    pub merge_inserted: u64,
    /// Rows MERGE updated.
    pub merge_updated: u64,
    /// Statements sent for it (DDL included), polls not counted.
    pub statements: u64,
    /// Steps found finished by an earlier attempt and not sent again.
    pub steps_resumed: u64,
    /// The staging table did not hold exactly the batch's rows after its COPY (files skipped
    /// as loaded or of uncertain load status, or the table emptied or re-created): its staging
    /// rows were deleted and its files copied again with `FORCE = TRUE` before the MERGE.
    #[serde(default)]
    pub staging_reloaded: bool,
    /// Wall time.
    pub seconds: f64,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// What its load changed in the object's table (or, when held, would change).
    #[serde(default)]
    pub schema_changes: Vec<SchemaChange>,
}

/// The batches `load` takes: staged and not yet loaded, per object, oldest first (a reset's
/// batch is `reset`'s alone).
pub fn pending_batches(
    state: &crate::manifest::ManifestState,
    objects: Option<&[String]>,
) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
    for batch in state.batches.values() {
        if batch.status != BatchStatus::Staged || batch.mode == Mode::Reset {
            continue;
        }
        if objects.is_some_and(|only| !only.iter().any(|o| o == &batch.object)) {
            continue;
        }
        out.entry(batch.object.clone())
            .or_default()
            .push((batch.created_version, batch.batch_id.clone()));
    }
    out.into_iter()
        .map(|(object, mut batches)| {
            batches.sort();
            (object, batches.into_iter().map(|(_, id)| id).collect())
        })
        .collect()
}

/// Loads the given batches (per object, in order); returns one report per batch attempted or
/// skipped.
pub async fn load_batches(
    ctx: &LoadContext,
    batches: BTreeMap<String, Vec<String>>,
) -> Vec<BatchLoadReport> {
    if batches.is_empty() {
        return vec![];
    }
    warn_if_planted();
    let catalog = Arc::new(Mutex::new(None::<Catalog>));
    let jobs = batches.into_iter().map(|(object, ids)| {
        let catalog = catalog.clone();
        async move {
            let mut reports = Vec::with_capacity(ids.len());
            // Per stream: one entity's failed batch holds back only that entity's later ones.
            let mut blocked_by: BTreeMap<Option<String>, String> = BTreeMap::new();
            for batch_id in ids {
                let entity = ctx
                    .manifest
                    .lock()
                    .await
                    .state()
                    .batches
                    .get(&batch_id)
                    .and_then(|b| b.entity.clone());
                if let Some(blocker) = blocked_by.get(&entity) {
                    let of = match &entity {
                        None => "the same object".to_owned(),
                        Some(entity) => format!("the same object and entity {entity}"),
                    };
                    reports.push(BatchLoadReport {
                        object: object.clone(),
                        batch_id: batch_id.clone(),
                        error: Some(format!("not loaded: waits for batch {blocker} of {of}")),
                        ..BatchLoadReport::default()
                    });
                    continue;
                }
                let span = tracing::info_span!("batch", object = %object, batch_id = %batch_id);
                let report = load_one(ctx, &catalog, &batch_id).instrument(span).await;
                if report.error.is_some() {
                    blocked_by.insert(entity, batch_id.clone());
                }
                reports.push(report);
            }
            reports
        }
    });
    futures::stream::iter(jobs)
        .buffer_unordered(ctx.concurrency.max(1))
        .collect::<Vec<Vec<BatchLoadReport>>>()
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// Where a batch's load is: the step under way and, when that step's statement definitely
/// failed, the requestId it ran under (recorded with the failure, so the next attempt takes a
/// new one).
#[derive(Debug)]
struct Position {
    step: String,
    failed_request_id: Option<String>,
}

async fn load_one(
    ctx: &LoadContext,
    catalog: &Mutex<Option<Catalog>>,
    batch_id: &str,
) -> BatchLoadReport {
    let started = Instant::now();
    let mut report = BatchLoadReport {
        batch_id: batch_id.to_owned(),
        ..BatchLoadReport::default()
    };
    let mut at = Position {
        step: String::from("ddl"),
        failed_request_id: None,
    };
    let result = load_batch(ctx, catalog, batch_id, &mut report, &mut at).await;
    report.seconds = started.elapsed().as_secs_f64();
    if let Err(error) = &result {
        let step = at.step.clone();
        tracing::error!(step = %step, %error, "batch load failed; it stays staged and resumes at this step next time");
        let failed = Action::LoadFailed {
            batch_id: batch_id.to_owned(),
            step: step.clone(),
            error: error.to_string(),
            failed_request_id: at.failed_request_id.take(),
        };
        if let Err(commit_error) = ctx.manifest.lock().await.commit(vec![failed]).await {
            tracing::warn!(error = %commit_error, "could not record the load failure");
        }
        report.error = Some(format!("{step}: {error}"));
    }
    if let Some(observer) = &ctx.observer {
        observer.finished(&report);
    }
    report
}

async fn batch(ctx: &LoadContext, batch_id: &str) -> Result<BatchState> {
    ctx.manifest
        .lock()
        .await
        .state()
        .batches
        .get(batch_id)
        .cloned()
        .ok_or_else(|| Error::UnknownBatch {
            batch_id: batch_id.to_owned(),
        })
}

async fn load_batch(
    ctx: &LoadContext,
    catalog: &Mutex<Option<Catalog>>,
    batch_id: &str,
    report: &mut BatchLoadReport,
    at: &mut Position,
) -> Result<()> {
    let state = batch(ctx, batch_id).await?;
    report.object = state.object.clone();
    report.mode = state.mode.to_string();
    report.rows = state.rows;
    if state.status != BatchStatus::Staged {
        return Err(Error::BatchNotStaged {
            batch_id: batch_id.to_owned(),
            status: state.status.to_string(),
        });
    }
    if state.rows == 0 && state.mode != Mode::Reset {
        // Nothing changed in the window: no COPY, MERGE or DELETE, no statement at all (an
        // unchanged object never resumes the warehouse). Its window is still marked loaded.
        // A reset still swaps: an object emptied in Intacct leaves an empty table.
        tracing::info!(mode = %state.mode, "batch has no rows: marked loaded without a statement");
        at.step = "commit".into();
        return commit_loaded(ctx, &state, report).await;
    }
    let stage = ctx.manifest.lock().await.stage().clone();
    // Once the MERGE has an answer the files have done their work; before that a COPY (or a
    // reload) may read them, so they must be the bytes the extract wrote.
    let merged = state
        .load_steps
        .get("merge")
        .is_some_and(|m| m.result.is_some());
    if !merged {
        at.step = "files".into();
        check_files(&stage, &state).await?;
    }

    let schema = schemas::load(&stage, &state.object, &state.schema_fingerprint).await?;
    let live = ensure_tables(ctx, catalog, &schema, &state, report, &mut at.step).await?;
    tracing::info!(rows = state.rows, files = state.files.len(), mode = %state.mode, "loading batch");
    let reset = state.mode == Mode::Reset;
    if reset {
        at.step = "reset-table".into();
        let sql = ddl::reset_table(&ctx.names, &schema, &live)?;
        run_step(ctx, &state, at, &sql, report, status_summary).await?;
    }

    let files: Vec<String> = state.files.iter().map(|f| f.path.clone()).collect();
    let copies = statements::copy_into(
        &ctx.names,
        &state.object,
        &files,
        state.mode == Mode::Replay,
    )?;
    for (index, (sql, chunk)) in copies
        .iter()
        .zip(state.files.chunks(statements::FILES_PER_COPY))
        .enumerate()
    {
        at.step = format!("copy-{}", index + 1);
        let expected: u64 = chunk.iter().map(|f| f.rows).sum();
        let result = run_step(ctx, &state, at, sql, report, copy_summary).await?;
        let loaded = result["rows_loaded"].as_u64().unwrap_or(0);
        let nothing = result["already_loaded"].as_bool().unwrap_or(false);
        if nothing && state.mode == Mode::Replay {
            return Err(Error::Load {
                object: state.object.clone(),
                batch_id: batch_id.to_owned(),
                step: at.step.clone(),
                cause: LoadFailure::Check("COPY with FORCE = TRUE processed no file".into()),
            });
        }
        if !nothing && loaded != expected {
            // Some files skipped as loaded before, or as of uncertain load status (the 64-day
            // rule): the count of the staging rows below decides what the MERGE may read.
            tracing::warn!(
                step = %at.step,
                loaded,
                expected,
                "COPY loaded another number of rows than the manifest lists for these files"
            );
        }
        report.copy_rows += loaded;
        crash_point(&format!("after-{}", at.step));
    }
    // Once the MERGE has an answer the staging rows have done their work (the cleanup may
    // already have removed them): the count guards the MERGE only.
    let merged = batch(ctx, batch_id)
        .await?
        .load_steps
        .get("merge")
        .is_some_and(|m| m.result.is_some());
    if !merged {
        check_staging(ctx, &state, &files, report, at).await?;
    }

    at.step = "merge".into();
    let merge = statements::merge_into(
        &ctx.names,
        &MergeSpec {
            schema: &schema,
            rows_batch_id: state.rows_batch_id(),
            delete_key: (ctx.delete_key)(&state.object).filter(|k| schema.column(k).is_some()),
            keys: &state.keys,
        },
        if reset {
            TableRole::Reset
        } else {
            TableRole::Target
        },
    )?;
    if planted_skip_merge(batch_id) {
        tracing::warn!(
            batch_id,
            "planted bug: the MERGE of this batch is skipped and the batch still marked loaded"
        );
    } else {
        let merged = run_step(ctx, &state, at, &merge, report, merge_summary).await?;
        report.merge_inserted = merged["inserted"].as_u64().unwrap_or(0);
        report.merge_updated = merged["updated"].as_u64().unwrap_or(0);
    }
    crash_point("after-merge");

    at.step = "cleanup".into();
    let cleanup = statements::delete_staged(&ctx.names, &state.object, state.rows_batch_id())?;
    run_step(ctx, &state, at, &cleanup, report, cleanup_summary).await?;
    crash_point("after-cleanup");

    if reset {
        at.step = "swap".into();
        let swap = ddl::swap_tables(&ctx.names, &state.object)?;
        run_step(ctx, &state, at, &swap, report, status_summary).await?;
        crash_point("after-swap");
        at.step = "drop-old".into();
        let drop = ddl::drop_reset_table(&ctx.names, &state.object)?;
        run_step(ctx, &state, at, &drop, report, status_summary).await?;
    }

    at.step = "commit".into();
    commit_loaded(ctx, &state, report).await
}

/// Checks every file `state` names (size, then sha256) against what the manifest recorded:
/// the first that differs is [`Error::StagedFile`].
async fn check_files(stage: &crate::stage::Stage, state: &BatchState) -> Result<()> {
    for file in &state.files {
        if let Some(problem) = stage.check_file(file).await? {
            return Err(Error::StagedFile {
                object: state.object.clone(),
                batch_id: state.batch_id.clone(),
                path: file.path.clone(),
                problem,
            });
        }
    }
    tracing::debug!(
        files = state.files.len(),
        "staged files checked: sizes and sha256 as recorded"
    );
    Ok(())
}

/// Marks the batch loaded and, for a nightly batch, moves its stream's watermark to the end of
/// its window (unless a later batch of the stream already moved it further).
async fn commit_loaded(
    ctx: &LoadContext,
    state: &BatchState,
    report: &BatchLoadReport,
) -> Result<()> {
    let mut manifest = ctx.manifest.lock().await;
    // Marks are kept per stream (`OBJECT@ENTITY` with `intacct.entities`).
    let current = manifest
        .state()
        .objects
        .get(&state.stream())
        .and_then(|o| o.watermark);
    let watermark = (state.mode == Mode::Nightly && current.is_none_or(|w| w <= state.window_to))
        .then_some(state.window_to);
    manifest
        .commit(vec![Action::BatchLoaded {
            batch_id: state.batch_id.clone(),
            mode: state.mode,
            copy_rows: report.copy_rows,
            merge_inserted: report.merge_inserted,
            merge_updated: report.merge_updated,
            watermark,
        }])
        .await?;
    tracing::info!(
        copy_rows = report.copy_rows,
        inserted = report.merge_inserted,
        updated = report.merge_updated,
        watermark = ?watermark,
        "batch loaded"
    );
    Ok(())
}

/// Makes sure the staging table holds exactly the batch's rows before its MERGE: counts them;
/// when the count is not the manifest's, deletes the batch's staging rows, copies every file
/// again with `FORCE = TRUE` (a reload round of recorded steps, resumable like the others) and
/// counts again. A COPY that processed no file proves nothing: Snowflake also skips files of
/// uncertain load status (staged, or last loaded, more than 64 days ago), and a staging table
/// emptied or re-created after the COPY looks the same. A second COPY of the same rows is
/// harmless (the MERGE source is deduplicated per key), but rows copied on top of rows already
/// there would never count right, hence the DELETE first.
async fn check_staging(
    ctx: &LoadContext,
    state: &BatchState,
    files: &[String],
    report: &mut BatchLoadReport,
    at: &mut Position,
) -> Result<()> {
    at.step = "check".into();
    let found = count_staged(ctx, state, report).await?;
    if found == state.rows {
        return Ok(());
    }
    let copies = statements::copy_into(&ctx.names, &state.object, files, true)?;
    let round = reload_round(&batch(ctx, &state.batch_id).await?, copies.len());
    tracing::warn!(
        expected = state.rows,
        found,
        round,
        "the staging table does not hold exactly the batch's rows (files skipped as loaded or \
         of uncertain load status, or a staging table emptied or re-created): deleting them and \
         copying the files again with FORCE = TRUE"
    );
    report.staging_reloaded = true;
    at.step = format!("reload-{round}-delete");
    let delete = statements::delete_staged(&ctx.names, &state.object, state.rows_batch_id())?;
    run_step(ctx, state, at, &delete, report, cleanup_summary).await?;
    crash_point(&format!("after-{}", at.step));
    for (index, sql) in copies.iter().enumerate() {
        at.step = format!("reload-{round}-copy-{}", index + 1);
        let result = run_step(ctx, state, at, sql, report, copy_summary).await?;
        report.copy_rows += result["rows_loaded"].as_u64().unwrap_or(0);
        crash_point(&format!("after-{}", at.step));
    }
    at.step = "check".into();
    let found = count_staged(ctx, state, report).await?;
    if found != state.rows {
        return Err(Error::Load {
            object: state.object.clone(),
            batch_id: state.batch_id.clone(),
            step: at.step.clone(),
            cause: LoadFailure::Check(format!(
                "the staging table holds {found} rows of the batch after its {} files were \
                 copied again with FORCE = TRUE, but the manifest lists {}; nothing was merged",
                files.len(),
                state.rows
            )),
        });
    }
    tracing::info!(
        rows = found,
        round,
        "staging rows complete after copying the files again"
    );
    Ok(())
}

/// The reload round to run: the last one recorded while it is unfinished (a crash inside it
/// resumes it), else the next (the staging rows went missing again after a complete round).
fn reload_round(state: &BatchState, copies: usize) -> u32 {
    let finished = |step: &str| {
        state
            .load_steps
            .get(step)
            .is_some_and(|s| s.result.is_some())
    };
    let last = state
        .load_steps
        .keys()
        .filter_map(|step| {
            step.strip_prefix("reload-")?
                .split_once('-')?
                .0
                .parse::<u32>()
                .ok()
        })
        .max();
    match last {
        None => 1,
        Some(round) => {
            let complete = finished(&format!("reload-{round}-delete"))
                && (1..=copies).all(|i| finished(&format!("reload-{round}-copy-{i}")));
            if complete { round + 1 } else { round }
        }
    }
}

/// The batch's rows in its object's staging table: a read, sent afresh every time (an answer
/// recorded earlier could be stale by now), never a recorded step.
async fn count_staged(
    ctx: &LoadContext,
    state: &BatchState,
    report: &mut BatchLoadReport,
) -> Result<u64> {
    let sql = statements::count_staged(&ctx.names, &state.object, state.rows_batch_id())?;
    let statement = Statement::new(
        sql.to_string(),
        query_tag(&ctx.pipeline, &state.object, &state.batch_id, "check"),
    );
    report.statements += 1;
    let failed = |cause: LoadFailure| Error::Load {
        object: state.object.clone(),
        batch_id: state.batch_id.clone(),
        step: "check".into(),
        cause,
    };
    let outcome = ctx
        .client
        .execute(&statement)
        .await
        .map_err(|e| failed(LoadFailure::Statement(Box::new(e))))?;
    let found = outcome
        .value(0, "ROWS_STAGED")
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| {
            failed(LoadFailure::Check(format!(
                "the staging count {} has no number",
                outcome.statement_handle
            )))
        })?;
    tracing::debug!(
        found,
        expected = state.rows,
        "batch rows counted in staging"
    );
    Ok(found)
}

/// Snowflake's answer to one attempt of a statement (the inner result), apart from the
/// manifest's own failures (the outer one), which are never the statement's.
type Answer = std::result::Result<StatementOutcome, Error>;

/// Runs one load step: the recorded answer when it finished before; else the statement.
///
/// An attempt's requestId is committed before its first send, and the statement is submitted
/// with `async=true` so its handle is committed before the loader waits. A step whose last
/// attempt's outcome is unknown (no answer recorded, no definite failure) resumes it: polls
/// the recorded handle, or resends the recorded requestId with `retry=true` when there is no
/// handle or Snowflake no longer knows it. A definite failure (422, 408, cancelled) ends the
/// attempt: a failure of this run's own attempt fails the step (recorded with its requestId, so
/// the next run starts a new attempt); one found when resuming an earlier run's attempt (a
/// statement cancelled by Ctrl-C, say) is recorded and this run makes its own attempt at once.
async fn run_step(
    ctx: &LoadContext,
    state: &BatchState,
    at: &mut Position,
    sql: &Sql,
    report: &mut BatchLoadReport,
    summarise: fn(&StatementOutcome) -> serde_json::Value,
) -> Result<serde_json::Value> {
    let step = at.step.clone();
    let mut recorded = batch(ctx, &state.batch_id)
        .await?
        .load_steps
        .get(&step)
        .cloned();
    if let Some(done) = &recorded
        && let Some(result) = &done.result
    {
        tracing::info!(step, statement_handle = ?done.statement_handle, "step finished in an earlier attempt; not sent again");
        report.steps_resumed += 1;
        return Ok(result.clone());
    }
    if let Some(observer) = &ctx.observer {
        observer.step(&state.object, &state.batch_id, &step);
    }
    loop {
        let (request_id, own, answer) = match recorded.take().filter(|s| !s.failed) {
            Some(earlier) => {
                let answer = resume(ctx, state, &step, sql, &earlier, report).await?;
                (earlier.request_id, false, answer)
            }
            None => {
                let request_id = uuid::Uuid::new_v4().to_string();
                ctx.manifest
                    .lock()
                    .await
                    .commit(vec![Action::LoadStepStarted {
                        batch_id: state.batch_id.clone(),
                        step: step.clone(),
                        request_id: request_id.clone(),
                    }])
                    .await?;
                let statement = load_statement(ctx, state, &step, sql, &request_id, false);
                let answer = send(ctx, state, &step, &statement, report).await?;
                (request_id, true, answer)
            }
        };
        let error = match answer {
            Ok(outcome) => {
                crash_point(&format!("sent-{step}"));
                let result = summarise(&outcome);
                ctx.manifest
                    .lock()
                    .await
                    .commit(vec![Action::LoadStepFinished {
                        batch_id: state.batch_id.clone(),
                        step: step.clone(),
                        statement_handle: outcome.statement_handle.clone(),
                        result: result.clone(),
                    }])
                    .await?;
                tracing::info!(step, statement_handle = %outcome.statement_handle, result = %result, "load step finished");
                return Ok(result);
            }
            Err(error) => error,
        };
        if failure_kind(&error) == FailureKind::StatementFailed {
            if !own {
                tracing::warn!(step, request_id = %request_id, %error, "the statement an earlier attempt sent failed; sending it again under a new requestId");
                ctx.manifest
                    .lock()
                    .await
                    .commit(vec![Action::LoadFailed {
                        batch_id: state.batch_id.clone(),
                        step: step.clone(),
                        error: error.to_string(),
                        failed_request_id: Some(request_id),
                    }])
                    .await?;
                continue;
            }
            at.failed_request_id = Some(request_id);
        }
        return Err(Error::Load {
            object: state.object.clone(),
            batch_id: state.batch_id.clone(),
            step,
            cause: LoadFailure::Statement(Box::new(error)),
        });
    }
}

/// Resumes an earlier attempt whose outcome is unknown: polls its statement handle when one was
/// recorded; resends its requestId with `retry=true` when none was, or Snowflake no longer knows
/// it (Snowflake answers from its history when it still matches the id; when it no longer does,
/// the statement runs again, which every load statement survives: COPY skips files it loaded,
/// the MERGE never lets a row regress, the DELETEs remove what is there).
async fn resume(
    ctx: &LoadContext,
    state: &BatchState,
    step: &str,
    sql: &Sql,
    earlier: &crate::manifest::LoadStep,
    report: &mut BatchLoadReport,
) -> Result<Answer> {
    let statement = load_statement(ctx, state, step, sql, &earlier.request_id, true);
    if let Some(handle) = &earlier.statement_handle {
        tracing::info!(step, request_id = %earlier.request_id, statement_handle = %handle, "polling the statement an earlier attempt left running");
        match ctx.client.wait_for(&statement, handle).await {
            Err(error) if failure_kind(&error) == FailureKind::HandleUnknown => {
                tracing::warn!(step, request_id = %earlier.request_id, statement_handle = %handle, %error, "Snowflake does not know the statement handle; resending its requestId with retry=true");
            }
            answer => return Ok(answer),
        }
    } else {
        tracing::info!(step, request_id = %earlier.request_id, "resending the statement of an earlier attempt with its requestId and retry=true");
    }
    send(ctx, state, step, &statement, report).await
}

/// Submits one attempt with `async=true`, records the handle Snowflake runs it under, then
/// polls it to its end.
async fn send(
    ctx: &LoadContext,
    state: &BatchState,
    step: &str,
    statement: &Statement,
    report: &mut BatchLoadReport,
) -> Result<Answer> {
    tracing::debug!(step, request_id = %statement.request_id, resend = statement.resend, "sending statement");
    report.statements += 1;
    let statement_handle = match ctx.client.submit_async(statement).await {
        Ok(Submitted::Finished(outcome)) => return Ok(Ok(outcome)),
        Ok(Submitted::Running { statement_handle }) => statement_handle,
        Err(error) => return Ok(Err(error)),
    };
    crash_point(&format!("accepted-{step}"));
    ctx.manifest
        .lock()
        .await
        .commit(vec![Action::LoadStepRunning {
            batch_id: state.batch_id.clone(),
            step: step.to_owned(),
            request_id: statement.request_id.clone(),
            statement_handle: statement_handle.clone(),
        }])
        .await?;
    crash_point(&format!("running-{step}"));
    Ok(ctx.client.wait_for(statement, &statement_handle).await)
}

fn load_statement(
    ctx: &LoadContext,
    state: &BatchState,
    step: &str,
    sql: &Sql,
    request_id: &str,
    resend: bool,
) -> Statement {
    Statement {
        sql: sql.to_string(),
        request_id: request_id.to_owned(),
        query_tag: query_tag(&ctx.pipeline, &state.object, &state.batch_id, step),
        resend,
    }
}

/// `intacct-snowflake:<pipeline>:<object>:<batch>:<step>`: what Snowflake's query history shows.
pub(super) fn query_tag(pipeline: &str, object: &str, batch_id: &str, step: &str) -> String {
    format!("intacct-snowflake:{pipeline}:{object}:{batch_id}:{step}")
}

/// COPY's answer: the rows loaded over every file row, or that no file was processed.
pub(super) fn copy_summary(outcome: &StatementOutcome) -> serde_json::Value {
    let nothing = outcome.rows.len() == 1
        && outcome.column("rows_loaded").is_none()
        && outcome
            .value(0, "status")
            .is_some_and(|s| s.contains("0 files processed"));
    if nothing {
        return serde_json::json!({"rows_loaded": 0, "files": 0, "already_loaded": true});
    }
    let loaded: u64 = (0..outcome.rows.len())
        .filter_map(|row| outcome.value(row, "rows_loaded"))
        .filter_map(|v| v.parse::<u64>().ok())
        .sum();
    serde_json::json!({"rows_loaded": loaded, "files": outcome.rows.len(), "already_loaded": false})
}

fn merge_summary(outcome: &StatementOutcome) -> serde_json::Value {
    let counts = outcome.dml_counts();
    serde_json::json!({
        "inserted": counts.inserted,
        "updated": counts.updated,
        "duplicates": counts.duplicates_updated
    })
}

fn cleanup_summary(outcome: &StatementOutcome) -> serde_json::Value {
    serde_json::json!({"deleted": outcome.dml_counts().deleted})
}

/// A DDL step's answer: Snowflake's status line.
fn status_summary(outcome: &StatementOutcome) -> serde_json::Value {
    serde_json::json!({"status": outcome.value(0, "status")})
}

/// The columns of every table in the schema, read once per load and kept current as DDL runs.
#[derive(Debug, Default)]
struct Catalog {
    tables: ddl::TableColumns,
}

/// Reads every table's columns from `INFORMATION_SCHEMA.COLUMNS`.
pub(super) async fn read_catalog(
    client: &SnowflakeClient,
    names: &Names,
    pipeline: &str,
) -> Result<ddl::TableColumns> {
    let sql = ddl::table_columns(names)?;
    let outcome = client
        .execute(&Statement::new(
            sql.to_string(),
            format!("intacct-snowflake:{pipeline}:catalog"),
        ))
        .await?;
    let mut tables = ddl::TableColumns::new();
    for row in 0..outcome.rows.len() {
        let text = |name: &str| outcome.value(row, name).map(str::to_owned);
        let number = |name: &str| text(name).and_then(|v| v.parse::<u64>().ok());
        let (Some(table), Some(column), Some(data_type)) =
            (text("TABLE_NAME"), text("COLUMN_NAME"), text("DATA_TYPE"))
        else {
            continue;
        };
        tables
            .entry(table.to_uppercase())
            .or_default()
            .push(ExistingColumn {
                name: column.to_uppercase(),
                column_type: SnowflakeType::from_information_schema(
                    &data_type,
                    number("NUMERIC_PRECISION").map(|n| n as u32),
                    number("NUMERIC_SCALE").map(|n| n as u32),
                    number("CHARACTER_MAXIMUM_LENGTH"),
                ),
            });
    }
    Ok(tables)
}

/// Creates or evolves the object's staging and target tables for `schema` (a reset's
/// staging table alone), counting the DDL statements in `report`; returns the live target
/// table's columns (empty when it does not exist).
///
/// Before any statement that changes the target table, the changes are committed
/// (`schema_changes`); under a frozen schema, without acceptance, they are committed held and
/// the load stops at step `schema` with an error naming each column.
async fn ensure_tables(
    ctx: &LoadContext,
    catalog: &Mutex<Option<Catalog>>,
    schema: &BatchSchema,
    state: &BatchState,
    report: &mut BatchLoadReport,
    step: &mut String,
) -> Result<Vec<ExistingColumn>> {
    let mut guard = catalog.lock().await;
    // The catalog read is shared by every batch of the load, so it is not counted here.
    if guard.is_none() {
        *guard = Some(Catalog {
            tables: read_catalog(&ctx.client, &ctx.names, &ctx.pipeline).await?,
        });
    }
    let catalog = guard.as_mut().expect("catalog read above");
    let live = catalog
        .tables
        .get(&state.object.to_uppercase())
        .cloned()
        .unwrap_or_default();
    let statements = if state.mode == Mode::Reset {
        if live.is_empty() {
            return Err(Error::Schema {
                object: state.object.clone(),
                message: "no table to reset yet: its first `run` loads it in full".into(),
            });
        }
        ddl::staging_statements(&ctx.names, schema, &catalog.tables)?
    } else {
        let changes = ddl::target_changes(schema, &catalog.tables);
        if !changes.is_empty() {
            let held = ctx.frozen.contains(&state.object) && !state.schema_accepted;
            ctx.manifest
                .lock()
                .await
                .commit(vec![Action::SchemaChanges {
                    batch_id: state.batch_id.clone(),
                    changes: changes.clone(),
                    held,
                }])
                .await?;
            report.schema_changes = changes;
            if held {
                *step = "schema".into();
                return Err(Error::Schema {
                    object: state.object.clone(),
                    message: frozen_message(&state.object, &report.schema_changes),
                });
            }
        }
        ddl::table_statements(&ctx.names, schema, &catalog.tables)?
    };
    for sql in statements {
        ctx.client
            .execute(&Statement::new(
                sql.to_string(),
                format!("intacct-snowflake:{}:{}:ddl", ctx.pipeline, schema.object),
            ))
            .await?;
        report.statements += 1;
        tracing::info!(statement = %first_line(&sql), "table changed");
    }
    if state.mode != Mode::Reset {
        ddl::remember(&mut catalog.tables, schema);
    }
    Ok(live)
}

/// The error of a batch held by a frozen schema: each column, its old and new type, and the
/// command that accepts them.
pub(crate) fn frozen_message(object: &str, changes: &[SchemaChange]) -> String {
    let listed: Vec<String> = changes
        .iter()
        .map(|c| match &c.old_type {
            None => format!("new column {} ({})", c.column, c.new_type),
            Some(old) => format!("column {} changed from {old} to {}", c.column, c.new_type),
        })
        .collect();
    format!(
        "frozen, and this batch brings {}; it stays staged and nothing was changed or loaded: \
         accept with `intacct-snowflake accept-schema --object {object}` (and this pipeline's \
         --config), then `load`",
        listed.join(", ")
    )
}

fn first_line(sql: &Sql) -> &str {
    sql.as_str().lines().next().unwrap_or("")
}

/// Test hook: `INTACCT_SNOWFLAKE_CRASH_AT=<point>` kills the process with SIGKILL at that point
/// (`accepted-<step>`: Snowflake accepted the statement but its handle is not recorded;
/// `running-<step>`: its handle is recorded, it may still run; `sent-<step>`: it ran but its
/// answer is not recorded; `after-copy-1`, `after-reload-1-delete`, `after-reload-1-copy-1`,
/// `after-merge`, `after-cleanup`: the step is recorded), so tests can prove that a crash
/// between any two steps resumes correctly. `INTACCT_SNOWFLAKE_PAUSE_AT=<point>` stops the
/// process there with SIGSTOP instead (a stalled holder of the run lock; SIGCONT resumes it).
/// Unset in production.
fn crash_point(point: &str) {
    if std::env::var("INTACCT_SNOWFLAKE_PAUSE_AT").is_ok_and(|v| v == point) {
        tracing::warn!(
            point,
            "pause point reached: stopping the process until it is continued"
        );
        let _ = std::process::Command::new("kill")
            .args(["-STOP", &std::process::id().to_string()])
            .status();
    }
    if std::env::var("INTACCT_SNOWFLAKE_CRASH_AT").is_ok_and(|v| v == point) {
        tracing::warn!(point, "crash point reached: killing the process");
        let _ = std::process::Command::new("kill")
            .args(["-9", &std::process::id().to_string()])
            .status();
        std::process::abort();
    }
}

/// Test hook for the chaos harness's self-test, in debug builds only:
/// `INTACCT_SNOWFLAKE_TEST_PLANTED_BUG=skip-merge-1-in-20` skips the MERGE of about one batch
/// in twenty (chosen from the batch id, so a resumed load skips the same batches) while the
/// batch is still marked loaded: a loss the harness must report. Release builds ignore it.
fn planted_skip_merge(batch_id: &str) -> bool {
    #[cfg(debug_assertions)]
    {
        if std::env::var("INTACCT_SNOWFLAKE_TEST_PLANTED_BUG")
            .is_ok_and(|v| v == "skip-merge-1-in-20")
        {
            return planted_pick(batch_id);
        }
    }
    let _ = batch_id;
    false
}

/// Says in the log, once per load, that the planted bug is switched on (debug builds only).
fn warn_if_planted() {
    #[cfg(debug_assertions)]
    if let Ok(bug) = std::env::var("INTACCT_SNOWFLAKE_TEST_PLANTED_BUG") {
        tracing::warn!(%bug, "a planted bug is switched on: this load loses data on purpose");
    }
}

/// One batch id in about twenty (FNV-1a of the id).
#[cfg(debug_assertions)]
fn planted_pick(batch_id: &str) -> bool {
    let hash = batch_id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    hash % 20 == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::LoadStep;

    #[cfg(debug_assertions)]
    #[test]
    fn the_planted_bug_picks_about_one_batch_in_twenty() {
        let picked = (0..10_000)
            .filter(|i| planted_pick(&format!("20260115T000000Z-APBILL-{i}")))
            .count();
        assert!((350..650).contains(&picked), "{picked} of 10000");
    }

    fn with_steps(steps: &[(&str, bool)]) -> BatchState {
        let state = crate::manifest::fold(
            None,
            &[crate::manifest::Commit {
                version: 1,
                written_at: chrono::DateTime::UNIX_EPOCH,
                run_id: "r".into(),
                generation: 0,
                actions: vec![Action::BatchCreated {
                    batch_id: "b".into(),
                    object: "VENDOR".into(),
                    mode: Mode::Nightly,
                    window_from: None,
                    window_to: chrono::DateTime::UNIX_EPOCH,
                    schema_fingerprint: "f".into(),
                    replay_of: None,
                    keys: None,
                }],
            }],
        )
        .unwrap();
        let mut batch = state.batches["b"].clone();
        for (step, finished) in steps {
            batch.load_steps.insert(
                (*step).to_owned(),
                LoadStep {
                    request_id: format!("req-{step}"),
                    statement_handle: None,
                    result: finished.then(|| serde_json::json!({})),
                    failed: false,
                },
            );
        }
        batch
    }

    #[test]
    fn a_reload_round_resumes_until_complete_then_the_next_one_starts() {
        assert_eq!(reload_round(&with_steps(&[("copy-1", true)]), 2), 1);
        let partial = [("reload-1-delete", true), ("reload-1-copy-1", true)];
        assert_eq!(reload_round(&with_steps(&partial), 2), 1);
        let unanswered = [("reload-1-delete", true), ("reload-1-copy-1", false)];
        assert_eq!(reload_round(&with_steps(&unanswered), 1), 1);
        let complete = [
            ("reload-1-delete", true),
            ("reload-1-copy-1", true),
            ("reload-1-copy-2", true),
        ];
        assert_eq!(reload_round(&with_steps(&complete), 2), 2);
        let later = [
            ("reload-1-delete", true),
            ("reload-1-copy-1", true),
            ("reload-2-delete", true),
            ("reload-2-copy-1", true),
            ("reload-10-delete", false),
        ];
        assert_eq!(reload_round(&with_steps(&later), 1), 10);
    }
}
