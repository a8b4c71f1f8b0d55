//! Compaction of a 10,000-commit history keeps every answer the state gives, and every rule
//! answers a later commit as on the full state; a commit on a large state copies nothing.

use std::collections::BTreeSet;

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::error::Error;
use crate::manifest::BatchState;
use crate::manifest::manifest_history::{self, TAIL_HELD, TAIL_PROGRESS, TAIL_STAGED, history};
use crate::manifest::state::{STATE_CLONES, apply_undoable};
use crate::manifest::{Action, Commit, Manifest, ManifestRule, Mode, fold};
use crate::pipeline::plan::{ReplaySelection, replay_sources};
use crate::pipeline::{prune, status};
use crate::stage::Stage;

const COMMITS: usize = 10_000;

fn full_state() -> ManifestState {
    fold(None, &history(COMMITS)).expect("the history keeps every rule")
}

fn compacted(state: &ManifestState) -> (ManifestState, Removed) {
    let mut out = state.clone();
    let removed = compact(&mut out);
    (out, removed)
}

fn ids<'a>(batches: impl IntoIterator<Item = &'a BatchState>) -> Vec<&'a str> {
    batches.into_iter().map(|b| b.batch_id.as_str()).collect()
}

#[test]
fn compaction_keeps_every_answer_status_replay_and_prune_give() {
    let full = full_state();
    assert_eq!(full.version, COMMITS as u64);
    let (small, removed) = compacted(&full);
    let size = |s: &ManifestState| serde_json::to_vec(s).unwrap().len();
    // The history has failed extracts, loaded batches and pruned ones: each loses something.
    assert!(removed.files > 0 && removed.load_steps > 0 && removed.progress > 0);
    assert!(
        size(&small) < size(&full),
        "{} < {}",
        size(&small),
        size(&full)
    );

    // The same version (the next commit is the same), the same marks, the same batches.
    assert_eq!(small.version, full.version);
    assert_eq!(small.objects, full.objects);
    assert_eq!(
        small.batches.keys().collect::<Vec<_>>(),
        full.batches.keys().collect::<Vec<_>>()
    );
    // `status`, at several instants.
    for days in [0, 30, 400] {
        let now = manifest_history::start() + Duration::days(days);
        assert_eq!(
            status::object_status(&small, now),
            status::object_status(&full, now)
        );
    }
    // Unfinished work is kept whole: the resumed load, the resumed extract, the held change.
    for id in [TAIL_STAGED, TAIL_PROGRESS, TAIL_HELD] {
        assert_eq!(small.batches[id], full.batches[id], "{id}");
    }
    for batch in full.batches.values() {
        let kept = &small.batches[&batch.batch_id];
        if matches!(batch.status, BatchStatus::Created | BatchStatus::Staged) {
            assert_eq!(kept, batch);
        }
        // What a replay loads, and the quarantine status counts.
        if batch.pruned.is_none() && batch.status == BatchStatus::Loaded {
            assert_eq!(
                (&kept.files, &kept.raw_pages),
                (&batch.files, &batch.raw_pages)
            );
        }
        if batch.status != BatchStatus::Failed {
            assert_eq!(kept.quarantine, batch.quarantine);
        }
        assert_eq!(
            kept.load_steps.keys().collect::<Vec<_>>(),
            batch.load_steps.keys().collect::<Vec<_>>()
        );
    }
    // The keys every object's batches merge on.
    let objects: BTreeSet<&str> = full.batches.values().map(|b| b.object.as_str()).collect();
    for object in objects {
        assert_eq!(small.object_keys(object), full.object_keys(object));
        // Every batch a replay of the object could load, with its files.
        let every = ReplaySelection::Object {
            object: object.to_owned(),
            since: None,
            until: None,
        };
        let sources = |s: &ManifestState| -> Vec<(String, Vec<String>)> {
            match replay_sources(s, &every) {
                Ok(found) => found
                    .iter()
                    .map(|b| {
                        let files = b.files.iter().map(|f| f.path.clone()).collect();
                        (b.batch_id.clone(), files)
                    })
                    .collect(),
                Err(error) => vec![(error.to_string(), vec![])],
            }
        };
        assert_eq!(sources(&small), sources(&full), "{object}");
    }
    // What `stage prune` would take, at several horizons.
    for days in [30, 90, 200] {
        let horizon: DateTime<Utc> = manifest_history::start() + Duration::days(days);
        let (a, b) = (
            prune::select(&small, horizon),
            prune::select(&full, horizon),
        );
        assert_eq!(ids(a.prune), ids(b.prune));
        assert_eq!(ids(a.pruned_before), ids(b.pruned_before));
        assert_eq!(ids(a.kept_for_replay), ids(b.kept_for_replay));
    }
}

/// Actions a later commit might carry about `batch`: every family, with fresh and recorded
/// requestIds.
fn probes(batch: &BatchState) -> Vec<Action> {
    let id = batch.batch_id.clone();
    let mut out = vec![];
    let mut steps: BTreeSet<String> = batch.load_steps.keys().cloned().collect();
    steps.insert("copy-1".into());
    for step in &steps {
        let recorded = batch.load_steps.get(step).map(|s| s.request_id.clone());
        out.push(Action::LoadStepStarted {
            batch_id: id.clone(),
            step: step.clone(),
            request_id: "fresh-request-id".into(),
        });
        out.push(Action::LoadStepFinished {
            batch_id: id.clone(),
            step: step.clone(),
            statement_handle: "handle".into(),
            result: serde_json::json!({}),
        });
        if let Some(recorded) = recorded {
            out.push(Action::LoadStepStarted {
                batch_id: id.clone(),
                step: step.clone(),
                request_id: recorded.clone(),
            });
            out.push(Action::LoadStepRunning {
                batch_id: id.clone(),
                step: step.clone(),
                request_id: recorded.clone(),
                statement_handle: "handle".into(),
            });
            out.push(Action::LoadFailed {
                batch_id: id.clone(),
                step: step.clone(),
                error: "422".into(),
                failed_request_id: Some(recorded),
            });
        }
    }
    for (mode, watermark) in [
        (Mode::Nightly, Some(batch.window_to)),
        (Mode::Nightly, None),
        (Mode::Replay, None),
        (Mode::Backfill, None),
    ] {
        out.push(Action::BatchLoaded {
            batch_id: id.clone(),
            mode,
            copy_rows: 0,
            merge_inserted: 0,
            merge_updated: 0,
            watermark,
        });
    }
    out.push(Action::BatchCreated {
        batch_id: format!("{id}-probe-replay"),
        object: batch.object.clone(),
        mode: Mode::Replay,
        window_from: None,
        window_to: batch.window_to,
        schema_fingerprint: batch.schema_fingerprint.clone(),
        replay_of: Some(id.clone()),
        keys: None,
    });
    out.push(Action::BatchCreated {
        batch_id: format!("{id}-probe-nightly"),
        object: batch.object.clone(),
        mode: Mode::Nightly,
        window_from: batch.window_from,
        window_to: batch.window_to,
        schema_fingerprint: batch.schema_fingerprint.clone(),
        replay_of: None,
        keys: Some(crate::manifest::BatchKeys {
            key: "VENDORID".into(),
            watermark_field: "WHENMODIFIED".into(),
        }),
    });
    out.push(Action::BatchPruned {
        batch_id: id.clone(),
        horizon: batch.window_to,
    });
    out.push(Action::BatchFailed {
        batch_id: id.clone(),
        error: "probe".into(),
    });
    out.push(Action::BatchProgress {
        batch_id: id.clone(),
        files: vec![],
        raw_pages: vec![],
        quarantine: vec![],
        cursor: serde_json::Value::Null,
    });
    out.push(Action::BatchStaged {
        batch_id: id.clone(),
        files: batch.files.clone(),
        raw_pages: vec![],
        quarantine: vec![],
        rows: batch.files.iter().map(|f| f.rows).sum(),
        deleted_rows: 0,
        bytes: batch.files.iter().map(|f| f.bytes).sum(),
        staged_up_to: None,
        deletes_up_to: None,
    });
    out.push(Action::SchemaAccepted {
        batch_id: id.clone(),
    });
    out.push(Action::SchemaChanges {
        batch_id: id,
        changes: vec![],
        held: false,
    });
    out
}

/// Applies `action` alone as the next commit, then takes it back: its outcome.
fn outcome(state: &mut ManifestState, action: &Action) -> std::result::Result<(), ManifestRule> {
    let commit = Commit {
        version: state.version + 1,
        written_at: manifest_history::start() + Duration::days(10_000),
        run_id: "probe".into(),
        generation: state.generation,
        actions: vec![action.clone()],
    };
    match apply_undoable(state, &commit) {
        Ok(undo) => {
            undo.undo(state);
            Ok(())
        }
        Err(Error::ManifestRule { rule, .. }) => Err(rule),
        Err(other) => panic!("{other}"),
    }
}

#[test]
fn every_later_commit_is_accepted_or_refused_as_on_the_full_state() {
    let mut full = full_state();
    let (mut small, _) = compacted(&full);
    let batches: Vec<BatchState> = full.batches.values().cloned().collect();
    let (mut accepted, mut refused) = (0, BTreeSet::new());
    for batch in &batches {
        for action in probes(batch) {
            let expected = outcome(&mut full, &action);
            assert_eq!(
                outcome(&mut small, &action),
                expected,
                "{action:?} on {} ({}, pruned: {})",
                batch.batch_id,
                batch.status,
                batch.pruned.is_some()
            );
            match expected {
                Ok(()) => accepted += 1,
                Err(rule) => {
                    refused.insert(format!("{rule:?}"));
                }
            }
        }
    }
    // The probes reach both answers and the rules that guard finished batches.
    assert!(accepted > 0);
    for rule in [
        "RequestIdReplaced",
        "LoadedTwice",
        "ReplayOfPruned",
        "PruneNotLoaded",
        "ActionAfterFailure",
        "KeysChanged",
        "StagedWindowDropped",
        "SchemaHeld",
    ] {
        assert!(refused.contains(rule), "{rule} never answered: {refused:?}");
    }
    // The probes took themselves back: the states are as they were.
    assert_eq!(full, full_state());
}

fn checkpoint_of(state: &ManifestState) -> (String, Bytes) {
    (
        format!("_manifest/_checkpoints/{:020}.json", state.version),
        Bytes::from(serde_json::to_vec(state).unwrap()),
    )
}

#[tokio::test]
async fn a_commit_on_a_large_state_copies_nothing_and_a_refused_or_lost_one_leaves_it_as_it_was() {
    let full = full_state();
    let dir = tempfile::tempdir().unwrap();
    let stage = Stage::open(&format!("file://{}", dir.path().display())).unwrap();
    let (path, body) = checkpoint_of(&full);
    stage.put_create(&path, body).await.unwrap();
    let mut manifest = Manifest::open(stage.clone(), "r").await.unwrap();
    assert_eq!(manifest.state(), &full);
    let request_id = full.batches[TAIL_STAGED].load_steps["copy-1"]
        .request_id
        .clone();

    STATE_CLONES.with(|n| n.set(0));
    // Refused: the copy's outcome is unknown, so its requestId stays.
    let refused = manifest
        .commit(vec![Action::LoadStepStarted {
            batch_id: TAIL_STAGED.into(),
            step: "copy-1".into(),
            request_id: "another".into(),
        }])
        .await;
    assert!(matches!(
        refused,
        Err(Error::ManifestRule {
            rule: ManifestRule::RequestIdReplaced,
            ..
        })
    ));
    assert_eq!(manifest.state(), &full);
    // Another writer took the next version: the commit is taken back, the other one read,
    // and the commit lands after it.
    let theirs = Commit {
        version: full.version + 1,
        written_at: Utc::now(),
        run_id: "other".into(),
        generation: full.generation,
        actions: vec![Action::BatchFailed {
            batch_id: TAIL_PROGRESS.into(),
            error: "given up".into(),
        }],
    };
    stage
        .put_create(
            &format!("_manifest/{:020}.json", theirs.version),
            Bytes::from(serde_json::to_vec(&theirs).unwrap()),
        )
        .await
        .unwrap();
    let version = manifest
        .commit(vec![Action::LoadStepRunning {
            batch_id: TAIL_STAGED.into(),
            step: "copy-1".into(),
            request_id,
            statement_handle: "01b-handle".into(),
        }])
        .await
        .unwrap();
    assert_eq!(version, full.version + 2);
    assert_eq!(STATE_CLONES.with(std::cell::Cell::get), 0);
    let state = manifest.state();
    assert_eq!(state.batches[TAIL_PROGRESS].status, BatchStatus::Failed);
    assert_eq!(
        state.batches[TAIL_STAGED].load_steps["copy-1"]
            .statement_handle
            .as_deref(),
        Some("01b-handle")
    );
    // Everything else is as it was.
    let unchanged = |s: &ManifestState| {
        s.batches
            .values()
            .filter(|b| ![TAIL_PROGRESS, TAIL_STAGED].contains(&b.batch_id.as_str()))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(unchanged(state), unchanged(&full));
}

#[tokio::test]
async fn manifest_compact_writes_the_checkpoint_opening_starts_from_and_the_rules_still_hold() {
    let full = full_state();
    let dir = tempfile::tempdir().unwrap();
    let stage = Stage::open(&format!("file://{}", dir.path().display())).unwrap();
    let (path, body) = checkpoint_of(&full);
    stage.put_create(&path, body).await.unwrap();
    let mut manifest = Manifest::open(stage.clone(), "compact").await.unwrap();

    let done = manifest.compact().await.unwrap();
    // An empty commit took the next version, and its checkpoint is the compacted state.
    assert_eq!(done.version, full.version + 1);
    let (mut expected, _) = compacted(&full);
    expected.version += 1;
    let written: ManifestState =
        serde_json::from_slice(&stage.get(&done.checkpoint).await.unwrap().unwrap()).unwrap();
    assert_eq!(written, expected);
    assert_eq!(
        done.before.bytes,
        serde_json::to_vec(&full).unwrap().len() as u64
    );
    assert_eq!(
        done.after.bytes,
        serde_json::to_vec(&expected).unwrap().len() as u64
    );
    assert!(done.after.bytes < done.before.bytes);
    assert_eq!(manifest.state(), &expected);

    // Opening starts from it.
    let mut reopened = Manifest::open(stage.clone(), "after").await.unwrap();
    assert_eq!(reopened.state(), &expected);
    // A commit on it works, and the rules still refuse.
    let loaded = full
        .batches
        .values()
        .find(|b| b.status == BatchStatus::Loaded && b.mode == Mode::Nightly)
        .unwrap()
        .batch_id
        .clone();
    let pruned = full
        .batches
        .values()
        .find(|b| b.pruned.is_some())
        .unwrap()
        .clone();
    let twice = reopened
        .commit(vec![Action::BatchLoaded {
            batch_id: loaded,
            mode: Mode::Nightly,
            copy_rows: 0,
            merge_inserted: 0,
            merge_updated: 0,
            watermark: None,
        }])
        .await;
    assert!(matches!(
        twice,
        Err(Error::ManifestRule {
            rule: ManifestRule::LoadedTwice,
            ..
        })
    ));
    let of_pruned = reopened
        .commit(vec![Action::BatchCreated {
            batch_id: "replay-of-pruned".into(),
            object: pruned.object.clone(),
            mode: Mode::Replay,
            window_from: None,
            window_to: pruned.window_to,
            schema_fingerprint: pruned.schema_fingerprint.clone(),
            replay_of: Some(pruned.batch_id.clone()),
            keys: None,
        }])
        .await;
    assert!(matches!(
        of_pruned,
        Err(Error::ManifestRule {
            rule: ManifestRule::ReplayOfPruned,
            ..
        })
    ));
    let version = reopened
        .commit(vec![Action::SchemaAccepted {
            batch_id: TAIL_HELD.into(),
        }])
        .await
        .unwrap();
    assert_eq!(version, full.version + 2);
    assert!(reopened.state().batches[TAIL_HELD].schema_accepted);
    // A later open reads the compacted checkpoint and the commit after it.
    let again = Manifest::open(stage, "again").await.unwrap();
    assert_eq!(again.state(), reopened.state());
}
