//! `extract`: stage every object's changes without loading them.

use chrono::Utc;

use super::super::RunArgs;
use super::super::interrupt::guarded;
use super::{RunSetup, run_setup};
use crate::error::Result;
use crate::pipeline::{self, RunContext};

/// Runs `extract`.
pub(in crate::cli) async fn extract(args: RunArgs) -> Result<()> {
    let RunSetup {
        spec, now, options, ..
    } = run_setup(&args)?;
    let ctx = RunContext::open(spec, now).await?;
    guarded(ctx, async |ctx| {
        let reports = pipeline::extract(ctx, &options).await?;
        print!("{}", pipeline::extract_summary(&reports));
        let report = serde_json::json!({
            "run_id": ctx.run_id,
            "pipeline": ctx.spec.name,
            "command": "extract",
            "started_at": now,
            "finished_at": Utc::now(),
            "objects": reports,
        });
        ctx.write_report(&report).await?;
        match pipeline::extract::failure_of(&reports) {
            Some(error) => Err(error),
            None => Ok(()),
        }
    })
    .await
}
