//! The delete feed against the simulator: after a simulated day, the tombstones staged for
//! each object are exactly the records the simulator deleted that day, each with its delete
//! time and NULL elsewhere; with the feed off nothing asks AUDITHISTORY; a permission refusal
//! on AUDITHISTORY fails the object, naming the setting that turns the feed off.

use std::collections::{BTreeMap, BTreeSet};

use arrow::array::{Array, BooleanArray, Int64Array, StringArray, TimestampMicrosecondArray};
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, Utc};
use intacct_snowflake::config::{DeleteFeed, Spec};
use intacct_snowflake::intacct::client::IntacctClient;
use intacct_snowflake::intacct::tenant_time;
use intacct_snowflake::manifest::{BatchState, BatchStatus, Manifest, ManifestState};
use intacct_snowflake::pipeline::extract::ObjectReport;
use intacct_snowflake::pipeline::{client_config, extract_options, run_extract};
use intacct_snowflake::sim::{self, SimConfig, SimHandle};
use intacct_snowflake::stage::Stage;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::extract::{sim_clock, spec_for};

/// Extracts every object (or `only` these) as of `now`; the per-object reports.
pub(crate) async fn extract_reports(
    spec: &Spec,
    only: &[&str],
    now: DateTime<Utc>,
) -> Vec<ObjectReport> {
    let only: Vec<String> = only.iter().map(|s| s.to_string()).collect();
    let options = extract_options(spec, &only, now, false).unwrap();
    let client = IntacctClient::new(client_config(spec)).unwrap();
    let stage = Stage::open(&spec.stage.url).unwrap();
    run_extract(&client, &stage, "test-run", &options)
        .await
        .unwrap()
}

pub(crate) fn assert_all_ok(reports: &[ObjectReport]) {
    for r in reports {
        assert_eq!(r.error, None, "{} failed", r.object);
    }
}

pub(crate) async fn manifest_state(spec: &Spec) -> ManifestState {
    let stage = Stage::open(&spec.stage.url).unwrap();
    Manifest::open(stage, "check")
        .await
        .unwrap()
        .state()
        .clone()
}

/// Every record batch of a staged batch's Parquet parts.
pub(crate) async fn batch_rows(spec: &Spec, batch: &BatchState) -> Vec<RecordBatch> {
    let stage = Stage::open(&spec.stage.url).unwrap();
    let mut out = Vec::new();
    for file in &batch.files {
        let body = stage.get(&file.path).await.unwrap().expect("part exists");
        for b in ParquetRecordBatchReaderBuilder::try_new(body)
            .unwrap()
            .build()
            .unwrap()
        {
            out.push(b.unwrap());
        }
    }
    out
}

/// One staged tombstone: its key and WHENMODIFIED.
#[derive(Debug)]
struct Tombstone {
    key: i64,
    when: DateTime<Utc>,
}

/// Splits a batch's rows into tombstones and the keys of the other rows, checking the
/// tombstone shape on the way: `_DELETED` true, the batch id, NULL in every data column but
/// RECORDNO and WHENMODIFIED; and `_DELETED` false on every other row.
fn split_rows(batches: &[RecordBatch], batch_id: &str) -> (Vec<Tombstone>, BTreeSet<i64>) {
    let mut tombstones = Vec::new();
    let mut live = BTreeSet::new();
    for batch in batches {
        let column = |name: &str| {
            batch
                .column_by_name(name)
                .unwrap_or_else(|| panic!("no column {name}"))
                .clone()
        };
        let keys = column("RECORDNO");
        let keys = keys.as_any().downcast_ref::<Int64Array>().unwrap();
        let when = column("WHENMODIFIED");
        let when = when
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .unwrap();
        let deleted = column("_DELETED");
        let deleted = deleted.as_any().downcast_ref::<BooleanArray>().unwrap();
        let batch_ids = column("_BATCH_ID");
        let batch_ids = batch_ids.as_any().downcast_ref::<StringArray>().unwrap();
        for row in 0..batch.num_rows() {
            assert!(keys.is_valid(row), "every row has a key");
            assert_eq!(batch_ids.value(row), batch_id);
            if !deleted.value(row) {
                live.insert(keys.value(row));
                continue;
            }
            for (field, values) in batch.schema().fields().iter().zip(batch.columns()) {
                let name = field.name().as_str();
                if matches!(
                    name,
                    "RECORDNO" | "WHENMODIFIED" | "_BATCH_ID" | "_EXTRACTED_AT" | "_DELETED"
                ) {
                    continue;
                }
                assert!(
                    values.is_null(row),
                    "tombstone {} has a value in {name}",
                    keys.value(row)
                );
            }
            assert!(when.is_valid(row), "tombstone without WHENMODIFIED");
            tombstones.push(Tombstone {
                key: keys.value(row),
                when: DateTime::from_timestamp_micros(when.value(row)).unwrap(),
            });
        }
    }
    (tombstones, live)
}

fn keys_of(records: &[serde_json::Map<String, serde_json::Value>]) -> BTreeSet<i64> {
    records
        .iter()
        .map(|r| r["RECORDNO"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// The simulator's own deletes: (object lower-case, RECORDNO) → delete time, from its
/// AUDITHISTORY ground truth.
async fn audit_deletes(sim: &SimHandle, spec: &Spec) -> BTreeMap<(String, i64), DateTime<Utc>> {
    let tz = spec.intacct.time_zone;
    sim.records("AUDITHISTORY")
        .await
        .unwrap()
        .iter()
        .filter(|r| r["ACCESSMODE"].as_str() == Some("D"))
        .map(|r| {
            let key = r["OBJECTKEY"].as_str().unwrap();
            let key: i64 = key.strip_suffix("--REC").unwrap().parse().unwrap();
            let at = tenant_time::parse(r["ACCESSTIME"].as_str().unwrap(), tz).unwrap();
            ((r["OBJECTTYPE"].as_str().unwrap().to_owned(), key), at)
        })
        .collect()
}

fn query_functions(counters: &serde_json::Value) -> u64 {
    counters["functions"]["query"].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tombstones_are_exactly_the_records_deleted_that_day() {
    let sim = sim::spawn(SimConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_for(&sim, dir.path());
    assert_eq!(spec.extract.deletes, DeleteFeed::AuditHistory);
    let first_now = sim_clock(&sim).await;
    let queries_before = query_functions(&sim.counters().await.unwrap());
    let first = extract_reports(&spec, &[], first_now).await;
    assert_all_ok(&first);
    // One AUDITHISTORY read per object: every `query` the gateway ran is a page of an object
    // or of its delete feed.
    let pages: u64 = first.iter().map(|r| r.pages + r.delete_pages).sum();
    let queries = query_functions(&sim.counters().await.unwrap()) - queries_before;
    assert_eq!(queries, pages);
    assert!(first.iter().all(|r| r.delete_pages >= 1), "{first:?}");

    let mut before = BTreeMap::new();
    for object in &spec.extract.objects {
        before.insert(
            object.name.clone(),
            keys_of(&sim.records(&object.name).await.unwrap()),
        );
    }
    let audit_before = audit_deletes(&sim, &spec).await;
    sim.advance_days(1).await.unwrap();
    let second_now = sim_clock(&sim).await;
    let second = extract_reports(&spec, &[], second_now).await;
    assert_all_ok(&second);
    let deleted_that_day: BTreeMap<_, _> = audit_deletes(&sim, &spec)
        .await
        .into_iter()
        .filter(|(k, _)| !audit_before.contains_key(k))
        .collect();

    let state = manifest_state(&spec).await;
    let mut bills_and_lines = 0;
    for object in &spec.extract.objects {
        let name = &object.name;
        let batches: Vec<_> = state.batches_of(name).collect();
        assert_eq!(batches.len(), 2, "{name}");
        let after = keys_of(&sim.records(name).await.unwrap());
        // Records live before the day and gone after it were deleted; a record created and
        // deleted within the day is in neither list but still deleted.
        let gone: BTreeSet<i64> = before[name].difference(&after).copied().collect();
        for (n, batch) in batches.iter().enumerate() {
            assert_eq!(batch.status, BatchStatus::Staged, "{name}");
            assert!(batch.raw_pages.is_empty(), "{name}: raw pages kept unasked");
            let (tombstones, live) = split_rows(&batch_rows(&spec, batch).await, &batch.batch_id);
            assert_eq!(batch.deleted_rows, tombstones.len() as u64, "{name}");
            assert_eq!(batch.rows, tombstones.len() as u64 + live.len() as u64);
            let report = [&first, &second][n]
                .iter()
                .find(|r| &r.object == name)
                .unwrap();
            assert_eq!(report.deleted, batch.deleted_rows, "{name}");
            assert_eq!(report.records, live.len() as u64, "{name}");
            let keys: BTreeSet<i64> = tombstones.iter().map(|t| t.key).collect();
            assert_eq!(
                keys.len(),
                tombstones.len(),
                "{name}: a delete staged twice"
            );
            if n == 0 {
                // Nothing was deleted before the first extract.
                assert!(tombstones.is_empty(), "{name}: {tombstones:?}");
                continue;
            }
            assert!(keys.is_superset(&gone), "{name}: {gone:?} ⊄ {keys:?}");
            for extra in keys.difference(&gone) {
                assert!(
                    !before[name].contains(extra) && !after.contains(extra),
                    "{name} {extra}: a tombstone for a record that was not deleted"
                );
            }
            // By key and time, the tombstones are the simulator's deletes of the day.
            let expected: BTreeMap<i64, DateTime<Utc>> = deleted_that_day
                .iter()
                .filter(|((object, _), _)| object.eq_ignore_ascii_case(name))
                .map(|((_, key), at)| (*key, *at))
                .collect();
            let staged: BTreeMap<i64, DateTime<Utc>> =
                tombstones.iter().map(|t| (t.key, t.when)).collect();
            assert_eq!(staged, expected, "{name}");
            // No live row of the batch is a deleted record.
            assert!(live.is_disjoint(&keys), "{name}");
            if name == "APBILL" || name == "APBILLITEM" {
                assert!(!keys.is_empty(), "{name}: the day deletes unpaid bills");
                bills_and_lines += keys.len();
            } else {
                assert!(keys.is_empty(), "{name}: only bills are deleted");
            }
        }
    }
    assert!(bills_and_lines >= 2);
    sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_feed_off_nothing_reads_audithistory() {
    let sim = sim::spawn(SimConfig::default()).await.unwrap();
    // Any request that touches AUDITHISTORY would fail and be counted as a fault.
    sim.set_faults("result-error=PL04000005@AUDITHISTORY")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut spec = spec_for(&sim, dir.path());
    spec.extract.deletes = DeleteFeed::Off;
    let objects = ["APBILL", "APBILLITEM", "VENDOR"];
    let first = extract_reports(&spec, &objects, sim_clock(&sim).await).await;
    assert_all_ok(&first);
    sim.advance_days(1).await.unwrap();
    let queries_before = query_functions(&sim.counters().await.unwrap());
    let second = extract_reports(&spec, &objects, sim_clock(&sim).await).await;
    assert_all_ok(&second);
    let counters = sim.counters().await.unwrap();
    assert_eq!(
        counters["faults_injected"],
        serde_json::json!({}),
        "{counters}"
    );
    let pages: u64 = second.iter().map(|r| r.pages).sum();
    assert_eq!(query_functions(&counters) - queries_before, pages);
    let state = manifest_state(&spec).await;
    for object in objects {
        for batch in state.batches_of(object) {
            assert_eq!(batch.deleted_rows, 0, "{object}");
            let (tombstones, _) = split_rows(&batch_rows(&spec, batch).await, &batch.batch_id);
            assert!(tombstones.is_empty(), "{object}");
        }
    }
    assert!(second.iter().all(|r| r.deleted == 0 && r.delete_pages == 0));
    sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permission_refusal_on_audithistory_fails_the_object_and_names_the_setting() {
    let sim = sim::spawn(SimConfig::default()).await.unwrap();
    sim.set_faults("result-error=PL04000005@AUDITHISTORY")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_for(&sim, dir.path());
    let reports = extract_reports(&spec, &["VENDOR"], sim_clock(&sim).await).await;
    let error = reports[0].error.as_deref().expect("the object fails");
    assert!(error.contains("AUDITHISTORY"), "{error}");
    assert!(error.contains("deletes = \"off\""), "{error}");
    assert!(error.contains("PL04000005"), "{error}");
    let counters = sim.counters().await.unwrap();
    // Refused at once: a permission error is not retried.
    assert_eq!(
        counters["faults_injected"]["result-error"].as_u64(),
        Some(1),
        "{counters}"
    );
    let state = manifest_state(&spec).await;
    let batches: Vec<_> = state.batches_of("VENDOR").collect();
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].status, BatchStatus::Failed);
    assert_eq!(state.objects["VENDOR"].staged_up_to, None);
    sim.shutdown().await.unwrap();
}
