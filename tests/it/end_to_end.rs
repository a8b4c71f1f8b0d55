//! The commands a data engineer runs, through the binary, against the simulator and the
//! emulator: `init`, `run` twice across simulated days of creates, updates and deletes, a
//! `backfill` over two years, a `replay` of an old batch, a `verify`; after each, every
//! target table equals the simulator's ground truth for every object, values included. And a
//! backfill killed with SIGKILL redoes no completed window when started again.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use intacct_snowflake::manifest::{BatchStatus, Manifest, Mode};
use intacct_snowflake::stage::Stage;

use crate::support::demo_pipeline::sim_clock;
use crate::support::world::World;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_twice_backfill_replay_and_verify_end_equal_to_the_simulator() {
    let w = World::start().await;
    w.ok(&["init"]).await;
    w.ok(&["run", "--no-progress"]).await;
    w.assert_equal_to_truth("after the first run").await;
    // Views exist once their tables do.
    let views = w.ok(&["init"]).await;
    assert!(views.contains("AP_AGING"), "{views}");

    w.sim.advance_days(2).await.unwrap();
    let out = w.ok(&["run", "--no-progress"]).await;
    assert!(out.contains("loaded"), "{out}");
    w.assert_equal_to_truth("after a second run two simulated days later")
        .await;
    let state = w.manifest().await;
    let clock = sim_clock(&w.sim).await;
    for (object, marks) in &state.objects {
        assert_eq!(marks.watermark, Some(clock), "{object}");
    }

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
    w.assert_equal_to_truth("after a two-year backfill").await;
    let after_backfill = w.manifest().await;
    for (object, marks) in &after_backfill.objects {
        assert_eq!(
            marks.watermark,
            Some(clock),
            "{object}: a backfill moved the watermark"
        );
    }

    let old = state
        .batches_of("APBILL")
        .find(|b| b.mode == Mode::Nightly)
        .unwrap()
        .batch_id
        .clone();
    let out = w.ok(&["replay", "--batch", &old]).await;
    assert!(out.contains("loaded"), "{out}");
    w.assert_equal_to_truth("after replaying the first APBILL batch")
        .await;

    let out = w.ok(&["verify"]).await;
    assert!(!out.contains("DIFFERS"), "{out}");

    let status = w.ok(&["status", "--json"]).await;
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status.as_array().unwrap().len(), 12);
    w.sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_killed_midway_redoes_no_completed_window() {
    let w = World::start().await;
    w.ok(&["init"]).await;
    let clock = sim_clock(&w.sim).await;
    let from = (clock - Duration::days(3 * 365))
        .format("%Y-%m-%d")
        .to_string();
    let to = clock.format("%Y-%m-%d").to_string();
    let args = [
        "backfill",
        "--from",
        &from,
        "--to",
        &to,
        "--window",
        "90d",
        "--objects",
        "VENDOR,APBILL,APBILLITEM",
        "--no-progress",
    ];
    // Kill it once some windows are loaded.
    let mut child = w.command(&args, clock).spawn().unwrap();
    let stage_dir: PathBuf = w.stage_dir.path().to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let loaded = loaded_backfill_windows(&stage_dir).await;
        if loaded >= 4 || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = w.manifest().await;
    let loaded_before: BTreeSet<(String, Option<DateTime<Utc>>)> = before
        .batches
        .values()
        .filter(|b| b.mode == Mode::Backfill && b.status == BatchStatus::Loaded)
        .map(|b| (b.object.clone(), b.window_from))
        .collect();
    assert!(
        !loaded_before.is_empty(),
        "the backfill was killed before loading a window"
    );
    let out = w.cli(&args).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = w.manifest().await;
    for b in after.batches.values().filter(|b| b.mode == Mode::Backfill) {
        if b.created_version > before.version {
            assert!(
                !loaded_before.contains(&(b.object.clone(), b.window_from)),
                "{} window from {:?} was loaded before the kill and extracted again",
                b.object,
                b.window_from
            );
        }
    }
    // Every window is loaded exactly once.
    let mut per_window: BTreeMap<(String, Option<DateTime<Utc>>), u32> = BTreeMap::new();
    for b in after
        .batches
        .values()
        .filter(|b| b.mode == Mode::Backfill && b.status == BatchStatus::Loaded)
    {
        *per_window
            .entry((b.object.clone(), b.window_from))
            .or_default() += 1;
    }
    assert!(per_window.values().all(|n| *n == 1), "{per_window:?}");
    assert_eq!(per_window.len(), 3 * 13, "{per_window:?}");
    w.sim.shutdown().await.unwrap();
}

async fn loaded_backfill_windows(stage_dir: &Path) -> usize {
    let Ok(stage) = Stage::open(stage_dir.to_str().unwrap()) else {
        return 0;
    };
    match Manifest::open(stage, "peek").await {
        Ok(m) => m
            .state()
            .batches
            .values()
            .filter(|b| b.mode == Mode::Backfill && b.status == BatchStatus::Loaded)
            .count(),
        Err(_) => 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_read_backfill_window_resumes_from_its_recorded_position() {
    let mut w = World::start().await;
    // Small pages and a checkpoint after every page, so the window is many pages long.
    let config = w.stage_dir.path().join("pipeline.toml");
    let text = std::fs::read_to_string(&w.config).unwrap().replace(
        "channel_pages = 4",
        "channel_pages = 4\ncheckpoint_pages = 1",
    ) + "\n[extract.object.APBILLITEM]\npage_size = 100\n";
    std::fs::write(&config, text).unwrap();
    w.config = config;
    w.ok(&["init"]).await;
    let clock = sim_clock(&w.sim).await;
    let from = (clock - Duration::days(5 * 365))
        .format("%Y-%m-%d")
        .to_string();
    let to = (clock + Duration::days(1)).format("%Y-%m-%d").to_string();
    let args = [
        "backfill",
        "--from",
        &from,
        "--to",
        &to,
        "--window",
        "3000d",
        "--objects",
        "APBILLITEM",
        "--no-progress",
    ];
    let mut child = w.command(&args, clock).spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let (batch_id, recorded) = loop {
        let state = w.manifest().await;
        let part_written = state
            .batches
            .values()
            .find(|b| b.progress.as_ref().is_some_and(|p| p.files.len() >= 3));
        if let Some(b) = part_written {
            break (b.batch_id.clone(), b.progress.clone().unwrap().files);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no progress was recorded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let killed_at = w.manifest().await;
    let recorded_at_kill = killed_at.batches[&batch_id].progress.clone();
    assert_eq!(killed_at.batches[&batch_id].status, BatchStatus::Created);

    let out = w.ok(&args).await;
    assert!(out.contains("1 resumed"), "{out}");
    let after = w.manifest().await;
    let batch = &after.batches[&batch_id];
    assert_eq!(
        batch.status,
        BatchStatus::Loaded,
        "the part-written batch went on and loaded"
    );
    let kept = recorded_at_kill.map(|p| p.files).unwrap_or(recorded);
    assert!(
        batch.files.starts_with(&kept),
        "the resumed batch dropped files it had recorded"
    );
    assert!(batch.files.len() > kept.len());
    let backfills: Vec<_> = after
        .batches
        .values()
        .filter(|b| b.mode == Mode::Backfill)
        .collect();
    assert_eq!(
        backfills.len(),
        1,
        "the window was not read again in a new batch"
    );
    w.compare_objects("after a resumed backfill", Some(&["APBILLITEM"]))
        .await
        .unwrap();
    w.sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_prints_what_init_and_a_load_would_send_and_sends_nothing() {
    let w = World::start().await;
    w.ok(&["extract", "--objects", "VENDOR", "--no-progress"])
        .await;
    let state = w.manifest().await;
    let batch = state.batches_of("VENDOR").next().unwrap().batch_id.clone();
    let before = w.emulator.statements_executed().await;
    let out = w.ok(&["sql", "--objects", "VENDOR"]).await;
    assert_eq!(
        w.emulator.statements_executed().await,
        before,
        "sql sent a statement"
    );
    for expected in [
        "CREATE FILE FORMAT IF NOT EXISTS",
        "CREATE STAGE IF NOT EXISTS",
        "CREATE TABLE IF NOT EXISTS \"INTACCT\".\"RAW\".\"VENDOR\"",
        "CREATE TRANSIENT TABLE IF NOT EXISTS \"INTACCT\".\"RAW\".\"VENDOR_STG\"",
        "COPY INTO \"INTACCT\".\"RAW\".\"VENDOR_STG\"",
        "MERGE INTO \"INTACCT\".\"RAW\".\"VENDOR\"",
        "DELETE FROM \"INTACCT\".\"RAW\".\"VENDOR_STG\"",
    ] {
        assert!(out.contains(expected), "{expected} missing from:\n{out}");
    }
    assert!(out.contains(&batch), "the staged batch is not named");
    assert_eq!(out.matches("COPY INTO").count(), 1);
    w.sim.shutdown().await.unwrap();
}
