//! The simulator's dataset: a seeded, deterministic mid-market distributor that changes over
//! simulated time.
//!
//! Invariants: the same [`DatasetConfig`] gives byte-identical records; records are generated
//! on demand from `(seed, object, RECORDNO)` plus a compact overlay of changes, so memory does
//! not grow with the `large` preset's millions of base records; every value is already wire
//! text (dates `MM/DD/YYYY`, timestamps `MM/DD/YYYY HH:MM:SS` in the tenant time zone).
//!
//! # What the data looks like
//!
//! * Objects: VENDOR, APBILL, APBILLITEM (lines; RECORDKEY = the bill's RECORDNO), APPYMT,
//!   APPYMTDETAIL (RECORDKEY = bill, PAYMENTKEY = payment), GLACCOUNT, DEPARTMENT, LOCATION,
//!   CLASS, PROJECT, CUSTOMER, EMPLOYEE and AUDITHISTORY (key `ID`; OBJECTTYPE lower-case,
//!   OBJECTKEY `N--REC`, ACCESSMODE `C`/`M`/`D`, ACCESSTIME).
//! * History: three years before the start. A migration burst at go-live gives thousands of
//!   records the same WHENCREATED and WHENMODIFIED second (in `demo`, more than 2000
//!   APBILLITEM lines); about 2 % of records have an empty WHENMODIFIED, and then WHENCREATED
//!   is their effective instant.
//! * Sums hold: a bill's TOTALENTERED is the sum of its lines' AMOUNT, TOTALDUE =
//!   TOTALENTERED − TOTALPAID, TOTALPAID is what its APPYMTDETAIL rows paid; foreign keys
//!   point at live records.
//! * Hostile text: about 1 % of free-text values carry `&`, `<`, `>`, `]]>`, quotes, TAB, LF,
//!   CR, emoji, CJK, combining marks, right-to-left text, zero-width characters or edge
//!   spaces, and a few carry more than 10 000 characters. Characters XML 1.0 cannot carry
//!   (other C0 controls, U+FFFE, U+FFFF) never appear: the values are the ground truth a
//!   correct client must receive, and such characters cannot be sent in a valid response.
//!   A server must write CR as `&#13;` (and TAB/LF in attributes as character references),
//!   or an XML parser will normalise them away.
//! * Custom fields have names starting with a letter and carrying odd but valid XML name
//!   characters (`Rebate_Tier-2`, `SPEND.CATEGORY`, `Loyalty_Tier·Code`);
//!   [`Dataset::with_invalid_element_names`] adds one APBILLITEM field whose name is not a
//!   valid XML name (`GLDIMBuild/Disassemble_Kits`).
//! * [`Dataset::advance_days`] applies, per day, updates of 1–3 % of each object's records
//!   (new WHENMODIFIED, a few fields changed), creates (new RECORDNOs above the maximum),
//!   deletes of unpaid bills with their lines, and every other day one bill deleted and
//!   entered again under a new RECORDNO, and one record each of VENDOR, CUSTOMER, GLACCOUNT,
//!   DEPARTMENT and PROJECT deleted (one entered after the start), and edited lines: an unpaid
//!   bill saved without one of its lines, another saved with one more, a payment saved
//!   without one of its two detail lines (only the header's WHENMODIFIED moves; see
//!   `changes`); each change of a non-line
//!   object writes an AUDITHISTORY row (OBJECTKEY: VENDORID, CUSTOMERID, ACCOUNTNO, … for
//!   master data, a bare RECORDNO for APPYMT, `N--REC` for APBILL). Like the real audit
//!   trail, which Sage says may lag a change by up to two hours, a row becomes readable only
//!   [`DEFAULT_AUDIT_LAG_SECS`] after its ACCESSTIME ([`Dataset::with_audit_lag`]).
//!
//! # Layout
//!
//! * `hash` — the keyed random draws; `model` — objects, field types, generators and field
//!   definitions; `fields` — the field table of each object; `catalog` — each object's fields,
//!   their `lookup` metadata and the shared value lists; `text` — words,
//!   addresses and hostile strings; `clock` — wire text of instants; `layout` — base record
//!   counts, existence and instants; `generate` — values; `changes` — the overlay and the
//!   simulated day; `index` — iteration in RECORDNO and in time order.

mod catalog;
mod changes;
mod clock;
mod fields;
mod generate;
mod hash;
mod index;
mod layout;
mod model;
mod numbers;
mod text;

use chrono::{DateTime, Utc};

use intacct_snowflake::intacct::ObjectMeta;

use changes::Overlay;
use generate::Generator;
use index::{AuditRows, ByRecordNo, ChangedSince};
use layout::{Layout, Sizes};
use model::Obj;

/// The custom field [`Dataset::add_custom_field`] adds (a text field with a few values).
pub const NEW_CUSTOM_FIELD: &str = "ONBOARDING_TIER";

/// How long after its ACCESSTIME an AUDITHISTORY row becomes readable, by default: Sage's
/// Audit Trail help says changes may not show "for up to 2 hours after the change was made";
/// the simulator always takes the full two hours (the harsher reading).
pub(crate) const DEFAULT_AUDIT_LAG_SECS: i64 = 2 * 3_600;

/// Dataset size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// A few dozen records per object: unit tests.
    Tiny,
    /// Thousands of records: the demo and most integration tests.
    Demo,
    /// Millions of records: benchmarks.
    Large,
    /// About this many records in all, spread over the objects like the presets.
    Records(u64),
}

/// Everything that determines a dataset.
#[derive(Clone, Debug)]
pub struct DatasetConfig {
    /// RNG seed.
    pub seed: u64,
    /// Size.
    pub scale: Scale,
    /// The simulated clock at creation; base records were created before it.
    pub start: DateTime<Utc>,
    /// Tenant time zone in which timestamps are written.
    pub time_zone: chrono_tz::Tz,
}

/// One record as the gateway would return it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimRecord {
    /// RECORDNO.
    pub record_no: u64,
    /// Values by field index of the object's [`ObjectMeta`]; `None` is an empty element.
    pub values: Vec<Option<String>>,
}

/// A record as the indexes know it before any value is rendered: its key and the instants
/// that order it, as tenant wall-clock time (exactly what its timestamp fields would read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordStamp {
    /// RECORDNO (ID for AUDITHISTORY).
    pub record_no: u64,
    /// WHENMODIFIED (ACCESSTIME for AUDITHISTORY); `None` when empty.
    pub watermark: Option<chrono::NaiveDateTime>,
    /// WHENCREATED; `None` for AUDITHISTORY, which has no stand-in.
    pub standin: Option<chrono::NaiveDateTime>,
}

/// What one simulated day changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ChangeSummary {
    /// Records created, per object.
    pub created: std::collections::BTreeMap<String, u64>,
    /// Records updated, per object.
    pub updated: std::collections::BTreeMap<String, u64>,
    /// Records deleted, per object.
    pub deleted: std::collections::BTreeMap<String, u64>,
}

/// Instants are whole seconds: at or after a fractional `since` means from the next one.
fn first_second_at_or_after(since: DateTime<Utc>) -> i64 {
    since.timestamp() + i64::from(since.timestamp_subsec_nanos() > 0)
}

fn utc_second(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

fn live_stamp(
    tz: chrono_tz::Tz,
    record_no: u64,
    created: i64,
    modified: Option<i64>,
) -> RecordStamp {
    RecordStamp {
        record_no,
        watermark: modified.map(|t| clock::local(tz, t)),
        standin: Some(clock::local(tz, created)),
    }
}

fn audit_stamp(tz: chrono_tz::Tz, id: u64, time: i64) -> RecordStamp {
    RecordStamp {
        record_no: id,
        watermark: Some(clock::local(tz, time)),
        standin: None,
    }
}

/// The dataset.
#[derive(Debug)]
pub struct Dataset {
    config: DatasetConfig,
    generator: Generator,
    overlay: Overlay,
    metas: Vec<ObjectMeta>,
    audit_lag_secs: i64,
    /// Fields beyond the catalog's, per object, in the order they were added.
    extra: Vec<(Obj, model::FieldDef)>,
}

impl Dataset {
    /// Builds the dataset; fast for every scale (nothing is materialised up front).
    pub fn new(config: DatasetConfig) -> Dataset {
        Dataset::build(config, vec![])
    }

    fn build(config: DatasetConfig, extra: Vec<(Obj, model::FieldDef)>) -> Dataset {
        let sizes = Sizes::of(config.scale);
        let layout = Layout::new(config.seed, config.start.timestamp(), sizes);
        let generator = Generator::new(layout, config.time_zone, &extra);
        let overlay = Overlay::new(&generator);
        let metas = Obj::ALL
            .iter()
            .map(|o| {
                let fields: Vec<model::FieldDef> = extra
                    .iter()
                    .filter(|(of, _)| of == o)
                    .map(|(_, f)| *f)
                    .collect();
                catalog::object_meta(*o, &fields)
            })
            .collect();
        Dataset {
            config,
            generator,
            overlay,
            metas,
            audit_lag_secs: DEFAULT_AUDIT_LAG_SECS,
            extra,
        }
    }

    /// The same dataset with `field` added to `object`, and the simulated days already applied
    /// applied again (the field is never updated, so they change the same records).
    fn with_extra(self, object: Obj, field: model::FieldDef) -> Dataset {
        let days = self.overlay.days;
        let lag = self.audit_lag_secs;
        let mut extra = self.extra;
        extra.push((object, field));
        let mut d = Dataset::build(self.config, extra);
        d.audit_lag_secs = lag;
        d.advance_days(days);
        d
    }

    /// The same dataset with one more APBILLITEM custom field whose name is not a valid XML
    /// element name (`GLDIMBuild/Disassemble_Kits`), as some real tenants have. Simulated
    /// days already applied are applied again, so the result equals advancing the new
    /// dataset by the same number of days.
    pub fn with_invalid_element_names(self) -> Dataset {
        self.with_extra(Obj::ApBillItem, catalog::INVALID_NAME_FIELD)
    }

    /// Adds the custom field [`NEW_CUSTOM_FIELD`] to `object` from now on, as an administrator
    /// does in Intacct: `lookup` lists it, every record carries a value in it (Platform
    /// Services can default one), and records changed from now on are read with it. Simulated
    /// days already applied are applied again (the field is never updated, so the same
    /// records change). `false` for an unknown object, AUDITHISTORY, or an object that has it.
    pub fn add_custom_field(&mut self, object: &str) -> bool {
        let Some(obj) = Obj::from_name(object).filter(|o| *o != Obj::AuditHistory) else {
            return false;
        };
        if self
            .extra
            .iter()
            .any(|(o, f)| *o == obj && f.name == NEW_CUSTOM_FIELD)
        {
            return false;
        }
        let placeholder = Dataset::build(self.config.clone(), vec![]);
        let current = std::mem::replace(self, placeholder);
        *self = current.with_extra(obj, catalog::NEW_CUSTOM_FIELD_DEF);
        true
    }

    /// The same dataset whose AUDITHISTORY rows become readable `lag_secs` after their
    /// ACCESSTIME (0: at once).
    pub fn with_audit_lag(mut self, lag_secs: i64) -> Dataset {
        self.audit_lag_secs = lag_secs.max(0);
        self.reveal_audit();
        self
    }

    /// The audit lag in seconds.
    pub fn audit_lag_secs(&self) -> i64 {
        self.audit_lag_secs
    }

    fn reveal_audit(&mut self) {
        let until = self.now().timestamp() - self.audit_lag_secs;
        self.overlay.reveal_audit(until);
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &DatasetConfig {
        &self.config
    }

    /// The simulated now.
    pub fn now(&self) -> DateTime<Utc> {
        self.config.start + chrono::Duration::days(i64::from(self.overlay.days))
    }

    /// Names of the objects served (VENDOR, APBILL, APBILLITEM, APPYMT, APPYMTDETAIL,
    /// GLACCOUNT, DEPARTMENT, LOCATION, CLASS, PROJECT, CUSTOMER, EMPLOYEE, AUDITHISTORY).
    pub fn object_names(&self) -> Vec<&'static str> {
        Obj::ALL.iter().map(|o| o.name()).collect()
    }

    /// Field metadata of an object (what `lookup`/`inspect` answer), `None` if unknown.
    /// Object names are matched case-insensitively, as the gateway does.
    pub fn object_meta(&self, object: &str) -> Option<&ObjectMeta> {
        Obj::from_name(object).map(|o| &self.metas[o.index()])
    }

    /// Fields of `object` that `lookup` lists but `query` refuses.
    pub fn not_queryable(&self, object: &str) -> &'static [&'static str] {
        Obj::from_name(object)
            .and_then(|o| catalog::NOT_QUERYABLE.iter().find(|(n, _)| *n == o))
            .map_or(&[], |(_, fields)| *fields)
    }

    /// Index of a field in [`SimRecord::values`], `None` if the object or field is unknown.
    pub fn field_index(&self, object: &str, field: &str) -> Option<usize> {
        self.object_meta(object)?
            .fields
            .iter()
            .position(|f| f.name == field)
    }

    /// The key field whose value is [`SimRecord::record_no`]: `RECORDNO`, or `ID` for
    /// AUDITHISTORY.
    pub fn key_field(&self, object: &str) -> Option<&'static str> {
        Obj::from_name(object).map(Obj::key_field)
    }

    /// For a line object, its header object and the line field holding the header's RECORDNO:
    /// APBILLITEM → (APBILL, RECORDKEY), APPYMTDETAIL → (APPYMT, PAYMENTKEY); `None` otherwise.
    pub fn line_header(&self, object: &str) -> Option<(&'static str, &'static str)> {
        match Obj::from_name(object)? {
            Obj::ApBillItem => Some(("APBILL", "RECORDKEY")),
            Obj::ApPymtDetail => Some(("APPYMT", "PAYMENTKEY")),
            _ => None,
        }
    }

    /// The width of the key when it is written as zero-padded text (AUDITHISTORY's ID).
    pub fn key_text_width(&self, object: &str) -> Option<usize> {
        (Obj::from_name(object) == Some(Obj::AuditHistory)).then_some(catalog::AUDIT_ID_WIDTH)
    }

    /// The field that orders changes, and the field that stands in when it is empty:
    /// (`WHENMODIFIED`, `Some("WHENCREATED")`) — `Some("AUWHENCREATED")` for APBILL, whose
    /// WHENCREATED is the bill date — or (`ACCESSTIME`, `None`) for AUDITHISTORY.
    pub fn watermark_fields(&self, object: &str) -> Option<(&'static str, Option<&'static str>)> {
        Obj::from_name(object).map(|o| {
            if o.has_modified() {
                ("WHENMODIFIED", Some(o.creation_field()))
            } else {
                ("ACCESSTIME", None)
            }
        })
    }

    /// Number of live (not deleted) records.
    pub fn len(&self, object: &str) -> u64 {
        Obj::from_name(object).map_or(0, |o| self.overlay.len(&self.generator, o))
    }

    /// True when the object has no live record (or is unknown).
    pub fn is_empty(&self, object: &str) -> bool {
        self.len(object) == 0
    }

    /// Live records in ascending RECORDNO order.
    pub fn records(&self, object: &str) -> Box<dyn Iterator<Item = SimRecord> + '_> {
        self.records_from(object, 1)
    }

    /// Live records with RECORDNO (ID for AUDITHISTORY) at or above `first_record_no`, in
    /// ascending order, starting there without walking the lower ones (keyset paging).
    pub fn records_from(
        &self,
        object: &str,
        first_record_no: u64,
    ) -> Box<dyn Iterator<Item = SimRecord> + '_> {
        self.records_from_with(object, first_record_no, None)
    }

    /// [`Dataset::records_from`] with the values of `columns` (by field index; the others
    /// may be `None`): far cheaper when a caller needs a few fields of many records, as a
    /// count does.
    pub fn records_from_columns<'a>(
        &'a self,
        object: &str,
        first_record_no: u64,
        columns: &'a [bool],
    ) -> Box<dyn Iterator<Item = SimRecord> + 'a> {
        self.records_from_with(object, first_record_no, Some(columns))
    }

    fn records_from_with<'a>(
        &'a self,
        object: &str,
        first_record_no: u64,
        columns: Option<&'a [bool]>,
    ) -> Box<dyn Iterator<Item = SimRecord> + 'a> {
        match Obj::from_name(object) {
            None => Box::new(std::iter::empty()),
            Some(Obj::AuditHistory) => Box::new(
                AuditRows::from_id(&self.generator, &self.overlay, first_record_no).map(|(_, r)| r),
            ),
            Some(o) => Box::new(ByRecordNo::new(
                &self.generator,
                &self.overlay,
                o,
                first_record_no,
                columns,
            )),
        }
    }

    /// Live records whose WHENMODIFIED (or WHENCREATED when WHENMODIFIED is empty) is at or
    /// after `since`, in ascending (that instant, RECORDNO) order, without scanning older
    /// records (an index, not a filter over everything).
    pub fn records_changed_since(
        &self,
        object: &str,
        since: DateTime<Utc>,
    ) -> Box<dyn Iterator<Item = SimRecord> + '_> {
        Box::new(
            self.records_changed_since_with_instants(object, since)
                .map(|(_, r)| r),
        )
    }

    /// [`Dataset::records_changed_since`] with each record's effective instant (the UTC
    /// instant its WHENMODIFIED, WHENCREATED or ACCESSTIME text was rendered from; the text
    /// alone is ambiguous in a repeated DST hour).
    pub fn records_changed_since_with_instants(
        &self,
        object: &str,
        since: DateTime<Utc>,
    ) -> Box<dyn Iterator<Item = (DateTime<Utc>, SimRecord)> + '_> {
        self.changed_since_with(object, since, None)
    }

    /// [`Dataset::records_changed_since_with_instants`] with only the values of `columns`
    /// (see [`Dataset::records_from_columns`]).
    pub fn records_changed_since_columns<'a>(
        &'a self,
        object: &str,
        since: DateTime<Utc>,
        columns: &'a [bool],
    ) -> Box<dyn Iterator<Item = (DateTime<Utc>, SimRecord)> + 'a> {
        self.changed_since_with(object, since, Some(columns))
    }

    fn changed_since_with<'a>(
        &'a self,
        object: &str,
        since: DateTime<Utc>,
        columns: Option<&'a [bool]>,
    ) -> Box<dyn Iterator<Item = (DateTime<Utc>, SimRecord)> + 'a> {
        let since = first_second_at_or_after(since);
        let to_utc = |(t, r): (i64, SimRecord)| (utc_second(t), r);
        match Obj::from_name(object) {
            None => Box::new(std::iter::empty()),
            Some(Obj::AuditHistory) => {
                Box::new(AuditRows::since(&self.generator, &self.overlay, since).map(to_utc))
            }
            Some(o) => Box::new(
                ChangedSince::new(&self.generator, &self.overlay, o, since, columns).map(to_utc),
            ),
        }
    }

    /// [`Dataset::records_from`] as stamps: the key and instants of each record, without
    /// rendering any value (what a count over a key or time filter needs).
    pub fn stamps_from(
        &self,
        object: &str,
        first_record_no: u64,
    ) -> Box<dyn Iterator<Item = RecordStamp> + '_> {
        let tz = self.config.time_zone;
        match Obj::from_name(object) {
            None => Box::new(std::iter::empty()),
            Some(Obj::AuditHistory) => {
                let mut rows = AuditRows::from_id(&self.generator, &self.overlay, first_record_no);
                Box::new(std::iter::from_fn(move || {
                    rows.next_entry().map(|(id, e)| audit_stamp(tz, id, e.time))
                }))
            }
            Some(o) => {
                let mut rows =
                    ByRecordNo::new(&self.generator, &self.overlay, o, first_record_no, None);
                Box::new(std::iter::from_fn(move || {
                    rows.next_live()
                        .map(|(no, live)| live_stamp(tz, no, live.created, live.modified))
                }))
            }
        }
    }

    /// [`Dataset::records_changed_since_with_instants`] as stamps (see
    /// [`Dataset::stamps_from`]).
    pub fn stamps_changed_since(
        &self,
        object: &str,
        since: DateTime<Utc>,
    ) -> Box<dyn Iterator<Item = (DateTime<Utc>, RecordStamp)> + '_> {
        let since = first_second_at_or_after(since);
        let tz = self.config.time_zone;
        match Obj::from_name(object) {
            None => Box::new(std::iter::empty()),
            Some(Obj::AuditHistory) => {
                let mut rows = AuditRows::since(&self.generator, &self.overlay, since);
                Box::new(std::iter::from_fn(move || {
                    rows.next_entry()
                        .map(|(id, e)| (utc_second(e.time), audit_stamp(tz, id, e.time)))
                }))
            }
            Some(o) => {
                let mut rows = ChangedSince::new(&self.generator, &self.overlay, o, since, None);
                Box::new(std::iter::from_fn(move || {
                    rows.next_live().map(|(eff, no, live)| {
                        (
                            utc_second(eff),
                            live_stamp(tz, no, live.created, live.modified),
                        )
                    })
                }))
            }
        }
    }

    /// One live record by RECORDNO.
    pub fn get(&self, object: &str, record_no: u64) -> Option<SimRecord> {
        index::get(
            &self.generator,
            &self.overlay,
            Obj::from_name(object)?,
            record_no,
        )
    }

    /// Advances the clock by `days`, applying a realistic day of creates, updates and deletes
    /// per day (deletes also written to AUDITHISTORY with ACCESSMODE `D`).
    pub fn advance_days(&mut self, days: u32) -> ChangeSummary {
        let mut summary = ChangeSummary::default();
        let start = self.config.start.timestamp();
        for _ in 0..days {
            let day = self.overlay.days + 1;
            let day_start = start + i64::from(day - 1) * 86_400;
            changes::simulate_day(
                &self.generator,
                &mut self.overlay,
                day,
                day_start,
                &mut summary,
            );
        }
        self.reveal_audit();
        summary
    }

    /// SHA-256 (hex) over every live record of every object, in RECORDNO order: equal
    /// fingerprints mean byte-identical datasets. Iterates everything; meant for `tiny` and
    /// `demo`.
    pub fn fingerprint(&self) -> String {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        for name in self.object_names() {
            h.update(name.as_bytes());
            h.update([0]);
            for r in self.records(name) {
                h.update(r.record_no.to_le_bytes());
                for v in &r.values {
                    match v {
                        None => h.update([0]),
                        Some(s) => {
                            h.update([1]);
                            h.update((s.len() as u64).to_le_bytes());
                            h.update(s.as_bytes());
                        }
                    }
                }
            }
        }
        hex::encode(h.finalize())
    }

    /// Writes an object's live records as JSON lines (`{"FIELD": "value" or null, …}` in
    /// field order): the ground truth a correct client must end up with. Returns the count.
    pub fn write_ground_truth_json_lines(
        &self,
        object: &str,
        out: &mut dyn std::io::Write,
    ) -> std::io::Result<u64> {
        let Some(meta) = self.object_meta(object) else {
            return Ok(0);
        };
        let mut n = 0;
        for r in self.records(object) {
            let mut line = String::from("{");
            for (i, (f, v)) in meta.fields.iter().zip(&r.values).enumerate() {
                if i > 0 {
                    line.push(',');
                }
                line.push_str(&serde_json::to_string(&f.name)?);
                line.push(':');
                line.push_str(&serde_json::to_string(v)?);
            }
            line.push_str("}\n");
            out.write_all(line.as_bytes())?;
            n += 1;
        }
        Ok(n)
    }
}
