//! `extract`: stage every object's changes without loading them.

use super::super::RunArgs;
use super::super::interrupt::guarded;
use super::{RunSetup, conclude, run_setup};
use crate::error::Result;
use crate::pipeline::{self, Outcome, RunContext};

/// Runs `extract`.
pub(in crate::cli) async fn extract(args: RunArgs) -> Result<Outcome> {
    if args.dry_run {
        return super::dry_run::dry_run(&args, "extract", false).await;
    }
    let RunSetup {
        spec, now, options, ..
    } = run_setup(&args)?;
    let mut ctx = RunContext::open(spec, now).await?;
    ctx.note_clock_hook(args.now.is_some());
    let saved = guarded(ctx, async |ctx| pipeline::extract(ctx, &options).await).await?;
    Ok(conclude(&saved, false))
}
