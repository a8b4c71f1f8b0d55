//! `load`: every staged, unloaded batch into Snowflake.

use chrono::Utc;

use super::super::ObjectArgs;
use super::super::interrupt::guarded;
use super::{conclude, objects_in_scope};
use crate::error::Result;
use crate::pipeline::{self, Outcome, RunContext};

/// Runs `load`.
pub(in crate::cli) async fn load(args: ObjectArgs) -> Result<Outcome> {
    let spec = crate::config::load(&args.config)?;
    let only = objects_in_scope(&spec, &args)?;
    let mut ctx = RunContext::open(spec, Utc::now()).await?;
    ctx.draw_load_progress(true);
    let saved = guarded(ctx, async |ctx| pipeline::load(ctx, only.as_deref()).await).await?;
    Ok(conclude(&saved, false))
}
