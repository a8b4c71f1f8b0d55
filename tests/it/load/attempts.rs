//! Each attempt of a load statement under its own requestId: after a definite failure the next
//! attempt takes a new id; while an attempt's outcome is unknown its id stays, and the handle
//! of the statement Snowflake runs is recorded before the loader waits for it, so a killed or
//! interrupted load resumes by polling that statement instead of sending it again.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use intacct_snowflake::manifest::{BatchStatus, LoadStep, Manifest, Mode};
use intacct_snowflake::snowflake::Statement;
use intacct_snowflake::stage::Stage;

use super::crash::{cli, killed, pipeline_file};
use crate::support::binary;
use crate::support::load_harness::{Harness, Row, T0, expected, no_delete_key};

async fn step_of(h: &Harness, batch: &str, step: &str) -> Option<LoadStep> {
    let stage = Stage::open(h.stage_dir.path().to_str().unwrap()).unwrap();
    let manifest = Manifest::open(stage, "check").await.unwrap();
    manifest.state().batches[batch]
        .load_steps
        .get(step)
        .cloned()
}

fn spawn_load(config: &Path, log: &Path) -> Child {
    Command::new(binary())
        .args(["load", "--config", config.to_str().unwrap()])
        .env_remove("INTACCT_SNOWFLAKE_CRASH_AT")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap()
}

/// Waits until the manifest records the handle Snowflake runs `step` under (and no answer).
async fn recorded_handle(
    h: &Harness,
    batch: &str,
    step: &str,
    child: &mut Child,
    log: &Path,
) -> LoadStep {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(running) = step_of(h, batch, step).await
            && running.statement_handle.is_some()
            && running.result.is_none()
        {
            return running;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "load ended ({status}) before recording a handle for {step}:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    panic!(
        "no statement handle recorded for {step} within 60 s:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

fn copies(stats: &serde_json::Value) -> u64 {
    stats["statements_by_kind"]["copy"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_that_failed_for_certain_loads_under_a_new_request_id_once_fixed() {
    let h = Harness::start(no_delete_key).await;
    let rows = vec![Row::live(1, "one", T0), Row::live(2, "two", T0)];
    let batch = h.stage_batch(Mode::Nightly, T0 + 60, T0 + 61, &rows).await;
    // Snowflake's stage pointed at an empty directory: the part is whole on the tool's stage
    // (its check passes), but the COPY names a file Snowflake's stage does not hold, and
    // Snowflake refuses it (422, 091016).
    let elsewhere = tempfile::tempdir().unwrap();
    let point_stage_at = |url: String| {
        format!(
            "CREATE OR REPLACE STAGE \"INTACCT\".\"RAW\".\"INTACCT_STAGE\" URL = '{url}' FILE_FORMAT = \"INTACCT\".\"RAW\".\"INTACCT_PARQUET\""
        )
    };
    h.query(&point_stage_at(format!(
        "file://{}/",
        elsewhere.path().display()
    )))
    .await;
    let reports = h.load().await;
    let error = reports[0].error.as_deref().unwrap();
    assert!(
        error.starts_with("copy-1: ") && error.contains("091016"),
        "{error}"
    );
    let failed = step_of(&h, &batch, "copy-1").await.unwrap();
    assert!(failed.failed, "{failed:?}");
    assert!(failed.result.is_none());
    // Fixed: the next load sends the COPY again under a new requestId, and it loads.
    h.query(&point_stage_at(h.stage_url())).await;
    let history = h.emulator.counter("served_from_history").await;
    let reports = h.load().await;
    assert_eq!(reports[0].error, None, "{reports:?}");
    assert_eq!(h.target().await, expected(&rows));
    let copy = step_of(&h, &batch, "copy-1").await.unwrap();
    assert_ne!(copy.request_id, failed.request_id);
    assert!(!copy.failed);
    assert_eq!(copy.result.unwrap()["rows_loaded"], 2);
    assert_eq!(
        h.emulator.counter("served_from_history").await,
        history,
        "the failed requestId was resent"
    );
    let m = h.manifest.lock().await;
    assert_eq!(m.state().batches[&batch].status, BatchStatus::Loaded);
    assert_eq!(m.state().batches[&batch].last_load_error, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_killed_before_it_recorded_the_handle_resends_the_same_request_id() {
    let h = Harness::start(no_delete_key).await;
    let dir = tempfile::tempdir().unwrap();
    let config = pipeline_file(&h, dir.path());
    let rows = vec![Row::live(1, "one", T0), Row::live(2, "two", T0)];
    let batch = h.stage_batch(Mode::Nightly, T0 + 60, T0 + 61, &rows).await;
    let out = cli(&config, "load", Some("accepted-copy-1"));
    assert!(killed(&out), "{out:?}");
    let unknown = step_of(&h, &batch, "copy-1").await.unwrap();
    assert_eq!(unknown.statement_handle, None);
    let before = h.emulator.stats().await;
    let out = cli(&config, "load", None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = h.emulator.stats().await;
    // Its outcome was unknown: the same requestId, answered from Snowflake's history.
    let copy = step_of(&h, &batch, "copy-1").await.unwrap();
    assert_eq!(copy.request_id, unknown.request_id);
    assert_eq!(copies(&after), copies(&before), "the COPY ran twice");
    assert_eq!(
        after["served_from_history"].as_u64().unwrap(),
        before["served_from_history"].as_u64().unwrap() + 1
    );
    assert_eq!(h.target().await, expected(&rows));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_killed_while_its_copy_runs_resumes_by_polling_that_statement() {
    let h = Harness::start(no_delete_key).await;
    let dir = tempfile::tempdir().unwrap();
    let config = pipeline_file(&h, dir.path());
    let log = dir.path().join("load.log");
    let rows = vec![Row::live(1, "one", T0), Row::live(2, "two", T0)];
    let batch = h.stage_batch(Mode::Nightly, T0 + 60, T0 + 61, &rows).await;
    h.emulator.set_faults("slow=4:copy:nth=1").await;
    let before = h.emulator.stats().await;
    let mut child = spawn_load(&config, &log);
    let running = recorded_handle(&h, &batch, "copy-1", &mut child, &log).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let out = cli(&config, "load", None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = h.emulator.stats().await;
    let copy = step_of(&h, &batch, "copy-1").await.unwrap();
    assert_eq!(
        (copy.request_id.as_str(), copy.statement_handle.as_deref()),
        (
            running.request_id.as_str(),
            running.statement_handle.as_deref()
        ),
        "the resume answered another statement"
    );
    assert_eq!(copy.result.unwrap()["rows_loaded"], 2);
    assert_eq!(copies(&after) - copies(&before), 1, "the COPY ran once");
    assert_eq!(
        after["served_from_history"], before["served_from_history"],
        "the COPY was sent again instead of polled"
    );
    assert!(after["polls"].as_u64() > before["polls"].as_u64());
    assert_eq!(h.target().await, expected(&rows));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_cancels_the_running_copy_and_the_next_load_sends_it_under_a_new_request_id() {
    let h = Harness::start(no_delete_key).await;
    let dir = tempfile::tempdir().unwrap();
    let config = pipeline_file(&h, dir.path());
    let log = dir.path().join("load.log");
    let rows = vec![Row::live(1, "one", T0), Row::live(2, "two", T0)];
    let batch = h.stage_batch(Mode::Nightly, T0 + 60, T0 + 61, &rows).await;
    h.emulator.set_faults("slow=60:copy:nth=1").await;
    let mut child = spawn_load(&config, &log);
    let running = recorded_handle(&h, &batch, "copy-1", &mut child, &log).await;
    let signalled = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(signalled.success());
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(130),
        "{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    // The statement was cancelled in Snowflake, not left running.
    let handle = running.statement_handle.clone().unwrap();
    let polled = h
        .client
        .wait_for(&Statement::new("", "test"), &handle)
        .await
        .unwrap_err();
    assert!(
        matches!(&polled, intacct_snowflake::Error::Statement { code, .. } if code == "000604"),
        "{polled}"
    );
    // The resume finds that attempt failed for certain and makes its own.
    let out = cli(&config, "load", None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copy = step_of(&h, &batch, "copy-1").await.unwrap();
    assert_ne!(copy.request_id, running.request_id);
    assert_eq!(copy.result.unwrap()["rows_loaded"], 2);
    assert_eq!(h.target().await, expected(&rows));
}
