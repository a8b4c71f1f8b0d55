//! `accept-schema`: a frozen object's held schema changes accepted.

use chrono::Utc;

use super::super::AcceptSchemaArgs;
use super::super::interrupt::guarded;
use crate::error::{Error, Result};
use crate::pipeline::{self, RunContext};

/// Runs `accept-schema`.
pub(in crate::cli) async fn accept_schema(args: AcceptSchemaArgs) -> Result<()> {
    let spec = crate::config::load(&args.config)?;
    let object = args.object.to_ascii_uppercase();
    crate::pipeline::objects_in_scope(&spec, std::slice::from_ref(&object))?;
    let ctx = RunContext::open(spec, Utc::now()).await?;
    let accepted = guarded(ctx, async |ctx| pipeline::accept_schema(ctx, &object).await).await?;
    if accepted.is_empty() {
        return Err(Error::Config {
            location: "--object".into(),
            message: format!("no staged batch of {object} holds a schema change to accept"),
        });
    }
    for (batch_id, changes) in &accepted {
        for change in changes {
            println!("accepted: {change} (batch {batch_id})");
        }
    }
    println!(
        "{} batch(es) of {object} accepted: `load` or `run` now changes the table and loads them",
        accepted.len()
    );
    Ok(())
}
