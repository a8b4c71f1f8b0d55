//! What the HTTP handlers share: the gateway, the active fault rules, and the requests in
//! flight per company (the gateway endpoint admits under the concurrency limit; the admin API
//! reads the counters and replaces the faults).
//!
//! Invariant: a company's in-flight count is the number of live [`InFlight`] slots, so a
//! request that ends in any way (answered, failed, cancelled) gives its slot back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::faults::FaultPlan;
use crate::gateway::Gateway;

/// Shared state of the HTTP layer.
#[derive(Debug)]
pub(crate) struct AppState {
    /// The gateway.
    pub gateway: Arc<Gateway>,
    /// Active fault rules.
    pub faults: Mutex<FaultPlan>,
    in_flight: Mutex<HashMap<String, u64>>,
}

/// Locks `m`, recovering from a handler that panicked while holding it (the state stays
/// usable: every update under these locks is a single assignment or counter step).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl AppState {
    /// The state of a gateway with `faults` active and nothing in flight.
    pub(crate) fn new(gateway: Arc<Gateway>, faults: FaultPlan) -> AppState {
        AppState {
            gateway,
            faults: Mutex::new(faults),
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one of `company`'s request slots (company ids compare case-insensitively), or
    /// `None` when `max_concurrent` are already in flight; records the highest count seen.
    pub(crate) fn admit(&self, company: &str) -> Option<InFlight<'_>> {
        let company = company.to_lowercase();
        let mut in_flight = lock(&self.in_flight);
        let n = in_flight.entry(company.clone()).or_default();
        if *n >= self.gateway.config.max_concurrent as u64 {
            return None;
        }
        *n += 1;
        let now = *n;
        drop(in_flight);
        let mut counters = lock(&self.gateway.counters);
        counters.max_in_flight = counters.max_in_flight.max(now);
        Some(InFlight {
            state: self,
            company,
        })
    }
}

/// Releases an in-flight slot when dropped.
pub(crate) struct InFlight<'a> {
    state: &'a AppState,
    company: String,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(n) = lock(&self.state.in_flight).get_mut(&self.company) {
            *n = n.saturating_sub(1);
        }
    }
}
