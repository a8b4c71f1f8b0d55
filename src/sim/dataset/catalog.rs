//! The schema of every simulated object: which fields, in which order, with which Intacct
//! type, and how each value is made ([`Gen`]).
//!
//! Invariants: field order here is the order of [`super::SimRecord::values`] and of the
//! `lookup` answer; every custom field name is a valid XML element name except
//! [`INVALID_NAME_FIELD`], which is served only when explicitly enabled; generators whose
//! values other records refer to (ids, names, amounts) are never `mutable`, so updates never
//! break a foreign key or a sum.

use crate::intacct::response::{FieldMeta, IntacctType, ObjectMeta};

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
            Obj::Vendor => VENDOR,
            Obj::ApBill => APBILL,
            Obj::ApBillItem => APBILLITEM,
            Obj::ApPymt => APPYMT,
            Obj::ApPymtDetail => APPYMTDETAIL,
            Obj::GlAccount => GLACCOUNT,
            Obj::Department => DEPARTMENT,
            Obj::Location => LOCATION,
            Obj::Class => CLASS,
            Obj::Project => PROJECT,
            Obj::Customer => CUSTOMER,
            Obj::Employee => EMPLOYEE,
            Obj::AuditHistory => AUDITHISTORY,
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

    /// True for objects with WHENCREATED/WHENMODIFIED (all but AUDITHISTORY).
    pub(crate) const fn has_modified(self) -> bool {
        !matches!(self, Obj::AuditHistory)
    }
}

/// The Intacct data type of a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    Text,
    Enum,
    Integer,
    Currency,
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
    /// Hundredths in `lo..=hi`, written with two decimals.
    Percent(u64, u64),
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

const fn f(name: &'static str, ty: Ty, generator: Gen) -> FieldDef {
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
    const fn h(mut self) -> Self {
        self.hostile = 1;
        self
    }
    const fn hl(mut self) -> Self {
        self.hostile = 2;
        self
    }
    const fn m(mut self) -> Self {
        self.mutable = true;
        self
    }
    const fn c(mut self) -> Self {
        self.custom = true;
        self
    }
    const fn req(mut self) -> Self {
        self.required = true;
        self
    }
    const fn ro(mut self) -> Self {
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

use AddrPart as A;
use Gen as G;
use Ty as T;

const VENDOR: &[FieldDef] = &[
    f("RECORDNO", T::Integer, G::RecordNo).ro(),
    f("VENDORID", T::Text, G::OwnId).req(),
    f("NAME", T::Text, G::CompanyName).h().req(),
    f("NAME1099", T::Text, G::CompanyName),
    f("PARENTKEY", T::Integer, G::Parent(RefPart::Key)),
    f("PARENTID", T::Text, G::Parent(RefPart::Id)),
    f(
        "VENDTYPE",
        T::Text,
        G::Pick(&["Supplier", "Freight", "Services", "Utilities", "Contractor"]),
    ),
    f("TAXID", T::Text, G::TaxId),
    f("STATUS", T::Enum, G::Status).m(),
    f("ONETIME", T::Boolean, G::Bool(30)),
    f("ONHOLD", T::Boolean, G::Bool(40)).m(),
    f("TERMNAME", T::Text, G::Term),
    f("CREDITLIMIT", T::Currency, G::Money(500_000, 25_000_000)),
    f("TOTALDUE", T::Currency, G::Money(0, 5_000_000)).ro().m(),
    f("CURRENCY", T::Text, G::Const("USD")),
    f(
        "PAYMETHODKEY",
        T::Enum,
        G::Pick(&["Printed Check", "ACH", "EFT", "Credit Card"]),
    )
    .m(),
    f("DISPLAYCONTACT.CONTACTNAME", T::Text, G::PersonName).h(),
    f("DISPLAYCONTACT.COMPANYNAME", T::Text, G::CompanyName),
    f("DISPLAYCONTACT.EMAIL1", T::Text, G::Email).m(),
    f("DISPLAYCONTACT.PHONE1", T::Text, G::Phone).m(),
    f(
        "DISPLAYCONTACT.MAILADDRESS.ADDRESS1",
        T::Text,
        G::Addr(A::Line1, 0),
    )
    .h(),
    f(
        "DISPLAYCONTACT.MAILADDRESS.ADDRESS2",
        T::Text,
        G::Addr(A::Line2, 0),
    ),
    f(
        "DISPLAYCONTACT.MAILADDRESS.CITY",
        T::Text,
        G::Addr(A::City, 0),
    ),
    f(
        "DISPLAYCONTACT.MAILADDRESS.STATE",
        T::Text,
        G::Addr(A::State, 0),
    ),
    f(
        "DISPLAYCONTACT.MAILADDRESS.ZIP",
        T::Text,
        G::Addr(A::Zip, 0),
    ),
    f(
        "DISPLAYCONTACT.MAILADDRESS.COUNTRY",
        T::Text,
        G::Addr(A::Country, 0),
    ),
    f("PAYTO.CONTACTNAME", T::Text, G::PersonName),
    f("PAYTO.MAILADDRESS.ADDRESS1", T::Text, G::Addr(A::Line1, 1)),
    f("PAYTO.MAILADDRESS.CITY", T::Text, G::Addr(A::City, 1)),
    f("PAYTO.MAILADDRESS.STATE", T::Text, G::Addr(A::State, 1)),
    f("PAYTO.MAILADDRESS.ZIP", T::Text, G::Addr(A::Zip, 1)),
    f("MEGAENTITYKEY", T::Integer, G::Entity(RefPart::Key)),
    f("MEGAENTITYID", T::Text, G::Entity(RefPart::Id)),
    f("WHENCREATED", T::Timestamp, G::Created).ro(),
    f("WHENMODIFIED", T::Timestamp, G::Modified).ro(),
    f("CREATEDBY", T::Integer, G::User).ro(),
    f("MODIFIEDBY", T::Integer, G::User).ro().m(),
    f(
        "Rebate_Tier-2",
        T::Enum,
        G::Pick(&["Bronze", "Silver", "Gold", "Platinum"]),
    )
    .c()
    .m(),
    f(
        "Preferred.Carrier",
        T::Text,
        G::Pick(&["UPS Freight", "XPO", "Estes", "FedEx LTL", "Will Call"]),
    )
    .c()
    .h(),
];

const APBILL: &[FieldDef] = &[
    f("RECORDNO", T::Integer, G::RecordNo).ro(),
    f("RECORDTYPE", T::Text, G::Const("apbill")).ro(),
    f("RECORDID", T::Text, G::Bill(BillF::RecordId)).req(),
    f("DOCNUMBER", T::Text, G::Int(100_000, 999_999)).m(),
    f("STATE", T::Enum, G::Bill(BillF::State)).ro(),
    f("VENDORID", T::Text, G::Bill(BillF::VendorId)).req(),
    f("VENDORNAME", T::Text, G::Bill(BillF::VendorName)).ro(),
    f("TERMNAME", T::Text, G::Bill(BillF::TermName)),
    f("WHENPOSTED", T::Date, G::Bill(BillF::Posted)),
    f("WHENDUE", T::Date, G::Bill(BillF::Due)),
    f("WHENPAID", T::Date, G::Bill(BillF::Paid)).ro(),
    f("DESCRIPTION", T::Text, G::Sentence).hl().m(),
    f("BASECURR", T::Text, G::Const("USD")),
    f("CURRENCY", T::Text, G::Const("USD")),
    f("TOTALENTERED", T::Currency, G::Bill(BillF::TotalEntered)).ro(),
    f("TOTALPAID", T::Currency, G::Bill(BillF::TotalPaid)).ro(),
    f("TOTALDUE", T::Currency, G::Bill(BillF::TotalDue)).ro(),
    f(
        "TRX_TOTALENTERED",
        T::Currency,
        G::Bill(BillF::TotalEntered),
    )
    .ro(),
    f("TRX_TOTALPAID", T::Currency, G::Bill(BillF::TotalPaid)).ro(),
    f("TRX_TOTALDUE", T::Currency, G::Bill(BillF::TotalDue)).ro(),
    f(
        "PAYMENTPRIORITY",
        T::Enum,
        G::Pick(&["urgent", "high", "normal", "low"]),
    )
    .m(),
    f("ONHOLD", T::Boolean, G::Bool(20)).m(),
    f("PRBATCH", T::Text, G::Bill(BillF::Batch)),
    f("MODULEKEY", T::Text, G::Const("3.AP")).ro(),
    f("MEGAENTITYKEY", T::Integer, G::Entity(RefPart::Key)),
    f("MEGAENTITYID", T::Text, G::Entity(RefPart::Id)),
    f("MEGAENTITYNAME", T::Text, G::Entity(RefPart::Name)),
    f("WHENCREATED", T::Timestamp, G::Created).ro(),
    f("WHENMODIFIED", T::Timestamp, G::Modified).ro(),
    f("CREATEDBY", T::Integer, G::User).ro(),
    f("MODIFIEDBY", T::Integer, G::User).ro().m(),
    f(
        "SPEND.CATEGORY",
        T::Text,
        G::Pick(&["MRO", "Packaging", "Freight-In", "Resale", "Facilities"]),
    )
    .c()
    .m(),
    f("Approval_Ref-No", T::Text, G::Int(1000, 99_999)).c(),
];

const APBILLITEM: &[FieldDef] = &[
    f("RECORDNO", T::Integer, G::RecordNo).ro(),
    f("RECORDKEY", T::Integer, G::Line(LineF::RecordKey)).ro(),
    f("RECORDTYPE", T::Text, G::Const("apbill")).ro(),
    f("LINE_NO", T::Integer, G::Line(LineF::LineNo)),
    f("ACCOUNTNO", T::Text, G::Ref(Obj::GlAccount, RefPart::Id, 0)).req(),
    f(
        "ACCOUNTTITLE",
        T::Text,
        G::Ref(Obj::GlAccount, RefPart::Name, 0),
    )
    .ro(),
    f("AMOUNT", T::Currency, G::Line(LineF::Amount)).req(),
    f("TRX_AMOUNT", T::Currency, G::Line(LineF::Amount)),
    f("ENTRYDESCRIPTION", T::Text, G::Sentence).hl().m(),
    f("ENTRY_DATE", T::Date, G::Line(LineF::EntryDate)),
    f(
        "DEPARTMENTID",
        T::Text,
        G::Ref(Obj::Department, RefPart::Id, 0),
    ),
    f(
        "DEPARTMENTNAME",
        T::Text,
        G::Ref(Obj::Department, RefPart::Name, 0),
    )
    .ro(),
    f(
        "DEPARTMENTDIMKEY",
        T::Integer,
        G::Ref(Obj::Department, RefPart::Key, 0),
    ),
    f("LOCATIONID", T::Text, G::Ref(Obj::Location, RefPart::Id, 0)),
    f(
        "LOCATIONNAME",
        T::Text,
        G::Ref(Obj::Location, RefPart::Name, 0),
    )
    .ro(),
    f(
        "LOCATIONDIMKEY",
        T::Integer,
        G::Ref(Obj::Location, RefPart::Key, 0),
    ),
    f("CLASSID", T::Text, G::Ref(Obj::Class, RefPart::Id, 0)),
    f("CLASSNAME", T::Text, G::Ref(Obj::Class, RefPart::Name, 0)).ro(),
    f(
        "CLASSDIMKEY",
        T::Integer,
        G::Ref(Obj::Class, RefPart::Key, 0),
    ),
    f("PROJECTID", T::Text, G::Ref(Obj::Project, RefPart::Id, 0)),
    f(
        "PROJECTNAME",
        T::Text,
        G::Ref(Obj::Project, RefPart::Name, 0),
    )
    .ro(),
    f(
        "PROJECTDIMKEY",
        T::Integer,
        G::Ref(Obj::Project, RefPart::Key, 0),
    ),
    f("VENDORID", T::Text, G::Line(LineF::VendorId)),
    f(
        "ITEMID",
        T::Text,
        G::Pick(&[
            "PLT-WRAP-80",
            "BOX-1212",
            "TAPE-2IN",
            "GLV-NIT-L",
            "LED-HB-150",
            "SHLV-UP-96",
        ]),
    ),
    f("BILLABLE", T::Boolean, G::Bool(150)).m(),
    f("BILLED", T::Boolean, G::Bool(50)),
    f("STATE", T::Enum, G::Line(LineF::State)).ro(),
    f("CURRENCY", T::Text, G::Const("USD")),
    f("BASECURR", T::Text, G::Const("USD")),
    f("WHENCREATED", T::Timestamp, G::Created).ro(),
    f("WHENMODIFIED", T::Timestamp, G::Modified).ro(),
    f("CREATEDBY", T::Integer, G::User).ro(),
    f("MODIFIEDBY", T::Integer, G::User).ro().m(),
    f(
        "Freight.Carrier-Code",
        T::Text,
        G::Pick(&["UPSF", "XPOL", "EXLA", "FXFE", ""]),
    )
    .c()
    .m(),
];

const APPYMT: &[FieldDef] = &[
    f("RECORDNO", T::Integer, G::RecordNo).ro(),
    f("RECORDTYPE", T::Text, G::Const("appayment")).ro(),
    f(
        "PAYMENTMETHOD",
        T::Enum,
        G::Pick(&["Printed Check", "ACH", "EFT", "Credit Card"]),
    ),
    f(
        "FINANCIALENTITY",
        T::Text,
        G::Pick(&["BOA-OPER", "CHASE-AP", "WF-PAYROLL"]),
    ),
    f("STATE", T::Enum, G::Pick(&["Complete"])).ro(),
    f("VENDORID", T::Text, G::Pay(PayF::VendorId)).req(),
    f("VENDORNAME", T::Text, G::Pay(PayF::VendorName)).ro(),
    f("DOCNUMBER", T::Text, G::Pay(PayF::CheckNo)),
    f("DESCRIPTION", T::Text, G::Sentence).hl().m(),
    f("PAYMENTDATE", T::Date, G::Pay(PayF::PaymentDate)),
    f("WHENPAID", T::Date, G::Pay(PayF::PaymentDate)),
    f("CURRENCY", T::Text, G::Const("USD")),
    f("BASECURR", T::Text, G::Const("USD")),
    f("TOTALENTERED", T::Currency, G::Pay(PayF::Total)).ro(),
    f("TOTALPAID", T::Currency, G::Pay(PayF::Total)).ro(),
    f("TRX_TOTALENTERED", T::Currency, G::Pay(PayF::Total)).ro(),
    f(
        "CLEARED",
        T::Enum,
        G::Pick(&["Cleared", "Outstanding", "Matched"]),
    )
    .m(),
    f("MEGAENTITYKEY", T::Integer, G::Entity(RefPart::Key)),
    f("MEGAENTITYID", T::Text, G::Entity(RefPart::Id)),
    f("WHENCREATED", T::Timestamp, G::Created).ro(),
    f("WHENMODIFIED", T::Timestamp, G::Modified).ro(),
    f("CREATEDBY", T::Integer, G::User).ro(),
    f("MODIFIEDBY", T::Integer, G::User).ro().m(),
    f("Remit.Memo", T::Text, G::Sentence).c().h().m(),
];

const APPYMTDETAIL: &[FieldDef] = &[
    f("RECORDNO", T::Integer, G::RecordNo).ro(),
    f("PAYMENTKEY", T::Integer, G::Detail(DetailF::PaymentKey)).req(),
    f("PAYMENTDATE", T::Date, G::Detail(DetailF::PaymentDate)),
    f("RECORDKEY", T::Integer, G::Detail(DetailF::BillKey)).req(),
    f("ENTRYKEY", T::Integer, G::Detail(DetailF::LineKey)),
    f("POSADJKEY", T::Integer, G::Empty),
    f("INLINEKEY", T::Integer, G::Empty),
    f("PAYMENTAMOUNT", T::Currency, G::Detail(DetailF::Amount)),
    f("TRX_PAYMENTAMOUNT", T::Currency, G::Detail(DetailF::Amount)),
    f("DISCOUNTAMOUNT", T::Currency, G::Const("0.00")),
    f("CURRENCY", T::Text, G::Const("USD")),
    f("STATE", T::Enum, G::Pick(&["Complete"])).ro(),
    f("WHENCREATED", T::Timestamp, G::Created).ro(),
    f("WHENMODIFIED", T::Timestamp, G::Modified).ro(),
    f("CREATEDBY", T::Integer, G::User).ro(),
    f("MODIFIEDBY", T::Integer, G::User).ro().m(),
    f("Settlement_Ref-Code", T::Text, G::Int(10_000, 99_999))
        .c()
        .m(),
];

const GLACCOUNT: &[FieldDef] = &[
    f("RECORDNO", T::Integer, G::RecordNo).ro(),
    f("ACCOUNTNO", T::Text, G::OwnId).req(),
    f(
        "TITLE",
        T::Text,
        G::Label(crate::sim::dataset::text::ACCOUNT_TITLES),
    )
    .h()
    .req(),
    f(
        "ACCOUNTTYPE",
        T::Enum,
        G::Pick(&["balancesheet", "incomestatement"]),
    ),
    f("NORMALBALANCE", T::Enum, G::Pick(&["debit", "credit"])),
    f(
        "CLOSINGTYPE",
        T::Enum,
        G::Pick(&["non-closing account", "closing account"]),
    ),
    f("CLOSINGACCOUNTNO", T::Text, G::Const("3900")),
    f(
        "CLOSINGACCOUNTTITLE",
        T::Text,
        G::Const("Retained Earnings"),
    ),
    f("STATUS", T::Enum, G::Status).m(),
    f(
        "CATEGORY",
        T::Text,
        G::Pick(&[
            "Cost of Goods Sold",
            "Operating Expenses",
            "Freight",
            "Facilities",
            "Inventory",
        ]),
    ),
    f(
        "ALTERNATIVEACCOUNT",
        T::Enum,
        G::Pick(&["None", "Payables account", "Receivables account"]),
    ),
    f("REQUIREDEPT", T::Boolean, G::Bool(500)).m(),
    f("REQUIRELOC", T::Boolean, G::Bool(700)),
    f("REQUIREPROJECT", T::Boolean, G::Bool(200)),
    f("REQUIRECLASS", T::Boolean, G::Bool(300)),
    f("SUBLEDGERCONTROLON", T::Boolean, G::Bool(100)),
    f("TAXABLE", T::Boolean, G::Bool(300)),
    f("MEGAENTITYKEY", T::Integer, G::Entity(RefPart::Key)),
    f("MEGAENTITYID", T::Text, G::Entity(RefPart::Id)),
    f("WHENCREATED", T::Timestamp, G::Created).ro(),
    f("WHENMODIFIED", T::Timestamp, G::Modified).ro(),
    f("CREATEDBY", T::Integer, G::User).ro(),
    f("MODIFIEDBY", T::Integer, G::User).ro().m(),
    f(
        "Report_Line-Group",
        T::Text,
        G::Pick(&["Opex", "COGS", "Other", "Below-the-line"]),
    )
    .c()
    .m(),
];

const DEPARTMENT: &[FieldDef] = &[
    f("RECORDNO", T::Integer, G::RecordNo).ro(),
    f("DEPARTMENTID", T::Text, G::OwnId).req(),
    f(
        "TITLE",
        T::Text,
        G::Label(crate::sim::dataset::text::DEPARTMENT_TITLES),
    )
    .h()
    .req(),
    f("PARENTKEY", T::Integer, G::Parent(RefPart::Key)),
    f("PARENTID", T::Text, G::Parent(RefPart::Id)),
    f("PARENTNAME", T::Text, G::Parent(RefPart::Name)),
    f(
        "SUPERVISORKEY",
        T::Integer,
        G::Ref(Obj::Employee, RefPart::Key, 0),
    ),
    f(
        "SUPERVISORID",
        T::Text,
        G::Ref(Obj::Employee, RefPart::Id, 0),
    ),
    f(
        "SUPERVISORNAME",
        T::Text,
        G::Ref(Obj::Employee, RefPart::Name, 0),
    ),
    f("STATUS", T::Enum, G::Status).m(),
    f(
        "CUSTTITLE",
        T::Text,
        G::Pick(&["Dept", "Cost Center", "Team"]),
    ),
    f("MEGAENTITYKEY", T::Integer, G::Entity(RefPart::Key)),
    f("MEGAENTITYID", T::Text, G::Entity(RefPart::Id)),
    f("WHENCREATED", T::Timestamp, G::Created).ro(),
    f("WHENMODIFIED", T::Timestamp, G::Modified).ro(),
    f("CREATEDBY", T::Integer, G::User).ro(),
    f("MODIFIEDBY", T::Integer, G::User).ro().m(),
    f("Cost_Center.Code", T::Text, G::Int(100, 999)).c().m(),
];

const LOCATION: &[FieldDef] = &[
    f("RECORDNO", T::Integer, G::RecordNo).ro(),
    f("LOCATIONID", T::Text, G::OwnId).req(),
    f(
        "NAME",
        T::Text,
        G::Label(crate::sim::dataset::text::LOCATION_NAMES),
    )
    .h()
    .req(),
    f("PARENTKEY", T::Integer, G::Parent(RefPart::Key)),
    f("PARENTID", T::Text, G::Parent(RefPart::Id)),
    f("STATUS", T::Enum, G::Status).m(),
    f("CURRENCY", T::Text, G::Const("USD")),
    f("STARTDATE", T::Date, G::CreatedDate),
    f("ENDDATE", T::Date, G::Empty),
    f("CONTACTINFO.CONTACTNAME", T::Text, G::PersonName),
    f("CONTACTINFO.PHONE1", T::Text, G::Phone).m(),
    f(
        "CONTACTINFO.MAILADDRESS.ADDRESS1",
        T::Text,
        G::Addr(A::Line1, 0),
    )
    .h(),
    f("CONTACTINFO.MAILADDRESS.CITY", T::Text, G::Addr(A::City, 0)),
    f(
        "CONTACTINFO.MAILADDRESS.STATE",
        T::Text,
        G::Addr(A::State, 0),
    ),
    f("CONTACTINFO.MAILADDRESS.ZIP", T::Text, G::Addr(A::Zip, 0)),
    f(
        "CONTACTINFO.MAILADDRESS.COUNTRY",
        T::Text,
        G::Addr(A::Country, 0),
    ),
    f("WHENCREATED", T::Timestamp, G::Created).ro(),
    f("WHENMODIFIED", T::Timestamp, G::Modified).ro(),
    f("CREATEDBY", T::Integer, G::User).ro(),
    f("MODIFIEDBY", T::Integer, G::User).ro().m(),
    f("Warehouse_Dock-Count", T::Integer, G::Int(1, 24)).c().m(),
];

const CLASS: &[FieldDef] = &[
    f("RECORDNO", T::Integer, G::RecordNo).ro(),
    f("CLASSID", T::Text, G::OwnId).req(),
    f(
        "NAME",
        T::Text,
        G::Label(crate::sim::dataset::text::CLASS_NAMES),
    )
    .h()
    .req(),
    f("DESCRIPTION", T::Text, G::Sentence).hl().m(),
    f("STATUS", T::Enum, G::Status).m(),
    f("PARENTKEY", T::Integer, G::Parent(RefPart::Key)),
    f("PARENTID", T::Text, G::Parent(RefPart::Id)),
    f("PARENTNAME", T::Text, G::Parent(RefPart::Name)),
    f("WHENCREATED", T::Timestamp, G::Created).ro(),
    f("WHENMODIFIED", T::Timestamp, G::Modified).ro(),
    f("CREATEDBY", T::Integer, G::User).ro(),
    f("MODIFIEDBY", T::Integer, G::User).ro().m(),
    f("MEGAENTITYKEY", T::Integer, G::Entity(RefPart::Key)),
    f("MEGAENTITYID", T::Text, G::Entity(RefPart::Id)),
    f("MEGAENTITYNAME", T::Text, G::Entity(RefPart::Name)),
    f(
        "Channel_Group-A",
        T::Text,
        G::Pick(&["Retail", "Wholesale", "E-commerce", "OEM"]),
    )
    .c()
    .m(),
];

const PROJECT: &[FieldDef] = &[
    f("RECORDNO", T::Integer, G::RecordNo).ro(),
    f("PROJECTID", T::Text, G::OwnId).req(),
    f(
        "NAME",
        T::Text,
        G::Label(crate::sim::dataset::text::PROJECT_NAMES),
    )
    .h()
    .req(),
    f("DESCRIPTION", T::Text, G::Sentence).hl().m(),
    f("CURRENCY", T::Text, G::Const("USD")),
    f(
        "PROJECTCATEGORY",
        T::Enum,
        G::Pick(&[
            "Contract",
            "Capitalized",
            "Internal Billable",
            "Internal Non-billable",
        ]),
    ),
    f(
        "PROJECTSTATUS",
        T::Text,
        G::Pick(&["Not Started", "In Progress", "Completed", "On Hold"]),
    )
    .m(),
    f(
        "PROJECTTYPE",
        T::Text,
        G::Pick(&["Warehouse Fit-out", "Customer Program", "IT", "Fleet"]),
    ),
    f("PARENTKEY", T::Integer, G::Parent(RefPart::Key)),
    f("PARENTID", T::Text, G::Parent(RefPart::Id)),
    f(
        "CUSTOMERKEY",
        T::Integer,
        G::Ref(Obj::Customer, RefPart::Key, 0),
    ),
    f("CUSTOMERID", T::Text, G::Ref(Obj::Customer, RefPart::Id, 0)),
    f(
        "CUSTOMERNAME",
        T::Text,
        G::Ref(Obj::Customer, RefPart::Name, 0),
    ),
    f(
        "DEPARTMENTID",
        T::Text,
        G::Ref(Obj::Department, RefPart::Id, 0),
    ),
    f("LOCATIONID", T::Text, G::Ref(Obj::Location, RefPart::Id, 0)),
    f("BEGINDATE", T::Date, G::CreatedDate),
    f("ENDDATE", T::Date, G::CreatedDatePlus(30, 720)),
    f(
        "BUDGETAMOUNT",
        T::Currency,
        G::Money(1_000_000, 250_000_000),
    )
    .m(),
    f("STATUS", T::Enum, G::Status).m(),
    f("WHENCREATED", T::Timestamp, G::Created).ro(),
    f("WHENMODIFIED", T::Timestamp, G::Modified).ro(),
    f("CREATEDBY", T::Integer, G::User).ro(),
    f("MODIFIEDBY", T::Integer, G::User).ro().m(),
    f("Margin_Target.Pct", T::Percent, G::Percent(500, 4500))
        .c()
        .m(),
];

const CUSTOMER: &[FieldDef] = &[
    f("RECORDNO", T::Integer, G::RecordNo).ro(),
    f("CUSTOMERID", T::Text, G::OwnId).req(),
    f("NAME", T::Text, G::CompanyName).h().req(),
    f("PARENTKEY", T::Integer, G::Parent(RefPart::Key)),
    f("PARENTID", T::Text, G::Parent(RefPart::Id)),
    f(
        "CUSTTYPE",
        T::Text,
        G::Pick(&["Retail", "Contractor", "Institutional", "Reseller"]),
    ),
    f("STATUS", T::Enum, G::Status).m(),
    f("ONETIME", T::Boolean, G::Bool(20)),
    f("ONHOLD", T::Boolean, G::Bool(30)).m(),
    f("TERMNAME", T::Text, G::Term),
    f("CREDITLIMIT", T::Currency, G::Money(100_000, 10_000_000)).m(),
    f("TOTALDUE", T::Currency, G::Money(0, 2_000_000)).ro().m(),
    f("CURRENCY", T::Text, G::Const("USD")),
    f("DISPLAYCONTACT.CONTACTNAME", T::Text, G::PersonName).h(),
    f("DISPLAYCONTACT.EMAIL1", T::Text, G::Email).m(),
    f("DISPLAYCONTACT.PHONE1", T::Text, G::Phone).m(),
    f(
        "DISPLAYCONTACT.MAILADDRESS.ADDRESS1",
        T::Text,
        G::Addr(A::Line1, 0),
    )
    .h(),
    f(
        "DISPLAYCONTACT.MAILADDRESS.ADDRESS2",
        T::Text,
        G::Addr(A::Line2, 0),
    ),
    f(
        "DISPLAYCONTACT.MAILADDRESS.CITY",
        T::Text,
        G::Addr(A::City, 0),
    ),
    f(
        "DISPLAYCONTACT.MAILADDRESS.STATE",
        T::Text,
        G::Addr(A::State, 0),
    ),
    f(
        "DISPLAYCONTACT.MAILADDRESS.ZIP",
        T::Text,
        G::Addr(A::Zip, 0),
    ),
    f(
        "DISPLAYCONTACT.MAILADDRESS.COUNTRY",
        T::Text,
        G::Addr(A::Country, 0),
    ),
    f("SHIPTO.MAILADDRESS.ZIP", T::Text, G::Addr(A::Zip, 1)),
    f("MEGAENTITYKEY", T::Integer, G::Entity(RefPart::Key)),
    f("MEGAENTITYID", T::Text, G::Entity(RefPart::Id)),
    f("WHENCREATED", T::Timestamp, G::Created).ro(),
    f("WHENMODIFIED", T::Timestamp, G::Modified).ro(),
    f("CREATEDBY", T::Integer, G::User).ro(),
    f("MODIFIEDBY", T::Integer, G::User).ro().m(),
    f("Loyalty_Tier·Code", T::Text, G::Pick(&["A1", "B2", "C3"]))
        .c()
        .m(),
];

const EMPLOYEE: &[FieldDef] = &[
    f("RECORDNO", T::Integer, G::RecordNo).ro(),
    f("EMPLOYEEID", T::Text, G::OwnId).req(),
    f("TITLE", T::Text, G::JobTitle).m(),
    f("CONTACT.CONTACTNAME", T::Text, G::PersonName).h(),
    f("CONTACT.FIRSTNAME", T::Text, G::FirstName),
    f("CONTACT.LASTNAME", T::Text, G::LastName),
    f("CONTACT.EMAIL1", T::Text, G::Email).m(),
    f("CONTACT.PHONE1", T::Text, G::Phone).m(),
    f("CONTACT.MAILADDRESS.CITY", T::Text, G::Addr(A::City, 0)),
    f("CONTACT.MAILADDRESS.STATE", T::Text, G::Addr(A::State, 0)),
    f("CONTACT.MAILADDRESS.ZIP", T::Text, G::Addr(A::Zip, 0)),
    f(
        "DEPARTMENTID",
        T::Text,
        G::Ref(Obj::Department, RefPart::Id, 0),
    ),
    f("LOCATIONID", T::Text, G::Ref(Obj::Location, RefPart::Id, 0)),
    f("STARTDATE", T::Date, G::CreatedDate),
    f("ENDDATE", T::Date, G::Empty),
    f("BIRTHDATE", T::Date, G::Empty),
    f(
        "EMPLOYEETYPE",
        T::Text,
        G::Pick(&["Full Time", "Part Time", "Seasonal", "Contractor"]),
    ),
    f("STATUS", T::Enum, G::Status).m(),
    f("CURRENCY", T::Text, G::Const("USD")),
    f("WHENCREATED", T::Timestamp, G::Created).ro(),
    f("WHENMODIFIED", T::Timestamp, G::Modified).ro(),
    f("CREATEDBY", T::Integer, G::User).ro(),
    f("MODIFIEDBY", T::Integer, G::User).ro().m(),
    f("Badge_No-Ext", T::Text, G::Int(10_000, 99_999)).c().m(),
];

const AUDITHISTORY: &[FieldDef] = &[
    f("ID", T::Integer, G::RecordNo).ro(),
    f("OBJECTTYPE", T::Text, G::Audit(AuditF::ObjectType)).ro(),
    f("OBJECTKEY", T::Text, G::Audit(AuditF::ObjectKey)).ro(),
    f("OBJECTDESC", T::Text, G::Audit(AuditF::ObjectDesc)).ro(),
    f("ACCESSMODE", T::Enum, G::Audit(AuditF::AccessMode)).ro(),
    f("ACCESSTIME", T::Timestamp, G::Audit(AuditF::AccessTime)).ro(),
    f("USERID", T::Text, G::Audit(AuditF::UserId)).ro(),
    f("SOURCE", T::Enum, G::Audit(AuditF::Source)).ro(),
    f("WORKFLOWACTION", T::Text, G::Empty).ro(),
    f("IPADDRESS", T::Text, G::Audit(AuditF::IpAddress)).ro(),
];

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
