//! The field tables of every simulated object, in `lookup` order (see `model` for what a
//! [`FieldDef`] says, and `catalog` for the invariants the tables keep).

use super::model::{
    AddrPart, AuditF, BillF, DetailF, FieldDef, Gen, LineF, Obj, PayF, RefPart, Ty, f,
};
use AddrPart as A;
use Gen as G;
use Ty as T;

pub(super) const VENDOR: &[FieldDef] = &[
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
    // Bank details for ACH payments (Sage's VENDOR fields of those names).
    f("ACHENABLED", T::Boolean, G::Bool(600)),
    f(
        "ACHBANKROUTINGNUMBER",
        T::Text,
        G::Int(11_000_000, 329_999_999),
    ),
    f(
        "ACHACCOUNTNUMBER",
        T::Text,
        G::Int(10_000_000, 9_999_999_999),
    ),
    f(
        "ACHACCOUNTTYPE",
        T::Text,
        G::Pick(&["Checking Account", "Savings Account"]),
    ),
    f("STATUS", T::Enum, G::Status).m(),
    f("ONETIME", T::Boolean, G::Bool(30)),
    f("ONHOLD", T::Boolean, G::Bool(40)).m(),
    f("TERMNAME", T::Text, G::Term),
    f("CREDITLIMIT", T::Currency, G::Money(500_000, 25_000_000)),
    f("TOTALDUE", T::Currency, G::Balance(0, 5_000_000))
        .ro()
        .m(),
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

pub(super) const APBILL: &[FieldDef] = &[
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
    f("EXCHANGE_RATE", T::Decimal, G::Rate),
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
    // The bill date (Sage: "WHENCREATED — Date"), back-dated up to 45 days before entry.
    f("WHENCREATED", T::Date, G::CreatedDateMinus(0, 45)).ro(),
    f("AUWHENCREATED", T::Timestamp, G::Created).ro(),
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

pub(super) const APBILLITEM: &[FieldDef] = &[
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

pub(super) const APPYMT: &[FieldDef] = &[
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

pub(super) const APPYMTDETAIL: &[FieldDef] = &[
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

pub(super) const GLACCOUNT: &[FieldDef] = &[
    f("RECORDNO", T::Integer, G::RecordNo).ro(),
    f("ACCOUNTNO", T::Text, G::OwnId).req(),
    f(
        "TITLE",
        T::Text,
        G::Label(crate::dataset::text::ACCOUNT_TITLES),
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

pub(super) const DEPARTMENT: &[FieldDef] = &[
    f("RECORDNO", T::Integer, G::RecordNo).ro(),
    f("DEPARTMENTID", T::Text, G::OwnId).req(),
    f(
        "TITLE",
        T::Text,
        G::Label(crate::dataset::text::DEPARTMENT_TITLES),
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

pub(super) const LOCATION: &[FieldDef] = &[
    f("RECORDNO", T::Integer, G::RecordNo).ro(),
    f("LOCATIONID", T::Text, G::OwnId).req(),
    f(
        "NAME",
        T::Text,
        G::Label(crate::dataset::text::LOCATION_NAMES),
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

pub(super) const CLASS: &[FieldDef] = &[
    f("RECORDNO", T::Integer, G::RecordNo).ro(),
    f("CLASSID", T::Text, G::OwnId).req(),
    f("NAME", T::Text, G::Label(crate::dataset::text::CLASS_NAMES))
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

pub(super) const PROJECT: &[FieldDef] = &[
    f("RECORDNO", T::Integer, G::RecordNo).ro(),
    f("PROJECTID", T::Text, G::OwnId).req(),
    // Listed by lookup, refused by query (see `catalog::NOT_QUERYABLE`).
    f("ROOTPARENTID", T::Text, G::Parent(RefPart::Id)).ro(),
    f("ROOTPARENTNAME", T::Text, G::Parent(RefPart::Name)).ro(),
    f("ROOTPARENTKEY", T::Integer, G::Parent(RefPart::Key)).ro(),
    f(
        "NAME",
        T::Text,
        G::Label(crate::dataset::text::PROJECT_NAMES),
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

pub(super) const CUSTOMER: &[FieldDef] = &[
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
    f("TOTALDUE", T::Currency, G::Balance(0, 2_000_000))
        .ro()
        .m(),
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

pub(super) const EMPLOYEE: &[FieldDef] = &[
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
    f("SSN", T::Text, G::TaxId),
    f(
        "GENDER",
        T::Text,
        G::Pick(&["Female", "Male", "Unspecified"]),
    ),
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

pub(super) const AUDITHISTORY: &[FieldDef] = &[
    // Typed TEXT, written zero-padded (see `Gen::AuditId`).
    f("ID", T::Text, G::AuditId).ro(),
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
