//! `pipelines/demo.toml` pointed at an in-process simulator and a stage directory, and its
//! extract run in process: what the extract, delete-feed, value and bad-gateway tests drive.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use intacct_sim::SimHandle;
use intacct_snowflake::config::{self, CredentialSource, Spec};
use intacct_snowflake::intacct::IntacctClient;
use intacct_snowflake::pipeline::ObjectReport;
use intacct_snowflake::pipeline::{client_config, extract_options, run_extract};
use intacct_snowflake::stage::Stage;

use super::repo_root;

pub(crate) const PIPELINE: &str = "pipelines/demo.toml";

/// The demo pipeline, reading from `sim` and staging in `stage_dir`.
pub(crate) fn spec_for(sim: &SimHandle, stage_dir: &Path) -> Spec {
    let text = std::fs::read_to_string(repo_root().join(PIPELINE)).unwrap();
    let env: BTreeMap<String, String> = [
        ("INTACCT_ENDPOINT".to_owned(), sim.endpoint_url()),
        ("STAGE_URL".to_owned(), stage_dir.display().to_string()),
    ]
    .into_iter()
    .collect();
    config::parse(
        &text,
        Path::new(PIPELINE),
        &env,
        &repo_root(),
        &CredentialSource::default(),
    )
    .unwrap()
}

/// The simulator's clock (`/__sim/clock`): the `now` a run at this moment would use.
pub(crate) async fn sim_clock(sim: &SimHandle) -> DateTime<Utc> {
    let body: serde_json::Value = reqwest::get(format!("{}/__sim/clock", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["now"].as_str().unwrap().parse().unwrap()
}

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

/// No object's extract failed.
pub(crate) fn assert_all_ok(reports: &[ObjectReport]) {
    for r in reports {
        assert_eq!(r.error, None, "{} failed", r.object);
    }
}
