//! Raw pages: with `keep_raw_pages`, every response body a batch was built from is on the
//! stage, zstd-compressed, listed in the manifest, and parses back into exactly the rows of
//! the batch's Parquet parts (records by key and text value, tombstones by key, from the rows
//! of the object's type in the run's shared AUDITHISTORY read): the batch can be rebuilt
//! without Intacct.

use std::collections::{BTreeMap, BTreeSet};

use arrow::array::{Array, BooleanArray, Int64Array, StringArray};
use intacct_sim::{self as sim, SimConfig};
use intacct_snowflake::intacct::TimeWindow;
use intacct_snowflake::intacct::objects;
use intacct_snowflake::intacct::parse_response;
use intacct_snowflake::intacct::{IntacctClient, ReadRequest};
use intacct_snowflake::intacct::{RecordPage, ResultData};
use intacct_snowflake::manifest::BatchStatus;
use intacct_snowflake::pipeline::client_config;
use intacct_snowflake::stage::Stage;
use sha2::{Digest, Sha256};

use crate::support::demo_pipeline::{assert_all_ok, extract_reports, sim_clock, spec_for};
use crate::support::parquet::batch_rows;
use crate::support::stage_state::manifest_state;

/// The record page inside one kept response body.
fn page_of(body: &[u8]) -> RecordPage {
    let response = parse_response(body).expect("a kept page is a whole Intacct response");
    assert_eq!(response.results.len(), 1);
    let result = response.results.into_iter().next().unwrap();
    match result.outcome.expect("a kept page is a successful result") {
        ResultData::Records(page) => page,
        other => panic!("a kept page holds records, not {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_pages_rebuild_the_batch_without_intacct() {
    let sim = sim::spawn(SimConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut spec = spec_for(&sim, dir.path());
    spec.stage.keep_raw_pages = true;
    // Small pages, so objects span several pages (and several raw files).
    for object in &mut spec.extract.objects {
        object.page_size = Some(500);
    }
    let objects = ["APBILL", "APBILLITEM", "VENDOR"];
    let first = extract_reports(&spec, &objects, sim_clock(&sim).await).await;
    assert_all_ok(&first);
    sim.advance_days(1).await.unwrap();
    let second = extract_reports(&spec, &objects, sim_clock(&sim).await).await;
    assert_all_ok(&second);
    let stage = Stage::open(&spec.stage.url).unwrap();
    let state = manifest_state(&spec).await;
    let mut tombstones_seen = 0;
    for object in objects {
        for (n, batch) in state.batches_of(object).enumerate() {
            assert_eq!(batch.status, BatchStatus::Staged, "{object}");
            let report = [&first, &second][n]
                .iter()
                .find(|r| r.object == object)
                .unwrap();
            let prefix = format!("{object}/{}/raw/", batch.batch_id);
            // Every kept file is listed, present, and intact.
            let listed: BTreeSet<String> = batch.raw_pages.iter().map(|f| f.path.clone()).collect();
            let on_stage: BTreeSet<String> = stage
                .list(&prefix)
                .await
                .unwrap()
                .into_iter()
                .map(|o| o.path)
                .collect();
            assert_eq!(listed, on_stage, "{object}");
            let (mut pages, mut delete_pages) = (Vec::new(), Vec::new());
            for file in &batch.raw_pages {
                let name = file.path.strip_prefix(&prefix).expect("under raw/");
                let body = stage.get(&file.path).await.unwrap().unwrap();
                assert_eq!(body.len() as u64, file.bytes);
                assert_eq!(hex::encode(Sha256::digest(&body)), file.sha256);
                let xml = zstd::decode_all(&body[..]).expect("zstd");
                if name.starts_with("deletes-page-") {
                    delete_pages.push(page_of(&xml));
                } else {
                    assert!(name.starts_with("page-"), "{name}");
                    pages.push(page_of(&xml));
                }
            }
            assert_eq!(pages.len() as u64, report.pages, "{object}");
            assert_eq!(delete_pages.len() as u64, report.delete_pages, "{object}");
            // Both kinds of rows (modified, and created with an empty WHENMODIFIED) come in
            // one combined pass: one page at least.
            assert!(!pages.is_empty(), "{object}: one page at least");

            // RECORDNO → text values of the records in the raw pages.
            let mut raw_records: BTreeMap<i64, BTreeMap<String, String>> = BTreeMap::new();
            for page in &pages {
                for row in 0..page.len() {
                    let key = page.get(row, "RECORDNO").unwrap().parse().unwrap();
                    let values = page
                        .columns()
                        .iter()
                        .filter_map(|c| Some((c.clone(), page.get(row, c)?.to_owned())))
                        .collect();
                    assert!(raw_records.insert(key, values).is_none(), "{key} twice");
                }
            }
            // The run's one AUDITHISTORY read served every object: each batch keeps all its
            // pages and takes the rows of its own object type (a line object: its header's).
            let object_type = objects::audit_source(object).to_ascii_lowercase();
            let mut raw_deletes = BTreeSet::new();
            for page in &delete_pages {
                for row in 0..page.len() {
                    if page.get(row, "OBJECTTYPE") != Some(object_type.as_str()) {
                        continue;
                    }
                    let key = page.get(row, "OBJECTKEY").unwrap();
                    let key = key.strip_suffix("--REC").unwrap_or(key);
                    assert!(raw_deletes.insert(key.to_owned()));
                }
            }

            // The Parquet rows, split into records (with their text values) and tombstones.
            let mut staged: BTreeMap<i64, BTreeMap<String, String>> = BTreeMap::new();
            let mut staged_deletes = BTreeSet::new();
            for rb in batch_rows(&spec, batch).await {
                let keys = rb.column_by_name("RECORDNO").unwrap();
                let keys = keys.as_any().downcast_ref::<Int64Array>().unwrap();
                // A tombstone names its record by the object's delete key (VENDORID for a
                // vendor, the bill's RECORDNO in RECORDKEY for a bill line).
                let delete_key = rb
                    .column_by_name(objects::delete_key(object).column())
                    .unwrap()
                    .clone();
                let deleted = rb.column_by_name("_DELETED").unwrap();
                let deleted = deleted.as_any().downcast_ref::<BooleanArray>().unwrap();
                for row in 0..rb.num_rows() {
                    if deleted.value(row) {
                        let key =
                            arrow::util::display::array_value_to_string(&delete_key, row).unwrap();
                        staged_deletes.insert(key);
                        continue;
                    }
                    let mut text = BTreeMap::new();
                    for (field, column) in rb.schema().fields().iter().zip(rb.columns()) {
                        if let Some(strings) = column.as_any().downcast_ref::<StringArray>()
                            && !field.name().starts_with('_')
                            && strings.is_valid(row)
                        {
                            text.insert(field.name().clone(), strings.value(row).to_owned());
                        }
                    }
                    staged.insert(keys.value(row), text);
                }
            }
            assert_eq!(
                raw_records.keys().collect::<Vec<_>>(),
                staged.keys().collect::<Vec<_>>(),
                "{object}"
            );
            for (key, text) in &staged {
                for (column, value) in text {
                    assert_eq!(
                        raw_records[key].get(column),
                        Some(value),
                        "{object} {key} {column}"
                    );
                }
            }
            assert_eq!(raw_deletes, staged_deletes, "{object}");
            tombstones_seen += staged_deletes.len();
        }
    }
    assert!(
        tombstones_seen > 0,
        "the day's deletes are in the raw pages too"
    );
    sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_carries_its_raw_body_only_when_asked() {
    let sim = sim::spawn(SimConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_for(&sim, dir.path());
    let client = IntacctClient::new(client_config(&spec)).unwrap();
    let window = TimeWindow {
        from: None,
        to: sim_clock(&sim).await,
    };
    for keep_raw in [false, true] {
        let mut request = ReadRequest::new("VENDOR", window, "raw-test");
        request.page_size = 100;
        request.keep_raw = keep_raw;
        let mut read = client.read_object(request);
        let mut pages = 0;
        while let Some(page) = read.pages.recv().await {
            let page = page.unwrap();
            pages += 1;
            match (&page.raw, keep_raw) {
                (None, false) => {}
                // The body is the one the page was parsed from.
                (Some(raw), true) => assert_eq!(page_of(raw), page.records),
                (raw, _) => panic!("keep_raw {keep_raw} but raw is {:?}", raw.is_some()),
            }
        }
        assert!(pages >= 2, "{pages}");
    }
    sim.shutdown().await.unwrap();
}
