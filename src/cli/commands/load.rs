//! `load`: every staged, unloaded batch into Snowflake.

use chrono::Utc;

use super::super::ObjectArgs;
use super::super::interrupt::guarded;
use super::{finish_loads, objects_in_scope};
use crate::error::Result;
use crate::pipeline::{self, RunContext};

/// Runs `load`.
pub(in crate::cli) async fn load(args: ObjectArgs) -> Result<()> {
    let spec = crate::config::load(&args.config)?;
    let only = objects_in_scope(&spec, &args)?;
    let started = Utc::now();
    let mut ctx = RunContext::open(spec, started).await?;
    ctx.draw_load_progress(true);
    guarded(ctx, async |ctx| {
        let reports = pipeline::load(ctx, only.as_deref()).await?;
        finish_loads(ctx, "load", started, &reports).await
    })
    .await
}
