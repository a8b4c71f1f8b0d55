//! The stage failing under a whole pipeline, through the binary against the simulator and
//! the emulator: a newest manifest commit torn by a power loss, a disk that fills up half-way
//! through a part, and a staged batch whose files are gone. After each, the next runs end with
//! every table equal to the simulator's truth.

use std::collections::BTreeSet;

use intacct_snowflake::manifest::{BatchStatus, ManifestState};
use intacct_snowflake::stage::Stage;

use crate::support::world::World;

/// Every file a staged or loaded batch names is on the stage with the size and sha256 the
/// manifest recorded.
async fn every_named_file_is_whole(stage: &Stage, state: &ManifestState) {
    for batch in state.batches.values() {
        if !matches!(batch.status, BatchStatus::Staged | BatchStatus::Loaded) {
            continue;
        }
        for file in &batch.files {
            assert_eq!(
                stage.check_file(file).await.unwrap(),
                None,
                "{} of batch {} ({})",
                file.path,
                batch.batch_id,
                batch.status
            );
        }
    }
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torn_newest_commit_is_set_aside_and_the_next_run_ends_equal_to_the_truth() {
    let w = World::start().await;
    w.ok(&["init"]).await;
    w.ok(&["run", "--no-progress"]).await;
    let state = w.manifest().await;
    let newest = format!("_manifest/{:020}.json", state.version);
    let local = w.stage_dir.path().join(&newest);
    let whole = std::fs::read(&local).unwrap();
    std::fs::write(&local, &whole[..whole.len() / 2]).unwrap();

    w.sim.advance_days(1).await.unwrap();
    w.ok(&["run", "--no-progress"]).await;
    w.assert_equal_to_truth("after a run over a torn newest commit")
        .await;
    let aside = w
        .stage_dir
        .path()
        .join(format!("_manifest/_torn/{:020}.json", state.version));
    assert_eq!(std::fs::read(&aside).unwrap(), &whole[..whole.len() / 2]);
    every_named_file_is_whole(&w.stage(), &w.manifest().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_that_fills_up_half_way_through_a_part_fails_the_batch_and_the_next_run_completes() {
    let w = World::start().await;
    w.ok(&["init"]).await;
    let now = crate::support::demo_pipeline::sim_clock(&w.sim).await;
    let out = w
        .command(&["run", "--no-progress"], now)
        .env("INTACCT_SNOWFLAKE_TEST_DISK_FULL_AFTER_BYTES", "30000")
        .output()
        .unwrap();
    let said = text(&out);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("No space left on device"), "{said}");
    assert!(said.contains("part-00001-"), "names the part: {said}");
    let state = w.manifest().await;
    let failed: BTreeSet<&str> = state
        .batches
        .values()
        .filter(|b| b.status == BatchStatus::Failed)
        .map(|b| b.object.as_str())
        .collect();
    assert!(!failed.is_empty(), "no batch failed: {said}");
    for batch in state.batches.values() {
        if failed.contains(batch.object.as_str()) && batch.status != BatchStatus::Failed {
            assert_eq!(
                state.objects.get(&batch.stream()).and_then(|o| o.watermark),
                None,
                "{}",
                batch.object
            );
        }
    }
    // No staged batch names a part cut short: every named file is whole.
    every_named_file_is_whole(&w.stage(), &state).await;

    w.ok(&["run", "--no-progress"]).await;
    w.assert_equal_to_truth("after a run with space again")
        .await;
    every_named_file_is_whole(&w.stage(), &w.manifest().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staged_batch_whose_files_are_gone_is_listed_abandoned_and_its_window_read_again() {
    let w = World::start().await;
    w.ok(&["init"]).await;
    w.ok(&["extract", "--no-progress"]).await;
    let state = w.manifest().await;
    let batch = state
        .batches
        .values()
        .filter(|b| b.status == BatchStatus::Staged && !b.files.is_empty())
        .min_by_key(|b| b.created_version)
        .expect("a staged batch with files")
        .clone();
    for file in &batch.files {
        std::fs::remove_file(w.stage_dir.path().join(&file.path)).unwrap();
    }

    let out = w.cli(&["run", "--no-progress"]).await;
    let said = text(&out);
    assert!(!out.status.success(), "{said}");
    let expected = intacct_snowflake::Error::StagedFile {
        object: batch.object.clone(),
        batch_id: batch.batch_id.clone(),
        path: batch.files[0].path.clone(),
        problem: intacct_snowflake::error::FileProblem::Missing,
    };
    let after_run = w.manifest().await;
    assert_eq!(
        after_run.batches[&batch.batch_id].last_load_error,
        Some(format!("files: {expected}"))
    );
    assert_eq!(
        after_run.objects[&batch.stream()].watermark,
        None,
        "the watermark moved past a batch never loaded"
    );

    let status = w.ok(&["status"]).await;
    assert!(
        status.contains(&format!("{} (missing)", batch.files[0].path)),
        "{status}"
    );
    assert!(
        status.contains(&format!("manifest abandon --batch {}", batch.batch_id)),
        "{status}"
    );

    let out = w
        .ok(&["manifest", "abandon", "--batch", &batch.batch_id])
        .await;
    assert!(
        out.contains(&format!("abandoned: batch {}", batch.batch_id)),
        "{out}"
    );
    let abandoned = w.manifest().await;
    assert_eq!(
        abandoned.batches[&batch.batch_id].status,
        BatchStatus::Failed
    );
    assert_eq!(abandoned.objects[&batch.stream()].staged_up_to, None);
    let status = w.ok(&["status"]).await;
    assert!(!status.contains("(missing)"), "{status}");

    w.sim.advance_days(1).await.unwrap();
    w.ok(&["run", "--no-progress"]).await;
    w.assert_equal_to_truth("after the abandoned batch's window was read again")
        .await;
}
