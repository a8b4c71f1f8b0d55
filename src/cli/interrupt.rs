//! Ctrl-C and SIGTERM during a run, or the run's lock taken over by another run: cancel what
//! runs in Snowflake while the work is still in flight, then stop the work, release the lock
//! (if still ours) and exit with the interrupted or the failed code. The manifest stays valid
//! because every commit is one create-once file.

use tracing::Instrument;

use crate::error::{Error, Result};
use crate::pipeline::RunContext;
use crate::pipeline::context::CancelHandle;

/// Runs `work` on `ctx` until it ends or the process is asked to stop; releases the run lock
/// either way.
pub(super) async fn guarded<T>(
    ctx: RunContext,
    work: impl AsyncFnOnce(&RunContext) -> Result<T>,
) -> Result<T> {
    let cancel = ctx.cancel_handle();
    let lock_lost = ctx.lock_lost();
    let span = tracing::info_span!("run", run_id = %ctx.run_id, pipeline = %ctx.spec.name);
    let outcome = {
        let future = work(&ctx).instrument(span);
        tokio::pin!(future);
        tokio::select! {
            result = &mut future => Ok(result),
            () = crate::shutdown::requested() => {
                tracing::warn!("interrupted: cancelling running statements");
                cancel_running(&cancel).await;
                Err(Error::Interrupted)
            }
            lost = lock_lost => {
                cancel_running(&cancel).await;
                Err(lost)
            }
        }
    };
    let released = ctx.finish().await;
    match outcome {
        Ok(result) => {
            let value = result?;
            released?;
            Ok(value)
        }
        Err(stopped) => {
            if let Err(error) = released {
                tracing::warn!(%error, "could not release the run lock; it expires by itself");
            }
            Err(stopped)
        }
    }
}

async fn cancel_running(cancel: &CancelHandle) {
    cancel.cancel().await;
}
