//! `init`: the Snowflake DDL, applied idempotently.

use chrono::Utc;

use super::super::ObjectArgs;
use super::super::interrupt::guarded;
use super::objects_in_scope;
use crate::error::Result;
use crate::pipeline::{RunContext, context};

/// Runs `init`.
pub(in crate::cli) async fn init(args: ObjectArgs) -> Result<()> {
    let spec = crate::config::load(&args.config)?;
    let only = objects_in_scope(&spec, &args)?;
    let ctx = RunContext::open(spec, Utc::now()).await?;
    ctx.snowflake()?;
    guarded(ctx, async |ctx| {
        let schemas = {
            let manifest = ctx.manifest.lock().await;
            crate::loader::known_schemas(&ctx.stage, manifest.state(), only.as_deref()).await?
        };
        let load = ctx.load_context()?;
        let done =
            crate::loader::init(&load, &context::external_stage(&ctx.spec), &schemas).await?;
        for sql in &done.sent {
            println!("{}", sql.lines().next().unwrap_or(""));
        }
        for view in &done.views_skipped {
            println!("view {} skipped: {}", view.view, view.reason);
        }
        println!(
            "init: {} statements applied ({} object schemas known from the stage)",
            done.sent.len(),
            schemas.len()
        );
        Ok(())
    })
    .await
}
