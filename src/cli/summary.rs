//! The tables printed after a command: a run report rendered for a terminal.

use crate::loader::BatchLoadReport;
use crate::pipeline::{CommandName, ObjectReport, PruneReport, RunReport, VerifyReport};

/// What a finished command prints on stdout (its report's path and failures aside).
pub(super) fn render(report: &RunReport) -> String {
    let mut out = String::new();
    match report.command {
        CommandName::Run => {
            if !report.leftover_loads.is_empty() {
                out.push_str("batches an earlier run left staged:\n");
                out.push_str(&loads(&report.leftover_loads));
            }
            out.push_str(&objects(&report.objects));
            out.push_str(&loads(&report.loads));
        }
        CommandName::Extract => out.push_str(&objects(&report.objects)),
        CommandName::Load => out.push_str(&loads(&report.loads)),
        CommandName::Replay => {
            if report.loads.is_empty() {
                out.push_str("nothing to replay: no loaded batch matches\n");
            }
            out.push_str(&loads(&report.loads));
        }
        CommandName::Backfill => {
            if let Some(b) = &report.backfill {
                out.push_str(&format!(
                    "backfill {} to {}: {} windows already loaded, {} resumed from the stage, {} extracted\n",
                    b.from,
                    b.to,
                    b.windows_done,
                    b.windows_resumed,
                    report.objects.len()
                ));
            }
            if !report.objects.is_empty() {
                out.push_str(&objects(&report.objects));
            }
            out.push_str(&loads(&report.loads));
        }
        CommandName::Verify => out.push_str(&verified(&report.verify)),
        CommandName::Reset => {
            if !report.objects.is_empty() {
                out.push_str(&objects(&report.objects));
            }
            out.push_str(&loads(&report.loads));
        }
        CommandName::Prune => {
            if let Some(prune) = &report.prune {
                out.push_str(&pruned(prune, false));
            }
        }
    }
    out.push_str(&schema_changes(
        report.leftover_loads.iter().chain(&report.loads),
    ));
    for view in report.views_skipped.iter().flatten() {
        out.push_str(&format!("view {} skipped: {}\n", view.view, view.reason));
    }
    out
}

/// The table changes the loads made (or hold for acceptance), one a line.
fn schema_changes<'a>(reports: impl Iterator<Item = &'a BatchLoadReport>) -> String {
    let mut out = String::new();
    for r in reports {
        for change in &r.schema_changes {
            if out.is_empty() {
                out.push_str(
                    "schema changes (`status` shows the backfill that fills older rows):\n",
                );
            }
            let state = if r.error.is_some() {
                "not applied"
            } else {
                "applied"
            };
            out.push_str(&format!("  {change} ({state}; batch {})\n", r.batch_id));
        }
    }
    out
}

/// The table of the objects extracted.
fn objects(reports: &[ObjectReport]) -> String {
    let mut out = format!(
        "{:<14} {:>7} {:>10} {:>8} {:>6} {:>12} {:>8}  {}\n",
        "object", "pages", "records", "deleted", "parts", "bytes", "seconds", "result"
    );
    for r in reports {
        out.push_str(&format!(
            "{:<14} {:>7} {:>10} {:>8} {:>6} {:>12} {:>8.1}  {}\n",
            r.stream(),
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

/// The table of the batches loaded.
fn loads(reports: &[BatchLoadReport]) -> String {
    if reports.is_empty() {
        return "nothing to load: no staged batch waits\n".to_owned();
    }
    let mut out = format!(
        "{:<14} {:<36} {:<8} {:>9} {:>9} {:>9} {:>9} {:>5} {:>8}  {}\n",
        "object",
        "batch",
        "mode",
        "rows",
        "copied",
        "inserted",
        "updated",
        "stmts",
        "seconds",
        "result"
    );
    for r in reports {
        out.push_str(&format!(
            "{:<14} {:<36} {:<8} {:>9} {:>9} {:>9} {:>9} {:>5} {:>8.1}  {}\n",
            r.object,
            r.batch_id,
            r.mode,
            r.rows,
            r.copy_rows,
            r.merge_inserted,
            r.merge_updated,
            r.statements,
            r.seconds,
            r.error
                .as_deref()
                .map_or("loaded".to_owned(), |e| format!("FAILED: {e}"))
        ));
    }
    out
}

/// The table of what `verify` found.
fn verified(reports: &[VerifyReport]) -> String {
    let mut out = format!(
        "{:<14} {:>10} {:>10} {:>8} {:>8} {:>8}  {}\n",
        "object", "intacct", "snowflake", "missing", "extra", "pending", "result"
    );
    for r in reports {
        let result = match (&r.error, r.differs()) {
            (Some(e), _) => format!("ERROR: {e}"),
            (None, true) => {
                let mut parts = Vec::new();
                if r.missing > 0 {
                    parts.push(format!("missing e.g. {:?}", r.missing_sample));
                }
                if r.extra > 0 {
                    parts.push(format!("marked deleted e.g. {:?}", r.extra_sample));
                }
                format!("DIFFERS: {}", parts.join("; "))
            }
            (None, false) => "same".to_owned(),
        };
        out.push_str(&format!(
            "{:<14} {:>10} {:>10} {:>8} {:>8} {:>8}  {}\n",
            r.object, r.intacct_keys, r.snowflake_live, r.missing, r.extra, r.pending, result
        ));
    }
    out
}

/// What `stage prune` removed (or, `dry`, would remove).
pub(super) fn pruned(report: &PruneReport, dry: bool) -> String {
    let at =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut out = format!(
        "{} batches loaded before {} (more than {} ago): {} files, {} bytes {}\n",
        report.batches.len(),
        at(report.horizon),
        crate::pipeline::plan::span_text(report.older_than_secs),
        report.files,
        report.bytes,
        if dry {
            "would be removed (dry run: nothing was)"
        } else {
            "removed"
        }
    );
    if !report.batches.is_empty() {
        out.push_str(&format!(
            "{:<20} {:<36} {:<20} {:>6} {:>12}\n",
            "stream", "batch", "loaded at", "files", "bytes"
        ));
    }
    for b in &report.batches {
        out.push_str(&format!(
            "{:<20} {:<36} {:<20} {:>6} {:>12}\n",
            b.stream,
            b.batch_id,
            at(b.loaded_at),
            b.files,
            b.bytes
        ));
    }
    if !report.kept_for_replay.is_empty() {
        out.push_str(&format!(
            "kept, a replay of them is not loaded yet: {}\n",
            report.kept_for_replay.join(", ")
        ));
    }
    if report.kept_unknown_age > 0 {
        out.push_str(&format!(
            "kept, loaded before load times were recorded (age unknown): {} batches\n",
            report.kept_unknown_age
        ));
    }
    out
}
