//! The commands a data engineer runs, through the binary, with the stage on S3 (moto on
//! loopback) and the emulator reading it as an external S3 stage through a storage
//! integration, as Snowflake reads a production stage: `init`, `run`, simulated days, `run`,
//! a `backfill`, a `replay` and a `verify`; after each, every target table equals the
//! simulator's ground truth for every object, values included.

use chrono::Duration;
use intacct_snowflake::manifest::Mode;
use intacct_snowflake::snowflake::Statement;

use crate::support::demo_pipeline::sim_clock;
use crate::support::world::{STORAGE_INTEGRATION, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_pipeline_runs_on_an_s3_stage_and_ends_equal_to_the_simulator() {
    let w = World::start_on_s3().await;
    let stage_url = w.s3.as_ref().unwrap().url();
    w.ok(&["init"]).await;
    let stages = w
        .reader()
        .execute(&Statement::new(
            "SHOW STAGES IN SCHEMA \"INTACCT\".\"RAW\"",
            "test",
        ))
        .await
        .unwrap();
    assert_eq!(
        (
            stages.value(0, "name"),
            stages.value(0, "url"),
            stages.value(0, "storage_integration")
        ),
        (
            Some("INTACCT_STAGE"),
            Some(stage_url.as_str()),
            Some(STORAGE_INTEGRATION)
        ),
        "init did not create the external S3 stage"
    );
    w.ok(&["run", "--no-progress"]).await;
    w.assert_equal_to_truth("after the first run on S3").await;

    w.sim.advance_days(3).await.unwrap();
    let out = w.ok(&["run", "--no-progress"]).await;
    assert!(out.contains("loaded"), "{out}");
    w.assert_equal_to_truth("after a second run three simulated days later")
        .await;

    let clock = sim_clock(&w.sim).await;
    let from = (clock - Duration::days(730)).format("%Y-%m-%d").to_string();
    let to = clock.format("%Y-%m-%d").to_string();
    w.ok(&[
        "backfill",
        "--from",
        &from,
        "--to",
        &to,
        "--window",
        "365d",
        "--no-progress",
    ])
    .await;
    w.assert_equal_to_truth("after a two-year backfill on S3")
        .await;

    let state = w.manifest().await;
    let first = state
        .batches_of("APBILL")
        .find(|b| b.mode == Mode::Nightly)
        .unwrap()
        .batch_id
        .clone();
    let out = w.ok(&["replay", "--batch", &first]).await;
    assert!(out.contains("loaded"), "{out}");
    w.assert_equal_to_truth("after replaying the first APBILL batch from S3")
        .await;

    let out = w.ok(&["verify"]).await;
    assert!(!out.contains("DIFFERS"), "{out}");

    // Every file Snowflake loaded, it read from the bucket; nothing was staged locally.
    let loaded = w
        .reader()
        .execute(&Statement::new(
            "SELECT DISTINCT FILE_NAME FROM INFORMATION_SCHEMA.LOAD_HISTORY",
            "test",
        ))
        .await
        .unwrap();
    assert!(!loaded.rows.is_empty());
    for row in &loaded.rows {
        let file = row[0].as_deref().unwrap();
        assert!(
            file.starts_with(&stage_url),
            "{file} is not on the S3 stage"
        );
    }
    let parts = w.stage().list("APBILL/").await.unwrap();
    assert!(parts.iter().any(|p| p.path.ends_with(".parquet")));
    let local: Vec<_> = walk(w.stage_dir.path());
    assert!(
        local
            .iter()
            .all(|p| p.extension().is_none_or(|e| e != "parquet")),
        "a part was written locally: {local:?}"
    );
    w.sim.shutdown().await.unwrap();
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
