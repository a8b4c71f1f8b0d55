//! The company's request slots: how many requests this client keeps in flight, adapted to
//! what the gateway says.
//!
//! A company's slots are shared with every other integration of the tenant (AP automation,
//! expenses, BI): on the standard service level about two requests run at once, a request
//! over the limit is held for 30 seconds and then refused ("There are too many operations
//! running for this company (200024)"), and a request whose connection is cut keeps running,
//! and keeps its slot, for up to 15 minutes. So `max_concurrent_requests` is a ceiling, not a
//! target: the client starts there and adapts like TCP's congestion window (AIMD):
//! * **multiplicative decrease** — a concurrency refusal or a request that timed out (a
//!   timeout or the CDN's 524: the request may still hold its slot at Sage) halves the level
//!   (rounding up, never below 1). Requests sent before that decrease do not decrease it
//!   again: each request carries the epoch it was sent in, and only a signal of the current
//!   epoch counts;
//! * **additive increase** — after `8 × level` clean responses in a row (doubled for every
//!   increase that was refused again before it had earned the next one, at most 2^6 times) the
//!   level goes up by one, up to the ceiling.
//!
//! [`Aimd`] is the pure state machine; [`Slots`] puts it in front of a FIFO semaphore with
//! `max` permits, withholding permits while the level is below the ceiling (taken as they come
//! back, so a decrease never cancels a request already in flight). One [`Slots`] serves one
//! company: every object, window and entity of the run shares it. Level changes are logged as
//! short events; [`ConcurrencyUsage`] is what the run report shows.

use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Clean responses per unit of level before the level goes up one.
const CLEAN_PER_LEVEL: u64 = 8;
/// Most doublings of the clean run needed after probes that were refused.
const MAX_PROBE_BACKOFF: u32 = 6;

/// What one response says about the company's slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Answered (successfully or with an error that says nothing about load).
    Clean,
    /// Refused for concurrency (`200024`, HTTP 429 "concurrent").
    Refused,
    /// Timed out, or the CDN cut it (524): it may still hold a slot at Sage.
    TimedOut,
    /// Says nothing either way (a transport failure before an answer, a rate limit).
    Neutral,
}

/// A change of level, for the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Change {
    /// The level before.
    pub(crate) from: usize,
    /// The level after.
    pub(crate) to: usize,
}

/// What the run report shows of the slots.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConcurrencyUsage {
    /// `intacct.max_concurrent_requests`: the ceiling.
    pub max: u64,
    /// The lowest level the run went down to.
    pub lowest: u64,
    /// The level at the end of the run.
    pub last: u64,
    /// Requests the gateway refused for concurrency.
    pub refusals: u64,
    /// Requests that timed out (timeouts and the CDN's 524).
    pub timeouts: u64,
    /// Times the level went down.
    pub decreases: u64,
    /// Times the level went up.
    pub increases: u64,
}

/// The adaptive level (see the module docs). Pure: no clock, no IO.
#[derive(Clone, Debug)]
pub(crate) struct Aimd {
    max: usize,
    level: usize,
    epoch: u64,
    /// Clean responses since the level last changed.
    clean: u64,
    /// Clean responses since the last increase, while no refusal followed it.
    since_increase: Option<u64>,
    /// Doublings of the clean run needed, after increases that were refused again.
    probe_backoff: u32,
    usage: ConcurrencyUsage,
}

impl Aimd {
    /// Starts at the ceiling `max` (at least 1).
    pub(crate) fn new(max: usize) -> Aimd {
        let max = max.max(1);
        Aimd {
            max,
            level: max,
            epoch: 0,
            clean: 0,
            since_increase: None,
            probe_backoff: 0,
            usage: ConcurrencyUsage {
                max: max as u64,
                lowest: max as u64,
                last: max as u64,
                ..ConcurrencyUsage::default()
            },
        }
    }

    /// Requests allowed in flight now.
    #[cfg(test)]
    pub(crate) fn level(&self) -> usize {
        self.level
    }

    /// The epoch a request sent now belongs to.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Clean responses needed at the current level before it goes up.
    fn clean_needed(&self) -> u64 {
        CLEAN_PER_LEVEL * self.level as u64 * (1u64 << self.probe_backoff)
    }

    /// Takes the signal of a response to a request sent in `epoch`; the change of level, if
    /// any.
    pub(crate) fn observe(&mut self, epoch: u64, signal: Signal) -> Option<Change> {
        match signal {
            Signal::Neutral => None,
            Signal::Clean => self.clean(),
            Signal::Refused | Signal::TimedOut => {
                if signal == Signal::Refused {
                    self.usage.refusals += 1;
                } else {
                    self.usage.timeouts += 1;
                }
                self.congested(epoch)
            }
        }
    }

    fn clean(&mut self) -> Option<Change> {
        self.clean += 1;
        if let Some(n) = self.since_increase.as_mut() {
            *n += 1;
            if *n >= self.clean_needed() {
                // The last increase held: probing goes back to its normal pace.
                self.since_increase = None;
                self.probe_backoff = 0;
            }
        }
        if self.level >= self.max || self.clean < self.clean_needed() {
            return None;
        }
        let from = self.level;
        self.level += 1;
        self.clean = 0;
        self.since_increase = Some(0);
        self.usage.increases += 1;
        self.usage.last = self.level as u64;
        Some(Change {
            from,
            to: self.level,
        })
    }

    fn congested(&mut self, epoch: u64) -> Option<Change> {
        self.clean = 0;
        if epoch != self.epoch {
            // Sent before the last decrease: that decrease already answered it.
            return None;
        }
        self.epoch += 1;
        if self.since_increase.take().is_some() {
            self.probe_backoff = (self.probe_backoff + 1).min(MAX_PROBE_BACKOFF);
        }
        let from = self.level;
        self.level = (self.level - self.level / 2).max(1);
        if self.level == from {
            return None;
        }
        self.usage.decreases += 1;
        self.usage.last = self.level as u64;
        self.usage.lowest = self.usage.lowest.min(self.level as u64);
        Some(Change {
            from,
            to: self.level,
        })
    }

    /// What the run report shows.
    pub(crate) fn usage(&self) -> ConcurrencyUsage {
        self.usage.clone()
    }
}

/// The slots of one company (see the module docs).
#[derive(Debug)]
pub(crate) struct Slots {
    semaphore: Arc<Semaphore>,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    aimd: Aimd,
    /// Permits kept out of use while the level is below the ceiling.
    withheld: Vec<OwnedSemaphorePermit>,
    /// Permits still to withhold as they come back.
    owed: usize,
}

/// One request's slot: held while it is in flight.
#[derive(Debug)]
pub(crate) struct Slot {
    permit: Option<OwnedSemaphorePermit>,
    epoch: u64,
    slots: Arc<Slots>,
}

impl Slots {
    /// `max` slots (at least 1), all in use at the start.
    pub(crate) fn new(max: usize) -> Arc<Slots> {
        let max = max.max(1);
        Arc::new(Slots {
            semaphore: Arc::new(Semaphore::new(max)),
            state: Mutex::new(State {
                aimd: Aimd::new(max),
                withheld: Vec::new(),
                owed: 0,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for a slot (first come, first served).
    pub(crate) async fn acquire(self: &Arc<Self>) -> Slot {
        let permit = self
            .semaphore
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let epoch = self.lock().aimd.epoch();
        Slot {
            permit: Some(permit),
            epoch,
            slots: self.clone(),
        }
    }

    /// What the run report shows.
    pub(crate) fn usage(&self) -> ConcurrencyUsage {
        self.lock().aimd.usage()
    }

    /// The level now.
    #[cfg(test)]
    pub(crate) fn level(&self) -> usize {
        self.lock().aimd.level()
    }

    fn observe(&self, epoch: u64, signal: Signal) {
        let mut state = self.lock();
        let Some(change) = state.aimd.observe(epoch, signal) else {
            return;
        };
        if change.to < change.from {
            state.owed += change.from - change.to;
            // Permits free now are withheld at once; the rest as requests give theirs back.
            while state.owed > 0 {
                match self.semaphore.clone().try_acquire_owned() {
                    Ok(permit) => {
                        state.withheld.push(permit);
                        state.owed -= 1;
                    }
                    Err(_) => break,
                }
            }
            tracing::warn!(from = change.from, to = change.to, cause = ?signal, "Intacct request slots: stepping down");
        } else {
            for _ in change.from..change.to {
                if state.owed > 0 {
                    state.owed -= 1;
                } else {
                    drop(state.withheld.pop());
                }
            }
            tracing::info!(
                from = change.from,
                to = change.to,
                "Intacct request slots: stepping up"
            );
        }
    }
}

impl Slot {
    /// Gives the slot back with what its response said.
    pub(crate) fn release(mut self, signal: Signal) {
        self.slots.observe(self.epoch, signal);
        self.give_back();
    }

    fn give_back(&mut self) {
        let Some(permit) = self.permit.take() else {
            return;
        };
        let mut state = self.slots.lock();
        if state.owed > 0 {
            state.owed -= 1;
            state.withheld.push(permit);
        } else {
            drop(state);
            drop(permit);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.give_back();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean_run(aimd: &mut Aimd, n: u64) -> Vec<Change> {
        (0..n)
            .filter_map(|_| aimd.observe(aimd.epoch(), Signal::Clean))
            .collect()
    }

    #[test]
    fn starts_at_the_ceiling_and_halves_on_refusals_down_to_one() {
        let mut a = Aimd::new(4);
        assert_eq!(a.level(), 4);
        let e = a.epoch();
        assert_eq!(
            a.observe(e, Signal::Refused),
            Some(Change { from: 4, to: 2 })
        );
        // A second refusal of a request sent before that decrease changes nothing.
        assert_eq!(a.observe(e, Signal::Refused), None);
        assert_eq!(a.level(), 2);
        assert_eq!(
            a.observe(a.epoch(), Signal::TimedOut),
            Some(Change { from: 2, to: 1 })
        );
        assert_eq!(a.observe(a.epoch(), Signal::Refused), None);
        assert_eq!(a.level(), 1, "never below one");
        let usage = a.usage();
        assert_eq!(
            (
                usage.refusals,
                usage.timeouts,
                usage.decreases,
                usage.lowest
            ),
            (3, 1, 2, 1)
        );
        // Odd levels round up: 3 → 2.
        let mut b = Aimd::new(3);
        assert_eq!(
            b.observe(b.epoch(), Signal::Refused),
            Some(Change { from: 3, to: 2 })
        );
    }

    #[test]
    fn creeps_back_one_step_after_a_run_of_clean_responses() {
        let mut a = Aimd::new(3);
        a.observe(a.epoch(), Signal::Refused);
        a.observe(a.epoch(), Signal::Refused);
        assert_eq!(a.level(), 1);
        // 8 clean at level 1, then 16 at level 2.
        assert_eq!(clean_run(&mut a, 7), vec![]);
        assert_eq!(clean_run(&mut a, 1), vec![Change { from: 1, to: 2 }]);
        assert_eq!(clean_run(&mut a, 15), vec![]);
        assert_eq!(clean_run(&mut a, 1), vec![Change { from: 2, to: 3 }]);
        // Never above the ceiling.
        assert_eq!(clean_run(&mut a, 1_000), vec![]);
        assert_eq!(a.level(), 3);
        let usage = a.usage();
        assert_eq!((usage.increases, usage.last, usage.lowest), (2, 3, 1));
        // Neutral answers count for nothing.
        assert_eq!(a.observe(a.epoch(), Signal::Neutral), None);
    }

    #[test]
    fn a_refusal_resets_the_clean_run() {
        let mut a = Aimd::new(2);
        a.observe(a.epoch(), Signal::Refused);
        clean_run(&mut a, 7);
        // A late refusal of an older epoch changes no level but breaks the run.
        assert_eq!(a.observe(0, Signal::Refused), None);
        assert_eq!(clean_run(&mut a, 7), vec![]);
        assert_eq!(clean_run(&mut a, 1), vec![Change { from: 1, to: 2 }]);
    }

    #[test]
    fn increases_refused_again_are_tried_less_often() {
        let mut a = Aimd::new(2);
        a.observe(a.epoch(), Signal::Refused);
        assert_eq!(clean_run(&mut a, 8).len(), 1);
        // Refused right after stepping up: the next step up needs twice the run.
        a.observe(a.epoch(), Signal::Refused);
        assert_eq!(clean_run(&mut a, 15), vec![]);
        assert_eq!(clean_run(&mut a, 1), vec![Change { from: 1, to: 2 }]);
        a.observe(a.epoch(), Signal::Refused);
        assert_eq!(clean_run(&mut a, 31), vec![]);
        assert_eq!(clean_run(&mut a, 1).len(), 1);
        // An increase that holds for its own run resets the pace.
        assert_eq!(clean_run(&mut a, 4 * 16).len(), 0);
        a.observe(a.epoch(), Signal::Refused);
        assert_eq!(clean_run(&mut a, 8).len(), 1);
    }

    #[tokio::test]
    async fn slots_follow_the_level_without_cancelling_requests_in_flight() {
        let slots = Slots::new(2);
        let a = slots.acquire().await;
        let b = slots.acquire().await;
        // Refused while both are out: the level drops to one; the next permit back is kept.
        a.release(Signal::Refused);
        assert_eq!(slots.level(), 1);
        assert!(slots.semaphore.available_permits() == 0);
        // The other request ends: one slot free.
        b.release(Signal::Clean);
        assert_eq!(slots.semaphore.available_permits(), 1);
        let c = slots.acquire().await;
        assert_eq!(slots.semaphore.available_permits(), 0);
        // Creeping back frees the withheld permit.
        for _ in 0..7 {
            let epoch = slots.lock().aimd.epoch();
            slots.observe(epoch, Signal::Clean);
        }
        c.release(Signal::Clean);
        assert_eq!(slots.level(), 2);
        assert_eq!(slots.semaphore.available_permits(), 2);
        let usage = slots.usage();
        assert_eq!((usage.max, usage.lowest, usage.last), (2, 1, 2));
    }
}
