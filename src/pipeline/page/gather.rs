//! The page's IO: the newest run reports and a sample of quarantined values read from the
//! stage, the page written to a file or beside a run report.

use std::collections::BTreeMap;

use bytes::Bytes;
use chrono::{DateTime, Utc};

use super::{Page, RUNS_SHOWN, render};
use crate::error::Result;
use crate::manifest::{BatchStatus, ManifestState};
use crate::pipeline::RunReport;
use crate::pipeline::status::object_status;
use crate::schema::QuarantinedRow;
use crate::stage::Stage;

/// Quarantined values shown per object.
const QUARANTINE_SAMPLE: usize = 5;

/// The page of the pipeline as the manifest `state` says now.
pub(crate) async fn status_page(
    stage: &Stage,
    state: &ManifestState,
    pipeline: &str,
    config: &str,
    now: DateTime<Utc>,
) -> Result<String> {
    let objects = object_status(state, now);
    let runs = newest_reports(stage).await?;
    let quarantined = quarantine_samples(stage, state).await;
    Ok(render(&Page {
        pipeline,
        generated_at: now,
        manifest_version: state.version,
        config,
        objects: &objects,
        runs: &runs,
        quarantined: &quarantined,
    }))
}

/// Writes the page beside the report at `<report path without .json>.html` (create-once,
/// like the report).
pub(crate) async fn write_beside_report(
    stage: &Stage,
    state: &ManifestState,
    report: &RunReport,
    report_path: &str,
    config: &str,
) -> Result<String> {
    let page = status_page(stage, state, &report.pipeline, config, Utc::now()).await?;
    let path = format!(
        "{}.html",
        report_path.strip_suffix(".json").unwrap_or(report_path)
    );
    stage.put_create(&path, Bytes::from(page)).await?;
    Ok(path)
}

/// The newest [`RUNS_SHOWN`] reports on the stage, oldest first (reports this build cannot
/// read are left out).
async fn newest_reports(stage: &Stage) -> Result<Vec<RunReport>> {
    let mut paths: Vec<String> = stage
        .list("_reports/")
        .await?
        .into_iter()
        .map(|o| o.path)
        .filter(|p| p.ends_with(".json"))
        .collect();
    // Run ids start with their time: the newest names hold the newest runs (twice as many are
    // read in case some cannot be).
    paths.sort();
    let mut reports = Vec::new();
    for path in paths.iter().rev().take(RUNS_SHOWN * 2) {
        if let Some(body) = stage.get(path).await?
            && let Ok(report) = serde_json::from_slice::<RunReport>(&body)
        {
            reports.push(report);
        }
    }
    reports.sort_by_key(|r| r.started_at);
    let skip = reports.len().saturating_sub(RUNS_SHOWN);
    Ok(reports.split_off(skip))
}

/// Per object, up to [`QUARANTINE_SAMPLE`] values from its newest quarantine files (an
/// unreadable file is skipped: the sample is an aid, the files stay on the stage).
async fn quarantine_samples(
    stage: &Stage,
    state: &ManifestState,
) -> BTreeMap<String, Vec<QuarantinedRow>> {
    let mut out: BTreeMap<String, Vec<QuarantinedRow>> = BTreeMap::new();
    let mut batches: Vec<_> = state
        .batches
        .values()
        .filter(|b| matches!(b.status, BatchStatus::Staged | BatchStatus::Loaded))
        .filter(|b| !b.quarantine.is_empty())
        .collect();
    batches.sort_by_key(|b| std::cmp::Reverse(b.created_version));
    for batch in batches {
        let sample = out.entry(batch.stream()).or_default();
        for file in &batch.quarantine {
            if sample.len() >= QUARANTINE_SAMPLE {
                break;
            }
            let Ok(Some(body)) = stage.get(&file.path).await else {
                continue;
            };
            for line in body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                if sample.len() >= QUARANTINE_SAMPLE {
                    break;
                }
                if let Ok(row) = serde_json::from_slice::<QuarantinedRow>(line) {
                    sample.push(row);
                }
            }
        }
    }
    out.retain(|_, rows| !rows.is_empty());
    out
}
