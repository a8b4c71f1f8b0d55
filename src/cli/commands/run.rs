//! `run`: the nightly job. Load what an earlier run left staged, extract, load.

use super::super::RunArgs;
use super::super::interrupt::guarded;
use super::{RunSetup, conclude, run_setup};
use crate::error::Result;
use crate::pipeline::{self, Outcome, RunContext};

/// Runs `run`.
pub(in crate::cli) async fn run(args: RunArgs) -> Result<Outcome> {
    if args.dry_run {
        return super::dry_run::dry_run(&args, "run", true).await;
    }
    let RunSetup {
        spec,
        now,
        only,
        options,
    } = run_setup(&args)?;
    let mut ctx = RunContext::open(spec, now).await?;
    ctx.note_clock_hook(args.now.is_some());
    ctx.draw_load_progress(!args.no_progress);
    // Checked before anything is extracted: a key or passphrase problem stops the run here.
    ctx.snowflake()?;
    let saved = guarded(ctx, async |ctx| {
        pipeline::run(ctx, &options, only.as_deref()).await
    })
    .await?;
    Ok(conclude(&saved, false))
}
