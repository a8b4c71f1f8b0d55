//! `manifest compact`: a checkpoint of the folded manifest without the history nothing reads.

use chrono::Utc;

use super::super::CompactArgs;
use super::super::interrupt::guarded;
use crate::error::Result;
use crate::pipeline::RunContext;

/// Runs `manifest compact`: takes the run lock, writes the compacted checkpoint and prints
/// the state's size before and after.
pub(in crate::cli) async fn manifest_compact(args: CompactArgs) -> Result<()> {
    let spec = crate::config::load(&args.config)?;
    let ctx = RunContext::open(spec, Utc::now()).await?;
    let done = guarded(ctx, async |ctx| ctx.manifest.lock().await.compact().await).await?;
    println!(
        "manifest compacted at version {}: {} batches, {} bytes before, {} bytes after ({:.1} %)",
        done.version,
        done.after.batches,
        done.before.bytes,
        done.after.bytes,
        percent(done.after.bytes, done.before.bytes),
    );
    println!(
        "dropped: {} file entries, {} load steps' handles and figures, {} extract progress records",
        done.removed.files, done.removed.load_steps, done.removed.progress
    );
    println!("checkpoint: {} (opening starts from it)", done.checkpoint);
    Ok(())
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        100.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}
