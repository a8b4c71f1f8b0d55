//! The status page: one self-contained static HTML file (inline CSS and SVG; no script, font,
//! image or anything else from elsewhere) that `status --html FILE` writes and every command
//! that leaves a run report writes beside it (`_reports/<run_id>.html`).
//!
//! It shows per object the watermark, lag, rows, deleted rows, quarantined values and batches
//! by state under a green, amber or red badge (the rules and thresholds, in `health`, are
//! printed on the page), then a chart of rows and duration over the last [`RUNS_SHOWN`] runs,
//! every schema change with its next step, the last failures and a sample of the quarantined
//! values.
//!
//! * `health` — the colour rules; `html` — escaping and tables; `chart` — the SVG;
//!   `sections` — the tables; `gather` — the IO: reading the reports and quarantine samples
//!   from the stage and writing the page.
//!
//! [`render`] is pure: every value it prints is escaped (names, errors and quarantined values
//! come from Intacct).

mod chart;
mod gather;
pub(crate) mod health;
mod html;
mod sections;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::RunReport;
use super::status::ObjectStatus;
use crate::schema::QuarantinedRow;
use health::{AMBER_LAG_SECS, RED_LAG_SECS, object_health};
use html::esc;

pub(crate) use gather::{status_page, write_beside_report};

/// How many of the newest run reports the chart shows.
pub(crate) const RUNS_SHOWN: usize = 30;

/// Everything the page shows.
pub(crate) struct Page<'a> {
    /// The pipeline's name.
    pub pipeline: &'a str,
    /// When the page was made.
    pub generated_at: DateTime<Utc>,
    /// The manifest version it shows.
    pub manifest_version: u64,
    /// The pipeline file the commands on the page name.
    pub config: &'a str,
    /// One row per object (or object and entity).
    pub objects: &'a [ObjectStatus],
    /// The newest run reports, oldest first (at most [`RUNS_SHOWN`]).
    pub runs: &'a [RunReport],
    /// Per object, a sample of its quarantined values.
    pub quarantined: &'a BTreeMap<String, Vec<QuarantinedRow>>,
}

const STYLE: &str = include_str!("page.css");

/// The page.
pub(crate) fn render(page: &Page<'_>) -> String {
    let worst = page
        .objects
        .iter()
        .map(|o| object_health(o).0)
        .max()
        .unwrap_or(health::Health::Amber);
    let counts = |h: health::Health| {
        page.objects
            .iter()
            .filter(|o| object_health(o).0 == h)
            .count()
    };
    let points: Vec<chart::RunPoint> = page.runs.iter().map(chart::RunPoint::of).collect();
    let mut out = String::with_capacity(32 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n");
    out.push_str(&format!(
        "<title>{} · intacct-snowflake status</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        esc(page.pipeline)
    ));
    out.push_str(&format!(
        "<header><h1>{} {}</h1><p class=\"muted\">pipeline status at {} UTC · manifest version {} · {} red, {} amber, {} green</p></header>\n",
        sections::badge(worst),
        esc(page.pipeline),
        page.generated_at.format("%Y-%m-%d %H:%M:%S"),
        page.manifest_version,
        counts(health::Health::Red),
        counts(health::Health::Amber),
        counts(health::Health::Green),
    ));
    out.push_str("<h2>Objects</h2>\n");
    out.push_str(&sections::objects(page.objects));
    out.push_str(&format!(
        "<p class=\"rules\">{} a batch failed or a load failed, or lag over {}h (two nightly schedules). {} quarantined values, a schema change awaiting <code>accept-schema</code>, nothing loaded yet, or lag over {}h (a schedule and two hours). {} otherwise.</p>\n",
        sections::badge(health::Health::Red),
        RED_LAG_SECS / 3600,
        sections::badge(health::Health::Amber),
        AMBER_LAG_SECS / 3600,
        sections::badge(health::Health::Green),
    ));
    out.push_str(&format!(
        "<h2>Last {} runs</h2>\n<p class=\"muted\">Bars: rows loaded per run (green success, amber partial, red failed); line: duration.</p>\n",
        points.len()
    ));
    out.push_str(&chart::svg(&points));
    out.push_str("<h2>Schema changes</h2>\n");
    out.push_str(&sections::schema_changes(page.objects, page.config));
    out.push_str("<h2>Last failures</h2>\n");
    out.push_str(&sections::failures(page.objects));
    out.push_str("<h2>Quarantined values</h2>\n");
    out.push_str(&sections::quarantined(page.quarantined));
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests;
