//! Private fields against the simulator: vendor bank/ACH details and employee identifiers are
//! neither asked of the gateway nor staged by default; a pipeline that lists one in the
//! object's `fields` gets it.

use std::collections::BTreeSet;

use intacct_sim::{self as sim, SimConfig};
use intacct_snowflake::intacct::column_name;
use intacct_snowflake::intacct::objects;

use crate::support::demo_pipeline::{assert_all_ok, extract_reports, sim_clock, spec_for};
use crate::support::parquet::batch_rows;
use crate::support::stage_state::manifest_state;

async fn staged_columns(spec: &intacct_snowflake::config::Spec, object: &str) -> BTreeSet<String> {
    let state = manifest_state(spec).await;
    let batch = state.batches_of(object).last().unwrap().clone();
    let rows = batch_rows(spec, &batch).await;
    rows[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_fields_are_left_out_unless_listed() {
    let sim = sim::spawn(SimConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut spec = spec_for(&sim, dir.path());
    for object in &mut spec.extract.objects {
        object.fields = None;
    }
    let objects = ["VENDOR", "EMPLOYEE"];
    assert_all_ok(&extract_reports(&spec, &objects, sim_clock(&sim).await).await);
    for object in objects {
        let columns = staged_columns(&spec, object).await;
        let truth = sim.records(object).await.unwrap();
        let private: Vec<&str> = objects::private_fields(object)
            .iter()
            .copied()
            .filter(|f| truth[0].contains_key(*f))
            .collect();
        assert!(
            private.len() >= 2,
            "{object}: the simulator has private fields"
        );
        for field in &private {
            assert!(!columns.contains(*field), "{object}.{field} staged");
        }
        // Everything else is there.
        for field in truth[0].keys() {
            if !private.contains(&field.as_str()) {
                let column = column_name(field);
                assert!(columns.contains(&column), "{object}.{field} missing");
            }
        }
    }
    // The override: a listed private field is read and staged.
    let dir = tempfile::tempdir().unwrap();
    let mut spec = spec_for(&sim, dir.path());
    let vendor = spec
        .extract
        .objects
        .iter_mut()
        .find(|o| o.name == "VENDOR")
        .unwrap();
    vendor.fields = Some(vec!["VENDORID".into(), "ACHACCOUNTNUMBER".into()]);
    assert_all_ok(&extract_reports(&spec, &["VENDOR"], sim_clock(&sim).await).await);
    let columns = staged_columns(&spec, "VENDOR").await;
    assert!(columns.contains("ACHACCOUNTNUMBER"), "{columns:?}");
    assert!(!columns.contains("ACHBANKROUTINGNUMBER"), "{columns:?}");
    sim.shutdown().await.unwrap();
}

/// A user whose preferences would change how Intacct writes dates stops the run before any
/// read, with a message naming the preference to change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_preferences_that_change_the_formats_stop_the_run() {
    for (date, offset, says) in [
        ("/dmY", None, "Date format"),
        ("/mdY", Some("+0000"), "Time zone"),
    ] {
        let mut config = SimConfig::default();
        config.user_formatting.date_format = date.into();
        config.user_formatting.gmt_offset = offset.map(str::to_owned);
        let sim = sim::spawn(config).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let spec = spec_for(&sim, dir.path());
        let reports = extract_reports(&spec, &["VENDOR", "APBILL"], sim_clock(&sim).await).await;
        for r in &reports {
            let error = r.error.as_deref().expect("the run stops");
            assert!(error.contains(says), "{error}");
            assert!(r.batch_id.is_empty(), "no batch was started");
        }
        let counters = sim.counters().await.unwrap();
        assert_eq!(
            counters["functions"]["query"].as_u64().unwrap_or(0),
            0,
            "{counters}"
        );
        assert_eq!(
            counters["functions"]["readUserFormatting"].as_u64(),
            Some(1)
        );
        sim.shutdown().await.unwrap();
    }
}
