//! Real value forms against the simulator: INTEGER values the gateway writes as `12.0` stage
//! as typed integers equal to the ground truth, never quarantined.

use std::collections::BTreeMap;

use arrow::array::{Array, BooleanArray, Int64Array};
use intacct_snowflake::sim::{self, SimConfig};

use crate::deletes::{assert_all_ok, batch_rows, extract_reports, manifest_state};
use crate::extract::{sim_clock, spec_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integers_with_a_zero_fraction_stage_as_integers() {
    let sim = sim::spawn(SimConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_for(&sim, dir.path());
    let reports = extract_reports(&spec, &["VENDOR"], sim_clock(&sim).await).await;
    assert_all_ok(&reports);
    assert_eq!(reports[0].quarantined, 0);
    let truth: BTreeMap<i64, String> = sim
        .records("VENDOR")
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["RECORDNO"].as_str().unwrap().parse().unwrap(),
                r["CREATEDBY"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(truth.values().any(|v| v.ends_with(".0")), "no `N.0` value");
    let state = manifest_state(&spec).await;
    let batch = state.batches_of("VENDOR").last().unwrap().clone();
    let mut checked = 0;
    for rb in batch_rows(&spec, &batch).await {
        let keys = rb.column_by_name("RECORDNO").unwrap();
        let keys = keys.as_any().downcast_ref::<Int64Array>().unwrap();
        let deleted = rb.column_by_name("_DELETED").unwrap();
        let deleted = deleted.as_any().downcast_ref::<BooleanArray>().unwrap();
        let created_by = rb.column_by_name("CREATEDBY").unwrap();
        let created_by = created_by
            .as_any()
            .downcast_ref::<Int64Array>()
            .expect("CREATEDBY is an integer column");
        for row in 0..rb.num_rows() {
            if deleted.value(row) {
                continue;
            }
            let want = &truth[&keys.value(row)];
            let want: i64 = want.strip_suffix(".0").unwrap_or(want).parse().unwrap();
            assert!(created_by.is_valid(row));
            assert_eq!(created_by.value(row), want);
            checked += 1;
        }
    }
    assert_eq!(checked, truth.len());
    sim.shutdown().await.unwrap();
}
