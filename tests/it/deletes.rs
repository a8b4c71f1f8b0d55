//! The delete feed against the simulator: a first run reads AUDITHISTORY once for every
//! object, from its start minus the delete lookback; over two simulated days, the tombstones
//! staged for each object are exactly the deletes the simulator's AUDITHISTORY records, each keyed by
//! the object's delete key (RECORDNO, the unique name field, or the header's RECORDNO for
//! lines) with its delete time and NULL elsewhere, including the deletes the audit lag hid
//! from the first run; with the feed off nothing asks AUDITHISTORY; a permission refusal on
//! AUDITHISTORY stages the object's rows, reports the feed's failure saying what Sage
//! requires and naming the setting that turns the feed off, and the next run reads those
//! deletes.

use std::collections::{BTreeMap, BTreeSet};

use arrow::array::{Array, BooleanArray, Int64Array, StringArray, TimestampMicrosecondArray};
use arrow::record_batch::RecordBatch;
use arrow::util::display::array_value_to_string;
use chrono::{DateTime, Utc};
use intacct_sim::{self as sim, SimConfig, SimHandle};
use intacct_snowflake::config::{DeleteFeed, Spec};
use intacct_snowflake::intacct::IntacctClient;
use intacct_snowflake::intacct::objects;
use intacct_snowflake::intacct::tenant_time;
use intacct_snowflake::manifest::BatchStatus;
use intacct_snowflake::pipeline::client_config;

use crate::support::demo_pipeline::{assert_all_ok, extract_reports, sim_clock, spec_for};
use crate::support::parquet::batch_rows;
use crate::support::stage_state::manifest_state;
use crate::support::wall_clock::{WallClock, instant};

/// One staged tombstone: its delete key (as text) and WHENMODIFIED.
#[derive(Debug)]
struct Tombstone {
    key: String,
    when: DateTime<Utc>,
}

/// Splits a batch's rows into tombstones and the RECORDNOs of the other rows, checking the
/// tombstone shape on the way: `_DELETED` true, the batch id, NULL in every data column but
/// the object's delete-key column and WHENMODIFIED (RECORDNO NULL unless it is the delete
/// key); and `_DELETED` false with a RECORDNO on every other row.
fn split_rows(
    object: &str,
    batches: &[RecordBatch],
    batch_id: &str,
) -> (Vec<Tombstone>, BTreeSet<i64>) {
    let key_column = objects::delete_key(object).column();
    let mut tombstones = Vec::new();
    let mut live = BTreeSet::new();
    for batch in batches {
        let column = |name: &str| {
            batch
                .column_by_name(name)
                .unwrap_or_else(|| panic!("no column {name}"))
                .clone()
        };
        let record_nos = column("RECORDNO");
        let record_nos = record_nos.as_any().downcast_ref::<Int64Array>().unwrap();
        let keys = column(key_column);
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
            assert_eq!(batch_ids.value(row), batch_id);
            if !deleted.value(row) {
                assert!(record_nos.is_valid(row), "every live row has a RECORDNO");
                live.insert(record_nos.value(row));
                continue;
            }
            assert!(
                keys.is_valid(row),
                "{object}: tombstone without {key_column}"
            );
            let key = array_value_to_string(&keys, row).unwrap();
            for (field, values) in batch.schema().fields().iter().zip(batch.columns()) {
                let name = field.name().as_str();
                if name == key_column
                    || matches!(
                        name,
                        "WHENMODIFIED" | "_BATCH_ID" | "_EXTRACTED_AT" | "_DELETED"
                    )
                {
                    continue;
                }
                assert!(
                    values.is_null(row),
                    "{object}: tombstone {key} has a value in {name}"
                );
            }
            assert!(when.is_valid(row), "tombstone without WHENMODIFIED");
            tombstones.push(Tombstone {
                key,
                when: DateTime::from_timestamp_micros(when.value(row)).unwrap(),
            });
        }
    }
    (tombstones, live)
}

/// The simulator's own deletes: (object, key as a tombstone names it) → delete time, from
/// its AUDITHISTORY ground truth. The key is OBJECTKEY without a `--REC` suffix; a bill's
/// delete stands for its lines' too.
async fn audit_deletes(sim: &SimHandle, spec: &Spec) -> BTreeMap<(String, String), DateTime<Utc>> {
    let deletes: Vec<_> = sim
        .records("AUDITHISTORY")
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r["ACCESSMODE"].as_str() == Some("D"))
        .collect();
    let times = WallClock::of(
        spec.intacct.time_zone.name(),
        deletes.iter().map(|r| r["ACCESSTIME"].as_str().unwrap()),
    );
    let mut out = BTreeMap::new();
    for r in &deletes {
        let key = r["OBJECTKEY"].as_str().unwrap();
        let key = key.strip_suffix("--REC").unwrap_or(key).to_owned();
        let at = times.instant(r["ACCESSTIME"].as_str().unwrap());
        let object = r["OBJECTTYPE"].as_str().unwrap().to_ascii_uppercase();
        if object == "APBILL" {
            out.insert(("APBILLITEM".to_owned(), key.clone()), at);
        }
        if object == "APPYMT" {
            out.insert(("APPYMTDETAIL".to_owned(), key.clone()), at);
        }
        out.insert((object, key), at);
    }
    out
}

fn keys_of(records: &[serde_json::Map<String, serde_json::Value>]) -> BTreeSet<i64> {
    records
        .iter()
        .map(|r| r["RECORDNO"].as_str().unwrap().parse().unwrap())
        .collect()
}

fn query_functions(counters: &serde_json::Value) -> u64 {
    counters["functions"]["query"].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tombstones_are_exactly_the_deletes_audithistory_records() {
    // The two simulated days cross Los Angeles' autumn change (2025-11-02 02:00 PDT falls back
    // to 01:00 PST), so some deletes happen in the repeated hour.
    let mut config = SimConfig::default();
    config.dataset.start = "2025-11-01T08:00:00Z".parse().unwrap();
    let sim = sim::spawn(config).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_for(&sim, dir.path());
    assert_eq!(spec.extract.deletes, DeleteFeed::AuditHistory);
    let first_now = sim_clock(&sim).await;
    let first = extract_reports(&spec, &[], first_now).await;
    assert_all_ok(&first);
    // One AUDITHISTORY read for every object (its first page, and the keyset pages after
    // it), from the run's start minus the delete lookback; every object reports its pages.
    let reads = sim.audit_reads().await.unwrap();
    let reads = reads.as_array().unwrap();
    let started: Vec<_> = reads
        .iter()
        .filter(|r| r["continuation"] == false)
        .collect();
    assert_eq!(started.len(), 1, "{reads:?}");
    assert_eq!(
        started[0]["from"],
        tenant_time::render(
            first_now - chrono::Duration::hours(3),
            spec.intacct.time_zone
        )
        .as_str()
    );
    assert!(
        first.iter().all(|r| r.delete_pages == reads.len() as u64),
        "{first:?}"
    );
    let audit_before = audit_deletes(&sim, &spec).await;

    // Two days, a run after each: the second run sees, through the feed's lookback, the
    // deletes the audit lag hid from the first.
    let mut reports = vec![first];
    for _ in 0..2 {
        sim.advance_days(1).await.unwrap();
        let now = sim_clock(&sim).await;
        let r = extract_reports(&spec, &[], now).await;
        assert_all_ok(&r);
        reports.push(r);
    }
    let truth: BTreeMap<_, _> = audit_deletes(&sim, &spec)
        .await
        .into_iter()
        .filter(|(k, _)| !audit_before.contains_key(k))
        .collect();
    // Read as its earlier instant, a time in the repeated hour is one on 2025-11-02 from
    // 08:00Z (01:00 PDT) to 09:00Z.
    let repeated_hour = instant("2025-11-02T08:00:00Z")..instant("2025-11-02T09:00:00Z");
    assert!(
        truth.values().any(|at| repeated_hour.contains(at)),
        "no delete in the repeated hour: {truth:?}"
    );

    let state = manifest_state(&spec).await;
    let mut lagged = 0;
    for object in &spec.extract.objects {
        let name = &object.name;
        let batches: Vec<_> = state.batches_of(name).collect();
        assert_eq!(batches.len(), 3, "{name}");
        let mut staged: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
        for (n, batch) in batches.iter().enumerate() {
            assert_eq!(batch.status, BatchStatus::Staged, "{name}");
            let (tombstones, live) =
                split_rows(name, &batch_rows(&spec, batch).await, &batch.batch_id);
            assert_eq!(batch.deleted_rows, tombstones.len() as u64, "{name}");
            assert_eq!(batch.rows, tombstones.len() as u64 + live.len() as u64);
            let report = reports[n].iter().find(|r| &r.object == name).unwrap();
            assert_eq!(report.deleted, batch.deleted_rows, "{name}");
            assert_eq!(report.deletes_quarantined, 0, "{name}");
            if name == "PROJECT" {
                // The deny list's fields and the one the gateway refused, reported, and
                // dropped from the schema: no all-NULL column reads as "no parent".
                let root_parent = ["ROOTPARENTID", "ROOTPARENTKEY", "ROOTPARENTNAME"];
                assert_eq!(report.refused_fields, root_parent, "{name}");
                assert_eq!(report.dropped_fields, root_parent, "{name}");
                for rb in batch_rows(&spec, batch).await {
                    for field in root_parent {
                        assert!(rb.column_by_name(field).is_none(), "{name}: {field}");
                    }
                }
            }
            assert_eq!(report.records, live.len() as u64, "{name}");
            if n == 0 {
                assert!(tombstones.is_empty(), "{name}: {tombstones:?}");
                continue;
            }
            for t in tombstones {
                // A delete before the previous run's end that only this run saw: the audit
                // lag hid it then, the feed's lookback found it now.
                if n == 2 && t.when < batches[1].window_to && !staged.contains_key(&t.key) {
                    lagged += 1;
                }
                if let Some(at) = staged.insert(t.key.clone(), t.when) {
                    // Read again through the lookback: the same delete.
                    assert_eq!(at, t.when, "{name} {}", t.key);
                }
            }
        }
        // By key and time, the tombstones are the simulator's deletes of the two days.
        let expected: BTreeMap<String, DateTime<Utc>> = truth
            .iter()
            .filter(|((object, _), _)| object == name)
            .map(|((_, key), at)| (key.clone(), *at))
            .collect();
        assert_eq!(staged, expected, "{name}");
        if matches!(
            name.as_str(),
            "APBILL"
                | "APBILLITEM"
                | "VENDOR"
                | "CUSTOMER"
                | "GLACCOUNT"
                | "DEPARTMENT"
                | "PROJECT"
        ) {
            assert!(!staged.is_empty(), "{name}: the simulator deletes these");
        }
    }
    assert!(
        lagged >= 1,
        "no delete was hidden by the audit lag and read next run"
    );
    sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_number_is_never_read_as_a_record_no() {
    let sim = sim::spawn(SimConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_for(&sim, dir.path());
    let objects = ["GLACCOUNT"];
    assert_all_ok(&extract_reports(&spec, &objects, sim_clock(&sim).await).await);
    sim.advance_days(2).await.unwrap();
    assert_all_ok(&extract_reports(&spec, &objects, sim_clock(&sim).await).await);
    let live = keys_of(&sim.records("GLACCOUNT").await.unwrap());
    let state = manifest_state(&spec).await;
    let batch = state.batches_of("GLACCOUNT").last().unwrap().clone();
    let rows = batch_rows(&spec, &batch).await;
    let mut checked = 0;
    for rb in &rows {
        let deleted = rb.column_by_name("_DELETED").unwrap();
        let deleted = deleted.as_any().downcast_ref::<BooleanArray>().unwrap();
        let record_nos = rb.column_by_name("RECORDNO").unwrap();
        let accounts = rb.column_by_name("ACCOUNTNO").unwrap();
        let accounts = accounts.as_any().downcast_ref::<StringArray>().unwrap();
        for row in 0..rb.num_rows() {
            if !deleted.value(row) {
                continue;
            }
            // The deleted account's number is the RECORDNO of a live account; the tombstone
            // names the account number only, so the MERGE cannot touch that record.
            let number: i64 = accounts.value(row).parse().unwrap();
            assert!(live.contains(&number), "account {number}");
            assert!(record_nos.is_null(row), "tombstone with a RECORDNO");
            checked += 1;
        }
    }
    assert!(checked >= 1, "the simulator deletes GL accounts");
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
            let (tombstones, _) =
                split_rows(object, &batch_rows(&spec, batch).await, &batch.batch_id);
            assert!(tombstones.is_empty(), "{object}");
        }
    }
    assert!(second.iter().all(|r| r.deleted == 0 && r.delete_pages == 0));
    sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_delete_feed_stages_the_rows_and_is_read_again_next_run() {
    let sim = sim::spawn(SimConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_for(&sim, dir.path());
    let objects = ["VENDOR"];
    assert_all_ok(&extract_reports(&spec, &objects, sim_clock(&sim).await).await);
    sim.advance_days(1).await.unwrap();
    sim.set_faults("result-error=PL04000005@AUDITHISTORY")
        .await
        .unwrap();
    let refused = extract_reports(&spec, &objects, sim_clock(&sim).await).await;
    // The object's rows stage; the feed's failure is reported on its own.
    assert_eq!(refused[0].error, None);
    assert!(refused[0].records > 0);
    let error = refused[0].deletes_error.as_deref().expect("the feed fails");
    assert!(error.contains("AUDITHISTORY"), "{error}");
    assert!(error.contains("deletes = \"off\""), "{error}");
    assert!(error.contains("PL04000005"), "{error}");
    // What Sage requires to read AUDITHISTORY (its reference for the object).
    assert!(
        error.contains("View permission for custom reports"),
        "{error}"
    );
    let counters = sim.counters().await.unwrap();
    // Refused at once: a permission error is not retried.
    assert_eq!(
        counters["faults_injected"]["result-error"].as_u64(),
        Some(1),
        "{counters}"
    );
    let state = manifest_state(&spec).await;
    let batches: Vec<_> = state.batches_of("VENDOR").collect();
    assert_eq!(batches.len(), 2);
    assert_eq!(batches[1].status, BatchStatus::Staged);
    assert_eq!(batches[1].deleted_rows, 0);
    let first_mark = batches[0].window_to;
    assert_eq!(state.objects["VENDOR"].deletes_up_to, Some(first_mark));
    assert_eq!(
        state.objects["VENDOR"].staged_up_to,
        Some(batches[1].window_to)
    );

    // Next run: the feed reads again from its own mark and stages the day's vendor deletes.
    sim.set_faults("").await.unwrap();
    let again = extract_reports(&spec, &objects, sim_clock(&sim).await).await;
    assert_all_ok(&again);
    assert_eq!(again[0].deletes_error, None);
    assert!(again[0].deleted >= 1, "{again:?}");
    let state = manifest_state(&spec).await;
    assert_eq!(
        state.objects["VENDOR"].deletes_up_to,
        Some(state.batches_of("VENDOR").last().unwrap().window_to)
    );
    sim.shutdown().await.unwrap();
}

/// Every OBJECTTYPE of the simulator's AUDITHISTORY: its objects but the lines (no audit rows
/// of their own) and AUDITHISTORY, lower case.
fn sim_audit_types() -> Vec<String> {
    intacct_sim::Dataset::new(SimConfig::default().dataset)
        .object_names()
        .into_iter()
        .filter(|o| !objects::is_line_object(o) && *o != "AUDITHISTORY")
        .map(str::to_ascii_lowercase)
        .collect()
}

/// The AUDITHISTORY IDs of the rows a read over `window` delivers, paged `page_size` at a
/// time with the ID as text (or, `text = false`, taken for an integer).
async fn audit_ids_read(
    spec: &Spec,
    window: intacct_snowflake::intacct::TimeWindow,
    page_size: u32,
    text: bool,
) -> Vec<String> {
    use intacct_snowflake::intacct::KeyFields;
    use intacct_snowflake::intacct::{ReadMethod, ReadRequest};
    let client = IntacctClient::new(client_config(spec)).unwrap();
    let mut request = ReadRequest::new("AUDITHISTORY", window, "ids");
    request.keys = KeyFields::for_object("AUDITHISTORY");
    request.keys.record_key_text = text;
    request.method = ReadMethod::Query;
    request.fields = Some(vec!["OBJECTKEY".into()]);
    request.page_size = page_size;
    // The gateway reads AUDITHISTORY only for named object types: every type it holds.
    request.condition = Some(intacct_snowflake::intacct::Filter::In {
        field: "OBJECTTYPE".into(),
        values: sim_audit_types(),
    });
    let mut read = client.read_object(request);
    let mut ids = Vec::new();
    while let Some(page) = read.pages.recv().await {
        let page = page.unwrap();
        for row in 0..page.records.len() {
            ids.push(page.records.get(row, "ID").unwrap().to_owned());
        }
    }
    read.finish("AUDITHISTORY").await.unwrap();
    ids
}

/// AUDITHISTORY's ID is TEXT in the simulator's `lookup` (zero-padded, compared as text):
/// paged as opaque text, a read whose pages break inside a run of rows sharing one
/// ACCESSTIME delivers every row once; the same read taking the ID for an integer sends back
/// `ID > '<number>'`, which in text order is past every padded ID, and loses rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_audit_ids_page_through_rows_sharing_an_access_time() {
    let sim = sim::spawn(SimConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_for(&sim, dir.path());
    let tz = SimConfig::default().dataset.time_zone;
    // The ACCESSTIME most rows share, and their IDs.
    let mut by_time: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in sim.records("AUDITHISTORY").await.unwrap() {
        by_time
            .entry(r["ACCESSTIME"].as_str().unwrap().to_owned())
            .or_default()
            .push(r["ID"].as_str().unwrap().to_owned());
    }
    let (at, mut want) = by_time
        .into_iter()
        .max_by_key(|(_, ids)| ids.len())
        .unwrap();
    want.sort();
    let page_size = 3;
    assert!(
        want.len() > 2 * page_size as usize,
        "a run of {} rows at {at} does not span pages",
        want.len()
    );
    assert!(want.iter().all(|id| id.starts_with('0')), "{want:?}");
    let from = WallClock::of(tz.name(), [at.as_str()]).instant(&at);
    let window = intacct_snowflake::intacct::TimeWindow {
        from: Some(from),
        to: from + chrono::Duration::seconds(1),
    };
    let got = audit_ids_read(&spec, window, page_size, true).await;
    let mut sorted = got.clone();
    sorted.sort();
    // Each row once, in text order (the gateway's orderby).
    assert_eq!(got, sorted);
    assert_eq!(got, want);
    let as_integers = audit_ids_read(&spec, window, page_size, false).await;
    assert!(
        as_integers.len() < want.len(),
        "an integer cursor read {} of {} rows",
        as_integers.len(),
        want.len()
    );
    sim.shutdown().await.unwrap();
}

/// The gateway's generic "There was an error processing the request." on a page of the
/// AUDITHISTORY read is tried twice, then the page is asked for at half the size, rather than
/// resent as it was for the whole retry budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generic_error_on_the_audit_read_halves_the_page_after_two_attempts() {
    let sim = sim::spawn(SimConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_for(&sim, dir.path());
    // The first AUDITHISTORY request is the `lookup`; the read's first page fails twice.
    sim.set_faults(
        "result-error=DL02000001@AUDITHISTORY:nth=2,result-error=DL02000001@AUDITHISTORY:nth=3",
    )
    .await
    .unwrap();
    let reports = extract_reports(&spec, &["VENDOR"], sim_clock(&sim).await).await;
    assert_all_ok(&reports);
    assert_eq!(reports[0].deletes_error, None, "{reports:?}");
    let counters = sim.counters().await.unwrap();
    assert_eq!(
        counters["faults_injected"]["result-error"].as_u64(),
        Some(2),
        "{counters}"
    );
    let reads = sim.audit_reads().await.unwrap();
    let answered: Vec<u64> = reads
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["continuation"] == false)
        .map(|r| r["page_size"].as_u64().unwrap())
        .collect();
    assert_eq!(answered.last(), Some(&1_000), "{reads}");
    sim.shutdown().await.unwrap();
}
