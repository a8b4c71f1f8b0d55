//! `reset`: one object rebuilt from Intacct beside its live table and swapped in, and
//! `accept-schema`: a frozen object's held schema changes accepted.
//!
//! A reset reads the whole object (as its first run did) into a [`Mode::Reset`] batch, loads
//! it into `<OBJECT>__RESET` and swaps that with the live table in one statement, so the live
//! table is readable, and never empty, at every moment (see `crate::loader`'s load). Each step
//! is recorded like any load, so a crash resumes: running `reset` again loads a reset batch
//! that was staged and not yet loaded (at the step it reached), and gives up one whose read
//! never finished before reading again. A reset moves no mark: the nightly watermark stays
//! where it was, so the next nightly window re-reads from before the reset and takes every
//! change Intacct made while it ran (the MERGE keeps the newer row of each key).

use std::collections::BTreeMap;

use super::plan::PlannedExtract;
use super::{CommandName, ExtractOptions, RunContext, RunReport, SavedReport};
use crate::error::{Error, Result};
use crate::intacct::TimeWindow;
use crate::manifest::{Action, BatchStatus, Mode, SchemaChange};

/// `reset --object X`: resumes an unfinished reset of `object`, or reads it anew, loads it
/// beside the live table and swaps it in.
pub async fn reset(
    ctx: &RunContext,
    options: &ExtractOptions,
    object: &str,
) -> Result<SavedReport> {
    let jobs: Vec<_> = options
        .objects
        .iter()
        .filter(|j| j.name == object)
        .collect();
    let job = match jobs.as_slice() {
        [job] if job.entity.is_none() => (*job).clone(),
        [] => {
            return Err(Error::Config {
                location: "--object".into(),
                message: format!("{object} is not in the pipeline's extract.objects"),
            });
        }
        _ => {
            return Err(Error::Config {
                location: "--object".into(),
                message: format!(
                    "{object} is read per entity (intacct.entities); reset rebuilds an object \
                     read through one company session only"
                ),
            });
        }
    };
    let mut report = RunReport::new(CommandName::Reset, ctx);
    let (unfinished, abandoned) = {
        let manifest = ctx.manifest.lock().await;
        let resets: Vec<_> = manifest
            .state()
            .batches_of(object)
            .filter(|b| b.mode == Mode::Reset)
            .collect();
        (
            resets
                .iter()
                .find(|b| b.status == BatchStatus::Staged)
                .map(|b| b.batch_id.clone()),
            resets
                .iter()
                .filter(|b| b.status == BatchStatus::Created)
                .map(|b| b.batch_id.clone())
                .collect::<Vec<_>>(),
        )
    };
    if !abandoned.is_empty() {
        let actions = abandoned
            .iter()
            .map(|id| Action::BatchFailed {
                batch_id: id.clone(),
                error: "a reset that stopped before its read finished; read again".into(),
            })
            .collect();
        ctx.manifest.lock().await.commit(actions).await?;
    }
    let batch_id = match unfinished {
        Some(batch_id) => {
            tracing::info!(object, batch_id = %batch_id, "resuming the reset staged earlier");
            batch_id
        }
        None => {
            let planned = PlannedExtract {
                job,
                mode: Mode::Reset,
                window: TimeWindow {
                    from: None,
                    to: ctx.now,
                },
                // A whole read holds only live records and live lines.
                deletes: None,
                lines: None,
                resume: None,
            };
            let client = ctx.intacct()?;
            let progress = super::progress::Progress::new(options.progress);
            report.objects = super::extract::extract(
                &client,
                ctx.manifest.clone(),
                options,
                &[planned],
                &progress,
                None,
            )
            .await;
            match report.objects.first() {
                Some(o) if o.error.is_none() && !o.batch_id.is_empty() => o.batch_id.clone(),
                _ => return report.save(ctx).await,
            }
        }
    };
    let load = ctx.load_context()?;
    report.loads =
        crate::loader::load_batches(&load, BTreeMap::from([(object.to_owned(), vec![batch_id])]))
            .await;
    report.save(ctx).await
}

/// `accept-schema --object X`: accepts the schema changes every held batch of `object`
/// brings; the next `load` or `run` applies them and loads the batches. Returns each accepted
/// batch with its changes (none: nothing was held).
pub async fn accept_schema(
    ctx: &RunContext,
    object: &str,
) -> Result<Vec<(String, Vec<SchemaChange>)>> {
    let mut manifest = ctx.manifest.lock().await;
    let held: Vec<(String, Vec<SchemaChange>)> = manifest
        .state()
        .held_batches(object)
        .map(|b| (b.batch_id.clone(), b.schema_changes.clone()))
        .collect();
    if !held.is_empty() {
        let actions = held
            .iter()
            .map(|(batch_id, _)| Action::SchemaAccepted {
                batch_id: batch_id.clone(),
            })
            .collect();
        manifest.commit(actions).await?;
    }
    Ok(held)
}
