//! Reading the dataset: records in RECORDNO order, and records changed since an instant in
//! (effective instant, RECORDNO) order, merging base records with the overlay.
//!
//! Invariants: neither order materialises the object. RECORDNO order walks base slots and
//! then the overlay's higher RECORDNOs. Time order starts at the first base slot created
//! `MAX_MODIFY_LAG_SECS` before `since` (binary search) and reorders base records through a
//! heap that holds only records whose WHENMODIFIED may still be overtaken (at most that lag's
//! worth of records); records present in the overlay are skipped in the base walk and come
//! from the overlay's time index instead, so an updated record appears once, at its new
//! instant, and a deleted one never.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, btree_map, btree_set};
use std::iter::Peekable;

use super::SimRecord;
use super::changes::{Live, ObjectOverlay, Overlay, Version, base_live};
use super::generate::{AuditEntry, Generator, RecCtx};
use super::layout::MAX_MODIFY_LAG_SECS;
use super::model::Obj;

/// One record version with its RECORDNO, with the values of `columns` only (`None`: all).
pub(crate) fn render(
    generator: &Generator,
    obj: Obj,
    record_no: u64,
    live: &Live,
    columns: Option<&[bool]>,
) -> SimRecord {
    SimRecord {
        record_no,
        values: generator.record_columns(
            &RecCtx {
                obj,
                record_no,
                template_no: live.template_no,
                rev: live.rev,
                created: live.created,
                modified: live.modified,
                edit: live.edit,
            },
            columns,
        ),
    }
}

/// The AUDITHISTORY entry with this ID, base or appended.
pub(crate) fn audit_entry(generator: &Generator, ov: &Overlay, id: u64) -> Option<AuditEntry> {
    let base = generator.layout.slots(Obj::AuditHistory);
    if id == 0 {
        None
    } else if id <= base {
        Some(AuditEntry {
            object: Obj::ApBill,
            key: id,
            mode: b'C',
            time: generator.layout.created(Obj::AuditHistory, id - 1),
        })
    } else {
        ov.visible_audit().get((id - base - 1) as usize).copied()
    }
}

/// One live record.
pub(crate) fn get(
    generator: &Generator,
    ov: &Overlay,
    obj: Obj,
    record_no: u64,
) -> Option<SimRecord> {
    if obj == Obj::AuditHistory {
        let e = audit_entry(generator, ov, record_no)?;
        return Some(SimRecord {
            record_no,
            values: generator.audit_record(record_no, &e),
        });
    }
    let live = ov.live(generator, obj, record_no)?;
    Some(render(generator, obj, record_no, &live, None))
}

/// Live records in RECORDNO order.
pub(crate) struct ByRecordNo<'a> {
    generator: &'a Generator,
    ov: &'a ObjectOverlay,
    obj: Obj,
    slot: u64,
    slots: u64,
    tail: btree_map::Range<'a, u64, Version>,
    columns: Option<&'a [bool]>,
}

impl<'a> ByRecordNo<'a> {
    /// Live records with RECORDNO at or above `first`, with the values of `columns` (`None`:
    /// all).
    pub(crate) fn new(
        generator: &'a Generator,
        ov: &'a Overlay,
        obj: Obj,
        first: u64,
        columns: Option<&'a [bool]>,
    ) -> ByRecordNo<'a> {
        let slots = generator.layout.slots(obj);
        let o = ov.object(obj);
        ByRecordNo {
            generator,
            ov: o,
            obj,
            slot: first.saturating_sub(1).min(slots),
            slots,
            tail: o.versions.range((slots + 1).max(first)..),
            columns,
        }
    }
}

impl ByRecordNo<'_> {
    /// The next live record's RECORDNO and version, unrendered.
    pub(crate) fn next_live(&mut self) -> Option<(u64, Live)> {
        while self.slot < self.slots {
            let record_no = self.slot + 1;
            self.slot += 1;
            let live = if self.ov.versions.is_empty() {
                base_live(self.generator, self.obj, record_no)
            } else {
                match self.ov.versions.get(&record_no) {
                    Some(Version::Live(l)) => Some(*l),
                    Some(Version::Deleted) => None,
                    None => base_live(self.generator, self.obj, record_no),
                }
            };
            if let Some(live) = live {
                return Some((record_no, live));
            }
        }
        for (record_no, version) in self.tail.by_ref() {
            if let Version::Live(live) = version {
                return Some((*record_no, *live));
            }
        }
        None
    }
}

impl Iterator for ByRecordNo<'_> {
    type Item = SimRecord;

    fn next(&mut self) -> Option<SimRecord> {
        let (record_no, live) = self.next_live()?;
        Some(render(
            self.generator,
            self.obj,
            record_no,
            &live,
            self.columns,
        ))
    }
}

/// AUDITHISTORY rows with ID in `next..`, in ID order (which is also ACCESSTIME order).
pub(crate) struct AuditRows<'a> {
    generator: &'a Generator,
    ov: &'a Overlay,
    next: u64,
}

impl<'a> AuditRows<'a> {
    /// Rows with ID at or above `first`.
    pub(crate) fn from_id(generator: &'a Generator, ov: &'a Overlay, first: u64) -> AuditRows<'a> {
        AuditRows {
            generator,
            ov,
            next: first.max(1),
        }
    }

    /// Rows whose ACCESSTIME is at or after `since`.
    pub(crate) fn since(generator: &'a Generator, ov: &'a Overlay, since: i64) -> AuditRows<'a> {
        let layout = &generator.layout;
        let base = layout.slots(Obj::AuditHistory);
        let first_base = layout.first_slot_created_at_or_after(Obj::AuditHistory, since);
        let next = if first_base < base {
            first_base + 1
        } else {
            base + 1 + ov.visible_audit().partition_point(|e| e.time < since) as u64
        };
        AuditRows {
            generator,
            ov,
            next,
        }
    }
}

impl AuditRows<'_> {
    /// The next row's ID and entry, unrendered.
    pub(crate) fn next_entry(&mut self) -> Option<(u64, AuditEntry)> {
        let id = self.next;
        let e = audit_entry(self.generator, self.ov, id)?;
        self.next += 1;
        Some((id, e))
    }
}

impl Iterator for AuditRows<'_> {
    type Item = (i64, SimRecord);

    fn next(&mut self) -> Option<(i64, SimRecord)> {
        let (id, e) = self.next_entry()?;
        Some((
            e.time,
            SimRecord {
                record_no: id,
                values: self.generator.audit_record(id, &e),
            },
        ))
    }
}

/// (effective, RECORDNO, live) of a base record waiting in the reorder heap.
type Pending = (i64, u64, Live);

/// Live records whose effective instant is at or after `since`, in (instant, RECORDNO)
/// order.
pub(crate) struct ChangedSince<'a> {
    generator: &'a Generator,
    ov: &'a ObjectOverlay,
    obj: Obj,
    since: i64,
    next_slot: u64,
    slots: u64,
    /// WHENCREATED of `next_slot`: no later base record is effective before it.
    next_created: i64,
    heap: BinaryHeap<Reverse<Pending>>,
    overlay: Peekable<btree_set::Range<'a, (i64, u64)>>,
    columns: Option<&'a [bool]>,
}

impl<'a> ChangedSince<'a> {
    pub(crate) fn new(
        generator: &'a Generator,
        ov: &'a Overlay,
        obj: Obj,
        since: i64,
        columns: Option<&'a [bool]>,
    ) -> ChangedSince<'a> {
        let layout = &generator.layout;
        let slots = layout.slots(obj);
        let next_slot =
            layout.first_slot_created_at_or_after(obj, since.saturating_sub(MAX_MODIFY_LAG_SECS));
        let o = ov.object(obj);
        ChangedSince {
            generator,
            ov: o,
            obj,
            since,
            next_slot,
            slots,
            next_created: if next_slot < slots {
                layout.created(obj, next_slot)
            } else {
                i64::MAX
            },
            heap: BinaryHeap::new(),
            overlay: o.by_time.range((since, 0)..).peekable(),
            columns,
        }
    }

    /// The next base record in (effective, RECORDNO) order.
    fn peek_base(&mut self) -> Option<&Pending> {
        let layout = &self.generator.layout;
        loop {
            let ready = match self.heap.peek() {
                Some(Reverse(top)) => self.next_slot >= self.slots || top.0 <= self.next_created,
                None => self.next_slot >= self.slots,
            };
            if ready {
                return self.heap.peek().map(|Reverse(p)| p);
            }
            let slot = self.next_slot;
            self.next_slot += 1;
            self.next_created = if self.next_slot < self.slots {
                layout.created(self.obj, self.next_slot)
            } else {
                i64::MAX
            };
            let record_no = slot + 1;
            if !layout.exists(self.obj, slot) || self.ov.versions.contains_key(&record_no) {
                continue;
            }
            let created = layout.created(self.obj, slot);
            let live = Live {
                template_no: record_no,
                created,
                modified: layout.modified(self.obj, slot, created),
                rev: 0,
                edit: super::generate::Edit::default(),
            };
            if live.effective() >= self.since {
                self.heap.push(Reverse((live.effective(), record_no, live)));
            }
        }
    }
}

impl ChangedSince<'_> {
    /// The next record's effective instant, RECORDNO and version, unrendered.
    pub(crate) fn next_live(&mut self) -> Option<(i64, u64, Live)> {
        let base = self.peek_base().map(|p| (p.0, p.1));
        let over = self.overlay.peek().map(|k| **k);
        let take_base = match (base, over) {
            (None, None) => return None,
            (Some(b), Some(o)) => b < o,
            (Some(_), None) => true,
            (None, Some(_)) => false,
        };
        if take_base {
            let Reverse(pending) = self.heap.pop()?;
            return Some(pending);
        }
        let (eff, record_no) = *self.overlay.next()?;
        let Some(Version::Live(live)) = self.ov.versions.get(&record_no) else {
            return None;
        };
        Some((eff, record_no, *live))
    }
}

impl Iterator for ChangedSince<'_> {
    type Item = (i64, SimRecord);

    fn next(&mut self) -> Option<(i64, SimRecord)> {
        let (eff, record_no, live) = self.next_live()?;
        let record = render(self.generator, self.obj, record_no, &live, self.columns);
        Some((eff, record))
    }
}
