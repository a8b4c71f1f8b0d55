//! `status`: per object, the watermark, the staged mark, batches by state, rows (and of
//! them the delete feed's tombstones) and bytes — from the manifest alone (pure over [`ManifestState`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::manifest::{BatchStatus, ManifestState};

/// One object's line of `status`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ObjectStatus {
    /// The object.
    pub object: String,
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
}

/// Status of every object the manifest knows, by name.
pub fn object_status(state: &ManifestState) -> Vec<ObjectStatus> {
    let mut by_object: BTreeMap<&str, ObjectStatus> = BTreeMap::new();
    for (name, marks) in &state.objects {
        by_object.insert(
            name,
            ObjectStatus {
                object: name.clone(),
                watermark: marks.watermark,
                staged_up_to: marks.staged_up_to,
                ..ObjectStatus::default()
            },
        );
    }
    for batch in state.batches.values() {
        let entry = by_object
            .entry(&batch.object)
            .or_insert_with(|| ObjectStatus {
                object: batch.object.clone(),
                ..ObjectStatus::default()
            });
        *entry.batches.entry(batch.status.to_string()).or_default() += 1;
        if matches!(batch.status, BatchStatus::Staged | BatchStatus::Loaded) {
            entry.rows += batch.rows;
            entry.deleted_rows += batch.deleted_rows;
            entry.bytes += batch.bytes;
        }
    }
    by_object.into_values().collect()
}

/// The table `status` prints.
pub fn render_table(rows: &[ObjectStatus], version: u64) -> String {
    let mark = |m: Option<DateTime<Utc>>| {
        m.map_or("-".to_owned(), |m| {
            m.format("%Y-%m-%d %H:%M:%S").to_string()
        })
    };
    let mut out = format!("manifest version {version}\n");
    out.push_str(&format!(
        "{:<14} {:<19} {:<19} {:>7} {:>7} {:>7} {:>7} {:>10} {:>8} {:>12}\n",
        "object",
        "watermark",
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
            "{:<14} {:<19} {:<19} {:>7} {:>7} {:>7} {:>7} {:>10} {:>8} {:>12}\n",
            r.object,
            mark(r.watermark),
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
    out
}
