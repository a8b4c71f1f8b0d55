//! The vocabulary of the simulated dataset: the objects ([`Obj`]), the Intacct type of a
//! field ([`Ty`]), how a value is made ([`Gen`] and the per-object value kinds `BillF`,
//! `LineF`, `PayF`, `DetailF`, `AuditF`), and one field's definition ([`FieldDef`], built
//! with [`f`] and its modifiers).
//!
//! `fields` writes the per-object tables in these terms; `catalog` lists them per object and
//! turns them into `lookup` metadata; `generate` makes the values.

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
}
