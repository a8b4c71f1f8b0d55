//! `stage prune`: the files of batches loaded before the horizon removed from the stage.

use super::super::PruneArgs;
use super::super::interrupt::guarded;
use super::{conclude, parse_duration};
use crate::error::Result;
use crate::manifest::Manifest;
use crate::pipeline::{self, Outcome, RunContext};
use crate::stage::Stage;

/// Runs `stage prune`.
pub(in crate::cli) async fn prune(args: PruneArgs) -> Result<Outcome> {
    let spec = crate::config::load(&args.config)?;
    let older_than = parse_duration("--older-than", &args.older_than)?;
    let now = pipeline::parse_now(args.now.as_deref())?;
    if args.dry_run {
        // No lock and nothing written: what a prune would remove as the stage is now.
        let stage = Stage::open(&spec.stage.url)?;
        let manifest = Manifest::open(stage.clone(), "prune-dry-run").await?;
        let report = pipeline::prune_dry_run(&stage, manifest.state(), now, older_than).await?;
        print!("{}", super::super::summary::pruned(&report, true));
        return Ok(Outcome::Success);
    }
    let mut ctx = RunContext::open(spec, now).await?;
    ctx.note_clock_hook(args.now.is_some());
    let saved = guarded(ctx, async |ctx| pipeline::prune(ctx, older_than).await).await?;
    Ok(conclude(&saved, false))
}
