//! `status`: per object, the watermark, the staged mark, batches by state, rows (and of
//! them the delete feed's tombstones) and bytes — from the manifest alone (pure over [`ManifestState`]).
//! With `intacct.entities`, one line per object and entity, named `OBJECT@ENTITY`.
//! An object whose newest AUDITHISTORY object-type check found no row at all of its type
//! (`super::deletes`) carries a warning until a later check finds one.

use std::collections::{BTreeMap, BTreeSet};

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
    /// Set while the newest AUDITHISTORY check of the object's OBJECTTYPE found no row at
    /// all although the object changed: its deletes are probably not seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_type_warning: Option<String>,
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
        assert!(render_table(&rows, 1).contains(warning));
        // A later check that finds rows ends the warning.
        let seen = fold(
            None,
            &[checked_batch("a", 1, false), checked_batch("b", 2, true)],
        )
        .unwrap();
        assert_eq!(object_status(&seen, t(10))[0].audit_type_warning, None);
    }
}
