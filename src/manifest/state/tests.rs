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
        generation: 0,
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
        replay_of: None,
        keys: None,
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

fn rule_of(result: Result<ManifestState>) -> ManifestRule {
    match result {
        Err(Error::ManifestRule { rule, .. }) => rule,
        other => panic!("expected a broken manifest rule, got {other:?}"),
    }
}

fn step_started(id: &str, step: &str, request_id: &str) -> Action {
    Action::LoadStepStarted {
        batch_id: id.into(),
        step: step.into(),
        request_id: request_id.into(),
    }
}

#[test]
fn versions_must_be_contiguous() {
    let commits = vec![
        commit(1, vec![created("a", Mode::Nightly, 1)]),
        commit(3, vec![]),
    ];
    assert_eq!(rule_of(fold(None, &commits)), ManifestRule::VersionOrder);
    let checkpoint = fold(None, &commits[..1]).unwrap();
    assert_eq!(
        rule_of(fold(Some(checkpoint), &[commit(1, vec![])])),
        ManifestRule::VersionOrder
    );
}

#[test]
fn every_invariant_rejects_the_commit_that_breaks_it_with_its_rule() {
    let base = || {
        vec![
            vec![created("a", Mode::Nightly, 5)],
            vec![staged("a", Some(5))],
        ]
    };
    let failed = |id: &str| Action::BatchFailed {
        batch_id: id.into(),
        error: "boom".into(),
    };
    let breaking: Vec<(ManifestRule, Vec<Action>)> = vec![
        (
            ManifestRule::CreatedTwice,
            vec![created("a", Mode::Nightly, 5)],
        ),
        (ManifestRule::UnknownBatch, vec![staged("zz", None)]),
        (ManifestRule::StagedOnce, vec![staged("a", None)]),
        (
            ManifestRule::WatermarkBeyondWindow,
            vec![loaded("a", Mode::Nightly, Some(6))],
        ),
        (
            ManifestRule::WatermarkMode,
            vec![loaded("a", Mode::Backfill, Some(4))],
        ),
        (
            ManifestRule::LoadedTwice,
            vec![
                loaded("a", Mode::Nightly, None),
                loaded("a", Mode::Nightly, None),
            ],
        ),
        (
            ManifestRule::StepNotStarted,
            vec![Action::LoadStepFinished {
                batch_id: "a".into(),
                step: "copy".into(),
                statement_handle: "h".into(),
                result: serde_json::Value::Null,
            }],
        ),
        (
            ManifestRule::RequestIdReplaced,
            vec![
                step_started("a", "copy-1", "req-1"),
                step_started("a", "copy-1", "req-2"),
            ],
        ),
        (ManifestRule::StagedWindowDropped, vec![failed("a")]),
        (
            ManifestRule::FailedAfterLoad,
            vec![loaded("a", Mode::Nightly, Some(5)), failed("a")],
        ),
        (
            ManifestRule::ActionAfterFailure,
            vec![
                created("c", Mode::Nightly, 6),
                failed("c"),
                staged("c", None),
            ],
        ),
        (
            ManifestRule::WindowOrder,
            vec![Action::BatchCreated {
                batch_id: "w".into(),
                object: "VENDOR".into(),
                mode: Mode::Backfill,
                window_from: Some(t(9)),
                window_to: t(8),
                schema_fingerprint: "f".into(),
                replay_of: None,
                keys: None,
            }],
        ),
        (
            ManifestRule::UnknownBatch,
            vec![replay_created("r", "nope")],
        ),
    ];
    for (rule, actions) in breaking {
        let mut all = base();
        all.push(actions);
        assert_eq!(
            rule_of(fold_actions(all)),
            rule,
            "{rule} was not the rule broken"
        );
    }
}

fn replay_created(id: &str, source: &str) -> Action {
    Action::BatchCreated {
        batch_id: id.into(),
        object: "VENDOR".into(),
        mode: Mode::Replay,
        window_from: None,
        window_to: t(5),
        schema_fingerprint: "f".into(),
        replay_of: Some(source.into()),
        keys: None,
    }
}

#[test]
fn the_watermark_never_passes_an_earlier_nightly_batch_that_is_not_loaded() {
    let two_staged = || {
        vec![
            vec![created("a", Mode::Nightly, 5)],
            vec![staged("a", Some(5))],
            vec![created("b", Mode::Nightly, 9)],
            vec![staged("b", Some(9))],
        ]
    };
    let mut skipping = two_staged();
    skipping.push(vec![loaded("b", Mode::Nightly, Some(9))]);
    assert_eq!(
        rule_of(fold_actions(skipping)),
        ManifestRule::WatermarkPassesUnloaded
    );
    // A load failure leaves the batch staged: still not passable.
    let mut after_failure = two_staged();
    after_failure.push(vec![Action::LoadFailed {
        batch_id: "a".into(),
        step: "merge".into(),
        error: "timeout".into(),
        failed_request_id: None,
    }]);
    after_failure.push(vec![loaded("b", Mode::Nightly, Some(9))]);
    assert_eq!(
        rule_of(fold_actions(after_failure)),
        ManifestRule::WatermarkPassesUnloaded
    );
    // In order, both load; a batch abandoned before staging (failed) does not block.
    let mut in_order = two_staged();
    in_order.insert(0, vec![created("dead", Mode::Nightly, 2)]);
    in_order.insert(
        1,
        vec![Action::BatchFailed {
            batch_id: "dead".into(),
            error: "abandoned".into(),
        }],
    );
    in_order.push(vec![loaded("a", Mode::Nightly, Some(5))]);
    in_order.push(vec![loaded("b", Mode::Nightly, Some(9))]);
    let state = fold_actions(in_order).unwrap();
    assert_eq!(state.objects["VENDOR"].watermark, Some(t(9)));
}

#[test]
fn a_resumed_step_keeps_its_request_id_and_a_load_failure_is_recorded() {
    let state = fold_actions(vec![
        vec![created("a", Mode::Nightly, 5)],
        vec![staged("a", Some(5))],
        vec![step_started("a", "merge", "req-1")],
        vec![Action::LoadFailed {
            batch_id: "a".into(),
            step: "merge".into(),
            error: "HTTP 503".into(),
            failed_request_id: None,
        }],
        vec![step_started("a", "merge", "req-1")],
    ])
    .unwrap();
    let batch = &state.batches["a"];
    assert_eq!(batch.status, BatchStatus::Staged);
    assert_eq!(batch.load_steps["merge"].request_id, "req-1");
    assert_eq!(batch.last_load_error.as_deref(), Some("merge: HTTP 503"));
}

fn step_failed(id: &str, step: &str, failed_request_id: Option<&str>) -> Action {
    Action::LoadFailed {
        batch_id: id.into(),
        step: step.into(),
        error: "failed".into(),
        failed_request_id: failed_request_id.map(str::to_owned),
    }
}

fn step_running(id: &str, step: &str, request_id: &str, handle: &str) -> Action {
    Action::LoadStepRunning {
        batch_id: id.into(),
        step: step.into(),
        request_id: request_id.into(),
        statement_handle: handle.into(),
    }
}

#[test]
fn while_a_step_outcome_is_unknown_its_request_id_stays() {
    let staged_a = || {
        vec![
            vec![created("a", Mode::Nightly, 5)],
            vec![staged("a", Some(5))],
            vec![step_started("a", "copy-1", "req-1")],
            vec![step_running("a", "copy-1", "req-1", "h-1")],
        ]
    };
    // No answer recorded (a crash, or a failure whose outcome is unknown): a new id is refused.
    let mut crashed = staged_a();
    crashed.push(vec![step_started("a", "copy-1", "req-2")]);
    assert_eq!(
        rule_of(fold_actions(crashed)),
        ManifestRule::RequestIdReplaced
    );
    let mut unknown = staged_a();
    unknown.push(vec![step_failed("a", "copy-1", None)]);
    unknown.push(vec![step_started("a", "copy-1", "req-2")]);
    assert_eq!(
        rule_of(fold_actions(unknown)),
        ManifestRule::RequestIdReplaced
    );
    // A finished step is never attempted again under another id.
    let mut finished = staged_a();
    finished.push(vec![Action::LoadStepFinished {
        batch_id: "a".into(),
        step: "copy-1".into(),
        statement_handle: "h-1".into(),
        result: serde_json::json!({"rows_loaded": 5}),
    }]);
    let mut again = finished.clone();
    again.push(vec![step_failed("a", "copy-1", Some("req-1"))]);
    assert_eq!(rule_of(fold_actions(again)), ManifestRule::StepNotStarted);
    finished.push(vec![step_started("a", "copy-1", "req-2")]);
    assert_eq!(
        rule_of(fold_actions(finished)),
        ManifestRule::RequestIdReplaced
    );
    // The handle of the current attempt is kept; one naming another requestId is refused.
    let state = fold_actions(staged_a()).unwrap();
    let step = &state.batches["a"].load_steps["copy-1"];
    assert_eq!(
        (step.request_id.as_str(), step.statement_handle.as_deref()),
        ("req-1", Some("h-1"))
    );
    assert!(!step.failed && step.result.is_none());
    let mut stray = staged_a();
    stray.push(vec![step_running("a", "copy-1", "req-9", "h-9")]);
    assert_eq!(rule_of(fold_actions(stray)), ManifestRule::StepNotStarted);
    let mut never = staged_a();
    never.push(vec![step_running("a", "merge", "req-1", "h-1")]);
    assert_eq!(rule_of(fold_actions(never)), ManifestRule::StepNotStarted);
}

#[test]
fn after_a_definite_failure_a_new_attempt_takes_a_new_request_id() {
    let mut actions = vec![
        vec![created("a", Mode::Nightly, 5)],
        vec![staged("a", Some(5))],
        vec![step_started("a", "copy-1", "req-1")],
        vec![step_running("a", "copy-1", "req-1", "h-1")],
        vec![step_failed("a", "copy-1", Some("req-1"))],
    ];
    let state = fold_actions(actions.clone()).unwrap();
    let step = &state.batches["a"].load_steps["copy-1"];
    assert!(step.failed);
    assert_eq!(
        state.batches["a"].last_load_error.as_deref(),
        Some("copy-1: failed")
    );
    // Naming an attempt that is not the step's current one is refused.
    let mut wrong = actions.clone();
    wrong.push(vec![step_failed("a", "copy-1", Some("req-0"))]);
    assert_eq!(rule_of(fold_actions(wrong)), ManifestRule::StepNotStarted);
    actions.push(vec![step_started("a", "copy-1", "req-2")]);
    let state = fold_actions(actions.clone()).unwrap();
    let step = &state.batches["a"].load_steps["copy-1"];
    assert_eq!(step.request_id, "req-2");
    assert!(!step.failed);
    assert_eq!(
        step.statement_handle, None,
        "the failed attempt's handle is gone"
    );
    // The new attempt's outcome is unknown until it fails too: its id stays.
    let mut third = actions.clone();
    third.push(vec![step_started("a", "copy-1", "req-3")]);
    assert_eq!(
        rule_of(fold_actions(third)),
        ManifestRule::RequestIdReplaced
    );
    actions.push(vec![step_failed("a", "copy-1", Some("req-2"))]);
    actions.push(vec![step_started("a", "copy-1", "req-3")]);
    let state = fold_actions(actions).unwrap();
    assert_eq!(state.batches["a"].load_steps["copy-1"].request_id, "req-3");
}

#[test]
fn replays_are_batches_of_their_own_and_may_repeat() {
    let state = fold_actions(vec![
        vec![created("a", Mode::Nightly, 5)],
        vec![staged("a", Some(5))],
        vec![loaded("a", Mode::Nightly, Some(5))],
        vec![replay_created("r1", "a"), staged("r1", None)],
        vec![loaded("r1", Mode::Replay, None)],
        vec![replay_created("r2", "a"), staged("r2", None)],
        vec![loaded("r2", Mode::Replay, None)],
    ])
    .unwrap();
    assert_eq!(state.batches["r2"].rows_batch_id(), "a");
    assert_eq!(state.batches["r2"].status, BatchStatus::Loaded);
    assert_eq!(state.objects["VENDOR"].watermark, Some(t(5)));
    // A replay batch never moves the watermark.
    let rule = rule_of(fold_actions(vec![
        vec![created("a", Mode::Nightly, 5)],
        vec![staged("a", Some(5))],
        vec![replay_created("r1", "a"), staged("r1", None)],
        vec![loaded("r1", Mode::Replay, Some(5))],
    ]));
    assert_eq!(rule, ManifestRule::WatermarkMode);
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
    assert_eq!(
        rule_of(fold_actions(vec![
            vec![created("a", Mode::Nightly, 5)],
            vec![bad_totals]
        ])),
        ManifestRule::StagedTotals
    );
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
    assert!(matches!(
        err,
        Error::ManifestRule {
            rule: ManifestRule::StagedTotals,
            ..
        }
    ));
    let state = fold_actions(vec![
        vec![created("a", Mode::Nightly, 5)],
        vec![staged("a", None)],
    ])
    .unwrap();
    assert_eq!(state.batches["a"].deleted_rows, 2);
    assert_eq!(
        rule_of(fold_actions(vec![
            vec![created("a", Mode::Nightly, 5)],
            vec![loaded("a", Mode::Nightly, None)]
        ])),
        ManifestRule::NotStaged
    );
    // A backfill batch may not move the nightly staged mark.
    assert_eq!(
        rule_of(fold_actions(vec![
            vec![created("a", Mode::Backfill, 5)],
            vec![staged("a", Some(5))]
        ])),
        ManifestRule::StagedMark
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
        vec![loaded("a", Mode::Nightly, Some(5))],
        vec![loaded("b", Mode::Nightly, Some(9))],
        vec![created("c", Mode::Nightly, 9), staged("c", Some(9))],
        vec![loaded("c", Mode::Nightly, Some(7))],
    ]);
    assert_eq!(rule_of(result), ManifestRule::WatermarkBackwards);
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

fn created_with(id: &str, key: &str) -> Action {
    let mut action = created(id, Mode::Nightly, 5);
    if let Action::BatchCreated { keys, .. } = &mut action {
        *keys = Some(BatchKeys {
            key: key.into(),
            watermark_field: "WHENMODIFIED".into(),
        });
    }
    action
}

#[test]
fn an_object_keeps_the_key_of_its_first_staged_batch() {
    // Created but never staged: another key may still be chosen.
    let state = fold_actions(vec![
        vec![created_with("a", "VENDORID")],
        vec![created_with("b", "RECORDNO")],
    ])
    .unwrap();
    assert_eq!(state.object_keys("VENDOR"), None);
    assert_eq!(state.batches["a"].keys.key, "VENDORID");

    let staged_on_id = || {
        vec![
            vec![created_with("a", "VENDORID")],
            vec![staged("a", Some(5))],
        ]
    };
    let state = fold_actions(staged_on_id()).unwrap();
    assert_eq!(
        state.object_keys("VENDOR").map(|k| k.key),
        Some("VENDORID".to_owned())
    );
    let mut changed = staged_on_id();
    changed.push(vec![created_with("b", "RECORDNO")]);
    assert_eq!(rule_of(fold_actions(changed)), ManifestRule::KeysChanged);
    // Batches without keys (manifests written before the setting) merge on RECORDNO.
    let mut legacy = staged_on_id();
    legacy.push(vec![created("b", Mode::Nightly, 6)]);
    assert_eq!(rule_of(fold_actions(legacy)), ManifestRule::KeysChanged);
    // Two batches created with different keys: the second to stage is refused.
    let racing = vec![
        vec![created_with("a", "VENDORID")],
        vec![created_with("b", "RECORDNO")],
        vec![staged("a", Some(5))],
        vec![staged("b", None)],
    ];
    assert_eq!(rule_of(fold_actions(racing)), ManifestRule::KeysChanged);
    // A replay merges as its source did.
    let mut replay = staged_on_id();
    replay.push(vec![replay_created("r", "a")]);
    let state = fold_actions(replay).unwrap();
    assert_eq!(state.batches["r"].keys.key, "VENDORID");
}

fn entity(id: &str, entity: &str) -> Action {
    Action::BatchEntity {
        batch_id: id.into(),
        entity: entity.into(),
    }
}

#[test]
fn an_entity_is_named_in_the_commit_that_creates_its_batch_and_nowhere_else() {
    let state = fold_actions(vec![
        vec![created("a", Mode::Nightly, 5), entity("a", "E100")],
        vec![staged("a", Some(5))],
    ])
    .unwrap();
    assert_eq!(state.batches["a"].entity.as_deref(), Some("E100"));
    assert_eq!(state.objects["VENDOR@E100"].staged_up_to, Some(t(5)));
    assert!(!state.objects.contains_key("VENDOR"));

    let later = vec![
        vec![created("a", Mode::Nightly, 5)],
        vec![entity("a", "E100")],
    ];
    assert_eq!(rule_of(fold_actions(later)), ManifestRule::EntityNamed);
    let repeated = vec![
        vec![created("a", Mode::Nightly, 5), entity("a", "E100")],
        vec![entity("a", "E100")],
    ];
    assert_eq!(rule_of(fold_actions(repeated)), ManifestRule::EntityNamed);
    let second = vec![vec![
        created("a", Mode::Nightly, 5),
        entity("a", "E100"),
        entity("a", "E200"),
    ]];
    assert_eq!(rule_of(fold_actions(second)), ManifestRule::EntityNamed);
    assert_eq!(
        rule_of(fold_actions(vec![vec![entity("zz", "E100")]])),
        ManifestRule::UnknownBatch
    );
}

fn progress(id: &str, files: Vec<StagedFile>) -> Action {
    Action::BatchProgress {
        batch_id: id.into(),
        files,
        raw_pages: vec![],
        quarantine: vec![],
        cursor: serde_json::json!({"after": 1}),
    }
}

#[test]
fn extract_progress_only_grows_and_the_staged_batch_keeps_its_files() {
    let state = fold_actions(vec![
        vec![created("a", Mode::Nightly, 5)],
        vec![progress("a", vec![file(3, 100)])],
        vec![progress("a", vec![file(3, 100), file(2, 50)])],
    ])
    .unwrap();
    let recorded = state.batches["a"].progress.as_ref().unwrap();
    assert_eq!(recorded.files, vec![file(3, 100), file(2, 50)]);
    assert_eq!(state.batches["a"].status, BatchStatus::Created);

    // Staging takes the files over and clears the progress.
    let state = fold_actions(vec![
        vec![created("a", Mode::Nightly, 5)],
        vec![progress("a", vec![file(3, 100)])],
        vec![staged("a", Some(5))],
    ])
    .unwrap();
    assert_eq!(state.batches["a"].progress, None);
    assert_eq!(state.batches["a"].files, vec![file(3, 100), file(2, 50)]);

    let dropping = vec![
        vec![created("a", Mode::Nightly, 5)],
        vec![progress("a", vec![file(3, 100), file(2, 50)])],
        vec![progress("a", vec![file(3, 100)])],
    ];
    assert_eq!(rule_of(fold_actions(dropping)), ManifestRule::StagedTotals);
    let other_file = StagedFile {
        path: "VENDOR/b/part-00009.parquet".into(),
        ..file(3, 100)
    };
    let replacing = vec![
        vec![created("a", Mode::Nightly, 5)],
        vec![progress("a", vec![other_file.clone()])],
        vec![progress("a", vec![file(3, 100), file(2, 50)])],
    ];
    assert_eq!(rule_of(fold_actions(replacing)), ManifestRule::StagedTotals);
    let staged_without = vec![
        vec![created("a", Mode::Nightly, 5)],
        vec![progress("a", vec![other_file])],
        vec![staged("a", Some(5))],
    ];
    assert_eq!(
        rule_of(fold_actions(staged_without)),
        ManifestRule::StagedTotals
    );
    let after_staging = vec![
        vec![created("a", Mode::Nightly, 5)],
        vec![staged("a", Some(5))],
        vec![progress("a", vec![file(3, 100)])],
    ];
    assert_eq!(
        rule_of(fold_actions(after_staging)),
        ManifestRule::StagedOnce
    );
}

#[test]
fn the_delete_mark_moves_forward_only_and_stays_within_the_batch_window() {
    let with_deletes = |id: &str, up_to: u32| {
        let mut action = staged(id, Some(5));
        if let Action::BatchStaged {
            deletes_up_to,
            staged_up_to,
            ..
        } = &mut action
        {
            *deletes_up_to = Some(t(up_to));
            *staged_up_to = None;
        }
        action
    };
    let state = fold_actions(vec![
        vec![created("a", Mode::Nightly, 5)],
        vec![with_deletes("a", 7)],
    ])
    .unwrap();
    assert_eq!(state.objects["VENDOR"].deletes_up_to, Some(t(5)));
    let state = fold_actions(vec![
        vec![created("a", Mode::Nightly, 5)],
        vec![with_deletes("a", 5)],
        vec![created("b", Mode::Backfill, 3)],
        vec![with_deletes("b", 3)],
    ])
    .unwrap();
    assert_eq!(state.objects["VENDOR"].deletes_up_to, Some(t(5)));
}

#[test]
fn load_steps_and_load_failures_need_a_staged_batch() {
    let created_only = || vec![vec![created("a", Mode::Nightly, 5)]];
    let mut started = created_only();
    started.push(vec![step_started("a", "copy-1", "req-1")]);
    assert_eq!(rule_of(fold_actions(started)), ManifestRule::NotStaged);
    let mut failed = created_only();
    failed.push(vec![Action::LoadFailed {
        batch_id: "a".into(),
        step: "copy-1".into(),
        error: "HTTP 503".into(),
        failed_request_id: None,
    }]);
    assert_eq!(rule_of(fold_actions(failed)), ManifestRule::NotStaged);
    // A finished step keeps its handle and figures.
    let state = fold_actions(vec![
        vec![created("a", Mode::Nightly, 5)],
        vec![staged("a", Some(5))],
        vec![step_started("a", "copy-1", "req-1")],
        vec![Action::LoadStepFinished {
            batch_id: "a".into(),
            step: "copy-1".into(),
            statement_handle: "h-1".into(),
            result: serde_json::json!({"rows_loaded": 5}),
        }],
    ])
    .unwrap();
    let step = &state.batches["a"].load_steps["copy-1"];
    assert_eq!(step.statement_handle.as_deref(), Some("h-1"));
    assert_eq!(step.result, Some(serde_json::json!({"rows_loaded": 5})));
}

#[test]
fn a_replay_is_created_in_replay_mode_from_a_staged_batch_of_its_object() {
    let staged_a = || {
        vec![
            vec![created("a", Mode::Nightly, 5)],
            vec![staged("a", Some(5))],
        ]
    };
    let mut wrong_mode = staged_a();
    let mut action = replay_created("r", "a");
    if let Action::BatchCreated { mode, .. } = &mut action {
        *mode = Mode::Backfill;
    }
    wrong_mode.push(vec![action]);
    assert_eq!(
        rule_of(fold_actions(wrong_mode)),
        ManifestRule::UnknownBatch
    );
    let mut other_object = staged_a();
    let mut action = replay_created("r", "a");
    if let Action::BatchCreated { object, .. } = &mut action {
        *object = "APBILL".into();
    }
    other_object.push(vec![action]);
    assert_eq!(
        rule_of(fold_actions(other_object)),
        ManifestRule::UnknownBatch
    );
    let unstaged = vec![
        vec![created("a", Mode::Nightly, 5)],
        vec![replay_created("r", "a")],
    ];
    assert_eq!(rule_of(fold_actions(unstaged)), ManifestRule::UnknownBatch);
}

#[test]
fn an_audit_type_check_is_recorded_on_a_batch_being_extracted_only() {
    let check = |id: &str, seen: bool| Action::AuditTypeChecked {
        batch_id: id.into(),
        object_type: "vendor".into(),
        since: t(1),
        seen,
    };
    let state = fold_actions(vec![
        vec![created("a", Mode::Nightly, 5)],
        vec![check("a", false), staged("a", Some(5))],
    ])
    .unwrap();
    assert_eq!(
        state.batches["a"].audit_type_check,
        Some(AuditTypeCheck {
            object_type: "vendor".into(),
            since: t(1),
            seen: false
        })
    );
    // After staging it is too late, and an unknown batch has nothing to check.
    assert_eq!(
        rule_of(fold_actions(vec![
            vec![created("a", Mode::Nightly, 5)],
            vec![staged("a", Some(5))],
            vec![check("a", true)],
        ])),
        ManifestRule::StagedOnce
    );
    assert_eq!(
        rule_of(fold_actions(vec![vec![check("b", true)]])),
        ManifestRule::UnknownBatch
    );
}

#[test]
fn a_load_in_any_mode_dates_the_stream_last_load_and_staging_does_not() {
    let mut commits: Vec<Commit> = vec![
        commit(1, vec![created("a", Mode::Nightly, 5)]),
        commit(2, vec![staged("a", Some(5))]),
    ];
    let state = fold(None, &commits).unwrap();
    assert_eq!(state.objects["VENDOR"].last_loaded_at, None);
    commits.push(Commit {
        written_at: t(6),
        ..commit(3, vec![loaded("a", Mode::Nightly, Some(4))])
    });
    commits.push(Commit {
        written_at: t(8),
        ..commit(4, vec![replay_created("r", "a"), staged("r", None)])
    });
    let state = fold(None, &commits).unwrap();
    assert_eq!(state.objects["VENDOR"].last_loaded_at, Some(t(6)));
    commits.push(Commit {
        written_at: t(9),
        ..commit(5, vec![loaded("r", Mode::Replay, None)])
    });
    let state = fold(None, &commits).unwrap();
    assert_eq!(state.objects["VENDOR"].last_loaded_at, Some(t(9)));
    assert_eq!(state.objects["VENDOR"].watermark, Some(t(4)));
}

fn added(column: &str) -> SchemaChange {
    SchemaChange {
        object: "VENDOR".into(),
        table: "VENDOR".into(),
        column: column.into(),
        kind: crate::manifest::SchemaChangeKind::Added,
        old_type: None,
        new_type: "VARCHAR".into(),
    }
}

fn schema_changes(id: &str, columns: &[&str], held: bool) -> Action {
    Action::SchemaChanges {
        batch_id: id.into(),
        changes: columns.iter().map(|c| added(c)).collect(),
        held,
    }
}

fn pruned(id: &str) -> Action {
    Action::BatchPruned {
        batch_id: id.into(),
        horizon: t(30),
    }
}

#[test]
fn a_held_schema_change_loads_only_after_it_is_accepted() {
    let base = || {
        vec![
            vec![created("a", Mode::Nightly, 5)],
            vec![staged("a", Some(5))],
            vec![schema_changes("a", &["TIER"], true)],
        ]
    };
    let held = fold_actions(base()).unwrap();
    assert_eq!(
        held.held_batches("VENDOR")
            .map(|b| b.batch_id.as_str())
            .collect::<Vec<_>>(),
        ["a"]
    );
    assert_eq!(held.batches["a"].schema_changes, vec![added("TIER")]);

    let mut early = base();
    early.push(vec![loaded("a", Mode::Nightly, Some(5))]);
    assert_eq!(rule_of(fold_actions(early)), ManifestRule::SchemaHeld);
    let mut applied = base();
    applied.push(vec![schema_changes("a", &["TIER"], false)]);
    assert_eq!(rule_of(fold_actions(applied)), ManifestRule::SchemaHeld);

    let mut accepted = base();
    accepted.push(vec![Action::SchemaAccepted {
        batch_id: "a".into(),
    }]);
    accepted.push(vec![schema_changes("a", &["TIER", "RANK"], false)]);
    accepted.push(vec![loaded("a", Mode::Nightly, Some(5))]);
    let state = fold_actions(accepted).unwrap();
    let batch = &state.batches["a"];
    assert_eq!(batch.status, BatchStatus::Loaded);
    assert_eq!(batch.schema_changes, vec![added("TIER"), added("RANK")]);
    assert_eq!(state.held_batches("VENDOR").count(), 0);
}

#[test]
fn only_a_staged_held_batch_is_accepted() {
    let not_held = fold_actions(vec![
        vec![created("a", Mode::Nightly, 5)],
        vec![staged("a", Some(5))],
        vec![Action::SchemaAccepted {
            batch_id: "a".into(),
        }],
    ]);
    assert_eq!(rule_of(not_held), ManifestRule::SchemaNotHeld);
    let not_staged = fold_actions(vec![
        vec![created("a", Mode::Nightly, 5)],
        vec![schema_changes("a", &["TIER"], true)],
    ]);
    assert_eq!(rule_of(not_staged), ManifestRule::NotStaged);
}

#[test]
fn a_reset_batch_moves_no_mark() {
    let state = fold_actions(vec![
        vec![created("a", Mode::Nightly, 5)],
        vec![staged("a", Some(5))],
        vec![loaded("a", Mode::Nightly, Some(5))],
        vec![created("r", Mode::Reset, 9)],
        vec![staged("r", None)],
        vec![loaded("r", Mode::Reset, None)],
    ])
    .unwrap();
    assert_eq!(state.objects["VENDOR"].watermark, Some(t(5)));
    assert_eq!(state.objects["VENDOR"].staged_up_to, Some(t(5)));
    let moves = fold_actions(vec![
        vec![created("r", Mode::Reset, 9)],
        vec![staged("r", None)],
        vec![loaded("r", Mode::Reset, Some(9))],
    ]);
    assert_eq!(rule_of(moves), ManifestRule::WatermarkMode);
    let marks_staged = fold_actions(vec![
        vec![created("r", Mode::Reset, 9)],
        vec![staged("r", Some(9))],
    ]);
    assert_eq!(rule_of(marks_staged), ManifestRule::StagedMark);
}

#[test]
fn only_a_loaded_batch_read_from_intacct_is_pruned_once_and_then_never_replayed() {
    let history = || {
        vec![
            vec![created("a", Mode::Nightly, 5)],
            vec![staged("a", Some(5))],
            vec![loaded("a", Mode::Nightly, Some(5))],
            vec![created("s", Mode::Nightly, 6)],
            vec![staged("s", Some(6))],
        ]
    };
    let with = |more: Vec<Vec<Action>>| {
        let mut all = history();
        all.extend(more);
        fold_actions(all)
    };
    let state = with(vec![vec![pruned("a")]]).unwrap();
    let a = &state.batches["a"];
    assert_eq!(a.status, BatchStatus::Loaded, "a pruned batch stays loaded");
    assert_eq!(a.loaded_at, Some(t(0)));
    assert_eq!(
        a.pruned,
        Some(Pruned {
            at: t(0),
            horizon: t(30)
        })
    );
    assert_eq!(state.objects["VENDOR"].watermark, Some(t(5)));
    assert_eq!(
        rule_of(with(vec![vec![pruned("s")]])),
        ManifestRule::PruneNotLoaded,
        "a staged batch is never pruned"
    );
    assert_eq!(
        rule_of(with(vec![vec![pruned("a")], vec![pruned("a")]])),
        ManifestRule::PruneNotLoaded,
        "pruned once"
    );
    assert_eq!(
        rule_of(with(vec![vec![pruned("nope")]])),
        ManifestRule::UnknownBatch
    );
    assert_eq!(
        rule_of(with(vec![
            vec![pruned("a")],
            vec![replay_created("r", "a")]
        ])),
        ManifestRule::ReplayOfPruned
    );
    // A replay staged and not loaded holds its source's files.
    let replay_pending = vec![
        vec![replay_created("r", "a")],
        vec![staged("r", None)],
        vec![pruned("a")],
    ];
    assert_eq!(rule_of(with(replay_pending)), ManifestRule::PruneInUse);
    // Loaded, the replay lets its source go; the replay itself is never pruned.
    let replay_loaded = vec![
        vec![replay_created("r", "a")],
        vec![staged("r", None)],
        vec![loaded("r", Mode::Replay, None)],
    ];
    let mut then_source = replay_loaded.clone();
    then_source.push(vec![pruned("a")]);
    assert!(with(then_source).is_ok());
    let mut then_replay = replay_loaded;
    then_replay.push(vec![pruned("r")]);
    assert_eq!(rule_of(with(then_replay)), ManifestRule::PruneNotLoaded);
}

#[test]
fn a_commit_from_an_older_lock_generation_than_one_seen_is_refused() {
    let at = |version: u64, generation: u64, id: &str| Commit {
        generation,
        ..commit(version, vec![created(id, Mode::Backfill, 1)])
    };
    // Manifests written before generations read as generation 0; the same generation may
    // commit many times, and a newer one takes over.
    let state = fold(
        None,
        &[at(1, 0, "a"), at(2, 3, "b"), at(3, 3, "c"), at(4, 4, "d")],
    )
    .unwrap();
    assert_eq!(state.generation, 4);
    assert_eq!(
        rule_of(apply(&state, &at(5, 3, "e"))),
        ManifestRule::StaleGeneration
    );
    // The refused commit changed nothing.
    assert_eq!(state.version, 4);
    assert!(!state.batches.contains_key("e"));
    assert_eq!(
        rule_of(fold(None, &[at(1, 2, "a"), at(2, 0, "b")])),
        ManifestRule::StaleGeneration
    );
}

fn abandoned(id: &str) -> Action {
    Action::BatchAbandoned {
        batch_id: id.into(),
        reason: "its files are gone".into(),
    }
}

#[test]
fn abandoning_a_staged_nightly_batch_puts_its_streams_staged_marks_back() {
    let mut with_deletes = staged("b", Some(9));
    if let Action::BatchStaged { deletes_up_to, .. } = &mut with_deletes {
        *deletes_up_to = Some(t(9));
    }
    let state = fold_actions(vec![
        vec![created("a", Mode::Nightly, 5)],
        vec![staged("a", Some(5))],
        vec![loaded("a", Mode::Nightly, Some(5))],
        vec![created("b", Mode::Nightly, 9)],
        vec![with_deletes],
        vec![abandoned("b")],
    ])
    .unwrap();
    let vendor = &state.objects["VENDOR"];
    assert_eq!(vendor.staged_up_to, Some(t(5)), "back to before b");
    assert_eq!(vendor.deletes_up_to, None, "back to before b");
    assert_eq!(vendor.watermark, Some(t(5)), "the watermark never moves");
    assert_eq!(state.batches["b"].status, BatchStatus::Failed);
    assert_eq!(
        state.batches["b"].error.as_deref(),
        Some("abandoned: its files are gone")
    );
    // A created batch, and a staged backfill, move no mark.
    let state = fold_actions(vec![
        vec![created("a", Mode::Nightly, 5)],
        vec![staged("a", Some(5))],
        vec![
            created("c", Mode::Nightly, 9),
            created("d", Mode::Backfill, 3),
        ],
        vec![staged("d", None)],
        vec![abandoned("c"), abandoned("d")],
    ])
    .unwrap();
    assert_eq!(state.objects["VENDOR"].staged_up_to, Some(t(5)));
    assert_eq!(state.batches["c"].status, BatchStatus::Failed);
    assert_eq!(state.batches["d"].status, BatchStatus::Failed);
}

#[test]
fn only_an_unloaded_batch_is_abandoned_and_a_later_nightly_one_first() {
    let base = || {
        vec![
            vec![created("a", Mode::Nightly, 5)],
            vec![staged("a", Some(5))],
            vec![created("b", Mode::Nightly, 9)],
            vec![staged("b", Some(9))],
        ]
    };
    let mut later_first = base();
    later_first.push(vec![abandoned("a")]);
    assert_eq!(
        rule_of(fold_actions(later_first)),
        ManifestRule::AbandonOrder
    );
    let mut in_order = base();
    in_order.push(vec![abandoned("b"), abandoned("a")]);
    let state = fold_actions(in_order).unwrap();
    assert_eq!(state.objects["VENDOR"].staged_up_to, None);

    let mut loaded_one = base();
    loaded_one.push(vec![loaded("a", Mode::Nightly, Some(5))]);
    loaded_one.push(vec![abandoned("a")]);
    assert_eq!(
        rule_of(fold_actions(loaded_one)),
        ManifestRule::AbandonLoaded
    );
    let mut twice = base();
    twice.push(vec![abandoned("b")]);
    twice.push(vec![abandoned("b")]);
    assert_eq!(
        rule_of(fold_actions(twice)),
        ManifestRule::ActionAfterFailure
    );
}
