//! A company's request slots, as the real gateway keeps them.
//!
//! Evidence, and what is guessed:
//! * **The limit** — on the standard service level a company runs about two API requests at
//!   once, shared with every other integration of the tenant (Domo's Sage Intacct connector
//!   notes: "Most customers are allowed 2 concurrent requests"; Sage's performance tiers
//!   white paper and its "API transaction volume, concurrency, and scaling" page: a
//!   per-tier concurrency entitlement; "multiple integrations may safely operate within
//!   concurrency limits if the integrations issue small requests that do not overlap for more
//!   than two seconds"). Default [`crate::config::DEFAULT_MAX_CONCURRENT`] = 2.
//! * **Hold, then refuse** — "If a company receives more than two requests at a time, the third
//!   one is held for 30 seconds. If a spot does not open in that time, an error occurs", and
//!   the error is "There are too many operations running for this company (200024)" (Vena's
//!   Sage Intacct troubleshooting article, quoting Sage's FAQ). Default hold
//!   [`crate::config::DEFAULT_CONCURRENCY_HOLD_MS`] = 30 s; a held request that gets a slot is
//!   served normally (its latency counts from admission).
//! * **Where the refusal comes** — not documented. Guess, harsher: HTTP 200 with the error at
//!   the control level, the operation level (beside a successful `<authentication>`) or every
//!   `<result>`, each in turn ([`crate::config::RefusalLevel::Rotate`]), errorno `200024` (the
//!   number the quoted text carries; the real errorno is unknown) and the quoted text as
//!   `description2`.
//! * **Cut connections keep running** — "Sending a large request can cause the sender process
//!   to time out (after 15 minutes) even though the request is still being processed by the
//!   Sage Intacct system" (Sage's "Synchronous or Asynchronous Response Types"), and the SDKs
//!   do not retry a CDN 524 because the "system [is] still processing request". So a request
//!   whose client went away before the answer (its handler dropped: a client timeout, a killed
//!   process) keeps its slot until its own work would have ended (its latency and any `slow`
//!   fault, counted from admission; [`InFlight::runs_until`]). A request the CDN cut (fault
//!   `http524`, answered at once, so its remaining work is unknown) keeps its slot for
//!   [`crate::config::DEFAULT_DETACHED_SLOT_MS`] = 15 minutes by default (the longest Sage
//!   mentions; a guess, and the harsher one).
//! * **Co-tenants** — an optional other integration ([`crate::config::CoTenant`]) that takes
//!   slots in bursts: at a burst's start every free slot up to its count, then each slot this
//!   client gives back, before any held request of this client gets it (harsher than a fair
//!   queue), until the burst ends.
//!
//! Invariant: a company's busy count is the number of live [`InFlight`] slots, its detached
//! slots and its co-tenant's, so a request that ends in any way gives its slot back (at once,
//! or after the detached time).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;

use crate::config::CoTenant;

/// The errorno of a refusal (the number Sage's text carries; the real errorno is unknown).
pub(crate) const REFUSAL_ERRORNO: &str = "200024";
/// The text of a refusal, as integrators quote Sage's answer.
pub(crate) const REFUSAL_TEXT: &str =
    "There are too many operations running for this company (200024)";

/// The slots of every company the gateway serves.
#[derive(Debug)]
pub(crate) struct Slots {
    limit: u64,
    hold: Duration,
    detached: Duration,
    companies: Mutex<HashMap<String, Company>>,
    /// Woken whenever a slot comes free.
    freed: Notify,
    /// Most requests of clients seen in flight at once for one company.
    max_in_flight: Mutex<u64>,
}

#[derive(Debug, Default)]
struct Company {
    /// Requests being answered.
    clients: u64,
    /// Requests whose client went away, still running.
    detached: u64,
    /// Slots the co-tenant holds now.
    co_tenant: u64,
    /// Slots the co-tenant wants (during a burst).
    co_tenant_wants: u64,
}

impl Company {
    fn busy(&self) -> u64 {
        self.clients + self.detached + self.co_tenant
    }
}

/// A request's slot. Released when dropped: at once after [`InFlight::answered`]; otherwise
/// (the client went away while it ran) when its work would have ended
/// ([`InFlight::runs_until`]), or after the detached time when that is unknown (the CDN cut
/// it, [`InFlight::cut`]).
#[derive(Debug)]
pub(crate) struct InFlight {
    slots: Arc<Slots>,
    company: String,
    answered: bool,
    runs_until: Option<tokio::time::Instant>,
}

impl Slots {
    pub(crate) fn new(limit: usize, hold_ms: u64, detached_ms: u64) -> Arc<Slots> {
        Arc::new(Slots {
            limit: limit.max(1) as u64,
            hold: Duration::from_millis(hold_ms),
            detached: Duration::from_millis(detached_ms),
            companies: Mutex::new(HashMap::new()),
            freed: Notify::new(),
            max_in_flight: Mutex::new(0),
        })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Company>> {
        self.companies.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The most requests of clients seen in flight at once for one company.
    pub(crate) fn max_in_flight(&self) -> u64 {
        *self.max_in_flight.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes one of `company`'s slots (company ids compare case-insensitively), waiting up to
    /// the hold for one to come free; `None` when none did.
    pub(crate) async fn admit(self: &Arc<Self>, company: &str) -> Option<InFlight> {
        let company = company.to_lowercase();
        let deadline = tokio::time::Instant::now() + self.hold;
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            {
                let mut companies = self.lock();
                let c = companies.entry(company.clone()).or_default();
                if c.busy() < self.limit {
                    c.clients += 1;
                    let now = c.clients;
                    drop(companies);
                    let mut max = self.max_in_flight.lock().unwrap_or_else(|e| e.into_inner());
                    *max = (*max).max(now);
                    return Some(InFlight {
                        slots: self.clone(),
                        company,
                        answered: false,
                        runs_until: None,
                    });
                }
            }
            if tokio::time::timeout_at(deadline, freed).await.is_err() {
                return None;
            }
        }
    }

    /// A slot came free in `company`: the co-tenant takes it when its burst wants more, else
    /// a held request may.
    fn free(&self, company: &str, detached: bool) {
        let mut companies = self.lock();
        if let Some(c) = companies.get_mut(company) {
            if detached {
                c.detached = c.detached.saturating_sub(1);
            } else {
                c.clients = c.clients.saturating_sub(1);
            }
            if c.co_tenant < c.co_tenant_wants && c.busy() < self.limit {
                c.co_tenant += 1;
            }
        }
        drop(companies);
        self.freed.notify_waiters();
    }

    /// Runs `co_tenant`'s bursts on `company` until the returned task is aborted.
    pub(crate) fn spawn_co_tenant(
        self: &Arc<Self>,
        company: &str,
        co_tenant: CoTenant,
    ) -> tokio::task::JoinHandle<()> {
        let slots = self.clone();
        let company = company.to_lowercase();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(co_tenant.idle_ms)).await;
                {
                    let mut companies = slots.lock();
                    let c = companies.entry(company.clone()).or_default();
                    c.co_tenant_wants = co_tenant.slots as u64;
                    let free = slots.limit.saturating_sub(c.busy());
                    c.co_tenant = c.co_tenant_wants.min(free);
                }
                tracing::debug!(company, "co-tenant burst starts");
                tokio::time::sleep(Duration::from_millis(co_tenant.busy_ms)).await;
                {
                    let mut companies = slots.lock();
                    let c = companies.entry(company.clone()).or_default();
                    c.co_tenant_wants = 0;
                    c.co_tenant = 0;
                }
                slots.freed.notify_waiters();
            }
        })
    }
}

impl InFlight {
    /// The request was answered: its slot comes free when this is dropped.
    pub(crate) fn answered(&mut self) {
        self.answered = true;
    }

    /// The request's work ends at `at`: if its client goes away before, the slot stays busy
    /// until then.
    pub(crate) fn runs_until(&mut self, at: tokio::time::Instant) {
        self.runs_until = Some(at);
    }

    /// The request was cut off (the CDN's 524): it runs on at Sage, holding its slot for the
    /// detached time.
    pub(crate) fn cut(mut self) {
        self.runs_until = None;
        drop(self);
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let now = tokio::time::Instant::now();
        let ends = self.runs_until.unwrap_or(now + self.slots.detached);
        if self.answered || ends <= now {
            self.slots.free(&self.company, false);
            return;
        }
        // Still running at Sage: the slot moves from the client's requests to the detached
        // ones, and comes free when the work ends.
        {
            let mut companies = self.slots.lock();
            if let Some(c) = companies.get_mut(&self.company) {
                c.clients = c.clients.saturating_sub(1);
                c.detached += 1;
            }
        }
        let slots = self.slots.clone();
        let company = std::mem::take(&mut self.company);
        let release = async move {
            tokio::time::sleep_until(ends).await;
            slots.free(&company, true);
        };
        // No runtime (the server is shutting down): nothing waits for the slot any more.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn over_the_limit_a_request_waits_the_hold_then_is_refused() {
        let slots = Slots::new(2, 300, 900_000);
        let mut a = slots.admit("C").await.unwrap();
        let _b = slots.admit("c").await.unwrap();
        let started = tokio::time::Instant::now();
        assert!(slots.admit("C").await.is_none());
        assert!(started.elapsed() >= Duration::from_millis(300));
        // Another company has slots of its own.
        assert!(slots.admit("other").await.is_some());
        // A slot that comes free during the hold is taken.
        let patient = Slots::new(1, 5_000, 900_000);
        let mut first = patient.admit("c").await.unwrap();
        let waiting = tokio::spawn({
            let patient = patient.clone();
            async move { patient.admit("c").await.is_some() }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        first.answered();
        drop(first);
        assert!(waiting.await.unwrap());
        a.answered();
        drop(a);
        assert_eq!(slots.max_in_flight(), 2);
    }

    #[tokio::test]
    async fn a_request_cut_off_keeps_its_slot_for_the_detached_time() {
        let slots = Slots::new(1, 200, 1_000);
        let started = tokio::time::Instant::now();
        slots.admit("c").await.unwrap().cut();
        assert!(slots.admit("c").await.is_none(), "still running at Sage");
        // Held until the detached time is over, then admitted.
        let long_hold = Slots::new(1, 5_000, 1_000);
        long_hold.admit("c").await.unwrap().cut();
        assert!(long_hold.admit("c").await.is_some());
        assert!(started.elapsed() >= Duration::from_millis(1_000));
    }

    #[tokio::test]
    async fn a_request_whose_client_went_away_keeps_its_slot_until_its_work_ends() {
        let slots = Slots::new(1, 5_000, 900_000);
        let started = tokio::time::Instant::now();
        let mut gone = slots.admit("c").await.unwrap();
        gone.runs_until(started + Duration::from_millis(400));
        drop(gone);
        // Held until the work is over (not the detached time), then admitted.
        let mut next = slots
            .admit("c")
            .await
            .expect("admitted once the work ended");
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(400), "{waited:?}");
        assert!(waited < Duration::from_millis(2_000), "{waited:?}");
        next.answered();
        drop(next);
        // A request whose work is over when its client goes away frees its slot at once.
        let mut done = slots.admit("c").await.unwrap();
        done.runs_until(tokio::time::Instant::now());
        drop(done);
        let again = tokio::time::Instant::now();
        assert!(slots.admit("c").await.is_some());
        assert!(again.elapsed() < Duration::from_millis(100));
    }

    #[tokio::test]
    async fn a_co_tenant_takes_the_slots_in_bursts() {
        let slots = Slots::new(2, 300, 60_000);
        let co = slots.spawn_co_tenant(
            "c",
            CoTenant {
                slots: 2,
                busy_ms: 3_000,
                idle_ms: 500,
            },
        );
        let mut mine = slots.admit("c").await.unwrap();
        tokio::time::sleep(Duration::from_millis(1_000)).await;
        // The burst took the free slot, and takes this one as it comes back.
        mine.answered();
        drop(mine);
        assert!(slots.admit("c").await.is_none());
        // After the burst, slots come free again.
        let started = tokio::time::Instant::now();
        let later = loop {
            if let Some(slot) = slots.admit("c").await {
                break slot;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the burst never ended"
            );
        };
        drop(later);
        co.abort();
    }
}
