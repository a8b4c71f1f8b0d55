//! `backfill`: explicit windows extracted and loaded, the nightly marks untouched.

use chrono::Utc;

use super::super::BackfillArgs;
use super::super::interrupt::guarded;
use super::{conclude, objects_in_scope, parse_duration, parse_instant};
use crate::error::Result;
use crate::pipeline::{self, Outcome, RunContext};

/// Runs `backfill`.
pub(in crate::cli) async fn backfill(args: BackfillArgs) -> Result<Outcome> {
    let spec = crate::config::load(&args.pipeline.config)?;
    let from = parse_instant("--from", &args.from)?;
    let to = parse_instant("--to", &args.to)?;
    let window = parse_duration("--window", &args.window)?;
    let only = objects_in_scope(&spec, &args.pipeline)?;
    let started = Utc::now();
    let options = pipeline::extract_options(
        &spec,
        only.as_deref().unwrap_or(&[]),
        started,
        !args.no_progress,
    )?;
    let mut ctx = RunContext::open(spec, started).await?;
    ctx.draw_load_progress(!args.no_progress);
    ctx.snowflake()?;
    let saved = guarded(ctx, async |ctx| {
        pipeline::backfill(ctx, &options, from, to, window).await
    })
    .await?;
    Ok(conclude(&saved, false))
}
