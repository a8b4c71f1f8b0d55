//! `verify`: Intacct's keys against Snowflake's live rows.

use super::super::VerifyArgs;
use super::super::interrupt::guarded;
use super::{conclude, objects_in_scope};
use crate::error::Result;
use crate::pipeline::{self, Outcome, RunContext};

/// Runs `verify`.
pub(in crate::cli) async fn verify(args: VerifyArgs) -> Result<Outcome> {
    let spec = crate::config::load(&args.pipeline.config)?;
    let now = pipeline::parse_now(args.now.as_deref())?;
    let objects = objects_in_scope(&spec, &args.pipeline)?.unwrap_or_else(|| {
        spec.extract
            .objects
            .iter()
            .map(|o| o.name.clone())
            .collect()
    });
    let mut ctx = RunContext::open(spec, now).await?;
    ctx.note_clock_hook(args.now.is_some());
    ctx.snowflake()?;
    let saved = guarded(ctx, async |ctx| pipeline::verify(ctx, &objects).await).await?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&saved.report.verify).expect("reports serialise")
        );
    }
    Ok(conclude(&saved, args.json))
}
