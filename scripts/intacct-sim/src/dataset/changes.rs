//! The overlay of changes on top of the base records, and the simulated day that fills it.
//!
//! Invariants: memory is proportional to the number of changes, not to the dataset (a map of
//! changed RECORDNO → version, a set of (effective instant, RECORDNO) of live overlay
//! versions, and the appended AUDITHISTORY rows); every version in `by_time` is live and
//! every live overlay version is in `by_time`; a day's changes are a pure function of
//! (seed, day number, state at the start of the day); changes never break a foreign key or a
//! sum (only unpaid bills are deleted, with their lines; of vendors, customers, GL accounts,
//! departments and projects only records created after the start, which nothing refers to;
//! updates touch only `mutable` fields); AUDITHISTORY rows are appended in (ACCESSTIME, ID)
//! order, and none names a line object (the gateway logs a bill, not its lines); rows become
//! visible to reads only once the audit lag has passed ([`Overlay::visible_audit`]).
//!
//! # Edited lines
//!
//! Each day also edits the lines of live transactions the way Sage documents an update: a
//! bill (and a payment) is saved with the lines to keep, so a line left out simply stops
//! being returned. Sage's `update` of APBILL takes "only the lines you want to keep" (the same
//! holds for APPYMT and its detail lines); an integration's "Update Bill" says the items sent
//! "will replace the current items in the bill" (Paragon's Sage Intacct ActionKit reference);
//! Bill.com syncs edits of unpaid bills only ("Will edits made to bills in Bill.com sync to
//! Sage Intacct?"). So, per day:
//! * an unpaid bill with two lines or more loses one: the line is gone with no audit row
//!   naming it (lines have none), the bill's WHENMODIFIED moves and its totals drop (a
//!   `Modify` row for the bill); its other lines do not change;
//! * an unpaid bill gains a line, in a stride slot none of its lines ever used (a RECORDNO is
//!   never reused), with the bill modified the same way;
//! * a payment of two bills loses one detail line: the detail is gone with no audit row, the
//!   payment's WHENMODIFIED moves and its total drops; the bill that detail paid is open
//!   again, so it (and its lines' state) is modified at the same instant, which keeps every
//!   sum true. That the bill moves too is a guess: Sage does not say what a removed payment
//!   line does to its bill, and a bill whose totals change without a new WHENMODIFIED would
//!   be a change no client could see.
//!
//! [`Edit`] records what such edits changed, so the values stay pure functions of the
//! record's version.

use std::collections::{BTreeMap, BTreeSet};

use super::ChangeSummary;
use super::generate::{AuditEntry, Edit, Generator};
use super::hash::{Draw, salt};
use super::layout::LINE_STRIDE;
use super::model::Obj;

/// A live record version held in the overlay (or derived from the base).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Live {
    /// The RECORDNO whose draws the values come from.
    pub(crate) template_no: u64,
    pub(crate) created: i64,
    pub(crate) modified: Option<i64>,
    /// 0 for base values, else the update sequence number.
    pub(crate) rev: u64,
    /// How edits changed the record's lines (a bill's line set, a payment's details).
    pub(crate) edit: Edit,
}

impl Live {
    /// WHENMODIFIED, or WHENCREATED when WHENMODIFIED is empty.
    pub(crate) fn effective(&self) -> i64 {
        self.modified.unwrap_or(self.created)
    }
}

/// What the overlay knows about a RECORDNO.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Version {
    Live(Live),
    Deleted,
}

/// Changes of one object.
#[derive(Debug, Default)]
pub(crate) struct ObjectOverlay {
    pub(crate) versions: BTreeMap<u64, Version>,
    pub(crate) by_time: BTreeSet<(i64, u64)>,
    /// Records created minus records deleted.
    pub(crate) live_delta: i64,
}

/// All changes since the start.
#[derive(Debug)]
pub(crate) struct Overlay {
    pub(crate) objects: Vec<ObjectOverlay>,
    /// AUDITHISTORY rows written after the start, in ID order.
    pub(crate) audit: Vec<AuditEntry>,
    /// How many of `audit` reads can see: the rows at least the audit lag old.
    pub(crate) audit_visible: usize,
    /// Simulated days applied.
    pub(crate) days: u32,
    next_no: Vec<u64>,
    update_seq: u64,
}

impl Overlay {
    pub(crate) fn new(generator: &Generator) -> Overlay {
        Overlay {
            objects: Obj::ALL.iter().map(|_| ObjectOverlay::default()).collect(),
            audit: Vec::new(),
            audit_visible: 0,
            days: 0,
            next_no: Obj::ALL
                .iter()
                .map(|o| generator.layout.slots(*o) + 1)
                .collect(),
            update_seq: 0,
        }
    }

    /// The appended AUDITHISTORY rows reads can see (the audit lag has passed).
    pub(crate) fn visible_audit(&self) -> &[AuditEntry] {
        &self.audit[..self.audit_visible]
    }

    /// Makes visible the appended rows whose ACCESSTIME is at or before `until`.
    pub(crate) fn reveal_audit(&mut self, until: i64) {
        self.audit_visible = self.audit.partition_point(|e| e.time <= until);
    }

    pub(crate) fn object(&self, obj: Obj) -> &ObjectOverlay {
        &self.objects[obj.index()]
    }

    /// The live version of a RECORDNO, from the overlay or the base; `None` when deleted
    /// or absent. (AUDITHISTORY rows are not versions; see [`Overlay::audit`].)
    pub(crate) fn live(&self, generator: &Generator, obj: Obj, record_no: u64) -> Option<Live> {
        match self.object(obj).versions.get(&record_no) {
            Some(Version::Live(l)) => Some(*l),
            Some(Version::Deleted) => None,
            None => base_live(generator, obj, record_no),
        }
    }

    /// Live records of an object.
    pub(crate) fn len(&self, generator: &Generator, obj: Obj) -> u64 {
        let base = generator.layout.base_count(obj);
        if obj == Obj::AuditHistory {
            return base + self.audit_visible as u64;
        }
        (base as i64 + self.object(obj).live_delta) as u64
    }

    /// The highest RECORDNO that may be live.
    fn max_record_no(&self, obj: Obj) -> u64 {
        let overlay_max = self
            .object(obj)
            .versions
            .last_key_value()
            .map_or(0, |(k, _)| *k);
        (self.next_no[obj.index()] - 1).max(overlay_max)
    }

    fn put(&mut self, obj: Obj, record_no: u64, version: Version) {
        let o = &mut self.objects[obj.index()];
        if let Some(Version::Live(old)) = o.versions.get(&record_no) {
            o.by_time.remove(&(old.effective(), record_no));
        }
        if let Version::Live(new) = version {
            o.by_time.insert((new.effective(), record_no));
        }
        o.versions.insert(record_no, version);
    }
}

/// The base version of a RECORDNO, if the base has it.
pub(crate) fn base_live(generator: &Generator, obj: Obj, record_no: u64) -> Option<Live> {
    let layout = &generator.layout;
    if record_no == 0 || record_no > layout.slots(obj) {
        return None;
    }
    let slot = record_no - 1;
    if !layout.exists(obj, slot) {
        return None;
    }
    let created = layout.created(obj, slot);
    Some(Live {
        template_no: record_no,
        created,
        modified: layout.modified(obj, slot, created),
        rev: 0,
        edit: Edit::default(),
    })
}

#[derive(Clone, Copy, Debug)]
enum Event {
    Update(Obj),
    Create(Obj),
    CreateBill,
    DeleteBill {
        recreate: bool,
    },
    /// A record entered after the start (by mistake, say) is deleted.
    DeleteCreated(Obj),
    /// A live bill is saved with one of its lines left out.
    RemoveBillLine,
    /// A live bill is saved with one line more.
    AddBillLine,
    /// A live payment is saved with one of its two detail lines left out.
    RemovePaymentDetail,
}

/// Master-data objects whose records are deleted now and then. Only records created after the
/// start are deleted (Intacct refuses to delete a vendor or an account that transactions
/// use, and nothing refers to those).
const DELETED_MASTER_DATA: [Obj; 5] = [
    Obj::Vendor,
    Obj::Customer,
    Obj::GlAccount,
    Obj::Department,
    Obj::Project,
];

/// Objects that are created now and then, and their creations per base record per day in
/// parts per million.
const CREATE_PPM: [(Obj, u64); 8] = [
    (Obj::Vendor, 900),
    (Obj::Customer, 900),
    (Obj::Employee, 600),
    (Obj::Project, 900),
    (Obj::GlAccount, 200),
    (Obj::Department, 200),
    (Obj::Class, 200),
    (Obj::Location, 200),
];

/// `x / 1e6` rounded up or down at random in proportion to the fraction.
fn count_ppm(x_ppm: u64, d: &mut Draw) -> u64 {
    x_ppm / 1_000_000 + u64::from(d.below(1_000_000) < x_ppm % 1_000_000)
}

/// Applies simulated day `day` (1-based), which starts at `day_start`.
pub(crate) fn simulate_day(
    generator: &Generator,
    ov: &mut Overlay,
    day: u32,
    day_start: i64,
    summary: &mut ChangeSummary,
) {
    let seed = generator.layout.seed;
    let mut plan = Draw::new(&[seed, salt("DAY"), u64::from(day)]);
    let mut events: Vec<Event> = Vec::new();
    for obj in Obj::ALL {
        if matches!(obj, Obj::AuditHistory) {
            continue;
        }
        let per_mille = plan.range(10, 30);
        let n = count_ppm(ov.len(generator, obj) * per_mille * 1_000, &mut plan);
        events.extend((0..n).map(|_| Event::Update(obj)));
    }
    for (obj, ppm) in CREATE_PPM {
        let n = count_ppm(generator.layout.base_count(obj) * ppm, &mut plan);
        events.extend((0..n).map(|_| Event::Create(obj)));
    }
    let bills = generator.layout.sizes.bills;
    let new_bills = count_ppm(bills * 1_000_000 / 1_095, &mut plan).max(1);
    events.extend((0..new_bills).map(|_| Event::CreateBill));
    let deletes = count_ppm(bills * 500, &mut plan).max(1);
    events.extend((0..deletes).map(|_| Event::DeleteBill { recreate: false }));
    if day % 2 == 1 {
        events.push(Event::DeleteBill { recreate: true });
    }
    events.extend(DELETED_MASTER_DATA.map(Event::DeleteCreated));
    events.extend([
        Event::RemoveBillLine,
        Event::AddBillLine,
        Event::RemovePaymentDetail,
    ]);

    let mut timed: Vec<(i64, u64, Event)> = events
        .into_iter()
        .enumerate()
        .map(|(seq, e)| {
            let seq = seq as u64;
            let t = Draw::new(&[seed, salt("WHEN"), u64::from(day), seq]).below(86_398) as i64;
            (day_start + t, seq, e)
        })
        .collect();
    timed.sort_by_key(|(t, seq, _)| (*t, *seq));

    let mut audit = Vec::new();
    for (t, seq, event) in timed {
        let mut d = Draw::new(&[seed, salt("EVENT"), u64::from(day), seq]);
        let mut day = DayApply {
            generator,
            ov: &mut *ov,
            audit: &mut audit,
            summary: &mut *summary,
        };
        match event {
            Event::Update(obj) => day.update(obj, t, &mut d),
            Event::Create(obj) => day.create(obj, t),
            Event::CreateBill => {
                let bill = day.ov.next_no[Obj::ApBill.index()];
                day.create_bill(t, bill, Edit::default());
            }
            Event::DeleteBill { recreate } => day.delete_bill(t, recreate, &mut d),
            Event::DeleteCreated(obj) => day.delete_created(obj, t, &mut d),
            Event::RemoveBillLine => day.edit_bill_lines(t, false, &mut d),
            Event::AddBillLine => day.edit_bill_lines(t, true, &mut d),
            Event::RemovePaymentDetail => day.remove_payment_detail(t, &mut d),
        }
    }
    audit.sort_by_key(|e| e.time);
    ov.audit.extend(audit);
    ov.days = day;
}

struct DayApply<'a> {
    generator: &'a Generator,
    ov: &'a mut Overlay,
    audit: &'a mut Vec<AuditEntry>,
    summary: &'a mut ChangeSummary,
}

fn bump(map: &mut BTreeMap<String, u64>, obj: Obj, n: u64) {
    *map.entry(obj.name().to_string()).or_default() += n;
}

impl DayApply<'_> {
    fn log(&mut self, object: Obj, key: u64, mode: u8, time: i64) {
        // AUDITHISTORY names a bill or a payment, never its lines.
        if matches!(object, Obj::ApBillItem | Obj::ApPymtDetail) {
            return;
        }
        self.audit.push(AuditEntry {
            object,
            key,
            mode,
            time,
        });
    }

    fn update(&mut self, obj: Obj, t: i64, d: &mut Draw) {
        let max = self.ov.max_record_no(obj);
        if max == 0 {
            return;
        }
        for _ in 0..16 {
            let record_no = d.below(max) + 1;
            let Some(live) = self.ov.live(self.generator, obj, record_no) else {
                continue;
            };
            self.ov.update_seq += 1;
            let version = Live {
                modified: Some(t),
                rev: self.ov.update_seq,
                ..live
            };
            self.ov.put(obj, record_no, Version::Live(version));
            self.log(obj, record_no, b'M', t);
            bump(&mut self.summary.updated, obj, 1);
            return;
        }
    }

    fn create(&mut self, obj: Obj, t: i64) {
        let record_no = self.ov.next_no[obj.index()];
        self.ov.next_no[obj.index()] += 1;
        self.insert_new(obj, record_no, record_no, t);
    }

    fn insert_new(&mut self, obj: Obj, record_no: u64, template_no: u64, t: i64) {
        let live = Live {
            template_no,
            created: t,
            modified: Some(t),
            rev: 0,
            edit: Edit::default(),
        };
        self.ov.put(obj, record_no, Version::Live(live));
        self.ov.objects[obj.index()].live_delta += 1;
        self.log(obj, record_no, b'C', t);
        bump(&mut self.summary.created, obj, 1);
    }

    /// Creates bill `template_bill`'s content, with the line set `edit` gives it, as a new
    /// bill with the next RECORDNO.
    fn create_bill(&mut self, t: i64, template_bill: u64, edit: Edit) {
        let bill = self.ov.next_no[Obj::ApBill.index()];
        self.ov.next_no[Obj::ApBill.index()] += 1;
        self.insert_new(Obj::ApBill, bill, template_bill, t);
        if edit.lines != 0 {
            let live = self.ov.live(self.generator, Obj::ApBill, bill);
            if let Some(live) = live {
                let lines = Edit {
                    lines: edit.lines,
                    ..Edit::default()
                };
                self.ov.put(
                    Obj::ApBill,
                    bill,
                    Version::Live(Live {
                        edit: lines,
                        ..live
                    }),
                );
            }
        }
        let mask = edit.line_mask(&self.generator.layout, template_bill);
        for j in (0..LINE_STRIDE).filter(|j| mask >> j & 1 == 1) {
            let line = (bill - 1) * LINE_STRIDE + j + 1;
            let template_line = (template_bill - 1) * LINE_STRIDE + j + 1;
            self.insert_new(Obj::ApBillItem, line, template_line, t);
        }
    }

    /// A live, unpaid bill saved again at `t` with one line left out (`add` false: it keeps
    /// at least one) or one line more (`add`: in a stride slot no line of it ever used, so a
    /// RECORDNO is never reused). Only the bill's WHENMODIFIED moves (and its totals, the sum
    /// of its lines); a removed line simply stops being returned, and no audit row names it.
    fn edit_bill_lines(&mut self, t: i64, add: bool, d: &mut Draw) {
        let max = self.ov.max_record_no(Obj::ApBill);
        if max == 0 {
            return;
        }
        let layout = &self.generator.layout;
        let window = (max / 4).max(50).min(max);
        for _ in 0..64 {
            let bill = max - d.below(window);
            let Some(live) = self.ov.live(self.generator, Obj::ApBill, bill) else {
                continue;
            };
            let facts = self.generator.bill_facts(bill, live.template_no, live.edit);
            if facts.paid_cents > 0 {
                continue;
            }
            let mask = live.edit.line_mask(layout, live.template_no);
            let line_no = |j: u64| (bill - 1) * LINE_STRIDE + j + 1;
            let (j, lines) = if add {
                // Past every slot a line of this bill ever held, live or removed.
                let used = (0..LINE_STRIDE)
                    .rev()
                    .find(|j| {
                        mask >> j & 1 == 1
                            || self
                                .ov
                                .object(Obj::ApBillItem)
                                .versions
                                .contains_key(&line_no(*j))
                    })
                    .map_or(0, |j| j + 1);
                if used >= LINE_STRIDE {
                    continue;
                }
                (used, mask | 1 << used)
            } else {
                if mask.count_ones() < 2 {
                    continue;
                }
                let held: Vec<u64> = (0..LINE_STRIDE).filter(|j| mask >> j & 1 == 1).collect();
                let j = *d.pick(&held);
                (j, mask & !(1 << j))
            };
            if add {
                let template_line = (live.template_no - 1) * LINE_STRIDE + j + 1;
                self.insert_new(Obj::ApBillItem, line_no(j), template_line, t);
            } else {
                self.delete(Obj::ApBillItem, line_no(j), t);
            }
            let edited = Live {
                modified: Some(t),
                edit: Edit { lines, ..live.edit },
                ..live
            };
            self.ov.put(Obj::ApBill, bill, Version::Live(edited));
            self.log(Obj::ApBill, bill, b'M', t);
            bump(&mut self.summary.updated, Obj::ApBill, 1);
            return;
        }
    }

    /// A live payment of two bills saved again at `t` without the detail line of one: the
    /// detail stops being returned (no audit row names it), the payment's WHENMODIFIED moves
    /// and its total drops by the detail's amount, and the bill it paid is open again (its
    /// totals and its lines' state change, so they are modified at `t` too).
    fn remove_payment_detail(&mut self, t: i64, d: &mut Draw) {
        let max = self.ov.max_record_no(Obj::ApPymt);
        if max == 0 {
            return;
        }
        for _ in 0..64 {
            let payment = d.below(max) + 1;
            let Some(live) = self.ov.live(self.generator, Obj::ApPymt, payment) else {
                continue;
            };
            if live.edit.dropped != 0 {
                continue;
            }
            let bills: Vec<u64> = self
                .generator
                .layout
                .bills_of_block(live.template_no - 1)
                .collect();
            let paid = |b: &u64| {
                self.ov
                    .live(self.generator, Obj::ApPymtDetail, *b)
                    .is_some()
                    && self
                        .ov
                        .live(self.generator, Obj::ApBill, *b)
                        .is_some_and(|l| !l.edit.unpaid)
            };
            if bills.len() != 2 || !bills.iter().all(paid) {
                continue;
            }
            let i = d.below(2) as usize;
            let bill = bills[i];
            self.delete(Obj::ApPymtDetail, bill, t);
            let edited = Live {
                modified: Some(t),
                edit: Edit {
                    dropped: 1 << i,
                    ..live.edit
                },
                ..live
            };
            self.ov.put(Obj::ApPymt, payment, Version::Live(edited));
            self.log(Obj::ApPymt, payment, b'M', t);
            bump(&mut self.summary.updated, Obj::ApPymt, 1);
            let Some(bill_live) = self.ov.live(self.generator, Obj::ApBill, bill) else {
                return;
            };
            let open = Live {
                modified: Some(t),
                edit: Edit {
                    unpaid: true,
                    ..bill_live.edit
                },
                ..bill_live
            };
            self.ov.put(Obj::ApBill, bill, Version::Live(open));
            self.log(Obj::ApBill, bill, b'M', t);
            bump(&mut self.summary.updated, Obj::ApBill, 1);
            for j in 0..LINE_STRIDE {
                let line = (bill - 1) * LINE_STRIDE + j + 1;
                if let Some(l) = self.ov.live(self.generator, Obj::ApBillItem, line) {
                    let open = Live {
                        modified: Some(t),
                        edit: Edit {
                            unpaid: true,
                            ..l.edit
                        },
                        ..l
                    };
                    self.ov.put(Obj::ApBillItem, line, Version::Live(open));
                    bump(&mut self.summary.updated, Obj::ApBillItem, 1);
                }
            }
            return;
        }
    }

    fn delete(&mut self, obj: Obj, record_no: u64, t: i64) {
        self.ov.put(obj, record_no, Version::Deleted);
        self.ov.objects[obj.index()].live_delta -= 1;
        self.log(obj, record_no, b'D', t);
        bump(&mut self.summary.deleted, obj, 1);
    }

    /// Deletes a live record of `obj` created after the start; when there is none, one is
    /// entered at `t` and deleted a second later.
    fn delete_created(&mut self, obj: Obj, t: i64, d: &mut Draw) {
        let base = self.generator.layout.slots(obj);
        let created: Vec<u64> = self
            .ov
            .object(obj)
            .versions
            .range(base + 1..)
            .filter(|(_, v)| matches!(v, Version::Live(_)))
            .map(|(k, _)| *k)
            .collect();
        if let Some(record_no) = (!created.is_empty()).then(|| *d.pick(&created)) {
            self.delete(obj, record_no, t);
        } else {
            let record_no = self.ov.next_no[obj.index()];
            self.create(obj, t);
            self.delete(obj, record_no, t + 1);
        }
    }

    /// Deletes an unpaid bill (recent ones are likelier to be unpaid) with its lines; with
    /// `recreate`, enters the same bill again with a new RECORDNO a second later, as Intacct
    /// does when a purchasing transaction is edited.
    fn delete_bill(&mut self, t: i64, recreate: bool, d: &mut Draw) {
        let max = self.ov.max_record_no(Obj::ApBill);
        if max == 0 {
            return;
        }
        let window = (max / 4).max(50).min(max);
        for attempt in 0..64 {
            let bill = if attempt < 48 {
                max - d.below(window)
            } else {
                d.below(max) + 1
            };
            let Some(live) = self.ov.live(self.generator, Obj::ApBill, bill) else {
                continue;
            };
            if self
                .generator
                .bill_facts(bill, live.template_no, live.edit)
                .paid_cents
                > 0
            {
                continue;
            }
            for j in 0..LINE_STRIDE {
                let line = (bill - 1) * LINE_STRIDE + j + 1;
                if self
                    .ov
                    .live(self.generator, Obj::ApBillItem, line)
                    .is_some()
                {
                    self.delete(Obj::ApBillItem, line, t);
                }
            }
            self.delete(Obj::ApBill, bill, t);
            if recreate {
                self.create_bill(t + 1, live.template_no, live.edit);
            }
            return;
        }
    }
}
