//! What the HTTP handlers share: the gateway, the active fault rules, and the company's
//! request slots (the gateway endpoint admits under them; the admin API reads the counters
//! and replaces the faults).

use std::sync::{Arc, Mutex, MutexGuard};

use crate::faults::FaultPlan;
use crate::gateway::Gateway;
use crate::slots::Slots;

/// Shared state of the HTTP layer.
#[derive(Debug)]
pub(crate) struct AppState {
    /// The gateway.
    pub gateway: Arc<Gateway>,
    /// Active fault rules.
    pub faults: Mutex<FaultPlan>,
    /// Every company's request slots.
    pub slots: Arc<Slots>,
}

/// Locks `m`, recovering from a handler that panicked while holding it (the state stays
/// usable: every update under these locks is a single assignment or counter step).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl AppState {
    /// The state of a gateway with `faults` active and nothing in flight.
    pub(crate) fn new(gateway: Arc<Gateway>, faults: FaultPlan) -> AppState {
        let config = &gateway.config;
        let slots = Slots::new(
            config.max_concurrent,
            config.concurrency_hold_ms,
            config.detached_slot_ms,
        );
        AppState {
            gateway,
            faults: Mutex::new(faults),
            slots,
        }
    }
}
