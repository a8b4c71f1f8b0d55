//! A command's figures in Prometheus' text exposition format (0.0.4), for node_exporter's
//! textfile collector: `--metrics-file /var/lib/node_exporter/textfile/intacct.prom`.
//!
//! [`render`] is pure: the run report of the command (when it left one), the manifest's state
//! after it (when the stage could be read) and the command's exit code and times in, text out.
//! [`write_atomically`] writes it to a temporary file in the same directory and renames it over
//! the target, so the collector never reads half a file.
//!
//! | metric | labels | what |
//! |---|---|---|
//! | `intacct_snowflake_object_last_success_timestamp_seconds` | pipeline, object[, entity] | when a batch of the object last loaded (Unix time) |
//! | `intacct_snowflake_object_rows` | pipeline, object[, entity] | rows in its staged or loaded batches, tombstones included |
//! | `intacct_snowflake_object_deleted_rows` | pipeline, object[, entity] | of them, tombstones (deleted records) |
//! | `intacct_snowflake_object_lag_seconds` | pipeline, object[, entity] | how far its watermark is behind the command's end |
//! | `intacct_snowflake_object_batches` | pipeline, object[, entity], state | its batches by state (created, staged, loaded, failed) |
//! | `intacct_snowflake_object_intacct_transactions` | pipeline, object[, entity], kind | this command's Intacct requests for the object (see below) |
//! | `intacct_snowflake_run_exit_code` | pipeline, command | the command's exit code |
//! | `intacct_snowflake_run_duration_seconds` | pipeline, command | how long it ran |
//! | `intacct_snowflake_run_finished_timestamp_seconds` | pipeline, command | when it ended (Unix time) |
//!
//! Per-object figures come from the manifest (every object it knows), except the Intacct
//! transactions, which are this command's: the run report counts response pages, one per
//! `query`/`readMore` request, so `kind="read"` is the object's own pages and
//! `kind="audit_history"` its delete feed's. Logins, lookups and retried requests are not
//! counted in them yet. An object read per entity (`intacct.entities`) carries an `entity`
//! label. The pipeline label is empty when the pipeline file could not be read.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::manifest::ManifestState;
use crate::pipeline::RunReport;

/// The metrics' common prefix.
const PREFIX: &str = "intacct_snowflake";

/// What the figures are rendered from.
pub(crate) struct Figures<'a> {
    /// The pipeline's name, when its file could be read.
    pub(crate) pipeline: Option<&'a str>,
    /// The command.
    pub(crate) command: &'a str,
    /// Its exit code.
    pub(crate) exit_code: u8,
    /// When it started and ended.
    pub(crate) started_at: DateTime<Utc>,
    /// When it ended (also what lags are measured to).
    pub(crate) finished_at: DateTime<Utc>,
    /// Its run report, when it left one.
    pub(crate) report: Option<&'a RunReport>,
    /// The manifest after it, when the stage could be read.
    pub(crate) manifest: Option<&'a ManifestState>,
}

/// One metric family being written: its `# HELP` and `# TYPE` lines, then its samples.
struct Family<'o> {
    out: &'o mut String,
}

impl Family<'_> {
    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        let _ = write!(self.out, "{PREFIX}_{name}");
        if !labels.is_empty() {
            let inner: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                .collect();
            let _ = write!(self.out, "{{{}}}", inner.join(","));
        }
        let _ = writeln!(self.out, " {}", number(value));
    }
}

fn family<'o>(out: &'o mut String, name: &str, help: &str) -> Family<'o> {
    let _ = writeln!(out, "# HELP {PREFIX}_{name} {}", escape_help(help));
    let _ = writeln!(out, "# TYPE {PREFIX}_{name} gauge");
    Family { out }
}

/// A label value as the format wants it: backslash, double quote and line feed escaped.
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A help text: backslash and line feed escaped.
fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A sample value: integers without a fraction, others with millisecond precision.
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value:.3}")
    }
}

fn seconds(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1_000.0
}

/// `OBJECT` or `OBJECT@ENTITY` as object (and entity) labels.
fn stream_labels<'s>(pipeline: &'s str, stream: &'s str) -> Vec<(&'static str, &'s str)> {
    match stream.split_once('@') {
        Some((object, entity)) => vec![
            ("pipeline", pipeline),
            ("object", object),
            ("entity", entity),
        ],
        None => vec![("pipeline", pipeline), ("object", stream)],
    }
}

/// The text of the figures (pure).
pub(crate) fn render(f: &Figures<'_>) -> String {
    let pipeline = f.pipeline.unwrap_or("");
    let mut out = String::new();
    if let Some(state) = f.manifest {
        let status = crate::pipeline::status::object_status(state, f.finished_at);
        let mut last = family(
            &mut out,
            "object_last_success_timestamp_seconds",
            "When a batch of the object last loaded into Snowflake (Unix time).",
        );
        for s in &status {
            if let Some(at) = state.objects.get(&s.object).and_then(|o| o.last_loaded_at) {
                last.sample(
                    "object_last_success_timestamp_seconds",
                    &stream_labels(pipeline, &s.object),
                    seconds(at),
                );
            }
        }
        let mut rows = family(
            &mut out,
            "object_rows",
            "Rows in the object's staged or loaded batches, tombstones included (from the manifest).",
        );
        for s in &status {
            rows.sample(
                "object_rows",
                &stream_labels(pipeline, &s.object),
                s.rows as f64,
            );
        }
        let mut deleted = family(
            &mut out,
            "object_deleted_rows",
            "Of the object's rows, tombstones of deleted records (from the manifest).",
        );
        for s in &status {
            deleted.sample(
                "object_deleted_rows",
                &stream_labels(pipeline, &s.object),
                s.deleted_rows as f64,
            );
        }
        let mut lag = family(
            &mut out,
            "object_lag_seconds",
            "How far the object's watermark (everything changed before it is in Snowflake) is behind the end of the command.",
        );
        for s in &status {
            if let Some(secs) = s.lag_secs {
                lag.sample(
                    "object_lag_seconds",
                    &stream_labels(pipeline, &s.object),
                    secs as f64,
                );
            }
        }
        let mut batches = family(
            &mut out,
            "object_batches",
            "The object's batches by state (created, staged, loaded, failed), from the manifest.",
        );
        for s in &status {
            for state in ["created", "staged", "loaded", "failed"] {
                let mut labels = stream_labels(pipeline, &s.object);
                labels.push(("state", state));
                let count = s.batches.get(state).copied().unwrap_or(0);
                batches.sample("object_batches", &labels, count as f64);
            }
        }
    }
    if let Some(report) = f.report {
        let mut by_stream: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for o in &report.objects {
            let entry = by_stream.entry(o.stream()).or_default();
            entry.0 += o.pages;
            entry.1 += o.delete_pages;
        }
        let mut transactions = family(
            &mut out,
            "object_intacct_transactions",
            "This command's Intacct requests for the object, counted as the response pages its run report records: kind=read is the object's query pages, kind=audit_history its delete feed's; logins, lookups and retries are not counted yet.",
        );
        for (stream, (read, audit)) in &by_stream {
            for (kind, count) in [("read", read), ("audit_history", audit)] {
                let mut labels = stream_labels(pipeline, stream);
                labels.push(("kind", kind));
                transactions.sample("object_intacct_transactions", &labels, *count as f64);
            }
        }
    }
    let run = [("pipeline", pipeline), ("command", f.command)];
    family(
        &mut out,
        "run_exit_code",
        "The command's exit code (0 success, 1 failed, 2 configuration, 3 partial, 4 locked, 5 verify differs, 130 interrupted).",
    )
    .sample("run_exit_code", &run, f64::from(f.exit_code));
    family(
        &mut out,
        "run_duration_seconds",
        "How long the command ran, in seconds.",
    )
    .sample(
        "run_duration_seconds",
        &run,
        (f.finished_at - f.started_at).num_milliseconds().max(0) as f64 / 1_000.0,
    );
    family(
        &mut out,
        "run_finished_timestamp_seconds",
        "When the command ended (Unix time).",
    )
    .sample(
        "run_finished_timestamp_seconds",
        &run,
        seconds(f.finished_at),
    );
    out
}

/// Writes `text` to `path` atomically: a temporary file beside it, then a rename over it.
pub(crate) fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let io = |source: std::io::Error| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    // A dot name: the collector reads `*.prom` only, so it never sees the temporary file.
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "metrics".into());
    let temporary = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let written = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        std::io::Write::write_all(&mut file, text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written.map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{BatchState, BatchStatus, ObjectState};
    use crate::pipeline::{CommandName, ObjectReport, Outcome, SCHEMA_VERSION};

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_767_225_600 + secs, 0).unwrap()
    }

    fn batch(id: &str, stream: (&str, Option<&str>), status: BatchStatus, rows: u64) -> BatchState {
        BatchState {
            batch_id: id.into(),
            object: stream.0.into(),
            mode: crate::manifest::Mode::Nightly,
            window_from: None,
            window_to: at(0),
            schema_fingerprint: "f".into(),
            status,
            created_version: 1,
            files: vec![],
            raw_pages: vec![],
            quarantine: vec![],
            rows,
            deleted_rows: rows / 10,
            bytes: 0,
            load_steps: Default::default(),
            loaded_modes: Default::default(),
            error: None,
            replay_of: None,
            last_load_error: None,
            progress: None,
            keys: Default::default(),
            entity: stream.1.map(str::to_owned),
            audit_type_check: None,
            schema_changes: vec![],
            schema_held: false,
            schema_accepted: false,
            loaded_at: None,
            pruned: None,
        }
    }

    #[test]
    fn the_text_has_every_family_with_escaped_labels_and_exact_values() {
        let mut state = ManifestState::default();
        for b in [
            batch("b1", ("VENDOR", None), BatchStatus::Loaded, 100),
            batch("b2", ("VENDOR", None), BatchStatus::Staged, 30),
            batch("b3", ("VENDOR", None), BatchStatus::Failed, 7),
            batch("b4", ("APBILL", Some("E100")), BatchStatus::Created, 0),
        ] {
            state.batches.insert(b.batch_id.clone(), b);
        }
        state.objects.insert(
            "VENDOR".into(),
            ObjectState {
                watermark: Some(at(-3_600)),
                last_loaded_at: Some(at(-60)),
                ..ObjectState::default()
            },
        );
        let report = RunReport {
            schema_version: SCHEMA_VERSION,
            command: CommandName::Run,
            run_id: "r".into(),
            pipeline: "nightly".into(),
            started_at: at(-90),
            finished_at: at(0),
            outcome: Outcome::Partial,
            leftover_loads: vec![],
            objects: vec![
                ObjectReport {
                    object: "VENDOR".into(),
                    pages: 3,
                    delete_pages: 1,
                    ..ObjectReport::default()
                },
                ObjectReport {
                    object: "VENDOR".into(),
                    pages: 2,
                    ..ObjectReport::default()
                },
            ],
            loads: vec![],
            backfill: None,
            verify: vec![],
            warnings: vec![],
            prune: None,
            intacct: None,
            views_skipped: None,
            clock: None,
        };
        let text = render(&Figures {
            pipeline: Some("night\"ly\\x"),
            command: "run",
            exit_code: 3,
            started_at: at(-90),
            finished_at: at(0),
            report: Some(&report),
            manifest: Some(&state),
        });
        let p = r#"pipeline="night\"ly\\x""#;
        for line in [
            format!(
                "intacct_snowflake_object_last_success_timestamp_seconds{{{p},object=\"VENDOR\"}} 1767225540"
            ),
            format!("intacct_snowflake_object_rows{{{p},object=\"VENDOR\"}} 130"),
            format!("intacct_snowflake_object_deleted_rows{{{p},object=\"VENDOR\"}} 13"),
            format!("intacct_snowflake_object_lag_seconds{{{p},object=\"VENDOR\"}} 3600"),
            format!("intacct_snowflake_object_batches{{{p},object=\"VENDOR\",state=\"loaded\"}} 1"),
            format!(
                "intacct_snowflake_object_batches{{{p},object=\"VENDOR\",state=\"created\"}} 0"
            ),
            format!(
                "intacct_snowflake_object_batches{{{p},object=\"APBILL\",entity=\"E100\",state=\"created\"}} 1"
            ),
            format!(
                "intacct_snowflake_object_intacct_transactions{{{p},object=\"VENDOR\",kind=\"read\"}} 5"
            ),
            format!(
                "intacct_snowflake_object_intacct_transactions{{{p},object=\"VENDOR\",kind=\"audit_history\"}} 1"
            ),
            format!("intacct_snowflake_run_exit_code{{{p},command=\"run\"}} 3"),
            format!("intacct_snowflake_run_duration_seconds{{{p},command=\"run\"}} 90"),
            format!(
                "intacct_snowflake_run_finished_timestamp_seconds{{{p},command=\"run\"}} 1767225600"
            ),
            "# TYPE intacct_snowflake_object_rows gauge".to_owned(),
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from\n{text}"
            );
        }
        // No lag and no last success for an object never loaded; each family's HELP once.
        assert!(
            !text.contains("object_lag_seconds{pipeline=\"night\\\"ly\\\\x\",object=\"APBILL\"")
        );
        assert_eq!(
            text.matches("# HELP intacct_snowflake_object_batches ")
                .count(),
            1
        );
    }

    #[test]
    fn a_command_stopped_before_its_pipeline_was_read_still_has_its_run_figures() {
        let text = render(&Figures {
            pipeline: None,
            command: "run",
            exit_code: 2,
            started_at: at(0),
            finished_at: at(0) + chrono::Duration::milliseconds(1_250),
            report: None,
            manifest: None,
        });
        assert!(
            text.contains("intacct_snowflake_run_exit_code{pipeline=\"\",command=\"run\"} 2\n")
        );
        assert!(text.contains(
            "intacct_snowflake_run_duration_seconds{pipeline=\"\",command=\"run\"} 1.250\n"
        ));
        assert!(!text.contains("object_"), "{text}");
    }

    #[test]
    fn the_file_is_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("intacct.prom");
        std::fs::write(&path, "old").unwrap();
        write_atomically(&path, "new text\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new text\n");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
    }
}
