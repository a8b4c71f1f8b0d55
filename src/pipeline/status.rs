//! `status`: per object, the watermark, the staged mark, batches by state, rows (and of
//! them the delete feed's tombstones) and bytes — from the manifest alone (pure over [`ManifestState`]).
//! With `intacct.entities`, one line per object and entity, named `OBJECT@ENTITY`. Below the
//! table, the reporting views the newest run report that checked them could not build.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::manifest::{BatchStatus, ManifestState};

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
