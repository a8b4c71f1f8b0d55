//! The hostile gateway in front of a tiny simulator, with a stage holding one good batch of
//! [`OBJECT`]: each bad-input case extracts again through it and checks that nothing the good
//! batch left moved.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use intacct_sim::Scale;
use intacct_sim::SimConfig;
use intacct_snowflake::Error;
use intacct_snowflake::config::Spec;
use intacct_snowflake::intacct::TimeWindow;
use intacct_snowflake::intacct::{IntacctClient, ReadRequest};
use intacct_snowflake::manifest::{BatchState, BatchStatus, ManifestState};
use intacct_snowflake::pipeline::ObjectReport;
use intacct_snowflake::pipeline::client_config;

use super::demo_pipeline::{extract_reports, sim_clock, spec_for};
use super::hostile_gateway::{HostileGateway, Rule};
use super::stage_state::{manifest_state, stage_files};

/// The object every case reads: a dozen records at the tiny scale, two passes.
pub(crate) const OBJECT: &str = "CLASS";

/// A simulator behind the hostile gateway, a stage with one good CLASS batch, and the state
/// that must survive the hostile answer.
pub(crate) struct GatewayWorld {
    pub(crate) gateway: HostileGateway,
    pub(crate) spec: Spec,
    stage_dir: tempfile::TempDir,
    pub(crate) now: DateTime<Utc>,
    before: ManifestState,
    files: BTreeMap<String, String>,
    /// `query` functions the simulator ran for the baseline.
    pub(crate) baseline_queries: u64,
}

impl GatewayWorld {
    pub(crate) async fn start() -> GatewayWorld {
        let mut config = SimConfig::default();
        config.dataset.scale = Scale::Tiny;
        let gateway = HostileGateway::start(config).await;
        let stage_dir = tempfile::tempdir().unwrap();
        let mut spec = spec_for(&gateway.sim, stage_dir.path());
        spec.intacct.endpoint = gateway.endpoint_url().parse().unwrap();
        spec.intacct.page_size = 5;
        // Retryable kinds are still tried twice, quickly, so the case ends on the error.
        spec.intacct.retry.max_attempts = 2;
        spec.intacct.retry.initial_backoff_ms = 1;
        spec.intacct.retry.max_backoff_ms = 2;
        let now = sim_clock(&gateway.sim).await;
        // The baseline: everything up to a year ago.
        let reports = extract_reports(&spec, &[OBJECT], now - Duration::days(365)).await;
        assert_eq!(reports[0].error, None, "baseline extract");
        assert!(reports[0].records > 0, "baseline staged rows");
        let before = manifest_state(&spec).await;
        let files = stage_files(&spec).await;
        let counters = gateway.sim.counters().await.unwrap();
        let baseline_queries = counters["functions"]["query"].as_u64().unwrap_or(0);
        GatewayWorld {
            gateway,
            spec,
            stage_dir,
            now,
            before,
            files,
            baseline_queries,
        }
    }

    /// Extracts CLASS up to now while `rules` answer; its report.
    pub(crate) async fn extract_with(&self, rules: Vec<Rule>) -> ObjectReport {
        self.gateway.set_rules(rules);
        let mut reports = extract_reports(&self.spec, &[OBJECT], self.now).await;
        assert!(self.gateway.answered() > 0, "the hostile answer was served");
        reports.remove(0)
    }

    /// Extracts CLASS while `rules` answer, which must succeed: the report and the batch it
    /// staged.
    pub(crate) async fn staged_batch(&self, rules: Vec<Rule>) -> (ObjectReport, BatchState) {
        let report = self.extract_with(rules).await;
        assert_eq!(report.error, None);
        let state = manifest_state(&self.spec).await;
        let batch = state.batches[&report.batch_id].clone();
        (report, batch)
    }

    /// Reads CLASS through the client while `rules` answer; the error the read ended with.
    pub(crate) async fn read_error(&self, rules: Vec<Rule>) -> Error {
        self.gateway.set_rules(rules);
        let client = IntacctClient::new(client_config(&self.spec)).unwrap();
        let mut request = ReadRequest::new(
            OBJECT,
            TimeWindow {
                from: None,
                to: self.now,
            },
            "bad-input",
        );
        request.page_size = self.spec.intacct.page_size;
        let mut read = client.read_object(request);
        while let Some(page) = read.pages.recv().await {
            if let Err(e) = page {
                return e;
            }
        }
        panic!("the read ended without an error");
    }

    /// The hostile extract failed and left everything as the baseline had it: the marks of
    /// every object, every batch staged before (status and files), the bytes of every file
    /// on the stage then; and no new batch is staged.
    pub(crate) async fn assert_nothing_moved(&self) {
        let after = manifest_state(&self.spec).await;
        for (object, was) in &self.before.objects {
            let now = &after.objects[object];
            assert_eq!(now.watermark, was.watermark, "{object} watermark");
            assert_eq!(now.staged_up_to, was.staged_up_to, "{object} staged_up_to");
            assert_eq!(
                now.deletes_up_to, was.deletes_up_to,
                "{object} deletes_up_to"
            );
        }
        for (id, batch) in &after.batches {
            match self.before.batches.get(id) {
                Some(was) => {
                    assert_eq!(batch.status, was.status, "batch {id}");
                    assert_eq!(batch.files, was.files, "batch {id}");
                }
                None => assert_ne!(batch.status, BatchStatus::Staged, "new batch {id} staged"),
            }
        }
        let files = stage_files(&self.spec).await;
        for (path, digest) in &self.files {
            assert_eq!(files.get(path), Some(digest), "{path} changed or vanished");
        }
    }

    /// The stage's local directory.
    pub(crate) fn stage_dir(&self) -> &std::path::Path {
        self.stage_dir.path()
    }

    pub(crate) async fn shutdown(self) {
        self.gateway.shutdown().await;
    }
}
