//! `replay`: saved batches loaded again from the stage alone.

use chrono::Utc;

use super::super::ReplayArgs;
use super::super::interrupt::guarded;
use super::{conclude, parse_instant};
use crate::error::Result;
use crate::pipeline::plan::ReplaySelection;
use crate::pipeline::{self, Outcome, RunContext};

/// Runs `replay`.
pub(in crate::cli) async fn replay(args: ReplayArgs) -> Result<Outcome> {
    let spec = crate::config::load(&args.config)?;
    let selection = match &args.object {
        Some(object) => ReplaySelection::Object {
            object: object.trim().to_ascii_uppercase(),
            since: args
                .since
                .as_deref()
                .map(|t| parse_instant("--since", t))
                .transpose()?,
            until: args
                .until
                .as_deref()
                .map(|t| parse_instant("--until", t))
                .transpose()?,
        },
        None => ReplaySelection::Batches(args.batch.clone()),
    };
    let mut ctx = RunContext::open(spec, Utc::now()).await?;
    ctx.draw_load_progress(true);
    ctx.snowflake()?;
    let saved = guarded(ctx, async |ctx| pipeline::replay(ctx, &selection).await).await?;
    Ok(conclude(&saved, false))
}
