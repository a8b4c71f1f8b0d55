//! `load`: every staged, unloaded batch into Snowflake.

use chrono::Utc;

use super::super::ObjectArgs;
use super::super::interrupt::guarded;
use super::{load_summary, objects_in_scope};
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
        print!("{}", load_summary(&reports));
        let report = serde_json::json!({
            "run_id": ctx.run_id,
            "pipeline": ctx.spec.name,
            "command": "load",
            "started_at": started,
            "finished_at": Utc::now(),
            "batches": reports,
        });
        ctx.write_report(&report).await?;
        match pipeline::load_failure(&reports) {
            Some(error) => Err(error),
            None => Ok(()),
        }
    })
    .await
}
