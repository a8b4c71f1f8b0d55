//! Record values: every value is a pure function of (seed, object, hashing key, field,
//! revision) plus the record's instants, so any record can be produced on demand.
//!
//! Invariants: a record's references point at base records of other objects that are never
//! deleted (GL accounts, dimensions, vendors, customers, employees); a bill's TOTALENTERED is
//! the sum of its lines' AMOUNT, TOTALDUE = TOTALENTERED − TOTALPAID, and TOTALPAID is the
//! sum of the APPYMTDETAIL amounts that pay it; a payment's total is the sum of its details.
//! Values of revision 0 are the base values; an update of revision `r` regenerates a few
//! `mutable` fields with `r` in their key.

use chrono_tz::Tz;

use super::catalog::{BILL_STATES, STATUS_VALUES, TERMS};
use super::clock;
use super::hash::{Draw, salt};
use super::layout::{LINE_STRIDE, Layout};
use super::model::{AddrPart, AuditF, BillF, DetailF, FieldDef, Gen, LineF, Obj, PayF, RefPart};
use super::numbers;
use super::text;

/// What identifies one version of a record.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RecCtx {
    pub(crate) obj: Obj,
    /// The RECORDNO served.
    pub(crate) record_no: u64,
    /// The RECORDNO whose draws the values come from (differs for a recreated bill).
    pub(crate) template_no: u64,
    /// 0 for base values; the update sequence number of the last update otherwise.
    pub(crate) rev: u64,
    pub(crate) created: i64,
    pub(crate) modified: Option<i64>,
    /// What edits of the record's lines changed (see [`Edit`]).
    pub(crate) edit: Edit,
}

/// How edits changed a transaction's lines, for the values that depend on them: a bill
/// edited by supplying only the lines to keep (or one more), a payment that lost a detail
/// line, a bill whose payment detail went with it. The default is the layout's own record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Edit {
    /// A bill's line slots that hold a live line (bit `j`: line `j` of its stride); 0: the
    /// layout's own lines.
    pub(crate) lines: u8,
    /// A payment's bills whose detail line was removed (bit 0: the block's first bill, bit
    /// 1: its second).
    pub(crate) dropped: u8,
    /// A bill (or a line of one) whose payment detail was removed: nothing paid.
    pub(crate) unpaid: bool,
}

impl Edit {
    /// The line slots of the bill drawn from `template_bill` that hold a live line.
    pub(crate) fn line_mask(self, layout: &Layout, template_bill: u64) -> u8 {
        if self.lines != 0 {
            self.lines
        } else {
            ((1u16 << layout.lines_of_bill(template_bill)) - 1) as u8
        }
    }
}

/// One AUDITHISTORY row before rendering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AuditEntry {
    pub(crate) object: Obj,
    pub(crate) key: u64,
    /// `b'C'`, `b'M'` or `b'D'`.
    pub(crate) mode: u8,
    pub(crate) time: i64,
}

/// Facts about a bill that several objects' values depend on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BillFacts {
    pub(crate) vendor_no: u64,
    term: usize,
    pub(crate) total_cents: u64,
    pub(crate) paid_cents: u64,
    /// (APPYMT RECORDNO, payment instant) when paid.
    pub(crate) payment: Option<(u64, i64)>,
}

impl BillFacts {
    fn state(&self) -> &'static str {
        if self.paid_cents == 0 {
            BILL_STATES[0]
        } else if self.paid_cents < self.total_cents {
            BILL_STATES[1]
        } else {
            BILL_STATES[2]
        }
    }
}

enum Facts {
    None,
    Bill(BillFacts),
    Payment { vendor_no: u64, total_cents: u64 },
}

const HOSTILE_SALT: u64 = salt("HOSTILE");

/// Produces values.
#[derive(Debug)]
pub(crate) struct Generator {
    pub(crate) layout: Layout,
    tz: Tz,
    /// Field lists per object (the catalog's, plus opt-in extras).
    fields: Vec<Vec<FieldDef>>,
    /// Index of each object's name field.
    name_index: Vec<Option<usize>>,
}

impl Generator {
    pub(crate) fn new(layout: Layout, tz: Tz, extra: &[(Obj, FieldDef)]) -> Generator {
        let fields: Vec<Vec<FieldDef>> = Obj::ALL
            .iter()
            .map(|o| {
                let mut v = o.fields().to_vec();
                v.extend(extra.iter().filter(|(of, _)| of == o).map(|(_, f)| *f));
                v
            })
            .collect();
        let name_index = Obj::ALL
            .iter()
            .map(|o| {
                fields[o.index()]
                    .iter()
                    .position(|f| f.name == o.name_field())
            })
            .collect();
        Generator {
            layout,
            tz,
            fields,
            name_index,
        }
    }

    /// The fields of an object, in value order.
    pub(crate) fn fields(&self, obj: Obj) -> &[FieldDef] {
        &self.fields[obj.index()]
    }

    fn seed(&self) -> u64 {
        self.layout.seed
    }

    fn draw(&self, obj: Obj, key: u64, purpose: u64, rev: u64) -> Draw {
        Draw::new(&[self.seed(), obj.code(), key, purpose, rev])
    }

    /// The values of one record version in `columns` (by field index; `None`: every field);
    /// the others are `None`. Facts shared with other records (a bill's totals, a payment's
    /// bills) are derived only when a selected field needs them: they are most of a record's
    /// cost, and a count over an index needs only its instants and key.
    pub(crate) fn record_columns(
        &self,
        rc: &RecCtx,
        columns: Option<&[bool]>,
    ) -> Vec<Option<String>> {
        let fields = self.fields(rc.obj);
        let selected = |i: usize| columns.is_none_or(|c| c.get(i).copied().unwrap_or(false));
        let needs_facts = fields.iter().enumerate().any(|(i, f)| {
            selected(i)
                && matches!(
                    f.generator,
                    Gen::Bill(_) | Gen::Line(_) | Gen::Pay(_) | Gen::Detail(_)
                )
        });
        let facts = if needs_facts {
            self.facts(rc)
        } else {
            Facts::None
        };
        let mutated = self.mutation_mask(rc, fields);
        fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                if !selected(i) {
                    return None;
                }
                let rev = if mutated >> i & 1 == 1 { rc.rev } else { 0 };
                self.value(f, rc, rev, &facts)
            })
            .collect()
    }

    /// AUDITHISTORY's OBJECTKEY of record `key`: the unique name field for master data
    /// (VENDORID, CUSTOMERID, ACCOUNTNO, …, as Sage documents it), a bare RECORDNO for
    /// payments, `N--REC` for bills. Which transaction object uses which of the two number
    /// forms is a guess; real connectors have met both.
    pub(crate) fn audit_object_key(&self, obj: Obj, key: u64) -> String {
        match obj {
            Obj::Vendor
            | Obj::Customer
            | Obj::Employee
            | Obj::Department
            | Obj::Location
            | Obj::Class
            | Obj::Project
            | Obj::GlAccount => self.record_id(obj, key),
            Obj::ApPymt => key.to_string(),
            _ => format!("{key}--REC"),
        }
    }

    /// An AUDITHISTORY row with this ID.
    pub(crate) fn audit_record(&self, id: u64, e: &AuditEntry) -> Vec<Option<String>> {
        let mut d = self.draw(Obj::AuditHistory, id, salt("AUDIT"), 0);
        let user = if e.object == Obj::ApBill && e.mode == b'C' && d.per_mille(300) {
            "ap_import".to_string()
        } else {
            format!("user{:02}", d.range(1, 40))
        };
        let source = super::catalog::AUDIT_SOURCES[d.below(4) as usize];
        self.fields(Obj::AuditHistory)
            .iter()
            .map(|f| match f.generator {
                Gen::RecordNo => Some(id.to_string()),
                Gen::AuditId => Some(format!(
                    "{id:0width$}",
                    width = super::catalog::AUDIT_ID_WIDTH
                )),
                Gen::Audit(AuditF::ObjectType) => Some(e.object.audit_type()),
                Gen::Audit(AuditF::ObjectKey) => Some(self.audit_object_key(e.object, e.key)),
                Gen::Audit(AuditF::ObjectDesc) => Some(format!(
                    "{} {}",
                    e.object.name().to_ascii_lowercase(),
                    e.key
                )),
                Gen::Audit(AuditF::AccessMode) => Some(char::from(e.mode).to_string()),
                Gen::Audit(AuditF::AccessTime) => Some(clock::timestamp(self.tz, e.time)),
                Gen::Audit(AuditF::UserId) => Some(user.clone()),
                Gen::Audit(AuditF::Source) => Some(source.to_string()),
                Gen::Audit(AuditF::IpAddress) => Some(format!("10.20.{}.{}", id % 200, id % 251)),
                _ => None,
            })
            .collect()
    }

    /// Which fields an update of revision `rc.rev` changed: one mutable field always, each
    /// other mutable field with probability 1/3.
    fn mutation_mask(&self, rc: &RecCtx, fields: &[FieldDef]) -> u64 {
        if rc.rev == 0 {
            return 0;
        }
        let mutable: Vec<usize> = (0..fields.len()).filter(|i| fields[*i].mutable).collect();
        if mutable.is_empty() {
            return 0;
        }
        let mut d = self.draw(rc.obj, rc.record_no, salt("MUTATE"), rc.rev);
        let mut mask = 1u64 << *d.pick(&mutable);
        for i in &mutable {
            if d.below(3) == 0 {
                mask |= 1 << i;
            }
        }
        mask
    }

    fn facts(&self, rc: &RecCtx) -> Facts {
        match rc.obj {
            Obj::ApBill => Facts::Bill(self.bill_facts(rc.record_no, rc.template_no, rc.edit)),
            // A line's values need its bill's vendor and state only, never its other lines.
            Obj::ApBillItem => Facts::Bill(self.bill_facts(
                (rc.record_no - 1) / LINE_STRIDE + 1,
                (rc.template_no - 1) / LINE_STRIDE + 1,
                Edit {
                    unpaid: rc.edit.unpaid,
                    ..Edit::default()
                },
            )),
            Obj::ApPymtDetail => {
                Facts::Bill(self.bill_facts(rc.record_no, rc.template_no, Edit::default()))
            }
            Obj::ApPymt => {
                let q = rc.template_no - 1;
                let mut vendor_no = 0;
                let mut total_cents = 0;
                for (i, b) in self.layout.bills_of_block(q).enumerate() {
                    let bf = self.bill_facts(b, b, Edit::default());
                    vendor_no = bf.vendor_no;
                    if rc.edit.dropped >> i & 1 == 0 {
                        total_cents += bf.paid_cents;
                    }
                }
                Facts::Payment {
                    vendor_no,
                    total_cents,
                }
            }
            _ => Facts::None,
        }
    }

    /// Facts of the bill served as `bill_no`, drawn from `template_bill` and changed by `edit`.
    pub(crate) fn bill_facts(&self, bill_no: u64, template_bill: u64, edit: Edit) -> BillFacts {
        let block = (template_bill - 1) / 2;
        let vendors = self.layout.sizes.vendors;
        let vendor_no = self
            .draw(Obj::ApBill, block, salt("VENDOR"), 0)
            .below(vendors)
            + 1;
        let term = self
            .draw(Obj::Vendor, vendor_no, salt("TERMNAME"), 0)
            .below(TERMS.len() as u64) as usize;
        let mask = edit.line_mask(&self.layout, template_bill);
        let total_cents = (0..LINE_STRIDE)
            .filter(|j| mask >> j & 1 == 1)
            .map(|j| self.line_amount(template_bill, j))
            .sum::<u64>();
        let base = bill_no == template_bill && bill_no <= self.layout.sizes.bills && !edit.unpaid;
        let (paid_cents, payment) = if base && self.layout.block_paid(block) {
            let partial = self
                .draw(Obj::ApBill, bill_no, salt("PARTIAL"), 0)
                .per_mille(100);
            let paid = if partial {
                total_cents / 2
            } else {
                total_cents
            };
            (
                paid,
                Some((block + 1, self.layout.created(Obj::ApPymt, block))),
            )
        } else {
            (0, None)
        };
        BillFacts {
            vendor_no,
            term,
            total_cents,
            paid_cents,
            payment,
        }
    }

    /// AMOUNT of line `j` of the bill drawn from `template_bill`, in cents.
    fn line_amount(&self, template_bill: u64, j: u64) -> u64 {
        let line = (template_bill - 1) * LINE_STRIDE + j + 1;
        let mut d = self.draw(Obj::ApBillItem, line, salt("AMOUNT"), 0);
        match d.below(100) {
            0..70 => d.range(500, 99_999),
            70..95 => d.range(100_000, 999_999),
            _ => d.range(1_000_000, 5_000_000),
        }
    }

    /// The human id of record `n` of `obj`.
    pub(crate) fn own_id(obj: Obj, n: u64) -> String {
        match obj {
            Obj::Vendor => format!("V{n:05}"),
            Obj::Customer => format!("C{n:06}"),
            Obj::Employee => format!("E{n:05}"),
            Obj::Department => format!("{:03}", n * 10),
            Obj::Location => format!("L{n:03}"),
            Obj::Class => format!("CL-{n:03}"),
            Obj::Project => format!("P-{n:05}"),
            Obj::GlAccount => (1_000 + n * 10).to_string(),
            _ => n.to_string(),
        }
    }

    /// The unique name field (VENDORID, ACCOUNTNO, …) of record `n`, base or created later.
    /// GL accounts created after the start get the small account numbers `1`, `2`, … (below
    /// every base account number, so still unique), which equal RECORDNOs of live base
    /// accounts: a client that read an account number as a RECORDNO would delete the wrong
    /// record.
    pub(crate) fn record_id(&self, obj: Obj, n: u64) -> String {
        let base = self.layout.slots(obj);
        if obj == Obj::GlAccount && n > base {
            return (n - base).to_string();
        }
        Self::own_id(obj, n)
    }

    /// The name of base record `n` of `obj`, exactly as that record shows it.
    pub(crate) fn name_of(&self, obj: Obj, n: u64) -> Option<String> {
        let field = self.fields(obj)[self.name_index[obj.index()]?];
        let rc = RecCtx {
            obj,
            record_no: n,
            template_no: n,
            rev: 0,
            created: 0,
            modified: None,
            edit: Edit::default(),
        };
        self.value(&field, &rc, 0, &Facts::None)
    }

    fn parent_of(&self, obj: Obj, n: u64) -> Option<u64> {
        let mut d = self.draw(obj, n, salt("PARENT"), 0);
        (n > 1 && d.per_mille(150)).then(|| 1 + d.below((n - 1).min(10)))
    }

    fn reference(
        &self,
        from: Obj,
        tpl: u64,
        target: Obj,
        group: u8,
        part: RefPart,
    ) -> Option<String> {
        let slots = self.layout.slots(target);
        if slots == 0 {
            return None;
        }
        let n = self
            .draw(from, tpl, target.code() ^ u64::from(group), 0)
            .below(slots)
            + 1;
        self.ref_part(target, n, part)
    }

    fn ref_part(&self, target: Obj, n: u64, part: RefPart) -> Option<String> {
        match part {
            RefPart::Key => Some(n.to_string()),
            RefPart::Id => Some(Self::own_id(target, n)),
            RefPart::Name => self.name_of(target, n),
        }
    }

    fn value(&self, f: &FieldDef, rc: &RecCtx, rev: u64, facts: &Facts) -> Option<String> {
        let (obj, tpl) = (rc.obj, rc.template_no);
        let fd = || self.draw(obj, tpl, f.salt, rev);
        let tz = self.tz;
        let text = match f.generator {
            Gen::RecordNo => rc.record_no.to_string(),
            Gen::OwnId => self.record_id(obj, rc.record_no),
            Gen::CompanyName => text::company_name(&mut self.draw(obj, tpl, salt("COMPANY"), 0)),
            Gen::PersonName => {
                let (a, b) = text::person(&mut self.draw(obj, tpl, salt("PERSON"), 0));
                format!("{a} {b}")
            }
            Gen::FirstName => text::person(&mut self.draw(obj, tpl, salt("PERSON"), 0))
                .0
                .to_string(),
            Gen::LastName => text::person(&mut self.draw(obj, tpl, salt("PERSON"), 0))
                .1
                .to_string(),
            Gen::JobTitle => text::job_title(&mut fd()).to_string(),
            Gen::Label(list) => {
                let n = tpl.max(1) - 1;
                let len = list.len() as u64;
                let base = list[(n % len) as usize];
                if n < len {
                    base.to_string()
                } else {
                    format!("{base} {}", n / len + 1)
                }
            }
            Gen::Pick(list) => {
                let v = *fd().pick(list);
                if v.is_empty() {
                    return None;
                }
                v.to_string()
            }
            Gen::Status => {
                let active = fd().per_mille(930);
                STATUS_VALUES[usize::from(!active)].to_string()
            }
            Gen::Bool(p) => fd().per_mille(p).to_string(),
            Gen::Money(lo, hi) => money(fd().range(lo, hi)),
            Gen::Int(lo, hi) => fd().range(lo, hi).to_string(),
            Gen::Percent(lo, hi) => numbers::percentage(&mut fd(), lo, hi),
            Gen::Balance(lo, hi) => numbers::balance(&mut fd(), lo, hi),
            Gen::Rate => numbers::rate(&mut fd()),
            Gen::Const(c) => c.to_string(),
            Gen::Empty => return None,
            Gen::Created => clock::timestamp(tz, rc.created),
            Gen::Modified => clock::timestamp(tz, rc.modified?),
            // Real tenants write some INTEGER values with a zero fraction (`12.0`).
            Gen::User => {
                let mut d = fd();
                let user = d.range(1, 40);
                if d.per_mille(200) {
                    format!("{user}.0")
                } else {
                    user.to_string()
                }
            }
            Gen::CreatedDate => clock::date(tz, rc.created),
            Gen::CreatedDateMinus(lo, hi) => {
                clock::date(tz, rc.created - fd().range(lo, hi) as i64 * 86_400)
            }
            Gen::CreatedDatePlus(lo, hi) => {
                clock::date(tz, rc.created + fd().range(lo, hi) as i64 * 86_400)
            }
            Gen::Email => {
                let (a, b) = text::person(&mut self.draw(obj, tpl, salt("PERSON"), 0));
                let domain = if obj.fields().iter().any(|f| f.generator == Gen::CompanyName) {
                    text::company_domain(&mut self.draw(obj, tpl, salt("COMPANY"), 0))
                } else {
                    "northwind-distribution.com".to_string()
                };
                let suffix = if rev == 0 {
                    String::new()
                } else {
                    (rev % 100).to_string()
                };
                format!(
                    "{a}.{b}{suffix}@{}.example",
                    domain.trim_end_matches(".com")
                )
                .to_ascii_lowercase()
            }
            Gen::Phone => {
                let mut d = fd();
                format!("{}-555-{:04}", d.range(201, 989), d.below(10_000))
            }
            Gen::TaxId => {
                let mut d = fd();
                format!("{:02}-{:07}", d.range(10, 99), d.below(10_000_000))
            }
            Gen::Addr(part, which) => {
                let same = which == 0 || self.draw(obj, tpl, salt("ADDR-SAME"), 0).per_mille(700);
                let which = if same { 0 } else { u64::from(which) };
                let a = text::address(&mut self.draw(obj, tpl, salt("ADDR") + which, 0));
                match part {
                    AddrPart::Line1 => a.line1,
                    AddrPart::Line2 => a.line2?.to_string(),
                    AddrPart::City => a.city.to_string(),
                    AddrPart::State => a.state.to_string(),
                    AddrPart::Zip => a.zip,
                    AddrPart::Country => a.country.to_string(),
                }
            }
            Gen::Sentence => text::sentence(&mut fd()),
            Gen::Parent(part) => {
                let p = self.parent_of(obj, tpl)?;
                self.ref_part(obj, p, part)?
            }
            Gen::Ref(target, part, group) => self.reference(obj, tpl, target, group, part)?,
            Gen::Entity(part) => {
                let entities = self.layout.sizes.locations.clamp(1, 3);
                let e = self.draw(obj, tpl, salt("ENTITY"), 0).below(entities) + 1;
                self.ref_part(Obj::Location, e, part)?
            }
            Gen::Term => TERMS[fd().below(TERMS.len() as u64) as usize].0.to_string(),
            Gen::Bill(b) => self.bill_value(b, rc, facts)?,
            Gen::Line(l) => self.line_value(l, rc, facts)?,
            Gen::Pay(p) => self.pay_value(p, rc, facts)?,
            Gen::Detail(d) => self.detail_value(d, rc, facts)?,
            Gen::Audit(_) | Gen::AuditId => return None,
        };
        Some(if f.hostile > 0 {
            text::maybe_hostile(
                text,
                f.hostile == 2,
                &mut self.draw(obj, tpl, f.salt ^ HOSTILE_SALT, rev),
            )
        } else {
            text
        })
    }

    fn bill_value(&self, b: BillF, rc: &RecCtx, facts: &Facts) -> Option<String> {
        let Facts::Bill(bf) = facts else { return None };
        let tz = self.tz;
        Some(match b {
            BillF::RecordId => format!("INV-{:07}", rc.template_no),
            BillF::State => bf.state().to_string(),
            BillF::VendorId => Self::own_id(Obj::Vendor, bf.vendor_no),
            BillF::VendorName => self.name_of(Obj::Vendor, bf.vendor_no)?,
            BillF::TermName => TERMS[bf.term].0.to_string(),
            BillF::Posted => clock::date(tz, rc.created),
            BillF::Due => clock::date(tz, rc.created + TERMS[bf.term].1 as i64 * 86_400),
            BillF::Paid => clock::date(tz, bf.payment?.1),
            BillF::TotalEntered => money(bf.total_cents),
            BillF::TotalPaid => money(bf.paid_cents),
            BillF::TotalDue => money(bf.total_cents - bf.paid_cents),
            BillF::Batch => {
                let d = clock::date(tz, rc.created);
                format!("AP Bills {}-{}", &d[6..10], &d[0..2])
            }
        })
    }

    fn line_value(&self, l: LineF, rc: &RecCtx, facts: &Facts) -> Option<String> {
        let Facts::Bill(bf) = facts else { return None };
        let j = (rc.record_no - 1) % LINE_STRIDE;
        Some(match l {
            LineF::RecordKey => ((rc.record_no - 1) / LINE_STRIDE + 1).to_string(),
            LineF::LineNo => (j + 1).to_string(),
            LineF::Amount => money(self.line_amount((rc.template_no - 1) / LINE_STRIDE + 1, j)),
            LineF::EntryDate => clock::date(self.tz, rc.created),
            LineF::VendorId => Self::own_id(Obj::Vendor, bf.vendor_no),
            LineF::State => bf.state().to_string(),
        })
    }

    fn pay_value(&self, p: PayF, rc: &RecCtx, facts: &Facts) -> Option<String> {
        let Facts::Payment {
            vendor_no,
            total_cents,
        } = facts
        else {
            return None;
        };
        Some(match p {
            PayF::VendorId => Self::own_id(Obj::Vendor, *vendor_no),
            PayF::VendorName => self.name_of(Obj::Vendor, *vendor_no)?,
            PayF::PaymentDate => clock::date(self.tz, rc.created),
            PayF::Total => money(*total_cents),
            PayF::CheckNo => format!(
                "{:06}",
                self.draw(Obj::ApPymt, rc.template_no, salt("CHECK"), 0)
                    .below(1_000_000)
            ),
        })
    }

    fn detail_value(&self, d: DetailF, rc: &RecCtx, facts: &Facts) -> Option<String> {
        let Facts::Bill(bf) = facts else { return None };
        let bill = rc.record_no;
        Some(match d {
            DetailF::PaymentKey => bf.payment?.0.to_string(),
            DetailF::BillKey => bill.to_string(),
            DetailF::LineKey => ((bill - 1) * LINE_STRIDE + 1).to_string(),
            DetailF::PaymentDate => clock::date(self.tz, rc.created),
            DetailF::Amount => money(bf.paid_cents),
        })
    }
}

/// Cents as `1234.56`.
fn money(cents: u64) -> String {
    let mut out = (cents / 100).to_string();
    let c = (cents % 100) as u8;
    out.push('.');
    out.push(char::from(b'0' + c / 10));
    out.push(char::from(b'0' + c % 10));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_keeps_cents() {
        assert_eq!(money(5), "0.05");
        assert_eq!(money(123_450), "1234.50");
    }

    #[test]
    fn own_ids_keep_leading_zeros() {
        assert_eq!(Generator::own_id(Obj::Department, 1), "010");
        assert_eq!(Generator::own_id(Obj::Vendor, 42), "V00042");
    }
}
