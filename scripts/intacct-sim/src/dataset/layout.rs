//! Where base records sit: how many there are per object, which RECORDNOs exist, and when
//! each was created and last modified — all pure functions of (seed, object, slot).
//!
//! Invariants: a base record's RECORDNO is its slot + 1; WHENCREATED is non-decreasing in
//! slot for every object (so a time maps to a RECORDNO range by binary search); WHENMODIFIED
//! is empty or lies in `[WHENCREATED, WHENCREATED + MAX_MODIFY_LAG_SECS]`; every base instant
//! is before the dataset's start. APBILLITEM slots come in strides of [`LINE_STRIDE`] per
//! bill (lines `0..k` of a stride exist), APPYMT slot `q` pays the bills `2q+1` and `2q+2`
//! (RECORDNOs), and APPYMTDETAIL RECORDNO equals the RECORDNO of the bill it pays.

use super::Scale;
use super::hash::{Draw, salt};
use super::model::Obj;

/// RECORDNO slots reserved per bill for its lines.
pub(crate) const LINE_STRIDE: u64 = 8;
/// The largest gap between WHENCREATED and a base WHENMODIFIED.
pub(crate) const MAX_MODIFY_LAG_SECS: i64 = 3 * 86_400;
/// Days of history before the start.
const HISTORY_DAYS: i64 = 3 * 365;
/// Bills are paid this long after they were entered.
const PAYMENT_LAG_SECS: i64 = 30 * 86_400;

/// Record counts of the objects that everything else derives from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Sizes {
    pub(crate) vendors: u64,
    pub(crate) bills: u64,
    pub(crate) accounts: u64,
    pub(crate) departments: u64,
    pub(crate) locations: u64,
    pub(crate) classes: u64,
    pub(crate) projects: u64,
    pub(crate) customers: u64,
    pub(crate) employees: u64,
}

const LARGE: Sizes = Sizes {
    vendors: 50_000,
    bills: 800_000,
    accounts: 2_000,
    departments: 500,
    locations: 100,
    classes: 500,
    projects: 20_000,
    customers: 100_000,
    employees: 5_000,
};
/// About how many records [`LARGE`] gives in all (bills bring ~6.4 records each: the bill,
/// ~3 lines, ~0.5 payment, ~1 payment detail, 1 audit row).
const LARGE_TOTAL: u64 = 5_300_000;

impl Sizes {
    /// The sizes of a scale.
    pub(crate) fn of(scale: Scale) -> Sizes {
        match scale {
            Scale::Tiny => Sizes {
                vendors: 20,
                bills: 20,
                accounts: 30,
                departments: 10,
                locations: 10,
                classes: 12,
                projects: 15,
                customers: 25,
                employees: 15,
            },
            Scale::Demo => Sizes {
                vendors: 600,
                bills: 2_000,
                accounts: 300,
                departments: 120,
                locations: 30,
                classes: 100,
                projects: 300,
                customers: 800,
                employees: 400,
            },
            Scale::Large => LARGE,
            Scale::Records(n) => {
                let s = |large: u64, min: u64| {
                    let v = u128::from(large) * u128::from(n) / u128::from(LARGE_TOTAL);
                    (v as u64).max(min)
                };
                Sizes {
                    vendors: s(LARGE.vendors, 3),
                    bills: s(LARGE.bills, 2),
                    accounts: s(LARGE.accounts, 3),
                    departments: s(LARGE.departments, 2),
                    locations: s(LARGE.locations, 2),
                    classes: s(LARGE.classes, 2),
                    projects: s(LARGE.projects, 2),
                    customers: s(LARGE.customers, 2),
                    employees: s(LARGE.employees, 2),
                }
            }
        }
    }
}

/// The base layout of a dataset.
#[derive(Debug)]
pub(crate) struct Layout {
    pub(crate) seed: u64,
    /// The simulated clock at creation (Unix seconds).
    pub(crate) start: i64,
    /// Go-live: the data migration burst; the oldest instant in the dataset.
    pub(crate) go_live: i64,
    /// Base records are created before this.
    created_end: i64,
    pub(crate) sizes: Sizes,
    base_counts: [u64; Obj::ALL.len()],
}

impl Layout {
    /// The layout of `sizes` ending at `start`; counts the derived objects (a pass over the
    /// bills: milliseconds even for `large`, and no memory).
    pub(crate) fn new(seed: u64, start: i64, sizes: Sizes) -> Layout {
        let go_live = start - HISTORY_DAYS * 86_400;
        let mut layout = Layout {
            seed,
            start,
            go_live,
            created_end: start - MAX_MODIFY_LAG_SECS - 3_600,
            sizes,
            base_counts: [0; Obj::ALL.len()],
        };
        for obj in Obj::ALL {
            layout.base_counts[obj.index()] = match obj {
                Obj::ApBillItem => (1..=sizes.bills).map(|b| layout.lines_of_bill(b)).sum(),
                Obj::ApPymt => (0..layout.slots(Obj::ApPymt))
                    .filter(|q| layout.block_paid(*q))
                    .count() as u64,
                Obj::ApPymtDetail => (0..layout.slots(Obj::ApPymt))
                    .filter(|q| layout.block_paid(*q))
                    .map(|q| layout.bills_of_block(q).count() as u64)
                    .sum(),
                _ => layout.slots(obj),
            };
        }
        layout
    }

    /// Live base records of an object before any change.
    pub(crate) fn base_count(&self, obj: Obj) -> u64 {
        self.base_counts[obj.index()]
    }

    /// Base records of the objects with one record per slot.
    fn primary(&self, obj: Obj) -> Option<u64> {
        let s = &self.sizes;
        Some(match obj {
            Obj::Vendor => s.vendors,
            Obj::ApBill => s.bills,
            Obj::GlAccount => s.accounts,
            Obj::Department => s.departments,
            Obj::Location => s.locations,
            Obj::Class => s.classes,
            Obj::Project => s.projects,
            Obj::Customer => s.customers,
            Obj::Employee => s.employees,
            _ => return None,
        })
    }

    /// Number of base slots (RECORDNOs `1..=slots`); some may not exist.
    pub(crate) fn slots(&self, obj: Obj) -> u64 {
        match obj {
            Obj::ApBillItem => self.sizes.bills * LINE_STRIDE,
            Obj::ApPymt => self.sizes.bills.div_ceil(2),
            Obj::ApPymtDetail | Obj::AuditHistory => self.sizes.bills,
            _ => self.primary(obj).unwrap_or(0),
        }
    }

    /// Whether base slot `slot` holds a record.
    pub(crate) fn exists(&self, obj: Obj, slot: u64) -> bool {
        match obj {
            Obj::ApBillItem => slot % LINE_STRIDE < self.lines_of_bill(slot / LINE_STRIDE + 1),
            Obj::ApPymt => self.block_paid(slot),
            Obj::ApPymtDetail => self.block_paid(slot / 2),
            _ => slot < self.slots(obj),
        }
    }

    /// WHENCREATED of base slot `slot` (defined for every slot, existing or not).
    pub(crate) fn created(&self, obj: Obj, slot: u64) -> i64 {
        match obj {
            Obj::ApBillItem => self.created(Obj::ApBill, slot / LINE_STRIDE),
            Obj::ApPymt => {
                let last_bill_slot = (2 * slot + 1).min(self.sizes.bills.saturating_sub(1));
                self.created(Obj::ApBill, last_bill_slot) + PAYMENT_LAG_SECS
            }
            Obj::ApPymtDetail => self.created(Obj::ApPymt, slot / 2),
            Obj::AuditHistory => self.created(Obj::ApBill, slot),
            _ => self.spread(obj, slot),
        }
    }

    /// WHENCREATED of a primary object: a migration burst at go-live (every record of it at
    /// the same second), then spread evenly with jitter, never decreasing.
    fn spread(&self, obj: Obj, slot: u64) -> i64 {
        let n = self.primary(obj).unwrap_or(1).max(1);
        let burst_pct = if obj == Obj::ApBill { 40 } else { 60 };
        let burst = (n * burst_pct).div_ceil(100).min(n);
        if slot < burst {
            return self.go_live;
        }
        let first = self.go_live + 3_600;
        let span = (self.created_end - first).max(1) as u64;
        let jitter = Draw::new(&[self.seed, obj.code(), slot, salt("CREATED")]).below(span);
        let pos = u128::from(slot - burst) * u128::from(span) + u128::from(jitter);
        first + (pos / u128::from(n - burst)) as i64
    }

    /// WHENMODIFIED of a base record: empty for 2 %, equal to WHENCREATED for the migration
    /// burst and half the rest, otherwise up to [`MAX_MODIFY_LAG_SECS`] later.
    pub(crate) fn modified(&self, obj: Obj, slot: u64, created: i64) -> Option<i64> {
        if !obj.has_modified() {
            return None;
        }
        let mut d = Draw::new(&[self.seed, obj.code(), slot + 1, salt("WHENMODIFIED")]);
        if d.per_mille(20) {
            return None;
        }
        if created == self.go_live {
            return Some(created);
        }
        let lag = match d.below(100) {
            0..50 => 0,
            50..90 => d.range(1, 86_400),
            _ => d.range(86_401, MAX_MODIFY_LAG_SECS as u64),
        };
        Some(created + lag as i64)
    }

    /// The first slot whose WHENCREATED is at or after `t` (`slots` when none).
    pub(crate) fn first_slot_created_at_or_after(&self, obj: Obj, t: i64) -> u64 {
        let (mut lo, mut hi) = (0, self.slots(obj));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.created(obj, mid) < t {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Number of lines of the bill whose hashing key is `bill_no` (1 to 6, mean ~3).
    pub(crate) fn lines_of_bill(&self, bill_no: u64) -> u64 {
        let r = Draw::new(&[self.seed, Obj::ApBillItem.code(), bill_no, salt("LINES")]).below(100);
        match r {
            0..20 => 1,
            20..40 => 2,
            40..65 => 3,
            65..80 => 4,
            80..90 => 5,
            _ => 6,
        }
    }

    /// Bill RECORDNOs of payment block `q` (slot of APPYMT).
    pub(crate) fn bills_of_block(&self, q: u64) -> impl Iterator<Item = u64> + use<> {
        let bills = self.sizes.bills;
        (2 * q + 1..=2 * q + 2).filter(move |b| *b <= bills)
    }

    /// Whether payment block `q` was paid before the start (old bills mostly, recent ones
    /// half the time, none whose payment would fall after the start).
    pub(crate) fn block_paid(&self, q: u64) -> bool {
        if q >= self.slots(Obj::ApPymt) {
            return false;
        }
        let paid_at = self.created(Obj::ApPymt, q);
        if paid_at > self.start - MAX_MODIFY_LAG_SECS - 1 {
            return false;
        }
        let odds = if self.start - paid_at > 60 * 86_400 {
            950
        } else {
            500
        };
        Draw::new(&[self.seed, Obj::ApPymt.code(), q, salt("PAID")]).per_mille(odds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Layout {
        Layout::new(7, 1_790_000_000, Sizes::of(Scale::Demo))
    }

    #[test]
    fn created_never_decreases_and_precedes_start() {
        let l = demo();
        for obj in Obj::ALL {
            let mut prev = i64::MIN;
            for slot in 0..l.slots(obj) {
                let c = l.created(obj, slot);
                assert!(c >= prev, "{} slot {slot}", obj.name());
                prev = c;
                if !l.exists(obj, slot) {
                    continue;
                }
                assert!(c >= l.go_live && c < l.start);
                if let Some(m) = l.modified(obj, slot, c) {
                    assert!(m >= c && m - c <= MAX_MODIFY_LAG_SECS && m < l.start);
                }
            }
        }
    }

    #[test]
    fn binary_search_agrees_with_a_linear_scan() {
        let l = demo();
        for obj in [Obj::ApBill, Obj::ApBillItem, Obj::ApPymt, Obj::Vendor] {
            for t in [
                l.go_live - 1,
                l.go_live,
                l.go_live + 1,
                l.start - 200 * 86_400,
                l.start,
            ] {
                let linear = (0..l.slots(obj))
                    .find(|s| l.created(obj, *s) >= t)
                    .unwrap_or(l.slots(obj));
                assert_eq!(l.first_slot_created_at_or_after(obj, t), linear);
            }
        }
    }

    #[test]
    fn base_counts_match_existence() {
        let l = demo();
        for obj in Obj::ALL {
            let n = (0..l.slots(obj)).filter(|s| l.exists(obj, *s)).count() as u64;
            assert_eq!(l.base_count(obj), n, "{}", obj.name());
        }
    }

    #[test]
    fn records_scale_is_roughly_proportional() {
        let total = |s: Sizes| {
            let l = Layout::new(1, 1_790_000_000, s);
            Obj::ALL.iter().map(|o| l.base_count(*o)).sum::<u64>()
        };
        let n = total(Sizes::of(Scale::Records(100_000)));
        assert!((80_000..=120_000).contains(&n), "{n}");
    }
}
