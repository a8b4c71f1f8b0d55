//! Unit tests of the manifest fold: each invariant has a commit that breaks it.

use super::*;

fn t(day: u32) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + i64::from(day) * 86_400, 0).unwrap()
}

fn commit(version: u64, actions: Vec<Action>) -> Commit {
    Commit {
        version,
        written_at: t(0),
        run_id: "r".into(),
        actions,
    }
}

fn created(id: &str, mode: Mode, to: u32) -> Action {
    Action::BatchCreated {
        batch_id: id.into(),
        object: "VENDOR".into(),
        mode,
        window_from: None,
        window_to: t(to),
        schema_fingerprint: "f".into(),
    }
}

fn file(rows: u64, bytes: u64) -> StagedFile {
    StagedFile {
        path: "VENDOR/b/part-00001.parquet".into(),
        rows,
        bytes,
        sha256: "00".into(),
    }
}

fn staged(id: &str, up_to: Option<u32>) -> Action {
    Action::BatchStaged {
        batch_id: id.into(),
        files: vec![file(3, 100), file(2, 50)],
        raw_pages: vec![],
        quarantine: vec![],
        rows: 5,
        deleted_rows: 2,
        bytes: 150,
        staged_up_to: up_to.map(t),
        deletes_up_to: None,
    }
}

fn loaded(id: &str, mode: Mode, watermark: Option<u32>) -> Action {
    Action::BatchLoaded {
        batch_id: id.into(),
        mode,
        copy_rows: 5,
        merge_inserted: 5,
        merge_updated: 0,
        watermark: watermark.map(t),
    }
}

fn fold_actions(actions: Vec<Vec<Action>>) -> Result<ManifestState> {
    let commits: Vec<Commit> = actions
        .into_iter()
        .enumerate()
        .map(|(i, a)| commit(i as u64 + 1, a))
        .collect();
    fold(None, &commits)
}

#[test]
fn a_nightly_batch_goes_created_staged_loaded() {
    let state = fold_actions(vec![
        vec![created("a", Mode::Nightly, 5)],
        vec![staged("a", Some(5))],
        vec![loaded("a", Mode::Nightly, Some(4))],
    ])
    .unwrap();
    assert_eq!(state.version, 3);
    let vendor = &state.objects["VENDOR"];
    assert_eq!(vendor.watermark, Some(t(4)));
    assert_eq!(vendor.staged_up_to, Some(t(5)));
    let batch = &state.batches["a"];
    assert_eq!(batch.status, BatchStatus::Loaded);
    assert_eq!((batch.rows, batch.bytes, batch.files.len()), (5, 150, 2));
}

#[test]
fn staging_does_not_move_the_watermark() {
    let state = fold_actions(vec![
        vec![created("a", Mode::Nightly, 5)],
        vec![staged("a", Some(5))],
    ])
    .unwrap();
    assert_eq!(state.objects["VENDOR"].watermark, None);
}

#[test]
fn versions_must_be_contiguous() {
    let commits = vec![
        commit(1, vec![created("a", Mode::Nightly, 1)]),
        commit(3, vec![]),
    ];
    assert!(fold(None, &commits).is_err());
    let checkpoint = fold(None, &commits[..1]).unwrap();
    assert!(fold(Some(checkpoint), &[commit(1, vec![])]).is_err());
}

#[test]
fn every_invariant_rejects_the_commit_that_breaks_it() {
    let base = || {
        vec![
            vec![created("a", Mode::Nightly, 5)],
            vec![staged("a", Some(5))],
        ]
    };
    let breaking: Vec<(&str, Vec<Action>)> = vec![
        ("created twice", vec![created("a", Mode::Nightly, 5)]),
        ("unknown batch", vec![staged("zz", None)]),
        ("staged twice", vec![staged("a", None)]),
        (
            "watermark beyond window",
            vec![loaded("a", Mode::Nightly, Some(6))],
        ),
        (
            "backfill load moves watermark",
            vec![loaded("a", Mode::Backfill, Some(4))],
        ),
        (
            "loaded twice in one mode",
            vec![
                loaded("a", Mode::Nightly, None),
                loaded("a", Mode::Nightly, None),
            ],
        ),
        (
            "step finished before started",
            vec![Action::LoadStepFinished {
                batch_id: "a".into(),
                step: "copy".into(),
                statement_handle: "h".into(),
                result: serde_json::Value::Null,
            }],
        ),
        (
            "action after failure",
            vec![
                Action::BatchFailed {
                    batch_id: "a".into(),
                    error: "boom".into(),
                },
                loaded("a", Mode::Nightly, None),
            ],
        ),
    ];
    for (what, actions) in breaking {
        let mut all = base();
        all.push(actions);
        assert!(fold_actions(all).is_err(), "{what} was accepted");
    }
}

#[test]
fn a_batch_may_be_loaded_once_per_mode() {
    let state = fold_actions(vec![
        vec![created("a", Mode::Nightly, 5)],
        vec![staged("a", Some(5))],
        vec![loaded("a", Mode::Nightly, Some(5))],
        vec![loaded("a", Mode::Replay, None)],
    ])
    .unwrap();
    assert_eq!(state.batches["a"].loaded_modes.len(), 2);
}

#[test]
fn totals_must_match_files_and_loads_need_staging() {
    let mut bad_totals = staged("a", None);
    if let Action::BatchStaged { rows, .. } = &mut bad_totals {
        *rows = 6;
    }
    assert!(fold_actions(vec![vec![created("a", Mode::Nightly, 5)], vec![bad_totals]]).is_err());
    // Tombstones are rows of the parts, so there cannot be more of them than rows.
    let mut too_many_deletes = staged("a", None);
    if let Action::BatchStaged { deleted_rows, .. } = &mut too_many_deletes {
        *deleted_rows = 6;
    }
    let err = fold_actions(vec![
        vec![created("a", Mode::Nightly, 5)],
        vec![too_many_deletes],
    ])
    .unwrap_err();
    assert!(err.to_string().contains("6 deleted rows"), "{err}");
    let state = fold_actions(vec![
        vec![created("a", Mode::Nightly, 5)],
        vec![staged("a", None)],
    ])
    .unwrap();
    assert_eq!(state.batches["a"].deleted_rows, 2);
    assert!(
        fold_actions(vec![
            vec![created("a", Mode::Nightly, 5)],
            vec![loaded("a", Mode::Nightly, None)]
        ])
        .is_err()
    );
    // A backfill batch may not move the nightly staged mark.
    assert!(
        fold_actions(vec![
            vec![created("a", Mode::Backfill, 5)],
            vec![staged("a", Some(5))]
        ])
        .is_err()
    );
}

#[test]
fn the_watermark_never_moves_backwards() {
    let result = fold_actions(vec![
        vec![
            created("a", Mode::Nightly, 5),
            created("b", Mode::Nightly, 9),
        ],
        vec![staged("a", Some(5)), staged("b", Some(9))],
        vec![loaded("b", Mode::Nightly, Some(9))],
        vec![loaded("a", Mode::Nightly, Some(5))],
    ]);
    assert!(result.is_err());
}

#[test]
fn commits_and_states_round_trip_through_json() {
    let c = commit(1, vec![created("a", Mode::Nightly, 5)]);
    let text = serde_json::to_string(&c).unwrap();
    assert!(text.contains(r#""action":"batch_created""#), "{text}");
    assert_eq!(serde_json::from_str::<Commit>(&text).unwrap(), c);
    let state = fold(None, &[c]).unwrap();
    let back: ManifestState =
        serde_json::from_str(&serde_json::to_string(&state).unwrap()).unwrap();
    assert_eq!(back, state);
}

#[test]
fn manifests_written_before_the_delete_feed_still_read() {
    // A batch_staged action and a folded batch as written before `deleted_rows` existed.
    let old = r#"{"action":"batch_staged","batch_id":"a","files":[],"rows":0,"bytes":0,"staged_up_to":null}"#;
    match serde_json::from_str::<Action>(old).unwrap() {
        Action::BatchStaged { deleted_rows, .. } => assert_eq!(deleted_rows, 0),
        other => panic!("unexpected {other:?}"),
    }
    let state = fold_actions(vec![vec![created("a", Mode::Nightly, 5)]]).unwrap();
    let mut value = serde_json::to_value(&state).unwrap();
    value["batches"]["a"]
        .as_object_mut()
        .unwrap()
        .remove("deleted_rows")
        .expect("the field is written");
    let back: ManifestState = serde_json::from_value(value).unwrap();
    assert_eq!(back, state);
}
