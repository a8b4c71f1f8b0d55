//! SIGKILL between any two load steps (through the binary, as a scheduler runs it), `init`
//! re-run in between, then a resume: each step runs once in effect and the table is right.

use std::path::Path;
use std::process::Command;

use intacct_snowflake::manifest::{BatchStatus, Manifest, Mode};
use intacct_snowflake::stage::Stage;

use crate::support::binary;
use crate::support::load_harness::{Harness, Row, T0, expected, no_delete_key};

pub(super) fn pipeline_file(h: &Harness, dir: &Path) -> std::path::PathBuf {
    h.pipeline_file(dir, "crash", "")
}

pub(super) fn cli(config: &Path, command: &str, crash_at: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new(binary());
    cmd.args([command, "--config", config.to_str().unwrap()]);
    match crash_at {
        Some(point) => cmd.env("INTACCT_SNOWFLAKE_CRASH_AT", point),
        None => cmd.env_remove("INTACCT_SNOWFLAKE_CRASH_AT"),
    };
    cmd.output().unwrap()
}

pub(super) fn killed(out: &std::process::Output) -> bool {
    use std::os::unix::process::ExitStatusExt;
    matches!(out.status.signal(), Some(9 | 6))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_between_any_two_steps_resumes_to_the_same_table() {
    let h = Harness::start(no_delete_key).await;
    let dir = tempfile::tempdir().unwrap();
    let config = pipeline_file(&h, dir.path());
    let mut want = std::collections::BTreeMap::new();
    let points = [
        "accepted-copy-1",
        "running-copy-1",
        "sent-copy-1",
        "after-copy-1",
        "accepted-merge",
        "running-merge",
        "sent-merge",
        "after-merge",
        "sent-cleanup",
        "running-cleanup",
        "after-cleanup",
    ];
    for (i, point) in points.iter().enumerate() {
        let i = i as i64;
        let rows = vec![
            Row::live(100 * i + 1, point, T0 + 1000 * i),
            Row::live(100 * i + 2, "two", T0 + 1000 * i),
        ];
        let batch = h
            .stage_batch(
                Mode::Nightly,
                T0 + 1000 * i + 500,
                T0 + 1000 * i + 501,
                &rows,
            )
            .await;
        let out = cli(&config, "load", Some(point));
        assert!(killed(&out), "{point}: {out:?}");
        let out = cli(&config, "init", None);
        assert!(
            out.status.success(),
            "init after {point}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let before = h.emulator.statements_executed().await;
        let out = cli(&config, "load", None);
        assert!(
            out.status.success(),
            "resume after {point}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let sent = h.emulator.statements_executed().await - before;
        want.extend(expected(&rows));
        assert_eq!(h.target().await, want, "after {point}");
        assert_eq!(h.staging_rows().await, 0, "after {point}");
        let stage = Stage::open(h.stage_dir.path().to_str().unwrap()).unwrap();
        let manifest = Manifest::open(stage, "check").await.unwrap();
        let state = manifest.state();
        let b = &state.batches[&batch];
        assert_eq!(b.status, BatchStatus::Loaded, "{point}");
        assert_eq!(b.loaded_modes.len(), 1, "{point}");
        // A resumed load never starts a step twice under a new requestId.
        assert_eq!(b.load_steps.len(), 3, "{point}: {:?}", b.load_steps.keys());
        // The catalog read, the staging count, what is left of COPY, MERGE and cleanup, and the
        // command's row in the run history.
        assert!(sent <= 6, "{point}: the resume sent {sent} statements");
    }
}
