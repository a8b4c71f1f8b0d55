//! A part changed or removed on the stage after its batch was staged: the batch's load fails
//! with `Error::StagedFile` (the object, batch, file and the difference) before any statement
//! reads it, nothing of it reaches the target table, and its stream's watermark stays put.

use intacct_snowflake::Error;
use intacct_snowflake::error::FileProblem;
use intacct_snowflake::manifest::{BatchStatus, Mode};
use intacct_snowflake::stage::StagedFile;
use sha2::Digest as _;

use crate::support::load_harness::{Harness, Row, T0, at, expected, no_delete_key};

/// The one part of `batch` as the manifest recorded it.
async fn part_of(h: &Harness, batch: &str) -> StagedFile {
    let m = h.manifest.lock().await;
    let files = &m.state().batches[batch].files;
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_changed_after_staging_fails_its_batch_and_loads_nothing() {
    let h = Harness::start(no_delete_key).await;
    // A batch that loads: the table exists and holds exactly these rows.
    let good = vec![Row::live(1, "kept", T0), Row::live(2, "kept too", T0 + 1)];
    h.stage_batch_in(Mode::Nightly, T0 + 10, T0 + 11, &good, false, Some("E0"))
        .await;
    assert!(h.load().await.iter().all(|r| r.error.is_none()));
    assert_eq!(h.target().await, expected(&good));

    // Three batches of other rows, one per entity's stream, each part then tampered with.
    let rows = |first: i64| {
        vec![
            Row::live(first, "never loaded", T0 + 20),
            Row::live(first + 1, "never loaded either", T0 + 21),
        ]
    };
    let overwritten = h
        .stage_batch_in(
            Mode::Nightly,
            T0 + 30,
            T0 + 31,
            &rows(10),
            false,
            Some("E1"),
        )
        .await;
    let replaced = h
        .stage_batch_in(
            Mode::Nightly,
            T0 + 30,
            T0 + 31,
            &rows(20),
            false,
            Some("E2"),
        )
        .await;
    let removed = h
        .stage_batch_in(
            Mode::Nightly,
            T0 + 30,
            T0 + 31,
            &rows(30),
            false,
            Some("E3"),
        )
        .await;
    let mut donor_rows = rows(40);
    donor_rows.push(Row::live(42, "a third row: another size", T0 + 22));
    let donor = h
        .stage_batch_in(Mode::Backfill, T0 + 30, T0 + 31, &donor_rows, false, None)
        .await;
    let on_disk = |file: &StagedFile| h.stage_dir.path().join(&file.path);

    // Overwritten in place: same size, other bytes.
    let overwritten_part = part_of(&h, &overwritten).await;
    let mut bytes = std::fs::read(on_disk(&overwritten_part)).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(on_disk(&overwritten_part), &bytes).unwrap();
    let overwritten_problem = FileProblem::Checksum {
        expected: overwritten_part.sha256.clone(),
        found: hex::encode(sha2::Sha256::digest(&bytes)),
    };
    // Replaced by another batch's valid part (other rows, another size).
    let replaced_part = part_of(&h, &replaced).await;
    let donor_bytes = std::fs::read(on_disk(&part_of(&h, &donor).await)).unwrap();
    std::fs::write(on_disk(&replaced_part), &donor_bytes).unwrap();
    assert_ne!(
        donor_bytes.len() as u64,
        replaced_part.bytes,
        "the sizes differ"
    );
    let replaced_problem = FileProblem::Size {
        expected: replaced_part.bytes,
        found: donor_bytes.len() as u64,
    };
    // Removed.
    let removed_part = part_of(&h, &removed).await;
    std::fs::remove_file(on_disk(&removed_part)).unwrap();

    // The donor is a backfill batch: it loads (its rows are expected in the table).
    let reports = h.load().await;
    let cases = [
        (&overwritten, &overwritten_part, overwritten_problem),
        (&replaced, &replaced_part, replaced_problem),
        (&removed, &removed_part, FileProblem::Missing),
    ];
    for (batch, part, problem) in cases {
        let report = reports
            .iter()
            .find(|r| &r.batch_id == batch)
            .unwrap_or_else(|| panic!("no report for {batch}: {reports:?}"));
        let error = Error::StagedFile {
            object: "VENDOR".into(),
            batch_id: batch.clone(),
            path: part.path.clone(),
            problem,
        };
        assert_eq!(
            report.error.as_deref(),
            Some(format!("files: {error}").as_str())
        );
        assert_eq!(report.statements, 0, "nothing was sent for {batch}");
        let m = h.manifest.lock().await;
        let state = m.state();
        assert_eq!(state.batches[batch].status, BatchStatus::Staged);
        assert_eq!(
            state.batches[batch].last_load_error,
            Some(format!("files: {error}"))
        );
        let stream = state.batches[batch].stream();
        assert_eq!(
            state.objects[&stream].watermark, None,
            "{stream}'s watermark moved"
        );
    }
    let mut in_table = good.clone();
    in_table.extend(donor_rows);
    assert_eq!(h.target().await, expected(&in_table));
    let m = h.manifest.lock().await;
    assert_eq!(m.state().objects["VENDOR@E0"].watermark, Some(at(T0 + 10)));
}
