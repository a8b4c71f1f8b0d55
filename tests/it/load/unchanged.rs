//! An object with no changes sends nothing to Snowflake: a nightly run over objects that did
//! not change marks their empty batches loaded without a COPY, MERGE or DELETE; the one
//! statement of the run is its own row in the run history.

use crate::support::demo_pipeline::sim_clock;
use crate::support::world::World;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nightly_run_over_unchanged_objects_sends_no_statement() {
    let mut w = World::start().await;
    let dir = tempfile::tempdir().unwrap();
    // No lookback: the second run's windows hold no record and no delete.
    w.config = super::demo_pipeline_with(dir.path(), |text| {
        text.replace(
            "lookback_secs = 7200",
            "lookback_secs = 0\ndelete_lookback_secs = 0",
        )
    });
    w.ok(&["init"]).await;
    w.ok(&["run", "--no-progress"]).await;
    w.assert_equal_to_truth("after the first run").await;
    let before = w.emulator.stats().await;
    // Later, nothing changed in Intacct: no simulated day passed, so the gateway's clock (which
    // ends the windows) has not moved either. A local clock an hour on would be refused: it
    // would differ from Intacct's by more than the lookback (none here).
    let later = sim_clock(&w.sim).await;
    let out = w
        .command(&["run", "--no-progress"], later)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = w.emulator.stats().await;
    let sent = |key: &[&str]| {
        let pick = |v: &serde_json::Value| key.iter().fold(v.clone(), |v, k| v[*k].clone());
        pick(&after).as_u64().unwrap_or(0) - pick(&before).as_u64().unwrap_or(0)
    };
    for kind in ["copy", "delete", "select", "create", "alter"] {
        assert_eq!(
            sent(&["statements_by_kind", kind]),
            0,
            "{kind} statements were sent for unchanged objects"
        );
    }
    // One statement in all, and no object's: the run's own row in the run history
    // (`_INTACCT_RUNS`), one MERGE, which resumes the warehouse once per run, not per object.
    assert_eq!(
        sent(&["statements_by_kind", "merge"]),
        1,
        "merge statements were sent for unchanged objects"
    );
    assert_eq!(
        sent(&["warehouse_statements"]),
        1,
        "the warehouse was resumed per object"
    );
    assert_eq!(
        sent(&["submissions"]),
        1,
        "the run sent more than its run history row"
    );
    let runs = w
        .reader()
        .execute(&intacct_snowflake::snowflake::Statement::new(
            "SELECT COUNT(*) FROM \"INTACCT\".\"RAW\".\"_INTACCT_RUNS\" WHERE COMMAND = 'run'",
            "test",
        ))
        .await
        .unwrap();
    assert_eq!(
        runs.rows[0][0].as_deref(),
        Some("2"),
        "each run recorded once"
    );
    // Every object's empty batch is loaded and its watermark moved to the run's time.
    let state = w.manifest().await;
    assert_eq!(state.objects.len(), 12);
    for (object, marks) in &state.objects {
        assert_eq!(marks.watermark, Some(later), "{object}");
        let newest = state.batches_of(object).last().unwrap();
        assert_eq!(newest.rows, 0, "{object}");
        assert_eq!(
            newest.status,
            intacct_snowflake::manifest::BatchStatus::Loaded,
            "{object}"
        );
    }
    w.assert_equal_to_truth("after a run with no changes").await;
    w.sim.shutdown().await.unwrap();
}
