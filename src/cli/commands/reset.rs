//! `reset`: one object rebuilt beside its live table and swapped in.

use super::super::ResetArgs;
use super::super::interrupt::guarded;
use super::conclude;
use crate::error::Result;
use crate::pipeline::{self, Outcome, RunContext};

/// Runs `reset`.
pub(in crate::cli) async fn reset(args: ResetArgs) -> Result<Outcome> {
    let spec = crate::config::load(&args.config)?;
    let now = crate::pipeline::parse_now(args.now.as_deref())?;
    let object = args.object.to_ascii_uppercase();
    let only = crate::pipeline::objects_in_scope(&spec, std::slice::from_ref(&object))?;
    let options = crate::pipeline::extract_options(&spec, &only, now, !args.no_progress)?;
    let mut ctx = RunContext::open(spec, now).await?;
    ctx.note_clock_hook(args.now.is_some());
    ctx.draw_load_progress(!args.no_progress);
    ctx.snowflake()?;
    let saved = guarded(ctx, async |ctx| {
        pipeline::reset(ctx, &options, &object).await
    })
    .await?;
    Ok(conclude(&saved, false))
}
