//! `run`: the nightly job. Load what an earlier run left staged, extract, load.

use chrono::Utc;

use super::super::RunArgs;
use super::super::interrupt::guarded;
use super::{RunSetup, load_summary, run_setup};
use crate::error::{Error, Result};
use crate::pipeline::{self, RunContext};

/// Runs `run`.
pub(in crate::cli) async fn run(args: RunArgs) -> Result<()> {
    let RunSetup {
        spec,
        now,
        only,
        options,
    } = run_setup(&args)?;
    let mut ctx = RunContext::open(spec, now).await?;
    ctx.draw_load_progress(!args.no_progress);
    // Checked before anything is extracted: a key or passphrase problem stops the run here.
    ctx.snowflake()?;
    guarded(ctx, async |ctx| {
        let leftover = pipeline::load(ctx, only.as_deref()).await?;
        if !leftover.is_empty() {
            println!("batches an earlier run left staged:");
            print!("{}", load_summary(&leftover));
        }
        let extracted = pipeline::extract(ctx, &options).await?;
        print!("{}", pipeline::extract_summary(&extracted));
        let loaded = pipeline::load(ctx, only.as_deref()).await?;
        print!("{}", load_summary(&loaded));
        let report = serde_json::json!({
            "run_id": ctx.run_id,
            "pipeline": ctx.spec.name,
            "command": "run",
            "started_at": now,
            "finished_at": Utc::now(),
            "leftover_loads": leftover,
            "objects": extracted,
            "loads": loaded,
        });
        let path = ctx.write_report(&report).await?;
        println!("run report: {path}");
        let failures: Vec<Error> = [
            pipeline::extract::failure_of(&extracted),
            pipeline::load_failure(&leftover),
            pipeline::load_failure(&loaded),
        ]
        .into_iter()
        .flatten()
        .collect();
        match failures.len() {
            0 => Ok(()),
            1 => Err(failures.into_iter().next().expect("one failure")),
            _ => Err(Error::LoadFailed {
                failed: failures.len(),
                total: failures.len() + 1,
                detail: failures
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            }),
        }
    })
    .await
}
