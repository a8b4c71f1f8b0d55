//! The run lock: a holder that stops renewing is taken over by exactly one run once that run
//! has watched it go a whole lease without a renewal; a holder that renews is never taken
//! over; and a holder paused past its lease (SIGSTOP) and then resumed changes nothing more,
//! on the stage or in Snowflake.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use intacct_snowflake::Error;
use intacct_snowflake::error::LockLoss;
use intacct_snowflake::manifest::{BatchStatus, Manifest, Mode, RunLock};
use intacct_snowflake::stage::Stage;

use crate::support::binary;
use crate::support::load_harness::{Harness, Row, T0, expected, no_delete_key};

const LEASE: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_one_of_many_runs_takes_over_a_lock_not_renewed_for_a_lease() {
    let dir = tempfile::tempdir().unwrap();
    let stage = Stage::open(dir.path().to_str().unwrap()).unwrap();
    let mut stale = RunLock::acquire(&stage, "p", "stale", LEASE).await.unwrap();
    assert_eq!(stale.generation(), 1);
    let started = Instant::now();
    let contenders = (0..6).map(|i| {
        let stage = stage.clone();
        tokio::spawn(async move { RunLock::acquire(&stage, "p", &format!("run-{i}"), LEASE).await })
    });
    let results: Vec<_> = futures::future::join_all(contenders)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    // Nobody took it before a whole lease had passed without a renewal.
    assert!(started.elapsed() >= LEASE, "{:?}", started.elapsed());
    let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert_eq!(winners[0].generation(), 2);
    for lost in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(
            matches!(lost, Error::LockHeld { generation: 2, .. }),
            "{lost}"
        );
    }
    // The stale holder's fence had failed before anyone took over, and it finds out how.
    assert!(matches!(
        stale.fence().check(),
        Err(Error::LockLost {
            how: LockLoss::LeaseRanOut { .. },
            ..
        })
    ));
    assert!(matches!(stale.renew().await, Err(Error::LockLost { .. })));
    let on_stage: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("_lock/p/00000000000000000002.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(on_stage["run_id"], winners[0].holder().run_id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_that_keeps_renewing_is_never_taken_over_and_learns_of_a_newer_generation() {
    let dir = tempfile::tempdir().unwrap();
    let stage = Stage::open(dir.path().to_str().unwrap()).unwrap();
    let mut holder = RunLock::acquire(&stage, "p", "holder", LEASE)
        .await
        .unwrap();
    let fence = holder.fence();
    let renewing = tokio::spawn(async move {
        for _ in 0..12 {
            tokio::time::sleep(LEASE / 4).await;
            holder.renew().await.unwrap();
        }
        holder
    });
    let held = RunLock::acquire(&stage, "p", "contender", LEASE)
        .await
        .unwrap_err();
    assert!(
        matches!(&held, Error::LockHeld { generation: 1, holder, .. } if holder.contains("run holder")),
        "{held}"
    );
    let holder = renewing.await.unwrap();
    // Three leases later it still holds, and its fence still passes.
    fence.check().unwrap();
    holder.release().await.unwrap();
    assert!(fence.check().is_err(), "a released lock fences its holder");
    // Released: the next run takes it at once.
    let started = Instant::now();
    let next = RunLock::acquire(&stage, "p", "next", LEASE).await.unwrap();
    assert!(started.elapsed() < LEASE, "{:?}", started.elapsed());
    assert_eq!(next.generation(), 2);

    // A holder that finds a newer generation at its renewal stops, whatever its own clock says.
    let mut old = RunLock::acquire(&stage, "q", "old", Duration::from_secs(60))
        .await
        .unwrap();
    std::fs::write(
        dir.path().join("_lock/q/00000000000000000002.json"),
        br#"{"generation":2,"run_id":"newer","host":"h","pid":1,"started_at":"2026-01-01T00:00:00Z","lease_secs":60}"#,
    )
    .unwrap();
    match old.renew().await {
        Err(Error::LockLost {
            how: LockLoss::TakenOver { by, generation: 2 },
            ..
        }) => assert!(by.contains("run newer"), "{by}"),
        other => panic!("expected the lock taken over, got {other:?}"),
    }
    assert!(old.fence().check().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_style_lease_that_has_not_expired_holds_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let stage = Stage::open(dir.path().to_str().unwrap()).unwrap();
    std::fs::create_dir_all(dir.path().join("_lock")).unwrap();
    let lease = |expires: chrono::DateTime<chrono::Utc>| {
        serde_json::json!({"host": "old-host", "pid": 7, "run_id": "old-run",
            "started_at": "2026-01-01T00:00:00Z", "expires_at": expires})
        .to_string()
    };
    let path = dir.path().join("_lock/p.json");
    std::fs::write(
        &path,
        lease(chrono::Utc::now() + chrono::Duration::hours(1)),
    )
    .unwrap();
    let held = RunLock::acquire(&stage, "p", "new", LEASE)
        .await
        .unwrap_err();
    assert!(
        matches!(&held, Error::LockHeld { generation: 0, holder, .. } if holder.contains("old-run")),
        "{held}"
    );
    std::fs::write(
        &path,
        lease(chrono::Utc::now() - chrono::Duration::hours(1)),
    )
    .unwrap();
    RunLock::acquire(&stage, "p", "new", LEASE).await.unwrap();
}

/// The state letter of a process (`T`: stopped), from `/proc/<pid>/stat`.
fn process_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 1..]
        .split_whitespace()
        .next()?
        .chars()
        .next()
}

async fn manifest_version(stage_dir: &Path) -> (u64, u64) {
    let stage = Stage::open(stage_dir.to_str().unwrap()).unwrap();
    let manifest = Manifest::open(stage, "check").await.unwrap();
    (manifest.state().version, manifest.state().generation)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_paused_past_its_lease_and_resumed_changes_nothing_more() {
    let h = Harness::start(no_delete_key).await;
    let dir = tempfile::tempdir().unwrap();
    // A short lease, so the paused holder loses it within the test.
    let config = h.pipeline_file(dir.path(), "fenced", "lock_lease_secs = 2\n");
    let rows = vec![
        Row::live(1, "one", T0),
        Row::live(2, "two", T0 + 10),
        Row::live(3, "three", T0 + 20),
    ];
    let batch = h
        .stage_batch(Mode::Nightly, T0 + 500, T0 + 501, &rows)
        .await;

    // The first run stops itself (SIGSTOP) once its COPY is recorded, before its MERGE.
    let mut paused = Command::new(binary())
        .args(["load", "--config", config.to_str().unwrap()])
        .env("INTACCT_SNOWFLAKE_PAUSE_AT", "after-copy-1")
        .env_remove("INTACCT_SNOWFLAKE_CRASH_AT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let waited = Instant::now();
    while process_state(paused.id()) != Some('T') {
        assert!(
            paused.try_wait().unwrap().is_none(),
            "the first run ended before its pause point"
        );
        assert!(waited.elapsed() < Duration::from_secs(60), "never paused");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, first_generation) = manifest_version(h.stage_dir.path()).await;

    // Another run takes over once the lease passes without a renewal, and loads the batch.
    let taken_over = Command::new(binary())
        .args(["load", "--config", config.to_str().unwrap()])
        .env_remove("INTACCT_SNOWFLAKE_PAUSE_AT")
        .env_remove("INTACCT_SNOWFLAKE_CRASH_AT")
        .output()
        .unwrap();
    assert!(
        taken_over.status.success(),
        "the run that took over: {}",
        String::from_utf8_lossy(&taken_over.stderr)
    );
    let (version, generation) = manifest_version(h.stage_dir.path()).await;
    assert!(
        generation > first_generation,
        "{generation} after {first_generation}"
    );
    let want = expected(&rows);
    assert_eq!(h.target().await, want);
    // What the run that took over sent has all run (the first run is still stopped): a
    // statement Snowflake finishes after answering is counted then.
    let mut statements = h.emulator.statements_executed().await;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = h.emulator.statements_executed().await;
        if now == statements {
            break;
        }
        statements = now;
    }
    let stats_before = h.emulator.stats().await;

    // The first run resumes past its lease: it stops on the lost lock, sends nothing, and
    // commits nothing.
    let resumed = Command::new("kill")
        .args(["-CONT", &paused.id().to_string()])
        .status()
        .unwrap();
    assert!(resumed.success());
    let out = tokio::task::spawn_blocking(move || paused.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("could not be renewed within its 2 s lease")
            || stderr.contains("stale_generation"),
        "{stderr}"
    );
    assert_eq!(
        h.emulator.statements_executed().await,
        statements,
        "the resumed run reached Snowflake: before {stats_before}, after {}; its log: {stderr}; the run that took over: {}",
        h.emulator.stats().await,
        String::from_utf8_lossy(&taken_over.stderr)
    );
    assert_eq!(
        manifest_version(h.stage_dir.path()).await,
        (version, generation)
    );
    assert_eq!(h.target().await, want);
    assert_eq!(h.staging_rows().await, 0);
    let stage = Stage::open(h.stage_dir.path().to_str().unwrap()).unwrap();
    let manifest = Manifest::open(stage, "check").await.unwrap();
    let b = &manifest.state().batches[&batch];
    assert_eq!(b.status, BatchStatus::Loaded);
    assert_eq!(b.loaded_modes.len(), 1);
}
