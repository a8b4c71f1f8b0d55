//! The page's sections, each from the status rows or the run reports: the objects table, the
//! schema changes, the last failures and the quarantined values. Pure; every text escaped
//! through [`super::html`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::health::{Health, object_health};
use super::html::{Cell, esc, table};
use crate::pipeline::status::{ObjectStatus, SchemaChangeState};
use crate::schema::QuarantinedRow;

/// A coloured badge with its word.
pub(crate) fn badge(health: Health) -> String {
    format!("<span class=\"badge {0}\">{0}</span>", health.name())
}

fn mark(m: Option<DateTime<Utc>>) -> String {
    m.map_or("-".into(), |m| m.format("%Y-%m-%d %H:%M").to_string())
}

/// `3d 4h`, `2h 5m`, `40s`.
pub(crate) fn lag(secs: Option<i64>) -> String {
    let Some(secs) = secs else { return "-".into() };
    match secs.max(0) {
        s if s >= 86_400 => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
        s if s >= 3600 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// One figure of the objects table: its header and how a row shows it. A new per-object
/// figure is one more entry in [`FIGURES`].
struct Figure {
    header: &'static str,
    value: fn(&ObjectStatus) -> Cell,
}

fn count(o: &ObjectStatus, state: &str) -> Cell {
    Cell::Number(o.batches.get(state).copied().unwrap_or(0).to_string())
}

const FIGURES: &[Figure] = &[
    Figure {
        header: "object",
        value: |o| Cell::Text(o.object.clone()),
    },
    Figure {
        header: "watermark (UTC)",
        value: |o| Cell::Text(mark(o.watermark)),
    },
    Figure {
        header: "lag",
        value: |o| Cell::Number(lag(o.lag_secs)),
    },
    Figure {
        header: "staged up to",
        value: |o| Cell::Text(mark(o.staged_up_to)),
    },
    Figure {
        header: "rows",
        value: |o| Cell::Number(o.rows.to_string()),
    },
    Figure {
        header: "deleted",
        value: |o| Cell::Number(o.deleted_rows.to_string()),
    },
    Figure {
        header: "quarantined",
        value: |o| Cell::Number(o.quarantined.to_string()),
    },
    Figure {
        header: "loaded",
        value: |o| count(o, "loaded"),
    },
    Figure {
        header: "staged",
        value: |o| count(o, "staged"),
    },
    Figure {
        header: "created",
        value: |o| count(o, "created"),
    },
    Figure {
        header: "failed",
        value: |o| count(o, "failed"),
    },
    Figure {
        header: "bytes",
        value: |o| Cell::Number(o.bytes.to_string()),
    },
];

/// The objects table: a badge, every figure, and why the badge is not green.
pub(crate) fn objects(rows: &[ObjectStatus]) -> String {
    let mut headers = vec!["health"];
    headers.extend(FIGURES.iter().map(|f| f.header));
    headers.push("why");
    let body = rows
        .iter()
        .map(|o| {
            let (health, reasons) = object_health(o);
            let mut cells = vec![Cell::Markup(badge(health))];
            cells.extend(FIGURES.iter().map(|f| (f.value)(o)));
            cells.push(Cell::Text(reasons.join("; ")));
            cells
        })
        .collect();
    table("objects", &headers, body)
}

/// Every schema change, with the command that accepts it or fills older rows.
pub(crate) fn schema_changes(rows: &[ObjectStatus], config: &str) -> String {
    let body: Vec<Vec<Cell>> = rows
        .iter()
        .flat_map(|o| &o.schema_changes)
        .map(|c| {
            let next = match c.state {
                SchemaChangeState::AwaitingAcceptance => format!(
                    "intacct-snowflake accept-schema --config {config} --object {}",
                    c.change.object
                ),
                _ => c.backfill.command(config),
            };
            let health = if c.state == SchemaChangeState::AwaitingAcceptance {
                Health::Amber
            } else {
                Health::Green
            };
            vec![
                Cell::Markup(badge(health)),
                Cell::Text(c.change.table.clone()),
                Cell::Text(c.change.column.clone()),
                Cell::Text(c.change.kind.to_string()),
                Cell::Text(c.change.old_type.clone().unwrap_or_else(|| "-".into())),
                Cell::Text(c.change.new_type.clone()),
                Cell::Text(c.state.to_string()),
                Cell::Text(c.batch_id.clone()),
                Cell::Markup(format!("<code>{}</code>", esc(&next))),
            ]
        })
        .collect();
    if body.is_empty() {
        return "<p class=\"muted\">No load has changed a table.</p>\n".into();
    }
    table(
        "changes",
        &[
            "",
            "table",
            "column",
            "change",
            "from",
            "to",
            "state",
            "batch",
            "next step",
        ],
        body,
    )
}

/// The newest failures of every object.
pub(crate) fn failures(rows: &[ObjectStatus]) -> String {
    let body: Vec<Vec<Cell>> = rows
        .iter()
        .flat_map(|o| o.failures.iter().map(move |f| (o, f)))
        .map(|(o, f)| {
            vec![
                Cell::Markup(badge(Health::Red)),
                Cell::Text(o.object.clone()),
                Cell::Text(f.batch_id.clone()),
                Cell::Text(f.status.clone()),
                Cell::Text(f.error.clone()),
            ]
        })
        .collect();
    if body.is_empty() {
        return "<p class=\"muted\">No failure.</p>\n".into();
    }
    table(
        "failures",
        &["", "object", "batch", "batch is", "error"],
        body,
    )
}

/// A sample of the values set aside per object (the newest batches' quarantine files).
pub(crate) fn quarantined(samples: &BTreeMap<String, Vec<QuarantinedRow>>) -> String {
    let body: Vec<Vec<Cell>> = samples
        .iter()
        .flat_map(|(object, rows)| rows.iter().map(move |r| (object, r)))
        .map(|(object, r)| {
            vec![
                Cell::Markup(badge(Health::Amber)),
                Cell::Text(object.clone()),
                Cell::Text(r.record_no.clone().unwrap_or_else(|| "-".into())),
                Cell::Text(r.field.clone()),
                Cell::Markup(format!("<code>{}</code>", esc(&r.value))),
                Cell::Text(r.expected.clone()),
            ]
        })
        .collect();
    if body.is_empty() {
        return "<p class=\"muted\">No value was quarantined.</p>\n".into();
    }
    table(
        "quarantine",
        &["", "object", "record", "field", "value as sent", "expected"],
        body,
    )
}
