//! `status`: per object, the watermark, the staged mark, batches by state, rows (and of
//! them the delete feed's tombstones), quarantined values, bytes, and every change a load made
//! to the object's table (or holds for `accept-schema`) with the `backfill` that fills the new
//! column for older rows — from the manifest alone (pure over [`ManifestState`]).
//! With `intacct.entities`, one line per object and entity, named `OBJECT@ENTITY`. Below the
//! table, the reporting views the newest run report that checked them could not build. Beside
//! it, from the last run report of a command that talked to Intacct: each object's requests
//! (billable transactions) by kind, and the run's request slots (the level it ended at, the
//! lowest it went to, the refusals) ([`with_last_intacct_run`], [`render_last_intacct_run`]).
//! An object whose newest AUDITHISTORY object-type check found no row at all of its type
//! (`super::deletes`) carries a warning until a later check finds one.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::intacct::TransactionCounts;
use crate::manifest::{BatchState, BatchStatus, ManifestState, Mode, SchemaChange};
use crate::pipeline::RunReport;

/// One object's line of `status`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub(crate) struct ObjectStatus {
    /// The object, or `OBJECT@ENTITY` for one entity's stream.
    pub object: String,
    /// The entity of the stream, when it is one entity's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// Everything changed before this is loaded.
    pub watermark: Option<DateTime<Utc>>,
    /// Everything changed before this is staged.
    pub staged_up_to: Option<DateTime<Utc>>,
    /// Batch counts by state (`created`, `staged`, `loaded`, `failed`).
    pub batches: BTreeMap<String, u64>,
    /// Rows in staged or loaded batches, tombstones included.
    pub rows: u64,
    /// Of `rows`, tombstones of the delete feed (deleted records).
    pub deleted_rows: u64,
    /// Bytes in staged or loaded batches.
    pub bytes: u64,
    /// How far the watermark is behind `now`, in seconds (`None` before the first load).
    pub lag_secs: Option<i64>,
    /// The run that last touched the object, and when.
    pub last_run_id: Option<String>,
    /// When that run last wrote to the manifest for the object.
    pub last_run_at: Option<DateTime<Utc>>,
    /// The newest failures (batch id and error), newest first, at most three.
    pub failures: Vec<BatchFailure>,
    /// Set while the newest AUDITHISTORY check of the object's OBJECTTYPE found no row at
    /// all although the object changed: its deletes are probably not seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_type_warning: Option<String>,
    /// Values set aside as NULL (in the quarantine files of staged or loaded batches).
    pub quarantined: u64,
    /// Every change loads made to the object's table, or hold for acceptance, oldest first.
    pub schema_changes: Vec<SchemaChangeStatus>,
    /// The object's Intacct requests in the last run that talked to Intacct.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_intacct: Option<LastIntacct>,
}

/// An object's Intacct requests in the last run that talked to Intacct, and that run's
/// request slots.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub(crate) struct LastIntacct {
    /// The run.
    pub run_id: String,
    /// The object's requests by kind (its pages, probes, delete feed and `lookup`).
    pub transactions: TransactionCounts,
    /// The run's request slots: the ceiling, the level at the end, the lowest level.
    pub slots_max: u64,
    /// The level at the end of the run.
    pub slots_last: u64,
    /// The lowest level of the run.
    pub slots_lowest: u64,
    /// Requests the gateway refused for concurrency in the run.
    pub refusals: u64,
}

/// Adds the last Intacct run's figures (`report`) to the rows of the objects it read.
pub(crate) fn with_last_intacct_run(rows: &mut [ObjectStatus], report: &RunReport) {
    let Some(usage) = &report.intacct else {
        return;
    };
    for row in rows {
        let read: Vec<_> = report
            .objects
            .iter()
            .filter(|o| o.stream() == row.object)
            .collect();
        if read.is_empty() {
            continue;
        }
        let mut transactions = TransactionCounts::new();
        for o in &read {
            for (kind, n) in &o.transactions {
                *transactions.entry(*kind).or_default() += n;
            }
        }
        let name = row.object.split('@').next().unwrap_or_default();
        if let Some(n) = usage
            .transactions
            .by_object
            .get(name)
            .and_then(|c| c.get(&crate::intacct::TransactionKind::Lookup))
        {
            transactions.insert(crate::intacct::TransactionKind::Lookup, *n);
        }
        row.last_intacct = Some(LastIntacct {
            run_id: report.run_id.clone(),
            transactions,
            slots_max: usage.concurrency.max,
            slots_last: usage.concurrency.last,
            slots_lowest: usage.concurrency.lowest,
            refusals: usage.concurrency.refusals,
        });
    }
}

/// The footer `status` prints about the last run that talked to Intacct.
pub(crate) fn render_last_intacct_run(report: &RunReport) -> String {
    let Some(usage) = &report.intacct else {
        return String::new();
    };
    let t = &usage.transactions;
    let c = &usage.concurrency;
    let kinds: Vec<String> = t
        .by_kind()
        .iter()
        .map(|(kind, n)| format!("{} {n}", kind.name()))
        .collect();
    let mut out = format!(
        "\nlast Intacct run {} ({}, {:?}, finished {}):\n  {} requests{} ({})\n  request slots: ended at {} of {}, lowest {}; {} refused for concurrency, {} timed out\n",
        report.run_id,
        serde_json::to_value(report.command)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        report.outcome,
        report.finished_at.format("%Y-%m-%d %H:%M:%S"),
        t.total,
        t.max_per_run
            .map(|m| format!(" of a budget of {m}"))
            .unwrap_or_default(),
        kinds.join(", "),
        c.last,
        c.max,
        c.lowest,
        c.refusals,
        c.timeouts,
    );
    if let Some(offline) = &usage.unavailable {
        out.push_str(&format!("  stopped: {offline}\n"));
    }
    out
}

/// One change of an object's table, where it stands, and the backfill that fills older rows.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub(crate) struct SchemaChangeStatus {
    /// The change.
    #[serde(flatten)]
    pub change: SchemaChange,
    /// The batch whose load made (or holds) it.
    pub batch_id: String,
    /// Where it stands.
    pub state: SchemaChangeState,
    /// The backfill that re-reads the rows loaded before the change.
    pub backfill: BackfillHint,
}

/// Where a table change stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SchemaChangeState {
    /// Applied: the batch loaded, or its DDL ran.
    Applied,
    /// Held: the object's schema is frozen; `accept-schema --object X` accepts it.
    AwaitingAcceptance,
    /// Accepted; the next `load` or `run` applies it.
    Accepted,
}

impl std::fmt::Display for SchemaChangeState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SchemaChangeState::Applied => "applied",
            SchemaChangeState::AwaitingAcceptance => "awaiting accept-schema",
            SchemaChangeState::Accepted => "accepted, loads next",
        })
    }
}

/// The range a `backfill` re-reads so a new column is filled for the rows loaded before it:
/// from the object's first staged window to the end of the batch that brought the column.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub(crate) struct BackfillHint {
    /// The object.
    pub object: String,
    /// The first staged window's start; `None` when that was the initial full read, which has
    /// no start (the command then starts at [`OPEN_START`]).
    pub from: Option<DateTime<Utc>>,
    /// The end of the changing batch's window.
    pub to: DateTime<Utc>,
}

/// Where a backfill hint starts when the object's first read had no start (its full initial
/// load): a date before any Intacct company's first transaction on the XML gateway.
pub(crate) const OPEN_START: &str = "2000-01-01";

impl BackfillHint {
    /// The command, with the pipeline file `config`: whole days (the end rounded up), and
    /// yearly windows when it starts at [`OPEN_START`] (most of such a range is empty).
    pub(crate) fn command(&self, config: &str) -> String {
        let to = (self.to + chrono::Duration::days(1)).format("%Y-%m-%d");
        let (from, window) = match self.from {
            Some(from) => (from.format("%Y-%m-%d").to_string(), ""),
            None => (OPEN_START.to_owned(), " --window 365d"),
        };
        format!(
            "intacct-snowflake backfill --config {config} --objects {} --from {from} --to {to}{window}",
            self.object
        )
    }
}

/// Each recorded change of `batch` with where it stands.
fn changes_of(state: &ManifestState, batch: &BatchState) -> Vec<SchemaChangeStatus> {
    let status = if batch.schema_held && !batch.schema_accepted {
        SchemaChangeState::AwaitingAcceptance
    } else if batch.schema_held && batch.status != BatchStatus::Loaded {
        SchemaChangeState::Accepted
    } else {
        SchemaChangeState::Applied
    };
    let from = state
        .batches_of(&batch.object)
        .filter(|b| matches!(b.status, BatchStatus::Staged | BatchStatus::Loaded))
        .filter(|b| b.mode != Mode::Reset)
        .map(|b| b.window_from)
        .min()
        .flatten();
    batch
        .schema_changes
        .iter()
        .map(|change| SchemaChangeStatus {
            change: change.clone(),
            batch_id: batch.batch_id.clone(),
            state: status,
            backfill: BackfillHint {
                object: batch.object.clone(),
                from,
                to: batch.window_to,
            },
        })
        .collect()
}

/// A batch that failed, or whose last load attempt failed.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub(crate) struct BatchFailure {
    /// The batch.
    pub batch_id: String,
    /// `failed` (given up) or `staged` (a load attempt failed; the next load resumes it).
    pub status: String,
    /// The error.
    pub error: String,
}

/// Status of every object the manifest knows, by name, as of `now`.
pub(crate) fn object_status(state: &ManifestState, now: DateTime<Utc>) -> Vec<ObjectStatus> {
    let mut by_object: BTreeMap<String, ObjectStatus> = BTreeMap::new();
    for (name, marks) in &state.objects {
        by_object.insert(
            name.clone(),
            ObjectStatus {
                object: name.clone(),
                entity: name.split_once('@').map(|(_, e)| e.to_owned()),
                watermark: marks.watermark,
                staged_up_to: marks.staged_up_to,
                lag_secs: marks.watermark.map(|w| (now - w).num_seconds()),
                last_run_id: marks.last_run_id.clone(),
                last_run_at: marks.last_run_at,
                ..ObjectStatus::default()
            },
        );
    }
    let mut newest_first: Vec<_> = state.batches.values().collect();
    newest_first.sort_by_key(|b| std::cmp::Reverse(b.created_version));
    let mut type_checked = BTreeSet::new();
    for batch in newest_first {
        let entry = by_object
            .entry(batch.stream())
            .or_insert_with(|| ObjectStatus {
                object: batch.stream(),
                entity: batch.entity.clone(),
                ..ObjectStatus::default()
            });
        if let Some(check) = &batch.audit_type_check
            && type_checked.insert(batch.stream())
        {
            entry.audit_type_warning = super::deletes::audit_type_warning(&batch.stream(), check);
        }
        *entry.batches.entry(batch.status.to_string()).or_default() += 1;
        if matches!(batch.status, BatchStatus::Staged | BatchStatus::Loaded) {
            entry.rows += batch.rows;
            entry.deleted_rows += batch.deleted_rows;
            entry.bytes += batch.bytes;
            entry.quarantined += batch.quarantine.iter().map(|f| f.rows).sum::<u64>();
        }
        if batch.status != BatchStatus::Failed {
            let mut changes = changes_of(state, batch);
            changes.append(&mut entry.schema_changes);
            entry.schema_changes = changes;
        }
        let error = match batch.status {
            BatchStatus::Failed => batch.error.clone(),
            BatchStatus::Staged => batch.last_load_error.clone(),
            _ => None,
        };
        if let Some(error) = error
            && entry.failures.len() < 3
        {
            entry.failures.push(BatchFailure {
                batch_id: batch.batch_id.clone(),
                status: batch.status.to_string(),
                error,
            });
        }
    }
    by_object.into_values().collect()
}

/// The table `status` prints; `config` is the pipeline file the backfill commands name.
pub(crate) fn render_table(rows: &[ObjectStatus], version: u64, config: &str) -> String {
    let mark = |m: Option<DateTime<Utc>>| {
        m.map_or("-".to_owned(), |m| {
            m.format("%Y-%m-%d %H:%M:%S").to_string()
        })
    };
    let mut out = format!("manifest version {version}\n");
    out.push_str(&format!(
        "{:<14} {:<19} {:>8} {:<19} {:>7} {:>7} {:>7} {:>7} {:>10} {:>8} {:>12}\n",
        "object",
        "watermark",
        "lag",
        "staged up to",
        "created",
        "staged",
        "loaded",
        "failed",
        "rows",
        "deleted",
        "bytes"
    ));
    for r in rows {
        let count = |s: &str| r.batches.get(s).copied().unwrap_or(0);
        out.push_str(&format!(
            "{:<14} {:<19} {:>8} {:<19} {:>7} {:>7} {:>7} {:>7} {:>10} {:>8} {:>12}\n",
            r.object,
            mark(r.watermark),
            r.lag_secs.map_or("-".to_owned(), lag),
            mark(r.staged_up_to),
            count("created"),
            count("staged"),
            count("loaded"),
            count("failed"),
            r.rows,
            r.deleted_rows,
            r.bytes
        ));
    }
    let failures: Vec<_> = rows
        .iter()
        .flat_map(|r| r.failures.iter().map(move |f| (&r.object, f)))
        .collect();
    let warnings: Vec<&String> = rows
        .iter()
        .filter_map(|r| r.audit_type_warning.as_ref())
        .collect();
    if !warnings.is_empty() {
        out.push_str("\nwarnings:\n");
        for w in warnings {
            out.push_str(&format!("  {w}\n"));
        }
    }
    if !failures.is_empty() {
        out.push_str("\nlast failures:\n");
        for (object, f) in failures {
            out.push_str(&format!(
                "  {object} batch {} ({}): {}\n",
                f.batch_id, f.status, f.error
            ));
        }
    }
    let changes: Vec<_> = rows.iter().flat_map(|r| &r.schema_changes).collect();
    if !changes.is_empty() {
        out.push_str("\nschema changes:\n");
        for c in changes {
            out.push_str(&format!(
                "  {} ({}; batch {})\n",
                c.change, c.state, c.batch_id
            ));
            match c.state {
                SchemaChangeState::AwaitingAcceptance => out.push_str(&format!(
                    "    accept: intacct-snowflake accept-schema --config {config} --object {}\n",
                    c.change.object
                )),
                _ if c.change.kind == crate::manifest::SchemaChangeKind::Added => out.push_str(
                    &format!("    fill older rows: {}\n", c.backfill.command(config)),
                ),
                _ => {}
            }
        }
    }
    out
}

/// Run reports read, newest first, looking for one that checked the reporting views.
const REPORTS_SEARCHED: usize = 30;

/// The reporting views the newest run report that checked them could not build (its run id
/// and the views); `None` when none of the newest reports checked them.
pub(crate) async fn skipped_views(
    stage: &crate::stage::Stage,
) -> crate::error::Result<Option<(String, Vec<crate::loader::ViewSkipped>)>> {
    let mut reports = stage.list("_reports/").await?;
    // Run ids start with their UTC start time: newest last.
    reports.reverse();
    for listed in reports.iter().take(REPORTS_SEARCHED) {
        let Some(body) = stage.get(&listed.path).await? else {
            continue;
        };
        let Ok(report) = serde_json::from_slice::<super::RunReport>(&body) else {
            continue;
        };
        if let Some(views) = report.views_skipped {
            return Ok(Some((report.run_id, views)));
        }
    }
    Ok(None)
}

/// The lines `status` prints under its table for views the last check could not build.
pub(crate) fn render_skipped_views(run_id: &str, views: &[crate::loader::ViewSkipped]) -> String {
    if views.is_empty() {
        return String::new();
    }
    let mut out = format!("\nreporting views skipped (run {run_id}):\n");
    for view in views {
        out.push_str(&format!("  {}: {}\n", view.view, view.reason));
    }
    out
}

/// `3d 4h`, `2h 5m`, `40s`: a lag short enough to read at a glance.
fn lag(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        s if s >= 86_400 => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
        s if s >= 3600 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Action, Commit, Mode, fold};

    fn t(hour: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + hour * 3600, 0).unwrap()
    }

    /// A nightly PROJECT batch staged with a check of its OBJECTTYPE that says `seen`.
    fn checked_batch(id: &str, version: u64, seen: bool) -> Commit {
        Commit {
            version,
            written_at: t(0),
            run_id: "r".into(),
            generation: 0,
            actions: vec![
                Action::BatchCreated {
                    batch_id: id.into(),
                    object: "PROJECT".into(),
                    mode: Mode::Nightly,
                    window_from: Some(t(version as i64)),
                    window_to: t(version as i64 + 1),
                    schema_fingerprint: "f".into(),
                    replay_of: None,
                    keys: None,
                },
                Action::AuditTypeChecked {
                    batch_id: id.into(),
                    object_type: "project".into(),
                    since: t(0),
                    seen,
                },
                Action::BatchStaged {
                    batch_id: id.into(),
                    files: vec![],
                    raw_pages: vec![],
                    quarantine: vec![],
                    rows: 0,
                    deleted_rows: 0,
                    bytes: 0,
                    staged_up_to: Some(t(version as i64 + 1)),
                    deletes_up_to: None,
                },
            ],
        }
    }

    #[test]
    fn status_warns_while_the_newest_type_check_found_no_audit_row() {
        let unseen = fold(None, &[checked_batch("a", 1, false)]).unwrap();
        let rows = object_status(&unseen, t(10));
        let warning = rows[0].audit_type_warning.as_deref().unwrap();
        assert!(warning.contains("OBJECTTYPE 'project'"), "{warning}");
        assert!(render_table(&rows, 1, "pipelines/nightly.toml").contains(warning));
        // A later check that finds rows ends the warning.
        let seen = fold(
            None,
            &[checked_batch("a", 1, false), checked_batch("b", 2, true)],
        )
        .unwrap();
        assert_eq!(object_status(&seen, t(10))[0].audit_type_warning, None);
    }
}
