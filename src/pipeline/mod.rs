//! Orchestration of the pieces: extract now; load, backfill and replay later.

use crate::cli::{ExtractArgs, StatusArgs};

/// Runs `extract`.
pub async fn extract_command(args: ExtractArgs) -> crate::Result<()> {
    crate::config::load(&args.config)?;
    Err(crate::Error::NotImplemented("extract"))
}

/// Runs `status`.
pub async fn status_command(args: StatusArgs) -> crate::Result<()> {
    crate::config::load(&args.config)?;
    Err(crate::Error::NotImplemented("status"))
}
