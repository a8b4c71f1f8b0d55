//! The indexes the fold keeps one batch at a time equal the ones made from the batches alone,
//! all along a long history, after a refused commit and after an undone one.

use chrono::Duration;

use super::Indexes;
use crate::manifest::manifest_history::{TAIL_STAGED, history};
use crate::manifest::state::{ManifestState, apply_in_place, apply_undoable};
use crate::manifest::{Action, Commit};

fn rebuilt(state: &ManifestState) -> Indexes {
    let mut copy = state.clone();
    copy.reindex();
    copy.index
}

/// The first staged or loaded batch's keys, read from the batches themselves.
fn rebuilt_keys(state: &ManifestState, object: &str) -> Option<crate::manifest::BatchKeys> {
    state
        .batches
        .values()
        .filter(|b| {
            b.object == object
                && matches!(
                    b.status,
                    super::BatchStatus::Staged | super::BatchStatus::Loaded
                )
        })
        .min_by_key(|b| b.created_version)
        .map(|b| b.keys.clone())
}

#[test]
fn the_kept_indexes_equal_the_rebuilt_ones_all_along_a_long_fold() {
    let commits = history(10_000);
    let mut state = ManifestState::default();
    // Which index held an entry at some check: a check of empty indexes proves nothing.
    let mut seen = [false; 4];
    for (n, commit) in commits.iter().enumerate() {
        apply_in_place(&mut state, commit).expect("the history keeps every rule");
        if n % 7 == 0 || n + 1 == commits.len() {
            assert!(
                state.index == rebuilt(&state),
                "the indexes differ from the rebuilt ones after version {}",
                commit.version
            );
            let i = &state.index;
            for (seen, held) in seen.iter_mut().zip([
                !i.unloaded_nightly.is_empty(),
                !i.nightly_on_stage.is_empty(),
                !i.open_replays.is_empty(),
                !i.keyed.is_empty(),
            ]) {
                *seen |= held;
            }
        }
    }
    assert_eq!(seen, [true; 4], "every index held entries at some check");
    // Ground truth from the batches themselves, not from the index code: every batch staged
    // or loaded is keyed under its object.
    let keyed: usize = state.index.keyed.values().map(|s| s.len()).sum();
    let staged_or_loaded = state
        .batches
        .values()
        .filter(|b| {
            matches!(
                b.status,
                super::BatchStatus::Staged | super::BatchStatus::Loaded
            )
        })
        .count();
    assert_eq!(keyed, staged_or_loaded);

    // A commit refused half-way, and an accepted one taken back, leave the indexes as they were.
    let before = state.index.clone();
    let at = commits.last().unwrap().written_at + Duration::minutes(1);
    let commit = |version: u64, actions: Vec<Action>| Commit {
        version,
        written_at: at,
        run_id: "check".into(),
        generation: 0,
        actions,
    };
    // The tail's staged batch given up: it leaves the object's staged batches.
    let abandon = Action::BatchAbandoned {
        batch_id: TAIL_STAGED.into(),
        reason: "its files are gone".into(),
    };
    let refused = commit(
        state.version + 1,
        vec![
            abandon.clone(),
            Action::BatchFailed {
                batch_id: "never-created".into(),
                error: "x".into(),
            },
        ],
    );
    assert!(apply_undoable(&mut state, &refused).is_err());
    assert!(
        state.index == before,
        "a refused commit left its changes in the indexes"
    );
    let accepted = commit(state.version + 1, vec![abandon]);
    let undo = apply_undoable(&mut state, &accepted).unwrap();
    assert!(
        state.index != before,
        "abandoning the tail's batch changes the indexes"
    );
    assert!(
        state.index == rebuilt(&state),
        "the indexes differ after the commit"
    );
    assert_eq!(state.object_keys("VENDOR"), rebuilt_keys(&state, "VENDOR"));
    undo.undo(&mut state);
    assert!(
        state.index == before,
        "the undo left the commit's changes in the indexes"
    );
}
