//! `batch_loaded`: a batch is in Snowflake, and a nightly load moves its stream's watermark.
//!
//! Rules, checked in this order:
//! * a nightly batch's watermark never passes an earlier nightly batch of the same stream that
//!   is staged and not loaded ([`ManifestRule::WatermarkPassesUnloaded`]): nightly batches load
//!   in order. A batch abandoned before it was staged marked nothing and does not block;
//! * a batch loads only once it is staged ([`ManifestRule::NotStaged`]), and at most once per
//!   mode ([`ManifestRule::LoadedTwice`]): a replay is a batch of its own;
//! * only a nightly batch loaded as nightly moves the watermark
//!   ([`ManifestRule::WatermarkMode`]), never beyond the batch's window
//!   ([`ManifestRule::WatermarkBeyondWindow`]) and never backwards
//!   ([`ManifestRule::WatermarkBackwards`]);
//! * a batch whose schema changes were held loads only after they were accepted
//!   ([`ManifestRule::SchemaHeld`]).
//!
//! The watermark moves in the same action that marks the batch loaded, never before; the
//! stream's `last_loaded_at` becomes the commit's time whatever the mode.

use super::index::Indexes;
use super::{BatchStatus, ManifestRule, ManifestState, live_batch, violation};
use crate::error::Result;
use crate::manifest::{Action, Commit, Mode};

/// `batch_loaded`: the batch is loaded in one more mode, its last load error cleared.
pub(super) fn batch_loaded(
    state: &mut ManifestState,
    commit: &Commit,
    action: &Action,
) -> Result<()> {
    let Action::BatchLoaded {
        batch_id: id,
        mode,
        watermark,
        ..
    } = action
    else {
        unreachable!("apply_action routes only batch_loaded here");
    };
    // Checked before the batch is borrowed mutably: it reads the stream's other batches, in
    // the index of its staged nightly batches not loaded.
    if watermark.is_some()
        && let Some(batch) = state.batches.get(id)
        && batch.mode == Mode::Nightly
        && let Some(earlier) = Indexes::first_by_id(
            state
                .index
                .unloaded_nightly
                .get(&(batch.object.clone(), batch.entity.clone())),
            batch.created_version,
            false,
        )
        .map(|earlier| &state.batches[earlier])
    {
        return Err(violation(
            commit,
            ManifestRule::WatermarkPassesUnloaded,
            format!(
                "the watermark of {} may not pass batch {}, which is {} and not loaded",
                batch.stream(),
                earlier.batch_id,
                earlier.status
            ),
        ));
    }
    let batch = live_batch(&mut state.batches, commit, id)?;
    if batch.status == BatchStatus::Created {
        return Err(violation(
            commit,
            ManifestRule::NotStaged,
            format!("batch {id} is not staged"),
        ));
    }
    if !batch.loaded_modes.insert(*mode) {
        return Err(violation(
            commit,
            ManifestRule::LoadedTwice,
            format!("batch {id} already loaded in mode {mode}"),
        ));
    }
    if batch.schema_held && !batch.schema_accepted {
        return Err(violation(
            commit,
            ManifestRule::SchemaHeld,
            format!("batch {id} changes its table's schema, which was not accepted"),
        ));
    }
    batch.status = BatchStatus::Loaded;
    batch.last_load_error = None;
    let stream = batch.stream();
    batch.loaded_at.get_or_insert(commit.written_at);
    if let Some(mark) = watermark {
        if batch.mode != Mode::Nightly || *mode != Mode::Nightly {
            return Err(violation(
                commit,
                ManifestRule::WatermarkMode,
                format!(
                    "batch {id} ({} batch loaded as {mode}) may not move the watermark",
                    batch.mode
                ),
            ));
        }
        if *mark > batch.window_to {
            return Err(violation(
                commit,
                ManifestRule::WatermarkBeyondWindow,
                format!("watermark {mark} is beyond batch {id}'s window"),
            ));
        }
        let stream = batch.stream();
        let object = state.objects.entry(stream.clone()).or_default();
        if object.watermark.is_some_and(|w| w > *mark) {
            return Err(violation(
                commit,
                ManifestRule::WatermarkBackwards,
                format!("watermark of {stream} would move backwards to {mark}"),
            ));
        }
        object.watermark = Some(*mark);
    }
    state.objects.entry(stream).or_default().last_loaded_at = Some(commit.written_at);
    Ok(())
}
