//! The loader against the Snowflake emulator: every target table must end equal to the
//! expected rows, values included, whatever repeats, replays, faults and crashes happen.

mod attempts;
mod crash;
mod staged_files;
mod staging_count;
mod unchanged;
mod views;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use intacct_snowflake::manifest::{BatchStatus, Mode};

use crate::support::load_harness::{
    Expected, HOSTILE, Harness, Row, T0, at, expected, no_delete_key,
};

/// `pipelines/demo.toml` changed by `edit`, written to `dir`: what a test's `World` runs with.
fn demo_pipeline_with(dir: &Path, edit: impl FnOnce(String) -> String) -> PathBuf {
    let text =
        std::fs::read_to_string(crate::support::repo_root().join("pipelines/demo.toml")).unwrap();
    let path = dir.join("pipeline.toml");
    std::fs::write(&path, edit(text)).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_loads_once_moves_the_watermark_and_a_replay_changes_nothing() {
    let h = Harness::start(no_delete_key).await;
    let rows = vec![
        Row::live(1, "Acme & Sons <ltd>", T0),
        Row::live(2, "Zoë 日本 😀", T0 + 5),
        Row::live(3, "tab\there", T0 + 9),
    ];
    let batch = h.stage_batch(Mode::Nightly, T0 + 60, T0 + 61, &rows).await;
    let reports = h.load().await;
    assert_eq!(reports.len(), 1);
    let r = &reports[0];
    assert_eq!(r.error, None);
    assert_eq!((r.copy_rows, r.merge_inserted, r.merge_updated), (3, 3, 0));
    // COPY, the staging count, MERGE, cleanup, plus the two CREATE TABLEs of a new object.
    assert_eq!(r.statements, 6);
    assert_eq!(h.target().await, expected(&rows));
    assert_eq!(h.staging_rows().await, 0);
    {
        let m = h.manifest.lock().await;
        let state = m.state();
        assert_eq!(state.batches[&batch].status, BatchStatus::Loaded);
        assert_eq!(state.objects["VENDOR"].watermark, Some(at(T0 + 60)));
    }
    // Nothing is pending: a second load sends nothing.
    assert!(h.load().await.is_empty());
    // The same files again, as a replay (FORCE): same table, nothing updated.
    let replay = h.stage_replay(&batch).await;
    let reports = h.load().await;
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].error, None);
    assert_eq!(reports[0].copy_rows, 3);
    assert_eq!(
        (reports[0].merge_inserted, reports[0].merge_updated),
        (0, 0)
    );
    assert_eq!(h.target().await, expected(&rows));
    assert_eq!(h.staging_rows().await, 0);
    let m = h.manifest.lock().await;
    assert_eq!(m.state().batches[&replay].status, BatchStatus::Loaded);
    assert_eq!(m.state().objects["VENDOR"].watermark, Some(at(T0 + 60)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_batch_replayed_after_a_newer_one_never_overwrites_it() {
    let h = Harness::start(no_delete_key).await;
    let old = vec![Row::live(1, "old one", T0), Row::live(2, "old two", T0)];
    let old_batch = h.stage_batch(Mode::Nightly, T0 + 10, T0 + 11, &old).await;
    let mut new = vec![
        Row::live(1, "new one", T0 + 100),
        Row::tombstone(2, T0 + 100),
    ];
    new[0].total_due = Some(-744_288_230_216_694_000_000_000);
    h.stage_batch(Mode::Nightly, T0 + 200, T0 + 201, &new).await;
    let reports = h.load().await;
    assert!(reports.iter().all(|r| r.error.is_none()), "{reports:?}");
    let mut want = expected(&new);
    // A tombstone marks the row deleted and keeps its last values.
    want.insert(
        2,
        Expected {
            deleted: true,
            modified: Some(T0 + 100),
            ..Expected::from(&old[1])
        },
    );
    assert_eq!(h.target().await, want);
    h.stage_replay(&old_batch).await;
    let reports = h.load().await;
    assert_eq!(reports[0].error, None);
    assert_eq!(
        (reports[0].merge_inserted, reports[0].merge_updated),
        (0, 0)
    );
    assert_eq!(
        h.target().await,
        want,
        "the replayed old batch changed newer rows"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_key_twice_in_a_batch_and_a_record_without_whenmodified_take_the_newest() {
    let h = Harness::start(no_delete_key).await;
    // Key 1 twice (the lookback re-read it after a change); key 2 has no WHENMODIFIED yet.
    let mut first = vec![
        Row::live(1, "first read", T0),
        Row::live(1, "second read", T0 + 30),
        Row::live(2, "created only", T0),
    ];
    first[2].modified = None;
    first[2].created = Some(T0 - 500);
    h.stage_batch(Mode::Nightly, T0 + 60, T0 + 61, &first).await;
    let reports = h.load().await;
    assert_eq!(reports[0].error, None);
    assert_eq!(reports[0].merge_inserted, 2);
    let mut want = BTreeMap::new();
    want.insert(1, Expected::from(&first[1]));
    want.insert(2, Expected::from(&first[2]));
    assert_eq!(h.target().await, want);
    // Later modified, then deleted: both must land on the row first seen without WHENMODIFIED.
    let modified = vec![Row::live(2, "now modified", T0 + 100)];
    h.stage_batch(Mode::Nightly, T0 + 160, T0 + 161, &modified)
        .await;
    let deleted = vec![Row::tombstone(2, T0 + 200)];
    h.stage_batch(Mode::Nightly, T0 + 260, T0 + 261, &deleted)
        .await;
    let reports = h.load().await;
    assert!(reports.iter().all(|r| r.error.is_none()), "{reports:?}");
    want.insert(
        2,
        Expected {
            deleted: true,
            modified: Some(T0 + 200),
            ..Expected::from(&modified[0])
        },
    );
    assert_eq!(h.target().await, want);
}

fn vendor_id_key(object: &str) -> Option<&'static str> {
    (object == "VENDOR").then_some("VENDORID")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tombstones_named_by_an_id_delete_the_records_with_that_id_only() {
    let h = Harness::start(vendor_id_key).await;
    // Record 6000 and a vendor whose ID is "6000" are different records.
    let mut rows = vec![
        Row::live(6000, "record six thousand", T0),
        Row::live(7, "vendor 6000", T0),
    ];
    rows[1].vendor_id = Some("6000".into());
    h.stage_batch(Mode::Nightly, T0 + 60, T0 + 61, &rows).await;
    // A delete names the vendor by its ID, RECORDNO empty; a same-batch record with another ID
    // is created and deleted in one window.
    let mut gone = Row {
        vendor_id: Some("6000".into()),
        modified: Some(T0 + 100),
        deleted: true,
        ..Row::default()
    };
    gone.record_no = None;
    let mut created = Row::live(8, "created then deleted", T0 + 110);
    created.vendor_id = Some("V-TEMP".into());
    let temp_gone = Row {
        vendor_id: Some("V-TEMP".into()),
        modified: Some(T0 + 120),
        deleted: true,
        ..Row::default()
    };
    h.stage_batch(
        Mode::Nightly,
        T0 + 160,
        T0 + 161,
        &[gone, created.clone(), temp_gone],
    )
    .await;
    let reports = h.load().await;
    assert!(reports.iter().all(|r| r.error.is_none()), "{reports:?}");
    let target = h.target().await;
    assert_eq!(
        target[&6000],
        Expected::from(&rows[0]),
        "record 6000 was touched"
    );
    assert!(target[&7].deleted, "vendor 6000 was not deleted");
    assert_eq!(target[&7].name.as_deref(), Some("vendor 6000"));
    assert!(
        target[&8].deleted,
        "a record created and deleted in one batch stays live"
    );
    assert_eq!(target.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_column_is_added_before_its_batch_and_a_changed_type_is_refused_by_name() {
    let h = Harness::start(no_delete_key).await;
    h.stage_batch(Mode::Nightly, T0 + 60, T0 + 61, &[Row::live(1, "one", T0)])
        .await;
    let newer = vec![Row::live(2, "two", T0 + 100)];
    h.stage_batch_with(Mode::Nightly, T0 + 160, T0 + 161, &newer, true)
        .await;
    let reports = h.load().await;
    assert!(reports.iter().all(|r| r.error.is_none()), "{reports:?}");
    let tiers = h
        .query("SELECT \"RECORDNO\", \"REBATE_TIER\" FROM \"INTACCT\".\"RAW\".\"VENDOR\" ORDER BY \"RECORDNO\"")
        .await;
    assert_eq!(
        tiers,
        vec![
            vec![Some("1".to_owned()), None],
            vec![Some("2".to_owned()), Some("tier-2".to_owned())]
        ]
    );
    // `init` again with both schemas known: nothing to change, nothing dropped.
    let sent = h.init().await;
    assert!(
        sent.iter()
            .all(|s| !s.contains("ALTER TABLE") && !s.contains("DROP")),
        "{sent:?}"
    );
    // A column whose type changed is refused, naming object, column and both types; the batch
    // stays staged and the one after it waits.
    h.query("ALTER TABLE \"INTACCT\".\"RAW\".\"VENDOR\" DROP COLUMN \"REBATE_TIER\"")
        .await;
    h.query("ALTER TABLE \"INTACCT\".\"RAW\".\"VENDOR\" ADD COLUMN \"REBATE_TIER\" NUMBER(38,0)")
        .await;
    let blocked = h
        .stage_batch_with(
            Mode::Nightly,
            T0 + 260,
            T0 + 261,
            &[Row::live(3, "x", T0 + 200)],
            true,
        )
        .await;
    let waiting = h
        .stage_batch_with(
            Mode::Nightly,
            T0 + 360,
            T0 + 361,
            &[Row::live(4, "y", T0 + 300)],
            true,
        )
        .await;
    let reports = h.load().await;
    let error = reports[0].error.as_deref().unwrap();
    assert!(
        error.contains("column REBATE_TIER of VENDOR is NUMBER(38,0) in Snowflake but VARCHAR"),
        "{error}"
    );
    assert!(
        reports[1]
            .error
            .as_deref()
            .unwrap()
            .contains(&format!("waits for batch {blocked}"))
    );
    let m = h.manifest.lock().await;
    let state = m.state();
    assert_eq!(state.batches[&blocked].status, BatchStatus::Staged);
    assert!(state.batches[&blocked].last_load_error.is_some());
    assert_eq!(state.batches[&waiting].status, BatchStatus::Staged);
    assert_eq!(state.objects["VENDOR"].watermark, Some(at(T0 + 160)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_emulator_fault_kind_still_loads_each_batch_exactly_once() {
    let h = Harness::start(no_delete_key).await;
    let mut want = BTreeMap::new();
    let kinds = [
        "429:any:nth=1",
        "503:copy:nth=1",
        "401:merge:nth=1",
        "drop:copy:nth=1",
        "drop:merge:nth=1",
        "running=3:merge:nth=1",
        "slow=1:other:nth=1",
        "429:any:rate=0.3,503:any:rate=0.2,drop:any:rate=0.2,seed=11",
    ];
    for (i, spec) in kinds.iter().enumerate() {
        let i = i as i64;
        let rows = vec![
            Row::live(10 * i + 1, &format!("fault {spec}"), T0 + 100 * i),
            Row::live(10 * i + 2, "second", T0 + 100 * i),
        ];
        h.emulator.set_faults(spec).await;
        h.stage_batch(Mode::Nightly, T0 + 100 * i + 50, T0 + 100 * i + 51, &rows)
            .await;
        let reports = h.load().await;
        h.emulator.set_faults("").await;
        assert_eq!(reports.len(), 1, "{spec}: {reports:?}");
        assert_eq!(reports[0].error, None, "{spec}");
        assert_eq!(
            reports[0].copy_rows + reports[0].merge_inserted,
            4,
            "{spec}: {reports:?}"
        );
        want.extend(expected(&rows));
        assert_eq!(h.target().await, want, "{spec}");
        assert_eq!(h.staging_rows().await, 0, "{spec}");
    }
    let m = h.manifest.lock().await;
    for batch in m.state().batches.values() {
        assert_eq!(batch.status, BatchStatus::Loaded);
        assert_eq!(batch.loaded_modes.len(), 1);
    }
    let stats = h.emulator.stats().await;
    assert!(stats.to_string().contains("faults"), "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_per_batch_do_not_grow_with_rows_or_files() {
    let h = Harness::start(no_delete_key).await;
    h.stage_batch(
        Mode::Nightly,
        T0 + 1,
        T0 + 2,
        &[Row::live(1, "warm-up", T0)],
    )
    .await;
    h.load().await;
    for size in [1_i64, 500, 5_000] {
        let rows: Vec<Row> = (0..size)
            .map(|i| Row::live(100_000 + size * 10 + i, "row", T0 + size))
            .collect();
        h.stage_batch(Mode::Nightly, T0 + size + 10, T0 + size + 11, &rows)
            .await;
        let reports = h.load().await;
        assert_eq!(reports[0].error, None);
        assert_eq!(
            reports[0].statements, 4,
            "{size} rows: COPY, the staging count, MERGE, DELETE"
        );
        assert_eq!(reports[0].copy_rows, size as u64);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_column_name_is_one_quoted_identifier() {
    let h = Harness::start(no_delete_key).await;
    let rows = vec![Row::live(1, "quoted", T0)];
    h.stage_batch(Mode::Nightly, T0 + 60, T0 + 61, &rows).await;
    let reports = h.load().await;
    assert_eq!(reports[0].error, None);
    let columns = h
        .query("SELECT COLUMN_NAME FROM \"INTACCT\".INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = 'RAW' AND TABLE_NAME = 'VENDOR' ORDER BY ORDINAL_POSITION")
        .await;
    let names: Vec<String> = columns.into_iter().map(|r| r[0].clone().unwrap()).collect();
    assert!(names.contains(&HOSTILE.to_uppercase()), "{names:?}");
    assert!(!names.iter().any(|n| n == "Y"), "{names:?}");
    assert_eq!(h.target().await, expected(&rows));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_batch_of_one_entity_loads_and_each_entity_keeps_its_own_watermark() {
    let h = Harness::start(no_delete_key).await;
    let east = vec![Row::live(1, "east", T0)];
    let west = vec![Row::live(2, "west", T0)];
    h.stage_batch_in(
        Mode::Nightly,
        T0 + 100,
        T0 + 101,
        &east,
        false,
        Some("E100"),
    )
    .await;
    h.stage_batch_in(Mode::Nightly, T0 + 50, T0 + 51, &west, false, Some("E200"))
        .await;
    let reports = h.load().await;
    assert!(reports.iter().all(|r| r.error.is_none()), "{reports:?}");
    // E100's batch over an earlier window, staged after E100's newer one loaded.
    let late = vec![Row::live(3, "late east", T0 + 10)];
    let late_batch = h
        .stage_batch_in(Mode::Nightly, T0 + 80, T0 + 81, &late, false, Some("E100"))
        .await;
    let newer_west = vec![Row::live(4, "west again", T0 + 60)];
    h.stage_batch_in(
        Mode::Nightly,
        T0 + 90,
        T0 + 91,
        &newer_west,
        false,
        Some("E200"),
    )
    .await;
    let reports = h.load().await;
    assert_eq!(reports.len(), 2);
    assert!(reports.iter().all(|r| r.error.is_none()), "{reports:?}");
    let mut want = expected(&east);
    for rows in [&west, &late, &newer_west] {
        want.extend(expected(rows));
    }
    assert_eq!(h.target().await, want);
    let m = h.manifest.lock().await;
    let state = m.state();
    assert_eq!(state.batches[&late_batch].status, BatchStatus::Loaded);
    // Each stream's watermark is its own: the late batch never moved E100's back.
    assert_eq!(state.objects["VENDOR@E100"].watermark, Some(at(T0 + 100)));
    assert_eq!(state.objects["VENDOR@E200"].watermark, Some(at(T0 + 90)));
    assert!(!state.objects.contains_key("VENDOR"));
}
