//! When the simulator is asked to stop: SIGINT (Ctrl-C) or SIGTERM (a script's `kill`). The
//! binary serves until then and exits cleanly.

use std::future::Future;

/// Listens for SIGINT and SIGTERM from this call on, and resolves when one arrives.
///
/// The handlers are installed before the future is first polled, so a signal sent as soon as
/// the simulator prints `listening on …` stops it cleanly rather than by the default action.
/// Must be called inside the tokio runtime.
pub(crate) fn requested() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            match (interrupt, terminate) {
                (Ok(mut interrupt), Ok(mut terminate)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {}
                        _ = terminate.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
