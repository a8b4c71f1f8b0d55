//! `status`: per object, the watermark, the staged mark, batches by state, rows (and of
//! them the delete feed's tombstones) and bytes — from the manifest alone (pure over [`ManifestState`]).
//! With `intacct.entities`, one line per object and entity, named `OBJECT@ENTITY`. Beside it,
//! from the last run report of a command that talked to Intacct: each object's requests
//! (billable transactions) by kind, and the run's request slots (the level it ended at, the
//! lowest it went to, the refusals) ([`with_last_intacct_run`], [`render_last_intacct_run`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::intacct::TransactionCounts;
use crate::manifest::{BatchStatus, ManifestState};
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
    for batch in newest_first {
        let entry = by_object
            .entry(batch.stream())
            .or_insert_with(|| ObjectStatus {
                object: batch.stream(),
                entity: batch.entity.clone(),
                ..ObjectStatus::default()
            });
        *entry.batches.entry(batch.status.to_string()).or_default() += 1;
        if matches!(batch.status, BatchStatus::Staged | BatchStatus::Loaded) {
            entry.rows += batch.rows;
            entry.deleted_rows += batch.deleted_rows;
            entry.bytes += batch.bytes;
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

/// The table `status` prints.
pub(crate) fn render_table(rows: &[ObjectStatus], version: u64) -> String {
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
    if !failures.is_empty() {
        out.push_str("\nlast failures:\n");
        for (object, f) in failures {
            out.push_str(&format!(
                "  {object} batch {} ({}): {}\n",
                f.batch_id, f.status, f.error
            ));
        }
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
