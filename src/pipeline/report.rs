//! The run report: what one command did, typed, kept on the stage at
//! `_reports/<run_id>.json` (counts, figures and durations, never a secret) with the status
//! page beside it (`_reports/<run_id>.html`, see `super::page`), and returned to the command
//! line, which prints it and exits with its outcome's code.
//!
//! # Shape (`schema_version` 1)
//!
//! A JSON object; every top-level key is always present (lists may be empty, `backfill` and
//! `prune` may be null):
//!
//! | key | type | meaning |
//! |---|---|---|
//! | `schema_version` | integer | [`SCHEMA_VERSION`]; raised when a key changes meaning or goes |
//! | `command` | string | `run`, `extract`, `load`, `replay`, `backfill`, `verify`, `reset` or `prune` |
//! | `run_id` | string | the run's id (also in every manifest commit it wrote) |
//! | `pipeline` | string | the pipeline's name |
//! | `started_at`, `finished_at` | RFC 3339 | wall-clock start and end of the command |
//! | `outcome` | string | see below |
//! | `leftover_loads` | [`BatchLoadReport`]s | `run`: batches an earlier run left staged, loaded first |
//! | `objects` | [`ObjectReport`]s | `run`, `extract`, `backfill`, `reset`: one per object (per object and entity; per object and window for a backfill) extracted |
//! | `loads` | [`BatchLoadReport`]s | every other batch load: after the extract (`run`), the batches `load` and `replay` loaded, a backfill's windows |
//! | `backfill` | [`BackfillWindows`] or null | `backfill`: the range, the window length and the windows an earlier backfill had done |
//! | `verify` | [`VerifyReport`]s | `verify`: one per object |
//! | `intacct` | [`IntacctUsage`] or null | commands that talked to Intacct: the requests (billable transactions) per object and kind and the budget, the request slots' levels (the ceiling, the lowest and last level, refusals, timeouts), and the maintenance answer that stopped the run |
//! | `warnings` | strings | what went wrong beside the work without failing it (the run could not be recorded in `_INTACCT_RUNS`), and the run's clock set by the `INTACCT_SNOWFLAKE_NOW` test hook |
//! | `prune` | [`PruneReport`] or null | `stage prune`: the horizon, each batch whose files went, the files and bytes deleted, the batches kept |
//! | `clock` | [`ClockReport`](super::ClockReport) or null | `run`, `extract`: `local` (this machine's clock, or `INTACCT_SNOWFLAKE_NOW`), `gateway` (Intacct's, from its `sessiontimestamp`), `skew_secs` (`local − gateway`), `margin_secs` and `windows_end` (`min(local, gateway) − margin`, the end of every nightly window) |
//! | `views_skipped` | [`ViewSkipped`]s or null | the reporting views the command could not build (a column they read is not loaded, or Snowflake refused them), after a load that changed tables; null when it checked no view |
//!
//! # Outcome and exit code
//!
//! [`RunReport::outcome`] decides it from the report's contents alone. The unit of work is an
//! extracted object, which failed when its extract or the load of its batch failed, and
//! every load of a batch that no object of this command extracted (left staged earlier, or a
//! replay), which failed when its load did.
//!
//! | outcome | when | exit code |
//! |---|---|---|
//! | `success` | no unit failed (or there was nothing to do) and `verify` found no difference | 0 |
//! | `failed` | every unit failed | 1 |
//! | `partial` | some units failed, others succeeded (they stay staged or loaded; the next run retries the rest); or `intacct.max_transactions_per_run` stopped the run (objects not finished end as `stopped: transaction budget`) | 3 |
//! | `try_later` | Intacct answered that it is offline for maintenance and kept answering so through the retries: the run stopped (objects not read end as `stopped: Intacct offline`); run it again after the window | 4 |
//! | `verify_differs` | `verify` found keys that differ, or could not verify an object | 5 |
//!
//! A command that stops before it has a report (bad configuration, the run lock held, an
//! interrupt) exits with its error's code ([`crate::Error::exit_code`]) instead.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::RunContext;
use super::verify::VerifyReport;
use crate::error::{Error, Result};
use crate::intacct::{IntacctUsage, TransactionCounts};
use crate::loader::{BatchLoadReport, ViewSkipped};
use crate::manifest::stream_key;

/// The version of the report's shape written by this build.
pub const SCHEMA_VERSION: u32 = 1;

/// The command a report is of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandName {
    /// The nightly job: leftover loads, extract, load.
    Run,
    /// Extract only.
    Extract,
    /// Load staged batches.
    Load,
    /// Load saved batches again.
    Replay,
    /// Extract and load explicit windows.
    Backfill,
    /// Compare Intacct's keys with Snowflake's.
    Verify,
    /// Rebuild one object from Intacct beside its live table and swap it in.
    Reset,
    /// Remove the files of batches loaded before a horizon (`stage prune`).
    Prune,
}

/// What a command's report says about it as a whole (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Nothing failed.
    Success,
    /// Some units failed, others succeeded.
    Partial,
    /// Every unit failed.
    Failed,
    /// `verify` found differences (or could not verify an object).
    VerifyDiffers,
    /// Intacct is offline for maintenance: run again later.
    TryLater,
}

/// Why an object stopped before the end of its window without failing: nothing of it is
/// lost, the next run reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// `intacct.max_transactions_per_run` was spent.
    TransactionBudget,
    /// Intacct answered that it is offline for maintenance.
    IntacctOffline,
}

impl StopReason {
    /// The stop an error means, when it is one.
    pub fn of(error: &Error) -> Option<StopReason> {
        match error {
            Error::TransactionBudget { .. } => Some(StopReason::TransactionBudget),
            Error::IntacctUnavailable { .. } => Some(StopReason::IntacctOffline),
            Error::EntitySession { source, .. } => StopReason::of(source),
            _ => None,
        }
    }
}

impl Outcome {
    /// The process exit code of a command that finished with this outcome: 0 success, 1
    /// every unit failed, 3 some did (or the transaction budget stopped the run), 4 Intacct is
    /// offline for maintenance (try again later, like a held run lock), 5 `verify` found
    /// differences.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Failed => 1,
            Outcome::Partial => 3,
            Outcome::TryLater => 4,
            Outcome::VerifyDiffers => 5,
        }
    }
}

/// What one command did (see the module docs for the shape and the outcome).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// [`SCHEMA_VERSION`] of the build that wrote it.
    pub schema_version: u32,
    /// The command.
    pub command: CommandName,
    /// The run's id (every manifest commit of the run carries it).
    pub run_id: String,
    /// The pipeline's name.
    pub pipeline: String,
    /// When the command started (wall clock).
    pub started_at: DateTime<Utc>,
    /// When it finished (wall clock).
    pub finished_at: DateTime<Utc>,
    /// [`RunReport::outcome`] of the contents below.
    pub outcome: Outcome,
    /// `run`: the loads of batches an earlier run left staged (loaded before extracting).
    #[serde(default)]
    pub leftover_loads: Vec<BatchLoadReport>,
    /// The objects extracted (per object and entity; per object and window for a backfill).
    #[serde(default)]
    pub objects: Vec<ObjectReport>,
    /// Every other load: the batches extracted by this run, those `load` found staged, the
    /// replays of `replay`, the windows of a backfill.
    #[serde(default)]
    pub loads: Vec<BatchLoadReport>,
    /// `backfill`: its range, window length and the windows an earlier backfill had done.
    #[serde(default)]
    pub backfill: Option<BackfillWindows>,
    /// `verify`: per object, Intacct's keys against Snowflake's live rows.
    #[serde(default)]
    pub verify: Vec<VerifyReport>,
    /// What the command's Intacct requests cost and met (`None`: it sent none).
    #[serde(default)]
    pub intacct: Option<IntacctUsage>,
    /// What went wrong beside the work, without failing it (the run not recorded in
    /// `_INTACCT_RUNS`).
    #[serde(default)]
    pub warnings: Vec<String>,
    /// `stage prune`: the horizon, the batches whose files went, the files and bytes.
    #[serde(default)]
    pub prune: Option<PruneReport>,
    /// The reporting views that could not be built, as of the last check of this command
    /// (`None`: it checked no view). A warning: never a failed unit.
    #[serde(default)]
    pub views_skipped: Option<Vec<ViewSkipped>>,
    /// `run`, `extract`: this machine's clock and the Intacct gateway's as the run compared
    /// them, their skew and where its nightly windows end (`None`: no nightly window).
    #[serde(default)]
    pub clock: Option<super::ClockReport>,
}

/// What one object's extract did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectReport {
    /// The object.
    pub object: String,
    /// The entity read (`intacct.entities`); `None`: the company.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// Its batch (empty when the object failed before one was created).
    pub batch_id: String,
    /// Window start (`None`: everything).
    pub window_from: Option<DateTime<Utc>>,
    /// Window end.
    pub window_to: Option<DateTime<Utc>>,
    /// Pages read.
    pub pages: u64,
    /// Records staged (tombstones not included).
    pub records: u64,
    /// Pages of the run's shared AUDITHISTORY read that served the object (the same read, and
    /// count, for every object of a session).
    pub delete_pages: u64,
    /// Tombstones staged: records deleted in the window (`_DELETED = true`), removed lines
    /// included.
    pub deleted: u64,
    /// Of `deleted`, lines a live header no longer has (line objects).
    #[serde(default)]
    pub lines_removed: u64,
    /// Why a line object's removed lines were not compared this run, when they were not (the
    /// delete mark stays; the next run compares the same headers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines_error: Option<String>,
    /// Values set aside (staged as NULL, kept as sent in the batch's quarantine file).
    pub quarantined: u64,
    /// [`ObjectReport::quarantined`] per Intacct field.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub quarantined_fields: BTreeMap<String, u64>,
    /// Fields `lookup` lists but `query` refuses, left out of the read (their columns stay
    /// NULL): the deny list's and those the gateway refused by name.
    pub refused_fields: Vec<String>,
    /// Fields `lookup` lists that have no column in the batch because `query` refuses them
    /// (the deny list's and those the gateway refused this run): no all-NULL column stands
    /// for them. A table that already has such a column keeps it, and no new row fills it.
    #[serde(default)]
    pub dropped_fields: Vec<String>,
    /// Set when AUDITHISTORY has no row at all of the object's OBJECTTYPE over the last 30
    /// days although the object changed: its type name is probably wrong and its deletes are
    /// not seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_type_warning: Option<String>,
    /// AUDITHISTORY delete rows set aside because their OBJECTKEY fits no known format.
    pub deletes_quarantined: u64,
    /// Why the delete feed failed, when it did (the batch staged without its deletes; the
    /// next run reads them again).
    pub deletes_error: Option<String>,
    /// Values in columns the metadata does not list (dropped).
    pub unknown_column_values: u64,
    /// Parquet parts.
    pub parts: u64,
    /// Bytes in the parts.
    pub bytes: u64,
    /// Wall time, in seconds.
    pub seconds: f64,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// Why it stopped before the end of its window without failing (`error` says it too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<StopReason>,
    /// Requests its read and its delete feed sent (billable transactions), by kind:
    /// `data_page`, `probe`, `audit_read` (retries included; the object's `lookup` and the
    /// logins are in the report's `intacct.transactions`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub transactions: TransactionCounts,
}

impl ObjectReport {
    /// The stream the object was read as: the object, or `OBJECT@ENTITY`.
    pub fn stream(&self) -> String {
        stream_key(&self.object, self.entity.as_deref())
    }
}

/// A backfill's range and what an earlier backfill had already done of it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackfillWindows {
    /// Start of the range.
    pub from: DateTime<Utc>,
    /// End of the range (exclusive).
    pub to: DateTime<Utc>,
    /// Length of each window, in seconds (the last one may be shorter).
    pub window_secs: i64,
    /// (stream, window) pairs an earlier backfill already loaded: not redone.
    pub windows_done: u64,
    /// Windows an earlier backfill staged (loaded now, not extracted again) or was reading
    /// (read on from its recorded position).
    pub windows_resumed: u64,
}

impl BackfillWindows {
    /// The range `[from, to)` in windows of `window`, nothing done yet.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>, window: Duration) -> BackfillWindows {
        BackfillWindows {
            from,
            to,
            window_secs: window.num_seconds(),
            windows_done: 0,
            windows_resumed: 0,
        }
    }
}

/// A finished report and where it was kept on the stage.
#[derive(Clone, Debug)]
pub struct SavedReport {
    /// The report, its outcome decided.
    pub report: RunReport,
    /// Its path on the stage (`_reports/<run_id>.json`).
    pub path: String,
}

/// How many of the newest reports [`last_intacct_run`] looks through.
const RECENT_REPORTS: usize = 30;

/// The newest report on `stage` of a command that talked to Intacct (by its end), among the
/// newest few by name (run ids begin with the run's time); `None` when there is none.
/// Unreadable reports are skipped.
pub(crate) async fn last_intacct_run(stage: &crate::stage::Stage) -> Result<Option<RunReport>> {
    let listed = stage.list("_reports/").await?;
    let mut newest: Option<RunReport> = None;
    // The status pages beside the reports are not reports.
    let reports = listed.iter().filter(|o| o.path.ends_with(".json"));
    for object in reports.rev().take(RECENT_REPORTS) {
        let Some(bytes) = stage.get(&object.path).await? else {
            continue;
        };
        let Ok(report) = serde_json::from_slice::<RunReport>(&bytes) else {
            continue;
        };
        if report.intacct.is_some()
            && newest
                .as_ref()
                .is_none_or(|n| report.finished_at > n.finished_at)
        {
            newest = Some(report);
        }
    }
    Ok(newest)
}

/// The longest report recorded in `_INTACCT_RUNS`: a statement's text is limited to 1 MB, and
/// the report travels as a literal inside it.
const MAX_RECORDED_REPORT_BYTES: usize = 900_000;

/// Records `report` in the pipeline's `_INTACCT_RUNS`, once per run id.
async fn record_run(ctx: &RunContext, report: &RunReport) -> Result<()> {
    let json = serde_json::to_string(report).expect("a report serialises");
    if json.len() > MAX_RECORDED_REPORT_BYTES {
        return Err(crate::error::Error::InvalidRequest(format!(
            "the report has {} bytes, more than one statement carries; it is on the stage only",
            json.len()
        )));
    }
    let names = super::context::names(&ctx.spec)?;
    let command = serde_json::to_value(report.command).expect("a command serialises");
    let outcome = serde_json::to_value(report.outcome).expect("an outcome serialises");
    let sql = crate::loader::runs::record(
        &names,
        &crate::loader::RunRow {
            run_id: &report.run_id,
            pipeline: &report.pipeline,
            command: command.as_str().unwrap_or_default(),
            started_at: report.started_at,
            finished_at: report.finished_at,
            outcome: outcome.as_str().unwrap_or_default(),
            exit_code: report.outcome.exit_code(),
            report_json: &json,
        },
    )?;
    // Patient enough for a 429 or a 503, not for a Snowflake that is down: an `extract`,
    // which needs Snowflake for nothing else, must not wait minutes to record itself.
    let mut config = super::snowflake_config(&ctx.spec);
    config.retry.max_attempts = config.retry.max_attempts.min(3);
    config.retry.max_elapsed_secs = config.retry.max_elapsed_secs.min(30);
    crate::snowflake::SnowflakeClient::new(config)?
        .execute(&crate::snowflake::Statement::new(
            sql.to_string(),
            format!(
                "intacct-snowflake:{}:{}:runs",
                report.pipeline, report.run_id
            ),
        ))
        .await?;
    Ok(())
}

/// One unit of work of a report, for its outcome: an extracted object, or a load of a batch
/// no object of the command extracted.
struct Unit {
    /// What it is: the stream (`OBJECT` or `OBJECT@ENTITY`), with ` batch <id>` when its load
    /// failed.
    name: String,
    /// Why it failed (`None`: the unit succeeded).
    error: Option<String>,
    /// True for an extracted object.
    object: bool,
}

impl Unit {
    /// `<name>: <error>`, as the failure message names a failed unit.
    fn failure(&self) -> Option<String> {
        self.error.as_ref().map(|e| format!("{}: {e}", self.name))
    }
}

/// What failed in a command, one entry per failed unit (see [`RunReport::failures`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The object (`OBJECT@ENTITY` for one entity's stream), with ` batch <id>` when a load
    /// failed.
    pub object: String,
    /// Why.
    pub error: String,
}

impl RunReport {
    /// An empty report of `command` in `ctx`'s run.
    pub fn new(command: CommandName, ctx: &RunContext) -> RunReport {
        RunReport {
            schema_version: SCHEMA_VERSION,
            command,
            run_id: ctx.run_id.clone(),
            pipeline: ctx.spec.name.clone(),
            started_at: ctx.started_at,
            finished_at: ctx.started_at,
            outcome: Outcome::Success,
            leftover_loads: Vec::new(),
            objects: Vec::new(),
            loads: Vec::new(),
            backfill: None,
            verify: Vec::new(),
            intacct: None,
            warnings: ctx.clock_hook_warning().into_iter().collect(),
            prune: None,
            views_skipped: None,
            clock: None,
        }
    }

    /// The report with its end time and its outcome set: call it once the work is done.
    pub fn finish(mut self) -> RunReport {
        self.finished_at = Utc::now();
        self.outcome = self.outcome();
        self
    }

    /// Finishes the report, records it in Snowflake's run history (`_INTACCT_RUNS`; a failure
    /// to is a warning in the report and the log, never a failed command) and keeps it on
    /// `ctx`'s stage at `_reports/<run_id>.json`, with the status page beside it at
    /// `_reports/<run_id>.html`.
    pub async fn save(mut self, ctx: &RunContext) -> Result<SavedReport> {
        self.intacct = self.intacct.or_else(|| ctx.intacct_usage());
        let mut report = self.finish();
        if let Err(error) = record_run(ctx, &report).await {
            tracing::warn!(%error, run_id = %report.run_id, "the run is not recorded in _INTACCT_RUNS");
            report.warnings.push(format!(
                "the run is not recorded in _INTACCT_RUNS (run `init` to create the table): {error}"
            ));
        }
        let path = format!("_reports/{}.json", ctx.run_id);
        let body = serde_json::to_vec_pretty(&report).expect("a report serialises");
        ctx.stage.put_create(&path, Bytes::from(body)).await?;
        // The page beside it is for people: a failure to write it is a warning, never a
        // failed run.
        let state = ctx.manifest.lock().await.state().clone();
        let config = ctx.spec.source.display().to_string();
        if let Err(error) =
            super::page::write_beside_report(&ctx.stage, &state, &report, &path, &config).await
        {
            tracing::warn!(%error, "could not write the status page beside the run report");
        }
        Ok(SavedReport { report, path })
    }

    /// The outcome of what the report holds: the one rule of the module docs.
    pub fn outcome(&self) -> Outcome {
        if self.intacct_offline().is_some() {
            return Outcome::TryLater;
        }
        let units = self.units();
        let failed = units.iter().filter(|u| u.error.is_some()).count();
        let budget = self.budget_reached();
        if failed == 0 {
            if budget {
                Outcome::Partial
            } else if self.verify.iter().any(VerifyReport::differs) {
                Outcome::VerifyDiffers
            } else {
                Outcome::Success
            }
        } else if failed == units.len() && !budget {
            Outcome::Failed
        } else {
            Outcome::Partial
        }
    }

    /// The maintenance answer that stopped the command, when one did.
    fn intacct_offline(&self) -> Option<String> {
        self.intacct
            .as_ref()
            .and_then(|i| i.unavailable.clone())
            .or_else(|| {
                self.objects
                    .iter()
                    .find(|o| o.stopped == Some(StopReason::IntacctOffline))
                    .map(|o| o.error.clone().unwrap_or_default())
            })
    }

    /// True when `intacct.max_transactions_per_run` stopped a request of the command.
    fn budget_reached(&self) -> bool {
        self.intacct
            .as_ref()
            .is_some_and(|i| i.transactions.budget_reached())
            || self
                .objects
                .iter()
                .any(|o| o.stopped == Some(StopReason::TransactionBudget))
    }

    /// What went wrong, for the error line printed when the outcome is not a success:
    /// `N of M objects failed: …`, `N of M batches failed to load: …`, or the objects
    /// `verify` found differing.
    pub fn failure_message(&self) -> Option<String> {
        if let Some(offline) = self.intacct_offline() {
            return Some(offline);
        }
        let units = self.units();
        let failed: Vec<String> = units.iter().filter_map(Unit::failure).collect();
        if !failed.is_empty() {
            let what = if units.iter().all(|u| u.object) {
                "objects failed"
            } else if units.iter().all(|u| !u.object) {
                "batches failed to load"
            } else {
                "objects and batches failed"
            };
            return Some(format!(
                "{} of {} {what}: {}",
                failed.len(),
                units.len(),
                failed.join("; ")
            ));
        }
        let differing: Vec<String> = self
            .verify
            .iter()
            .filter(|r| r.differs())
            .map(|r| match &r.error {
                Some(e) => format!("{} (could not verify: {e})", r.object),
                None => format!("{} ({} missing, {} extra)", r.object, r.missing, r.extra),
            })
            .collect();
        if !differing.is_empty() {
            return Some(format!(
                "verify found differences in {}",
                differing.join(", ")
            ));
        }
        self.budget_reached().then(|| {
            "the Intacct transaction budget (intacct.max_transactions_per_run) stopped the run; the next run reads the rest".to_owned()
        })
    }

    /// Every failed unit (an extracted object, a batch load) with its error, then every object
    /// `verify` found differing: what a notification lists.
    pub fn failures(&self) -> Vec<Failure> {
        let units = self.units().into_iter().filter_map(|u| {
            u.error.map(|error| Failure {
                object: u.name,
                error,
            })
        });
        let differing = self.verify.iter().filter(|r| r.differs()).map(|r| Failure {
            object: r.object.clone(),
            error: match &r.error {
                Some(e) => format!("could not verify: {e}"),
                None => format!("{} keys missing, {} extra", r.missing, r.extra),
            },
        });
        units.chain(differing).collect()
    }

    /// The units of work: each extracted object (failed by its extract or its batch's load),
    /// then each load of a batch no object extracted.
    fn units(&self) -> Vec<Unit> {
        let loads = || self.leftover_loads.iter().chain(&self.loads);
        let load_error = |batch_id: &str| {
            loads()
                .filter(|l| l.batch_id == batch_id)
                .find_map(|l| l.error.as_ref())
        };
        let extracted: BTreeSet<&str> = self
            .objects
            .iter()
            .filter(|o| !o.batch_id.is_empty())
            .map(|o| o.batch_id.as_str())
            .collect();
        let objects = self.objects.iter().map(|o| {
            let (name, error) = match (&o.error, load_error(&o.batch_id)) {
                (Some(e), _) => (o.stream(), Some(e.clone())),
                (None, Some(e)) => (
                    format!("{} batch {}", o.stream(), o.batch_id),
                    Some(e.clone()),
                ),
                (None, None) => (o.stream(), None),
            };
            Unit {
                name,
                error,
                object: true,
            }
        });
        let batches = loads()
            .filter(|l| !extracted.contains(l.batch_id.as_str()))
            .map(|l| Unit {
                name: format!("{} batch {}", l.object, l.batch_id),
                error: l.error.clone(),
                object: false,
            });
        objects.chain(batches).collect()
    }
}

/// What a prune removes (or, dry, would remove), for the report and the printed summary.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PruneReport {
    /// Batches first loaded before this lose their files.
    pub horizon: DateTime<Utc>,
    /// `--older-than`, in seconds.
    pub older_than_secs: i64,
    /// The batches pruned now, oldest load first.
    pub batches: Vec<PrunedBatch>,
    /// Files deleted (those of `batches`, and leftovers of batches an interrupted prune
    /// recorded).
    pub files: u64,
    /// Bytes of those files.
    pub bytes: u64,
    /// Loaded before the horizon but kept: a replay of it is not loaded yet.
    pub kept_for_replay: Vec<String>,
    /// Loaded before load times were recorded: kept (their age is unknown).
    pub kept_unknown_age: u64,
}

/// One batch a prune removes the files of.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrunedBatch {
    /// The batch.
    pub batch_id: String,
    /// Its stream (object, or `OBJECT@ENTITY`).
    pub stream: String,
    /// When it was first loaded.
    pub loaded_at: DateTime<Utc>,
    /// Files removed.
    pub files: u64,
    /// Bytes removed.
    pub bytes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_767_225_600 + secs, 0).unwrap()
    }

    fn report(command: CommandName) -> RunReport {
        RunReport {
            schema_version: SCHEMA_VERSION,
            command,
            run_id: "20260101T000000Z-0badc0de".into(),
            pipeline: "demo".into(),
            started_at: at(0),
            finished_at: at(90),
            outcome: Outcome::Success,
            leftover_loads: vec![],
            objects: vec![],
            loads: vec![],
            backfill: None,
            verify: vec![],
            intacct: None,
            warnings: vec![],
            prune: None,
            views_skipped: None,
            clock: None,
        }
    }

    fn object(name: &str, batch_id: &str, error: Option<&str>) -> ObjectReport {
        ObjectReport {
            object: name.into(),
            batch_id: batch_id.into(),
            window_to: Some(at(0)),
            pages: 3,
            records: 250,
            error: error.map(str::to_owned),
            ..ObjectReport::default()
        }
    }

    fn load(name: &str, batch_id: &str, error: Option<&str>) -> BatchLoadReport {
        BatchLoadReport {
            object: name.into(),
            batch_id: batch_id.into(),
            mode: "nightly".into(),
            rows: 250,
            error: error.map(str::to_owned),
            ..BatchLoadReport::default()
        }
    }

    #[test]
    fn a_report_round_trips_through_its_json() {
        let mut r = report(CommandName::Backfill);
        r.objects = vec![
            ObjectReport {
                entity: Some("E100".into()),
                quarantined: 2,
                quarantined_fields: BTreeMap::from([("TOTALDUE".to_owned(), 2)]),
                refused_fields: vec!["RECORD_URL".into()],
                deletes_error: Some("AUDITHISTORY refused".into()),
                seconds: 1.25,
                ..object("APBILL", "b1", None)
            },
            object("VENDOR", "", Some("lookup failed")),
        ];
        r.leftover_loads = vec![load("CLASS", "b0", None)];
        r.loads = vec![load("APBILL", "b1", Some("COPY failed"))];
        r.backfill = Some(BackfillWindows {
            windows_done: 2,
            windows_resumed: 1,
            ..BackfillWindows::new(at(0), at(86_400 * 60), Duration::days(30))
        });
        r.verify = vec![VerifyReport {
            object: "VENDOR".into(),
            intacct_keys: 10,
            snowflake_live: 9,
            missing: 1,
            missing_sample: vec!["V-1".into()],
            marked_deleted: Some(load("VENDOR", "t1", None)),
            ..VerifyReport::default()
        }];
        let r = r.finish();
        let text = serde_json::to_string_pretty(&r).unwrap();
        let back: RunReport = serde_json::from_str(&text).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.outcome, back.outcome());
    }

    #[test]
    fn the_keys_scripts_read_keep_their_names_and_every_key_is_written() {
        let mut r = report(CommandName::Run);
        r.objects = vec![object("APBILL", "b1", None)];
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["command"], "run");
        assert_eq!(json["schema_version"], 1);
        assert_eq!(json["outcome"], "success");
        assert_eq!(json["objects"][0]["object"], "APBILL");
        assert_eq!(json["objects"][0]["batch_id"], "b1");
        assert_eq!(json["objects"][0]["records"], 250);
        for key in [
            "run_id",
            "pipeline",
            "started_at",
            "finished_at",
            "leftover_loads",
            "loads",
            "backfill",
            "verify",
            "warnings",
            "views_skipped",
            "clock",
        ] {
            assert!(json.get(key).is_some(), "{key} is written");
        }
        // A report an older build wrote (no version, no outcome) is not mistaken for one.
        let old = r#"{"run_id": "r", "pipeline": "demo", "command": "run", "objects": []}"#;
        assert!(serde_json::from_str::<RunReport>(old).is_err());
    }

    #[test]
    fn the_outcome_counts_objects_with_their_loads_and_batches_of_their_own() {
        let mut r = report(CommandName::Run);
        assert_eq!(r.outcome(), Outcome::Success, "nothing to do");
        r.objects = vec![object("APBILL", "b1", None), object("VENDOR", "b2", None)];
        r.loads = vec![load("APBILL", "b1", None), load("VENDOR", "b2", None)];
        assert_eq!(r.outcome(), Outcome::Success);
        assert_eq!(r.failure_message(), None);

        // One object's extract failed: the other reached Snowflake.
        r.objects[1] = object("VENDOR", "", Some("permission denied"));
        r.loads.pop();
        assert_eq!(r.outcome(), Outcome::Partial);
        assert_eq!(
            r.failure_message().unwrap(),
            "1 of 2 objects failed: VENDOR: permission denied"
        );

        // And the other's load failed: nothing reached Snowflake, whichever step failed.
        r.loads[0].error = Some("no such database".into());
        assert_eq!(r.outcome(), Outcome::Failed);
        assert_eq!(
            r.failure_message().unwrap(),
            "2 of 2 objects failed: APBILL batch b1: no such database; VENDOR: permission denied"
        );

        // A batch an earlier run left staged loaded: something succeeded.
        r.leftover_loads = vec![load("CLASS", "b0", None)];
        assert_eq!(r.outcome(), Outcome::Partial);
        assert!(
            r.failure_message()
                .unwrap()
                .starts_with("2 of 3 objects and batches failed: ")
        );
    }

    #[test]
    fn failures_name_each_failed_object_batch_and_differing_verify() {
        let mut r = report(CommandName::Run);
        r.objects = vec![
            object("APBILL", "b1", None),
            object("VENDOR", "", Some("permission denied")),
            object("CLASS", "b3", None),
        ];
        r.loads = vec![
            load("APBILL", "b1", Some("no such database")),
            load("CLASS", "b3", None),
        ];
        r.leftover_loads = vec![load("DEPARTMENT", "b0", Some("COPY failed"))];
        let failure = |object: &str, error: &str| Failure {
            object: object.into(),
            error: error.into(),
        };
        assert_eq!(
            r.failures(),
            vec![
                failure("APBILL batch b1", "no such database"),
                failure("VENDOR", "permission denied"),
                failure("DEPARTMENT batch b0", "COPY failed"),
            ]
        );
        let mut v = report(CommandName::Verify);
        v.verify = vec![VerifyReport {
            object: "VENDOR".into(),
            missing: 1,
            extra: 2,
            ..VerifyReport::default()
        }];
        assert_eq!(
            v.failures(),
            vec![failure("VENDOR", "1 keys missing, 2 extra")]
        );
        assert!(report(CommandName::Load).failures().is_empty());
    }

    #[test]
    fn loads_alone_and_verify_decide_by_their_own_counts() {
        let mut r = report(CommandName::Load);
        r.loads = vec![
            load("APBILL", "b1", Some("boom")),
            load("VENDOR", "b2", None),
        ];
        assert_eq!(r.outcome(), Outcome::Partial);
        assert_eq!(
            r.failure_message().unwrap(),
            "1 of 2 batches failed to load: APBILL batch b1: boom"
        );
        r.loads[1].error = Some("waited for b1".into());
        assert_eq!(r.outcome(), Outcome::Failed);

        let mut v = report(CommandName::Verify);
        v.verify = vec![VerifyReport {
            object: "VENDOR".into(),
            ..VerifyReport::default()
        }];
        assert_eq!(v.outcome(), Outcome::Success);
        v.verify[0].extra = 2;
        assert_eq!(v.outcome(), Outcome::VerifyDiffers);
        assert_eq!(
            v.failure_message().unwrap(),
            "verify found differences in VENDOR (0 missing, 2 extra)"
        );
    }

    fn usage(refused_by_budget: u64, unavailable: Option<&str>) -> IntacctUsage {
        IntacctUsage {
            transactions: crate::intacct::TransactionUsage {
                total: 40,
                max_per_run: Some(40),
                refused_by_budget,
                ..Default::default()
            },
            unavailable: unavailable.map(str::to_owned),
            ..IntacctUsage::default()
        }
    }

    #[test]
    fn a_spent_transaction_budget_is_a_partial_run_even_when_every_object_stopped() {
        let mut r = report(CommandName::Run);
        let stopped = |name: &str| ObjectReport {
            stopped: Some(StopReason::TransactionBudget),
            ..object(name, "", Some("stopped: transaction budget"))
        };
        r.objects = vec![object("VENDOR", "b1", None), stopped("APBILL")];
        r.intacct = Some(usage(3, None));
        assert_eq!(r.outcome(), Outcome::Partial);
        r.objects = vec![stopped("VENDOR"), stopped("APBILL")];
        assert_eq!(r.outcome(), Outcome::Partial);
        // Every object read, but the delete feed was cut short: still partial.
        r.objects = vec![object("VENDOR", "b1", None)];
        assert_eq!(r.outcome(), Outcome::Partial);
        assert!(r.failure_message().unwrap().contains("transaction budget"));
        r.intacct = Some(usage(0, None));
        assert_eq!(r.outcome(), Outcome::Success);
        // Keys written with their kinds' names.
        let mut o = stopped("APBILL");
        o.transactions = TransactionCounts::from([
            (crate::intacct::TransactionKind::DataPage, 7),
            (crate::intacct::TransactionKind::Probe, 1),
        ]);
        let json = serde_json::to_value(&o).unwrap();
        assert_eq!(json["stopped"], "transaction_budget");
        assert_eq!(json["transactions"]["data_page"], 7);
        assert_eq!(json["transactions"]["probe"], 1);
    }

    #[test]
    fn intacct_offline_for_maintenance_is_try_later_whatever_else_happened() {
        let mut r = report(CommandName::Run);
        r.objects = vec![
            object("VENDOR", "b1", None),
            object("APBILL", "", Some("boom")),
        ];
        r.intacct = Some(usage(0, Some("Intacct is offline for maintenance (x)")));
        assert_eq!(r.outcome(), Outcome::TryLater);
        assert!(r.failure_message().unwrap().contains("maintenance"));
        let r = r.finish();
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["outcome"], "try_later");
        let back: RunReport = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
        // Said by an object alone (no usage recorded): the same.
        let mut r = report(CommandName::Backfill);
        r.objects = vec![ObjectReport {
            stopped: StopReason::of(&Error::IntacctUnavailable {
                detail: "x".into(),
                retry_after_secs: None,
            }),
            ..object("APBILL", "", Some("offline"))
        }];
        assert_eq!(r.outcome(), Outcome::TryLater);
    }
}
