//! The page: escaped, self-contained, coloured by the rules.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::*;
use crate::manifest::{SchemaChange, SchemaChangeKind};
use crate::pipeline::status::{BackfillHint, BatchFailure, SchemaChangeState, SchemaChangeStatus};

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600 + secs, 0).unwrap()
}

fn hostile() -> ObjectStatus {
    ObjectStatus {
        object: "<script>alert(1)</script>&V".into(),
        watermark: Some(at(0)),
        lag_secs: Some(60),
        rows: 10,
        quarantined: 1,
        failures: vec![BatchFailure {
            batch_id: "b1".into(),
            status: "staged".into(),
            error: "merge: <img src=x onerror=alert(1)> & more".into(),
        }],
        schema_changes: vec![SchemaChangeStatus {
            change: SchemaChange {
                object: "VENDOR".into(),
                table: "VENDOR".into(),
                column: "TIER<b>".into(),
                kind: SchemaChangeKind::Added,
                old_type: None,
                new_type: "VARCHAR".into(),
            },
            batch_id: "b1".into(),
            state: SchemaChangeState::AwaitingAcceptance,
            backfill: BackfillHint {
                object: "VENDOR".into(),
                from: None,
                to: at(0),
            },
        }],
        ..ObjectStatus::default()
    }
}

#[test]
fn every_value_from_intacct_is_escaped_and_nothing_comes_from_elsewhere() {
    let objects = [hostile()];
    let quarantined = BTreeMap::from([(
        "VENDOR".to_owned(),
        vec![QuarantinedRow {
            object: "VENDOR".into(),
            record_no: Some("7".into()),
            field: "TOTALDUE".into(),
            value: "</td><script>x()</script>&amp;".into(),
            expected: "a decimal".into(),
        }],
    )]);
    let html = render(&Page {
        pipeline: "demo",
        generated_at: at(60),
        manifest_version: 3,
        config: "pipelines/demo.toml",
        objects: &objects,
        runs: &[],
        quarantined: &quarantined,
    });
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<img"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&amp;V"));
    assert!(html.contains("&lt;/td&gt;&lt;script&gt;x()&lt;/script&gt;&amp;amp;"));
    assert!(html.contains("TIER&lt;b&gt;"));
    assert!(html.contains("accept-schema --config pipelines/demo.toml --object VENDOR"));
    for far in [
        "http://", "https://", " src=\"", " href=", "@import", "url(",
    ] {
        assert!(!html.contains(far), "{far} in the page");
    }
    // A failed load is red; the worst colour heads the page.
    assert!(
        html.contains("<h1><span class=\"badge red\">red</span> demo</h1>"),
        "{html}"
    );
}

#[test]
fn the_chart_has_one_bar_per_run_coloured_by_outcome() {
    let mut runs = Vec::new();
    for (i, outcome) in [Outcome::Success, Outcome::Partial, Outcome::Failed]
        .into_iter()
        .enumerate()
    {
        runs.push(RunReport {
            schema_version: crate::pipeline::SCHEMA_VERSION,
            command: crate::pipeline::CommandName::Run,
            run_id: format!("r{i}"),
            pipeline: "demo".into(),
            started_at: at(i as i64 * 100),
            finished_at: at(i as i64 * 100 + 30),
            outcome,
            leftover_loads: vec![],
            objects: vec![],
            loads: vec![crate::loader::BatchLoadReport {
                rows: 100 * (i as u64 + 1),
                ..Default::default()
            }],
            backfill: None,
            verify: vec![],
            warnings: vec![],
            prune: None,
            intacct: None,
            views_skipped: None,
            clock: None,
        });
    }
    let svg = chart::svg(&runs.iter().map(chart::RunPoint::of).collect::<Vec<_>>());
    assert_eq!(svg.matches("<rect").count(), 3);
    assert!(svg.contains("bar-green") && svg.contains("bar-amber") && svg.contains("bar-red"));
    assert!(svg.contains(">300 rows</text>"), "{svg}");
    assert!(svg.contains("r2: run 300 rows in 30.0 s"), "{svg}");
}

use crate::pipeline::Outcome;
