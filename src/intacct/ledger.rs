//! Every request is a billable transaction: the run's count, per object and kind, and the
//! optional budget that stops new requests once spent.
//!
//! Sage bills the API by transactions against the tenant's monthly allowance (Tier 1:
//! 100,000 a month; overage is billed, not blocked): each `query` or `readByQuery` page is one,
//! whatever it returns. The [`Ledger`] is charged by the transport for every request it sends,
//! attempts of a retry and logins included (a request the gateway refused before running it
//! may not be billed; it is counted anyway, so the count is an upper bound), under the object
//! it reads and one [`TransactionKind`]. With `intacct.max_transactions_per_run` set, the
//! charge that would go past it is refused with [`Error::TransactionBudget`] and nothing is
//! sent: requests already in flight finish, no new one starts, and the objects not finished
//! stop cleanly (see `crate::pipeline::extract`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};

/// What a request was for.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum TransactionKind {
    /// A page of an object's records (`query`, `readByQuery`, `readMore`).
    DataPage,
    /// The highest-key probe a sliced read sends before splitting a pass.
    Probe,
    /// `lookup` (field metadata).
    Lookup,
    /// A page of AUDITHISTORY (the delete feed).
    AuditRead,
    /// `getAPISession`.
    Login,
    /// Anything else (the API user's preferences).
    Other,
}

impl TransactionKind {
    /// The name the run report and `status` use.
    pub fn name(self) -> &'static str {
        match self {
            TransactionKind::DataPage => "data_page",
            TransactionKind::Probe => "probe",
            TransactionKind::Lookup => "lookup",
            TransactionKind::AuditRead => "audit_read",
            TransactionKind::Login => "login",
            TransactionKind::Other => "other",
        }
    }
}

/// Transactions by kind.
pub type TransactionCounts = BTreeMap<TransactionKind, u64>;

/// A running count one read keeps of its own requests (shared with the requests it sends).
#[derive(Debug, Default)]
pub struct Tally(Mutex<TransactionCounts>);

impl Tally {
    /// The counts so far.
    pub fn counts(&self) -> TransactionCounts {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn add(&self, kind: TransactionKind) {
        *self
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(kind)
            .or_default() += 1;
    }
}

/// What one request is charged as.
#[derive(Clone, Debug)]
pub(crate) struct Charge {
    /// The object it reads (empty for a login, `USERINFO` for the preferences).
    pub(crate) object: String,
    /// What for.
    pub(crate) kind: TransactionKind,
    /// The read's own count, when a read sent it.
    pub(crate) tally: Option<Arc<Tally>>,
}

impl Charge {
    /// A charge of `kind` under `object`, counted in no read's tally.
    pub(crate) fn new(object: impl Into<String>, kind: TransactionKind) -> Charge {
        Charge {
            object: object.into(),
            kind,
            tally: None,
        }
    }
}

/// The run's transactions (see the module docs).
#[derive(Debug)]
pub(crate) struct Ledger {
    max: Option<u64>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    total: u64,
    by_object: BTreeMap<String, TransactionCounts>,
    refused: u64,
}

/// What the run report shows of the ledger.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TransactionUsage {
    /// Requests sent in all (each a transaction, logins and retries included).
    pub total: u64,
    /// Per object read (AUDITHISTORY for the delete feed; empty for logins), per kind.
    pub by_object: BTreeMap<String, TransactionCounts>,
    /// `intacct.max_transactions_per_run`, when set.
    pub max_per_run: Option<u64>,
    /// Requests not sent because the budget was spent.
    pub refused_by_budget: u64,
}

impl TransactionUsage {
    /// True when the budget stopped a request.
    pub fn budget_reached(&self) -> bool {
        self.refused_by_budget > 0
    }

    /// Totals per kind over every object.
    pub fn by_kind(&self) -> TransactionCounts {
        let mut out = TransactionCounts::new();
        for counts in self.by_object.values() {
            for (kind, n) in counts {
                *out.entry(*kind).or_default() += n;
            }
        }
        out
    }
}

impl Ledger {
    /// A ledger with at most `max` transactions (`None`: no limit).
    pub(crate) fn new(max: Option<u64>) -> Ledger {
        Ledger {
            max,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts one request about to be sent, or refuses it when the budget is spent.
    pub(crate) fn charge(&self, charge: &Charge) -> Result<()> {
        let mut state = self.lock();
        if let Some(max) = self.max
            && state.total >= max
        {
            state.refused += 1;
            if state.refused == 1 {
                tracing::warn!(
                    max_transactions_per_run = max,
                    "Intacct transaction budget spent: no new request this run"
                );
            }
            return Err(Error::TransactionBudget { limit: max });
        }
        state.total += 1;
        *state
            .by_object
            .entry(charge.object.clone())
            .or_default()
            .entry(charge.kind)
            .or_default() += 1;
        drop(state);
        if let Some(tally) = &charge.tally {
            tally.add(charge.kind);
        }
        Ok(())
    }

    /// What the run report shows.
    pub(crate) fn usage(&self) -> TransactionUsage {
        let state = self.lock();
        TransactionUsage {
            total: state.total,
            by_object: state.by_object.clone(),
            max_per_run: self.max,
            refused_by_budget: state.refused,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_object_and_kind_and_stops_at_the_budget() {
        let ledger = Ledger::new(Some(3));
        let tally = Arc::new(Tally::default());
        let page = Charge {
            tally: Some(tally.clone()),
            ..Charge::new("APBILL", TransactionKind::DataPage)
        };
        ledger
            .charge(&Charge::new("", TransactionKind::Login))
            .unwrap();
        ledger.charge(&page).unwrap();
        ledger.charge(&page).unwrap();
        let refused = ledger.charge(&page).unwrap_err();
        assert!(
            matches!(refused, Error::TransactionBudget { limit: 3 }),
            "{refused}"
        );
        assert!(!refused.is_retryable());
        let usage = ledger.usage();
        assert_eq!(usage.total, 3);
        assert_eq!(usage.refused_by_budget, 1);
        assert!(usage.budget_reached());
        assert_eq!(usage.by_object["APBILL"][&TransactionKind::DataPage], 2);
        assert_eq!(usage.by_kind()[&TransactionKind::Login], 1);
        assert_eq!(
            tally.counts(),
            TransactionCounts::from([(TransactionKind::DataPage, 2)])
        );
        // No budget: never refused.
        let open = Ledger::new(None);
        for _ in 0..10 {
            open.charge(&page).unwrap();
        }
        assert!(!open.usage().budget_reached());
    }
}
