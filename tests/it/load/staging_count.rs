//! A batch is merged only once the staging table holds exactly its rows. "Copy executed with
//! 0 files processed." proves nothing: Snowflake says it for files of uncertain load status
//! (the 64-day rule) and for a staging table emptied or re-created after the COPY. Each case
//! here ends with the target table equal to the rows staged.

use std::collections::BTreeMap;

use intacct_snowflake::manifest::{Action, BatchStatus, Manifest, Mode};
use intacct_snowflake::stage::Stage;

use super::crash::{cli, killed, pipeline_file};
use crate::support::load_harness::{Harness, Row, T0, at, expected, no_delete_key};

const STAGING: &str = "\"INTACCT\".\"RAW\".\"VENDOR_STG\"";

async fn state_of(h: &Harness) -> intacct_snowflake::manifest::ManifestState {
    let stage = Stage::open(h.stage_dir.path().to_str().unwrap()).unwrap();
    Manifest::open(stage, "check")
        .await
        .unwrap()
        .state()
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staging_table_emptied_after_its_copy_is_filled_again_before_the_merge() {
    let h = Harness::start(no_delete_key).await;
    let dir = tempfile::tempdir().unwrap();
    let config = pipeline_file(&h, dir.path());
    let mut want = BTreeMap::new();
    // Dropped and re-created by `init`; dropped and re-created by the loader itself; left
    // holding part of the batch (a FORCE copy on top of it would count double).
    let cases = ["dropped, then init", "dropped", "one row deleted"];
    for (i, case) in cases.iter().enumerate() {
        let i = i as i64;
        let rows = vec![
            Row::live(100 * i + 1, case, T0 + 1000 * i),
            Row::live(100 * i + 2, "two", T0 + 1000 * i),
            Row::live(100 * i + 3, "three", T0 + 1000 * i),
        ];
        let batch = h
            .stage_batch(
                Mode::Nightly,
                T0 + 1000 * i + 500,
                T0 + 1000 * i + 501,
                &rows,
            )
            .await;
        let out = cli(&config, "load", Some("after-copy-1"));
        assert!(killed(&out), "{case}: {out:?}");
        assert_eq!(h.staging_rows().await, 3, "{case}: the COPY ran");
        match *case {
            "one row deleted" => {
                h.query(&format!(
                    "DELETE FROM {STAGING} WHERE \"RECORDNO\" = {}",
                    100 * i + 2
                ))
                .await;
            }
            _ => {
                h.query(&format!("DROP TABLE {STAGING}")).await;
            }
        }
        if *case == "dropped, then init" {
            let out = cli(&config, "init", None);
            assert!(out.status.success(), "{case}: {out:?}");
        }
        let out = cli(&config, "load", None);
        assert!(
            out.status.success(),
            "{case}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        want.extend(expected(&rows));
        assert_eq!(h.target().await, want, "{case}");
        assert_eq!(h.staging_rows().await, 0, "{case}");
        let state = state_of(&h).await;
        let b = &state.batches[&batch];
        assert_eq!(b.status, BatchStatus::Loaded, "{case}");
        // The first COPY is not sent again; a reload round deleted what was left and copied
        // the files again with FORCE.
        assert_eq!(
            b.load_steps["copy-1"].result.as_ref().unwrap()["rows_loaded"],
            3
        );
        let reload = b.load_steps["reload-1-copy-1"].result.as_ref().unwrap();
        assert_eq!(reload["rows_loaded"], 3, "{case}");
        let deleted = b.load_steps["reload-1-delete"].result.as_ref().unwrap();
        let left = if *case == "one row deleted" { 2 } else { 0 };
        assert_eq!(deleted["deleted"], left, "{case}");
        assert_eq!(
            b.load_steps["merge"].result.as_ref().unwrap()["inserted"],
            3
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_staged_more_than_64_days_before_its_load_is_copied_again_with_force() {
    let h = Harness::start(no_delete_key).await;
    // The staging table's first load: files staged after it are of known status for 64 days.
    let first = vec![Row::live(1, "first", T0)];
    h.stage_batch(Mode::Nightly, T0 + 60, T0 + 61, &first).await;
    let reports = h.load().await;
    assert_eq!(reports[0].error, None);
    let rows = vec![
        Row::live(2, "staged long ago", T0 + 100),
        Row::live(3, "also", T0 + 100),
    ];
    let batch = h
        .stage_batch(Mode::Nightly, T0 + 160, T0 + 161, &rows)
        .await;
    h.emulator.advance_clock_days(65.0).await;
    let reports = h.load().await;
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].error, None, "{reports:?}");
    let mut want = expected(&first);
    want.extend(expected(&rows));
    assert_eq!(h.target().await, want);
    assert_eq!(h.staging_rows().await, 0);
    assert!(reports[0].staging_reloaded, "{reports:?}");
    assert_eq!(reports[0].merge_inserted, 2);
    let m = h.manifest.lock().await;
    let b = &m.state().batches[&batch];
    assert_eq!(b.status, BatchStatus::Loaded);
    // Snowflake skipped the file of uncertain status, silently: 0 files processed.
    let copy = b.load_steps["copy-1"].result.as_ref().unwrap();
    assert_eq!(copy["already_loaded"], true, "{copy}");
    assert_eq!(copy["rows_loaded"], 0);
    let reload = b.load_steps["reload-1-copy-1"].result.as_ref().unwrap();
    assert_eq!(reload["rows_loaded"], 2, "{reload}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_whose_files_do_not_hold_its_rows_fails_naming_both_counts() {
    let h = Harness::start(no_delete_key).await;
    let other = h
        .stage_batch(
            Mode::Backfill,
            T0 + 10,
            T0 + 11,
            &[Row::live(9, "other", T0)],
        )
        .await;
    // A batch of two rows whose manifest entry names the other batch's part (whole, so its
    // check passes): its rows carry the other _BATCH_ID.
    let batch = uuid::Uuid::new_v4().to_string();
    {
        let mut m = h.manifest.lock().await;
        let mut theirs = m.state().batches[&other].files[0].clone();
        theirs.rows = 2;
        let fingerprint = m.state().batches[&other].schema_fingerprint.clone();
        m.commit(vec![
            Action::BatchCreated {
                batch_id: batch.clone(),
                object: "VENDOR".into(),
                mode: Mode::Nightly,
                window_from: None,
                window_to: at(T0 + 60),
                schema_fingerprint: fingerprint,
                replay_of: None,
                keys: None,
            },
            Action::BatchStaged {
                batch_id: batch.clone(),
                rows: 2,
                deleted_rows: 0,
                bytes: theirs.bytes,
                files: vec![theirs],
                raw_pages: vec![],
                quarantine: vec![],
                staged_up_to: Some(at(T0 + 60)),
                deletes_up_to: None,
            },
        ])
        .await
        .unwrap();
    }
    let reports = h.load().await;
    let failed = reports.iter().find(|r| r.batch_id == batch).unwrap();
    let error = failed.error.as_deref().unwrap();
    assert!(
        error.starts_with("check: load of VENDOR batch ")
            && error.contains(&batch)
            && error.contains(
                "holds 0 rows of the batch after its 1 files were copied again with FORCE = TRUE, but the manifest lists 2"
            ),
        "{error}"
    );
    assert!(
        !h.target().await.contains_key(&1),
        "nothing of the batch was merged"
    );
    let m = h.manifest.lock().await;
    let b = &m.state().batches[&batch];
    assert_eq!(b.status, BatchStatus::Staged);
    assert!(!b.load_steps.contains_key("merge"));
    assert!(b.last_load_error.as_deref().unwrap().starts_with("check: "));
}
