//! `manifest abandon`: an unloaded batch given up, with the later staged nightly batches of
//! its stream that would otherwise move the watermark past its window.

use chrono::Utc;

use super::super::AbandonArgs;
use super::super::interrupt::guarded;
use crate::error::{Error, Result};
use crate::manifest::{Action, BatchStatus, Mode};
use crate::pipeline::RunContext;

/// Runs `manifest abandon`.
pub(in crate::cli) async fn abandon(args: AbandonArgs) -> Result<()> {
    let spec = crate::config::load(&args.config)?;
    let ctx = RunContext::open(spec, Utc::now()).await?;
    let batch_id = args.batch.clone();
    let reason = args.reason.clone();
    let abandoned = guarded(ctx, async |ctx| {
        let mut manifest = ctx.manifest.lock().await;
        let state = manifest.state();
        let Some(batch) = state.batches.get(&batch_id).cloned() else {
            return Err(Error::UnknownBatch { batch_id });
        };
        // The later staged nightly batches of its stream go first, newest first: the rule
        // refuses the batch while one of them could still move the watermark past it.
        let mut ids: Vec<(u64, String)> = Vec::new();
        if batch.mode == Mode::Nightly && batch.status == BatchStatus::Staged {
            ids.extend(
                state
                    .batches_of_stream(&batch.object, batch.entity.as_deref())
                    .filter(|b| {
                        b.mode == Mode::Nightly
                            && b.created_version > batch.created_version
                            && b.status == BatchStatus::Staged
                    })
                    .map(|b| (b.created_version, b.batch_id.clone())),
            );
        }
        ids.sort();
        ids.reverse();
        ids.push((batch.created_version, batch.batch_id.clone()));
        let actions = ids
            .iter()
            .map(|(_, id)| Action::BatchAbandoned {
                batch_id: id.clone(),
                reason: reason.clone(),
            })
            .collect();
        manifest.commit(actions).await?;
        let state = manifest.state();
        let marks = state
            .objects
            .get(&batch.stream())
            .cloned()
            .unwrap_or_default();
        Ok((batch, ids, marks))
    })
    .await?;
    let (batch, ids, marks) = abandoned;
    for (_, id) in &ids {
        println!("abandoned: batch {id} of {}", batch.stream());
    }
    if batch.mode == Mode::Nightly && batch.status == BatchStatus::Staged {
        let mark = marks.staged_up_to.max(marks.watermark);
        println!(
            "the next run reads {} again from {} (its mark, minus the lookback)",
            batch.stream(),
            mark.map_or_else(|| "the beginning".to_owned(), |m| m.to_rfc3339())
        );
    }
    Ok(())
}
