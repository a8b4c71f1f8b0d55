//! Lines removed from live transactions, and how much of the audit trail a run reads, through
//! the binary against the simulator and the emulator.
//!
//! The simulator edits live transactions as Sage's update does: a bill saved without one of
//! its lines, another with one line more, a payment without one of its two detail lines; no
//! audit row names a removed line and only the header's WHENMODIFIED moves. After the next
//! `run` the removed lines are deleted in Snowflake and every other line is live. The
//! simulator logs every AUDITHISTORY query (`/__sim/audit-reads`): a first run reads the audit
//! trail once, for every object, from its start minus the delete lookback; a ten-window
//! backfill reads it at most once per window and never from the beginning.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Duration;
use intacct_snowflake::intacct::tenant_time;
use intacct_snowflake::snowflake::Statement;

use crate::support::demo_pipeline::sim_clock;
use crate::support::load_harness::client;
use crate::support::world::World;

/// The demo pipeline's tenant time zone.
const TENANT_ZONE: chrono_tz::Tz = chrono_tz::America::Los_Angeles;

/// Lines by header from the simulator's ground truth: header RECORDNO → line RECORDNOs.
async fn lines_by_header(
    w: &World,
    object: &str,
    header_field: &str,
) -> BTreeMap<i64, BTreeSet<i64>> {
    let mut out: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    for r in w.sim.records(object).await.unwrap() {
        let number = |field: &str| -> i64 { r[field].as_str().unwrap().parse().unwrap() };
        out.entry(number(header_field))
            .or_default()
            .insert(number("RECORDNO"));
    }
    out
}

/// Every AUDITHISTORY query the simulator was sent so far.
async fn audit_reads(w: &World) -> Vec<serde_json::Value> {
    w.sim
        .audit_reads()
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// The reads of deletes among `reads` that start a read (its first page, not a later keyset
/// page).
fn delete_reads_started(reads: &[serde_json::Value]) -> Vec<&serde_json::Value> {
    reads
        .iter()
        .filter(|r| r["access_modes"] == serde_json::json!(["D"]))
        .filter(|r| r["continuation"] == false)
        .collect()
}

/// `_DELETED` of every target row of `object` whose RECORDNO is in `keys`.
async fn deleted_flags(w: &World, object: &str, keys: &BTreeSet<i64>) -> BTreeMap<i64, String> {
    let list = keys
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT \"RECORDNO\", \"_DELETED\" FROM \"INTACCT\".\"RAW\".\"{object}\" WHERE \"RECORDNO\" IN ({list})"
    );
    let outcome = client(&w.emulator, w.keys.pkcs8.clone())
        .execute(&Statement::new(sql, "test"))
        .await
        .unwrap();
    outcome
        .rows
        .iter()
        .map(|row| {
            (
                row[0].as_deref().unwrap().parse().unwrap(),
                row[1].clone().unwrap_or_default(),
            )
        })
        .collect()
}

/// The `objects` of the newest `run` report on the stage.
fn newest_run_objects(w: &World) -> Vec<serde_json::Value> {
    let mut reports: Vec<serde_json::Value> =
        std::fs::read_dir(w.stage_dir.path().join("_reports"))
            .unwrap()
            .flatten()
            // The status pages beside the reports are not reports.
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .map(|e| serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap())
            .filter(|r: &serde_json::Value| r["command"] == "run")
            .collect();
    reports.sort_by_key(|r| r["started_at"].as_str().unwrap().to_owned());
    reports.last().unwrap()["objects"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_removed_from_a_live_bill_or_payment_are_deleted_in_snowflake() {
    let w = World::start().await;
    w.ok(&["init"]).await;
    let first_now = sim_clock(&w.sim).await;
    w.ok(&["run", "--no-progress"]).await;

    // The first run read the audit trail once, for every object's type, from its start
    // minus the delete lookback (three hours by default), never from the beginning.
    let reads = audit_reads(&w).await;
    assert!(reads.iter().all(|r| r["refused"] == false), "{reads:?}");
    let started = delete_reads_started(&reads);
    assert_eq!(started.len(), 1, "{reads:?}");
    let from = tenant_time::render(first_now - Duration::hours(3), TENANT_ZONE);
    assert_eq!(started[0]["from"], from.as_str(), "{reads:?}");
    let types: BTreeSet<&str> = started[0]["object_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let expected: BTreeSet<&str> = [
        "vendor",
        "apbill",
        "appymt",
        "glaccount",
        "department",
        "location",
        "class",
        "project",
        "customer",
        "employee",
    ]
    .into();
    assert_eq!(types, expected);

    // A day of edits: lines removed from live bills and payments, a line added to a bill.
    let bills_before = lines_by_header(&w, "APBILLITEM", "RECORDKEY").await;
    let payments_before = lines_by_header(&w, "APPYMTDETAIL", "PAYMENTKEY").await;
    w.sim.advance_days(1).await.unwrap();
    let bills_after = lines_by_header(&w, "APBILLITEM", "RECORDKEY").await;
    let payments_after = lines_by_header(&w, "APPYMTDETAIL", "PAYMENTKEY").await;
    let live_bills: BTreeSet<i64> = w
        .sim
        .records("APBILL")
        .await
        .unwrap()
        .iter()
        .map(|r| r["RECORDNO"].as_str().unwrap().parse().unwrap())
        .collect();
    let live_payments: BTreeSet<i64> = w
        .sim
        .records("APPYMT")
        .await
        .unwrap()
        .iter()
        .map(|r| r["RECORDNO"].as_str().unwrap().parse().unwrap())
        .collect();
    // Lines a header still live no longer has, and lines a header already there gained.
    let changed = |before: &BTreeMap<i64, BTreeSet<i64>>,
                   after: &BTreeMap<i64, BTreeSet<i64>>,
                   live: &BTreeSet<i64>| {
        let (mut removed, mut gained) = (BTreeSet::new(), BTreeSet::new());
        for (header, old) in before.iter().filter(|(h, _)| live.contains(h)) {
            let new = after.get(header).cloned().unwrap_or_default();
            removed.extend(old.difference(&new));
            gained.extend(new.difference(old));
        }
        (removed, gained)
    };
    let (bill_lines_removed, bill_lines_gained) = changed(&bills_before, &bills_after, &live_bills);
    let (details_removed, _) = changed(&payments_before, &payments_after, &live_payments);
    assert!(!bill_lines_removed.is_empty(), "no bill lost a line");
    assert!(!bill_lines_gained.is_empty(), "no bill gained a line");
    assert!(!details_removed.is_empty(), "no payment lost a detail line");
    // Before the next run, Snowflake still holds the removed lines live.
    for (object, removed) in [
        ("APBILLITEM", &bill_lines_removed),
        ("APPYMTDETAIL", &details_removed),
    ] {
        let flags = deleted_flags(&w, object, removed).await;
        assert_eq!(flags.keys().copied().collect::<BTreeSet<_>>(), *removed);
        assert!(flags.values().all(|d| d == "false"), "{object}: {flags:?}");
    }

    w.ok(&["run", "--no-progress"]).await;
    for (object, removed) in [
        ("APBILLITEM", &bill_lines_removed),
        ("APPYMTDETAIL", &details_removed),
    ] {
        let flags = deleted_flags(&w, object, removed).await;
        assert_eq!(flags.keys().copied().collect::<BTreeSet<_>>(), *removed);
        assert!(flags.values().all(|d| d == "true"), "{object}: {flags:?}");
        let report = newest_run_objects(&w)
            .into_iter()
            .find(|o| o["object"] == object)
            .unwrap();
        assert_eq!(report["lines_error"], serde_json::Value::Null, "{report}");
        assert_eq!(
            report["lines_removed"].as_u64().unwrap(),
            removed.len() as u64,
            "{report}"
        );
    }
    // Every other line (the gained one included) is live, value for value.
    w.compare_objects(
        "after the run that followed the edits",
        Some(&["APBILL", "APBILLITEM", "APPYMT", "APPYMTDETAIL"]),
    )
    .await
    .unwrap();
    let gained = deleted_flags(&w, "APBILLITEM", &bill_lines_gained).await;
    assert!(gained.values().all(|d| d == "false"), "{gained:?}");
    assert_eq!(gained.len(), bill_lines_gained.len());
    w.sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ten_window_backfill_reads_the_audit_trail_at_most_once_per_window() {
    let w = World::start().await;
    w.ok(&["init"]).await;
    let clock = sim_clock(&w.sim).await;
    // Ten windows of 73 days.
    let to_day = clock.date_naive();
    let from = (to_day - Duration::days(730))
        .format("%Y-%m-%d")
        .to_string();
    let to = to_day.format("%Y-%m-%d").to_string();
    w.ok(&[
        "backfill",
        "--from",
        &from,
        "--to",
        &to,
        "--window",
        "73d",
        "--no-progress",
    ])
    .await;
    let state = w.manifest().await;
    let windows: BTreeSet<_> = state
        .batches_of("APBILL")
        .map(|b| (b.window_from, b.window_to))
        .collect();
    assert_eq!(windows.len(), 10, "{windows:?}");
    let reads = audit_reads(&w).await;
    // Never from the beginning (the simulator refuses a read without a lower bound, as
    // the gateway does), and at most one read started per window.
    assert!(reads.iter().all(|r| r["refused"] == false), "{reads:?}");
    assert!(reads.iter().all(|r| r["from"].is_string()), "{reads:?}");
    let started = delete_reads_started(&reads);
    assert!(started.len() <= windows.len(), "{reads:?}");
    w.sim.shutdown().await.unwrap();
}
