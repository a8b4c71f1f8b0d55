//! The schema of every simulated object: which fields, in which order, with which Intacct
//! type, and how each value is made ([`Gen`]).
//!
//! The per-object field tables live in `fields`.
//!
//! Invariants: field order here is the order of [`super::SimRecord::values`] and of the
//! `lookup` answer; every custom field name is a valid XML element name except
//! [`INVALID_NAME_FIELD`], which is served only when explicitly enabled; generators whose
//! values other records refer to (ids, names, amounts) are never `mutable`, so updates never
//! break a foreign key or a sum.

use intacct_snowflake::intacct::{FieldMeta, IntacctType, ObjectMeta};

use super::fields;

/// A simulated object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Obj {
    Vendor,
    ApBill,
    ApBillItem,
    ApPymt,
    ApPymtDetail,
    GlAccount,
    Department,
    Location,
    Class,
    Project,
    Customer,
    Employee,
    AuditHistory,
}

impl Obj {
    /// Every object, in the order they are listed.
    pub(crate) const ALL: [Obj; 13] = [
        Obj::Vendor,
        Obj::ApBill,
        Obj::ApBillItem,
        Obj::ApPymt,
        Obj::ApPymtDetail,
        Obj::GlAccount,
        Obj::Department,
        Obj::Location,
        Obj::Class,
        Obj::Project,
        Obj::Customer,
        Obj::Employee,
        Obj::AuditHistory,
    ];

    /// The Intacct object name.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Obj::Vendor => "VENDOR",
            Obj::ApBill => "APBILL",
            Obj::ApBillItem => "APBILLITEM",
            Obj::ApPymt => "APPYMT",
            Obj::ApPymtDetail => "APPYMTDETAIL",
            Obj::GlAccount => "GLACCOUNT",
            Obj::Department => "DEPARTMENT",
            Obj::Location => "LOCATION",
            Obj::Class => "CLASS",
            Obj::Project => "PROJECT",
            Obj::Customer => "CUSTOMER",
            Obj::Employee => "EMPLOYEE",
            Obj::AuditHistory => "AUDITHISTORY",
        }
    }

    /// The lower-case name AUDITHISTORY uses in OBJECTTYPE.
    pub(crate) fn audit_type(self) -> String {
        self.name().to_ascii_lowercase()
    }

    /// Position in [`Obj::ALL`].
    pub(crate) const fn index(self) -> usize {
        self as usize
    }

    /// The object of an Intacct name (case-insensitive, as the gateway is).
    pub(crate) fn from_name(name: &str) -> Option<Obj> {
        Obj::ALL
            .into_iter()
            .find(|o| o.name().eq_ignore_ascii_case(name))
    }

    /// The key every random draw about this object starts with.
    pub(crate) const fn code(self) -> u64 {
        super::hash::salt(self.name())
    }

    /// The field list.
    pub(crate) const fn fields(self) -> &'static [FieldDef] {
        match self {
            Obj::Vendor => fields::VENDOR,
            Obj::ApBill => fields::APBILL,
            Obj::ApBillItem => fields::APBILLITEM,
            Obj::ApPymt => fields::APPYMT,
            Obj::ApPymtDetail => fields::APPYMTDETAIL,
            Obj::GlAccount => fields::GLACCOUNT,
            Obj::Department => fields::DEPARTMENT,
            Obj::Location => fields::LOCATION,
            Obj::Class => fields::CLASS,
            Obj::Project => fields::PROJECT,
            Obj::Customer => fields::CUSTOMER,
            Obj::Employee => fields::EMPLOYEE,
            Obj::AuditHistory => fields::AUDITHISTORY,
        }
    }

    /// The field naming a record of this object (what related records show as `…NAME`).
    pub(crate) const fn name_field(self) -> &'static str {
        match self {
            Obj::GlAccount | Obj::Department => "TITLE",
            Obj::Employee => "CONTACT.CONTACTNAME",
            _ => "NAME",
        }
    }

    /// The key field (`RECORDNO`, or `ID` for AUDITHISTORY).
    pub(crate) const fn key_field(self) -> &'static str {
        match self {
            Obj::AuditHistory => "ID",
            _ => "RECORDNO",
        }
    }

    /// The field holding the creation timestamp, which stands in for an empty WHENMODIFIED:
    /// APBILL's WHENCREATED is the bill date (a DATE, back-datable), its creation timestamp
    /// is AUWHENCREATED; every other object's is WHENCREATED.
    pub(crate) const fn creation_field(self) -> &'static str {
        match self {
            Obj::ApBill => "AUWHENCREATED",
            _ => "WHENCREATED",
        }
    }

    /// True for objects with WHENCREATED/WHENMODIFIED (all but AUDITHISTORY).
    pub(crate) const fn has_modified(self) -> bool {
        !matches!(self, Obj::AuditHistory)
    }
}

/// Fields `lookup` lists but `query` refuses with `XL03000006 The following fields cannot be
/// queried: [ project: [ROOTPARENTID, ROOTPARENTNAME] ]` (the text real tenants get, e.g. for
/// APBILL's PAYTOCONTACTNAME and ITEM's BASEUOM: intacct-sdk-js issue 83, intacct-sdk-net
/// issue 150); `readByQuery` serves them. ROOTPARENTKEY is deliberately absent from the
/// client's own deny list, so the client must also learn refused fields from the error. Which PROJECT fields a real tenant refuses is a
/// guess; that PROJECT has such fields is what production connectors report.
pub(crate) const NOT_QUERYABLE: &[(Obj, &[&str])] = &[(
    Obj::Project,
    &["ROOTPARENTID", "ROOTPARENTNAME", "ROOTPARENTKEY"],
)];

/// The Intacct data type of a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    Text,
    Enum,
    Integer,
    Currency,
    /// DECIMAL (exchange rates).
    Decimal,
    Percent,
    Boolean,
    Date,
    Timestamp,
}

impl Ty {
    fn intacct(self) -> IntacctType {
        match self {
            Ty::Text => IntacctType::Text,
            Ty::Enum => IntacctType::Enum,
            Ty::Integer => IntacctType::Integer,
            Ty::Currency => IntacctType::Currency,
            Ty::Decimal => IntacctType::Decimal,
            Ty::Percent => IntacctType::Percent,
            Ty::Boolean => IntacctType::Boolean,
            Ty::Date => IntacctType::Date,
            Ty::Timestamp => IntacctType::Timestamp,
        }
    }
}

/// A part of a postal address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AddrPart {
    Line1,
    Line2,
    City,
    State,
    Zip,
    Country,
}

/// Which side of a reference is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RefPart {
    /// The RECORDNO.
    Key,
    /// The human id.
    Id,
    /// The name.
    Name,
}

/// Bill header values that depend on its lines and payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BillF {
    RecordId,
    State,
    VendorId,
    VendorName,
    TermName,
    Posted,
    Due,
    Paid,
    TotalEntered,
    TotalPaid,
    TotalDue,
    Batch,
}

/// Bill line values that depend on the bill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LineF {
    RecordKey,
    LineNo,
    Amount,
    EntryDate,
    VendorId,
    State,
}

/// Payment header values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PayF {
    VendorId,
    VendorName,
    PaymentDate,
    Total,
    CheckNo,
}

/// Payment detail values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DetailF {
    PaymentKey,
    BillKey,
    LineKey,
    PaymentDate,
    Amount,
}

/// AUDITHISTORY values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AuditF {
    ObjectType,
    ObjectKey,
    ObjectDesc,
    AccessMode,
    AccessTime,
    UserId,
    Source,
    IpAddress,
}

/// How a field's value is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Gen {
    /// The record number itself.
    RecordNo,
    /// AUDITHISTORY's ID: the entry's number as ten zero-padded digits, typed TEXT in
    /// `lookup`. Sage documents no type for it; the harsher guess is text, and padding keeps
    /// text order equal to the order entries are written in, while a client that parses it
    /// as a number and sends back `ID > '42'` skips every later row (text comparison).
    AuditId,
    /// The object's human id, derived from the record number.
    OwnId,
    /// A distributor-style company name.
    CompanyName,
    /// "First Last".
    PersonName,
    FirstName,
    LastName,
    /// A job title.
    JobTitle,
    /// `list[(n-1) % len]`, numbered past the end of the list.
    Label(&'static [&'static str]),
    /// A random element.
    Pick(&'static [&'static str]),
    /// `active` (most) or `inactive`.
    Status,
    /// `true` with this probability in per mille.
    Bool(u64),
    /// Cents in `lo..=hi`, written with two decimals.
    Money(u64, u64),
    /// An integer in `lo..=hi`.
    Int(u64, u64),
    /// Hundredths in `lo..=hi`: two decimals, or a computed share with many digits
    /// (`numbers::percentage`).
    Percent(u64, u64),
    /// A balance in `lo..=hi` cents that may be negative, unscaled or long
    /// (`numbers::balance`).
    Balance(u64, u64),
    /// An exchange rate with ten fraction digits (`numbers::rate`).
    Rate,
    Const(&'static str),
    Empty,
    Created,
    Modified,
    /// A user RECORDNO.
    User,
    /// The creation date.
    CreatedDate,
    /// The creation date plus `lo..=hi` days.
    CreatedDatePlus(u64, u64),
    /// The creation date minus `lo..=hi` days (a back-dated document date).
    CreatedDateMinus(u64, u64),
    Email,
    Phone,
    TaxId,
    /// A part of address number `.1` of the record.
    Addr(AddrPart, u8),
    /// A short business description.
    Sentence,
    /// The parent record (same object).
    Parent(RefPart),
    /// A record of another object; fields with the same group refer to the same record.
    Ref(Obj, RefPart, u8),
    /// The owning entity (one of the first locations).
    Entity(RefPart),
    /// Payment terms.
    Term,
    Bill(BillF),
    Line(LineF),
    Pay(PayF),
    Detail(DetailF),
    Audit(AuditF),
}

/// One field.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FieldDef {
    pub(crate) name: &'static str,
    pub(crate) ty: Ty,
    pub(crate) generator: Gen,
    /// 0: never hostile; 1: hostile text in a small fraction; 2: also very long strings.
    pub(crate) hostile: u8,
    /// Updates may change this value.
    pub(crate) mutable: bool,
    pub(crate) custom: bool,
    pub(crate) required: bool,
    pub(crate) read_only: bool,
    /// Hash of the name: keys this field's random draws.
    pub(crate) salt: u64,
}

pub(super) const fn f(name: &'static str, ty: Ty, generator: Gen) -> FieldDef {
    FieldDef {
        name,
        ty,
        generator,
        hostile: 0,
        mutable: false,
        custom: false,
        required: false,
        read_only: false,
        salt: super::hash::salt(name),
    }
}

impl FieldDef {
    pub(super) const fn h(mut self) -> Self {
        self.hostile = 1;
        self
    }
    pub(super) const fn hl(mut self) -> Self {
        self.hostile = 2;
        self
    }
    pub(super) const fn m(mut self) -> Self {
        self.mutable = true;
        self
    }
    pub(super) const fn c(mut self) -> Self {
        self.custom = true;
        self
    }
    pub(super) const fn req(mut self) -> Self {
        self.required = true;
        self
    }
    pub(super) const fn ro(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// The `lookup` metadata of this field.
    pub(crate) fn meta(&self) -> FieldMeta {
        let valid_values = match (self.ty, self.generator) {
            (Ty::Enum, Gen::Status) => STATUS_VALUES.iter().map(|s| s.to_string()).collect(),
            (Ty::Enum, Gen::Pick(values)) => values.iter().map(|s| s.to_string()).collect(),
            (Ty::Enum, Gen::Bill(BillF::State) | Gen::Line(LineF::State)) => {
                BILL_STATES.iter().map(|s| s.to_string()).collect()
            }
            (Ty::Enum, Gen::Audit(AuditF::AccessMode)) => ["C", "M", "D"].map(String::from).into(),
            (Ty::Enum, Gen::Audit(AuditF::Source)) => AUDIT_SOURCES.map(String::from).into(),
            _ => Vec::new(),
        };
        FieldMeta {
            name: self.name.to_string(),
            data_type: self.ty.intacct(),
            required: self.required,
            read_only: self.read_only,
            max_length: match self.ty {
                Ty::Text if self.hostile == 2 => Some(20_000),
                Ty::Text => Some(255),
                _ => None,
            },
            valid_values,
            is_custom: self.custom,
            label: Some(label_of(self.name)),
        }
    }
}

/// "DISPLAYCONTACT.MAILADDRESS.ZIP" → "Displaycontact mailaddress zip".
fn label_of(name: &str) -> String {
    let spaced: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                ' '
            }
        })
        .collect();
    let mut words = spaced.split_whitespace();
    let mut out = String::new();
    if let Some(first) = words.next() {
        let mut cs = first.chars();
        if let Some(c) = cs.next() {
            out.push(c.to_ascii_uppercase());
            out.extend(cs);
        }
    }
    for w in words {
        out.push(' ');
        out.push_str(w);
    }
    out
}

/// The object metadata for `lookup`, with `extra` fields appended.
pub(crate) fn object_meta(obj: Obj, extra: &[FieldDef]) -> ObjectMeta {
    ObjectMeta {
        name: obj.name().to_string(),
        fields: obj
            .fields()
            .iter()
            .chain(extra)
            .map(FieldDef::meta)
            .collect(),
    }
}

/// Digits of AUDITHISTORY's zero-padded ID ([`Gen::AuditId`]).
pub(crate) const AUDIT_ID_WIDTH: usize = 10;

/// STATUS values.
pub(crate) const STATUS_VALUES: [&str; 2] = ["active", "inactive"];
/// APBILL STATE values.
pub(crate) const BILL_STATES: [&str; 3] = ["Posted", "Partially Paid", "Paid"];
/// AUDITHISTORY SOURCE values.
pub(crate) const AUDIT_SOURCES: [&str; 4] = ["api", "csv", "system", "ui"];
/// Payment terms and their days.
pub(crate) const TERMS: [(&str, u64); 6] = [
    ("Net 30", 30),
    ("Net 15", 15),
    ("Net 45", 45),
    ("Net 60", 60),
    ("Due on Receipt", 0),
    ("2% 10 Net 30", 30),
];

/// A custom field whose name is not a valid XML element name (a `/` in it), like a real
/// tenant's custom dimension; served on APBILLITEM only when enabled.
pub(crate) const INVALID_NAME_FIELD: FieldDef = f(
    "GLDIMBuild/Disassemble_Kits",
    Ty::Text,
    Gen::Pick(&["Build", "Disassemble", "Kit-A", "Kit-B"]),
)
.c();

#[cfg(test)]
mod tests {
    use super::*;

    /// XML 1.0 (5th ed.) Name production, restricted to the BMP ranges that matter here.
    fn is_xml_name(name: &str) -> bool {
        let start = |c: char| {
            c == ':'
                || c == '_'
                || c.is_ascii_alphabetic()
                || ('\u{C0}'..='\u{2FF}').contains(&c) && c != '\u{D7}' && c != '\u{F7}'
                || ('\u{370}'..='\u{1FFF}').contains(&c) && c != '\u{37E}'
        };
        let rest =
            |c: char| start(c) || c == '-' || c == '.' || c.is_ascii_digit() || c == '\u{B7}';
        let mut cs = name.chars();
        cs.next().is_some_and(start) && cs.all(rest)
    }

    #[test]
    fn every_field_name_is_unique_and_a_valid_xml_name_except_the_opt_in_one() {
        for obj in Obj::ALL {
            let mut seen = std::collections::HashSet::new();
            for field in obj.fields() {
                assert!(
                    seen.insert(field.name),
                    "{} repeats {}",
                    obj.name(),
                    field.name
                );
                assert!(
                    is_xml_name(field.name),
                    "{}.{} is not an XML name",
                    obj.name(),
                    field.name
                );
            }
            assert!(obj.fields().iter().any(|f| f.name == obj.key_field()));
            assert!(
                obj.fields().iter().any(|f| f.name == obj.name_field())
                    || obj == Obj::AuditHistory
                    || obj.fields().iter().all(|f| f.name != "NAME")
                        && matches!(
                            obj,
                            Obj::ApBill | Obj::ApBillItem | Obj::ApPymt | Obj::ApPymtDetail
                        )
            );
        }
        assert!(!is_xml_name(INVALID_NAME_FIELD.name));
    }

    #[test]
    fn every_main_object_has_a_custom_field_starting_with_a_letter() {
        for obj in Obj::ALL.into_iter().filter(|o| *o != Obj::AuditHistory) {
            let custom: Vec<_> = obj.fields().iter().filter(|f| f.custom).collect();
            assert!(!custom.is_empty(), "{}", obj.name());
            for c in custom {
                assert!(c.name.starts_with(|ch: char| ch.is_ascii_alphabetic()));
                assert!(
                    c.name
                        .contains(|ch: char| !ch.is_ascii_alphanumeric() && ch != '_'),
                    "{} is not odd",
                    c.name
                );
            }
        }
    }

    #[test]
    fn labels_are_readable() {
        assert_eq!(
            label_of("DISPLAYCONTACT.MAILADDRESS.ZIP"),
            "Displaycontact mailaddress zip"
        );
        assert_eq!(label_of("RECORDNO"), "Recordno");
    }
}
