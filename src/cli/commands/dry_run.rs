//! `run --dry-run` and `extract --dry-run`: the plan the command would carry out, printed.
//!
//! The windows (each stream's records, its delete feed's, and a line object's window of
//! header changes whose removed lines are looked for), each with why it starts where it does,
//! come from the same planner a run uses ([`crate::pipeline::plan`]), over the manifest as it
//! is now and the same clock; the statements of the staged batches' loads are
//! the ones `sql` prints. Nothing is sent to Intacct (not even a login: the plan needs none)
//! or to Snowflake, nothing is written to the stage, and no run lock is taken, so a dry run
//! is safe beside a running job.

use super::super::RunArgs;
use super::sql::load_statements;
use super::{RunSetup, run_setup};
use crate::error::Result;
use crate::manifest::Manifest;
use crate::pipeline::{Outcome, context, plan};
use crate::stage::Stage;

/// Prints what `run` (with `load_first`: it loads the staged batches before extracting) or
/// `extract` would do.
pub(in crate::cli) async fn dry_run(
    args: &RunArgs,
    command: &str,
    load_first: bool,
) -> Result<Outcome> {
    let RunSetup {
        spec,
        now,
        only,
        options,
    } = run_setup(args)?;
    let stage = Stage::open(&spec.stage.url)?;
    let manifest = Manifest::open(stage.clone(), "dry-run").await?;
    let state = manifest.state();
    let at =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut out = format!(
        "dry run of `{command}` for pipeline {}: nothing is sent to Intacct or Snowflake and nothing is written to the stage\n\
         every window ends at {} (now)\n",
        spec.name,
        at(now)
    );
    let pending = if load_first {
        crate::loader::pending_batches(state, only.as_deref())
    } else {
        Default::default()
    };
    if load_first {
        let count: usize = pending.values().map(Vec::len).sum();
        out.push_str(&format!("\nstaged batches loaded first ({count}):\n"));
        if count == 0 {
            out.push_str("  none\n");
        }
        for id in pending.values().flatten() {
            let batch = &state.batches[id];
            let window = match batch.window_from {
                Some(from) => format!("{} to {}", at(from), at(batch.window_to)),
                None => format!("everything before {}", at(batch.window_to)),
            };
            out.push_str(&format!(
                "  {} batch {} ({} mode, {window}): {} rows in {} files\n",
                batch.stream(),
                batch.batch_id,
                batch.mode,
                batch.rows,
                batch.files.len()
            ));
        }
    }
    out.push_str(&format!(
        "\nwindows extracted:\n{:<24} {:<21} {:<21} why\n",
        "stream", "from", "to"
    ));
    for (planned, why) in plan::nightly_explained(state, &options) {
        let from = |w: &crate::intacct::TimeWindow| w.from.map_or("-".to_owned(), at);
        out.push_str(&format!(
            "{:<24} {:<21} {:<21} {}\n",
            planned.job.stream(),
            from(&planned.window),
            at(planned.window.to),
            why.window
        ));
        if let (Some(window), Some(why)) = (planned.deletes, why.deletes) {
            out.push_str(&format!(
                "{:<24} {:<21} {:<21} {why}\n",
                "  deletes (AUDITHISTORY)",
                from(&window),
                at(window.to),
            ));
        }
        if let (Some(window), Some(why)) = (planned.lines, why.lines) {
            out.push_str(&format!(
                "{:<24} {:<21} {:<21} {why}\n",
                "  removed lines",
                from(&window),
                at(window.to),
            ));
        }
    }
    if !pending.is_empty() {
        out.push_str("\nstatements the load of the staged batches sends:\n\n");
        let names = context::names(&spec)?;
        out.push_str(&load_statements(&stage, &names, state, &pending).await?);
    }
    if load_first {
        out.push_str(
            "\neach batch the extract stages is then loaded the same way: COPY INTO its staging table \
             (the batch's own files), MERGE, DELETE of its staging rows; after CREATE or ALTER TABLE \
             when its schema is new (`intacct-snowflake sql` prints them once the batch is staged)\n",
        );
    }
    print!("{out}");
    Ok(Outcome::Success)
}
