//! The run history table, `_INTACCT_RUNS`: one row per command that left a run report, with
//! the report itself as a VARIANT (so freshness checks and dashboards query Snowflake, not the
//! stage). `init` creates it ([`create_table`]); each command records its report at its end
//! ([`record`]), once: the statement is a MERGE on RUN_ID, so neither a resend of the same
//! request nor a second attempt for the same run adds a row.
//!
//! The report travels as a string literal (the renderer's literal rule: `'` and `\` doubled)
//! inside `PARSE_JSON`, compact JSON, whose own escapes keep control characters out of it.

use chrono::{DateTime, SecondsFormat, Utc};

use super::names::Names;
use super::sql::{Literal, Part, Sql, render};
use crate::error::Result;

/// The table's name in the pipeline's schema.
pub const RUNS_TABLE: &str = "_INTACCT_RUNS";

const CREATE: &str = include_str!("../../sql/create_runs_table.sql");
const RECORD: &str = include_str!("../../sql/record_run.sql");

/// `CREATE TABLE IF NOT EXISTS` of the run history.
pub(crate) fn create_table(names: &Names) -> Result<Sql> {
    render(
        "create_runs_table.sql",
        CREATE,
        &[("table", names.other(RUNS_TABLE)?.into())],
    )
}

/// One command's row of the run history.
#[derive(Clone, Debug)]
pub struct RunRow<'a> {
    /// The run id (the key).
    pub run_id: &'a str,
    /// The pipeline's name.
    pub pipeline: &'a str,
    /// The command (`run`, `load`, …).
    pub command: &'a str,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it finished.
    pub finished_at: DateTime<Utc>,
    /// Its outcome (`success`, `partial`, …).
    pub outcome: &'a str,
    /// The exit code the outcome gives.
    pub exit_code: u8,
    /// The run report, as compact JSON.
    pub report_json: &'a str,
}

/// The MERGE that records `row` once.
pub(crate) fn record(names: &Names, row: &RunRow<'_>) -> Result<Sql> {
    let time = |t: DateTime<Utc>| Literal::new(&t.to_rfc3339_opts(SecondsFormat::Micros, true));
    render(
        "record_run.sql",
        RECORD,
        &[
            ("table", names.other(RUNS_TABLE)?.into()),
            ("run_id", Literal::new(row.run_id)?.into()),
            ("pipeline", Literal::new(row.pipeline)?.into()),
            ("command", Literal::new(row.command)?.into()),
            ("started_at", time(row.started_at)?.into()),
            ("finished_at", time(row.finished_at)?.into()),
            ("outcome", Literal::new(row.outcome)?.into()),
            (
                "exit_code",
                Part::Sql(Sql::number(u64::from(row.exit_code))),
            ),
            ("report", Literal::new(row.report_json)?.into()),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_is_one_escaped_literal_and_the_row_is_merged_on_its_run_id() {
        let names = Names::new("FINANCE", "RAW", "STAGE", "FMT").unwrap();
        let at = DateTime::from_timestamp(1_767_225_600, 5_000).unwrap();
        let sql = record(
            &names,
            &RunRow {
                run_id: "20260101T000000Z-0badc0de",
                pipeline: "nightly",
                command: "run",
                started_at: at,
                finished_at: at,
                outcome: "partial",
                exit_code: 3,
                report_json: r#"{"error":"it's \"quoted\" \\ here"}"#,
            },
        )
        .unwrap();
        let text = sql.as_str();
        assert!(
            text.starts_with("MERGE INTO \"FINANCE\".\"RAW\".\"_INTACCT_RUNS\" t"),
            "{text}"
        );
        assert!(
            text.contains(r#"PARSE_JSON('{"error":"it''s \\"quoted\\" \\\\ here"}')"#),
            "{text}"
        );
        assert!(
            text.contains("TO_TIMESTAMP_TZ('2026-01-01T00:00:00.000005Z')"),
            "{text}"
        );
        assert!(text.contains("3 AS \"EXIT_CODE\""), "{text}");
        assert!(
            text.contains("ON t.\"RUN_ID\" = s.\"RUN_ID\"\nWHEN NOT MATCHED THEN INSERT"),
            "{text}"
        );
        assert!(
            !text.contains("WHEN MATCHED"),
            "a recorded run is never changed: {text}"
        );
        assert!(
            create_table(&names)
                .unwrap()
                .as_str()
                .starts_with("CREATE TABLE IF NOT EXISTS \"FINANCE\".\"RAW\".\"_INTACCT_RUNS\" (")
        );
    }
}
