//! Per-object facts about real Intacct tenants: how a delete names its record, which object's
//! audit rows a line object's deletes come from, and how AUDITHISTORY writes `OBJECTKEY`.
//! Pure tables and small functions; nothing here does IO.
//!
//! # Evidence
//!
//! * Sage defines AUDITHISTORY's `OBJECTKEY` as the object's "unique name field, which differs
//!   based on the object type": `VENDORID` for a vendor, `CUSTOMERID` for a customer. A
//!   connector that assumed `<RECORDNO>--REC` everywhere stopped on the first vendor delete of
//!   a real tenant and now skips such rows (estuary/connectors pull request 5217,
//!   "source-sage-intacct: skip deletions whose AUDITHISTORY OBJECTKEY is not a RECORDNO");
//!   the same connector accepted both a bare integer and `N--REC` for transaction objects,
//!   so both forms are read for RECORDNO-keyed objects.
//! * ACCOUNTNO, DEPARTMENTID, LOCATIONID, CLASSID, PROJECTID and EMPLOYEEID are the unique
//!   name fields of their objects (the fields `create`/`update`/`delete` name records by in
//!   Sage's API reference); that AUDITHISTORY uses them too is a guess by analogy with
//!   VENDORID and CUSTOMERID, written down here as such.
//! * Line objects (APBILLITEM, APPYMTDETAIL) have no delete rows of their own: a bill's lines
//!   go with the bill, and Purchasing re-creates a bill with new line RECORDNOs when it is
//!   edited. Their deletes are derived from the header's (`RECORDKEY` = bill RECORDNO,
//!   `PAYMENTKEY` = payment RECORDNO). A line removed from a live header leaves no audit row
//!   at all: Sage updates a bill or a payment from "only the lines you want to keep", so the
//!   line just stops being returned, and only the header's WHENMODIFIED moves
//!   ([`line_header`] names the field a header's current lines are read by).
//! * The creation field differs by object: APBILL's `WHENCREATED` is the bill date (type
//!   DATE in `lookup`, back-datable by the user), and the record's creation timestamp is
//!   `AUWHENCREATED` (Sage's APBILL reference lists both). A DATE cannot order a keyset and
//!   a timestamp literal must never be compared with one, so [`creation_field`] picks the
//!   field from `lookup`'s types: `WHENCREATED` when it is a TIMESTAMP, else `AUWHENCREATED`
//!   when that is one, else none (the empty-WHENMODIFIED pass is skipped).
//! * Sage's help says the audit trail may show changes "for up to 2 hours after the change
//!   was made" ("What does Pending mean?", Audit Trail help): the delete feed re-reads
//!   `extract.delete_lookback_secs` (default [`AUDIT_LAG_LOOKBACK_SECS`]) before its mark.
//!
//! Invariants: an object's delete key is a column of the object (so a tombstone keeps the
//! object's schema); a bare number is never read as a RECORDNO for an object whose delete key
//! is a name field (GL account "6000" is not record 6000); an `OBJECTKEY` that does not fit
//! the object's format is `None` (set aside by the caller), never guessed.

use crate::intacct::response::{IntacctFailure, IntacctType, ObjectMeta};

/// How a tombstone of an object names its record(s).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeleteKey {
    /// The tombstone carries `RECORDNO`.
    RecordNo,
    /// The tombstone carries this column (RECORDNO stays NULL); the loader's MERGE deletes
    /// every target row sharing its value: the record's unique name (VENDORID), or, for a
    /// line object, the header's RECORDNO (APBILLITEM's RECORDKEY).
    Column(&'static str),
}

impl DeleteKey {
    /// The column a tombstone sets: `RECORDNO` or the named column.
    pub fn column(self) -> &'static str {
        match self {
            DeleteKey::RecordNo => "RECORDNO",
            DeleteKey::Column(c) => c,
        }
    }
}

/// How far before its mark the delete feed reads by default (`extract.delete_lookback_secs`),
/// in seconds: AUDITHISTORY may show a change up to two hours after it happened (Sage's Audit
/// Trail help), plus an hour of margin.
pub const AUDIT_LAG_LOOKBACK_SECS: i64 = 3 * 3_600;

/// The timestamp field that orders records with an empty WHENMODIFIED, chosen from the
/// object's `lookup` types: `WHENCREATED` when it is a TIMESTAMP, else `AUWHENCREATED` when
/// that is one, else `None` (no such pass: there is no creation timestamp to page on).
pub fn creation_field(meta: &ObjectMeta) -> Option<String> {
    ["WHENCREATED", "AUWHENCREATED"]
        .into_iter()
        .find(|name| {
            meta.fields
                .iter()
                .any(|f| f.name == *name && f.data_type == IntacctType::Timestamp)
        })
        .map(str::to_owned)
}

/// Fields `lookup` lists but `query` refuses ("XL03000006 The following fields cannot be
/// queried: [ apbill: [PAYTOCONTACTNAME, RETURNTOCONTACTNAME] ]", intacct-sdk-js issue 83;
/// ITEM's BASEUOM, intacct-sdk-net issue 150). PROJECT's entries are a guess: connectors
/// in production keep such a list for PROJECT, but no public source names its fields. Any
/// field the gateway refuses by name is also dropped at run time
/// ([`refused_in_failure`]). Neither kind has a column in the object's batch: the deny
/// list's are never selected, and `extract` plans the batch's columns after the read's first
/// page, once the gateway has refused what it refuses (the run report lists both under
/// `dropped_fields`; a table that already has such a column keeps it).
const NOT_QUERYABLE: &[(&str, &[&str])] = &[
    ("APBILL", &["PAYTOCONTACTNAME", "RETURNTOCONTACTNAME"]),
    ("APBILLITEM", &["GLACCOUNTNO"]),
    ("ITEM", &["BASEUOM"]),
    ("PROJECT", &["ROOTPARENTID", "ROOTPARENTNAME"]),
];

/// The deny list of `object`: fields never sent in a `query` select.
pub fn not_queryable(object: &str) -> &'static [&'static str] {
    NOT_QUERYABLE
        .iter()
        .find(|(o, _)| o.eq_ignore_ascii_case(object))
        .map_or(&[], |(_, f)| *f)
}

/// The fields a `query` failure names as refused ("The following fields cannot be queried:
/// [ project: [A, B] ]"); empty for any other failure.
pub fn refused_in_failure(failure: &IntacctFailure) -> Vec<String> {
    const MARKER: &str = "cannot be queried:";
    let mut out = Vec::new();
    for e in &failure.errors {
        for text in [&e.description, &e.description2, &e.correction]
            .into_iter()
            .flatten()
        {
            let Some(at) = text.find(MARKER) else {
                continue;
            };
            // `[ object: [A, B] ]`: the names sit between the second `[` and its `]`.
            let rest = &text[at + MARKER.len()..];
            let Some(inner) = rest.split_once(':').map(|(_, r)| r) else {
                continue;
            };
            let Some(list) = inner
                .split_once('[')
                .and_then(|(_, r)| r.split_once(']'))
                .map(|(l, _)| l)
            else {
                continue;
            };
            out.extend(
                list.split(',')
                    .map(str::trim)
                    .filter(|f| !f.is_empty())
                    .map(str::to_owned),
            );
        }
    }
    out
}

/// Fields left out by default because finance analysis does not need them and a warehouse
/// should not collect them: bank and ACH account details of vendors, personal identifiers of
/// employees (Sage's Advanced Audit Trail counts such account numbers and identifiers as
/// personal data). A pipeline that needs one lists it in the object's `fields`.
const PRIVATE: &[(&str, &[&str])] = &[
    (
        "VENDOR",
        &[
            "TAXID",
            "ACHBANKROUTINGNUMBER",
            "ACHACCOUNTNUMBER",
            "ACHACCOUNTTYPE",
            "ACHREMITTANCETYPE",
            "WIREBANKNAME",
            "WIREBANKROUTINGNUMBER",
            "WIREACCOUNTNUMBER",
        ],
    ),
    ("EMPLOYEE", &["SSN", "TAXID", "BIRTHDATE", "GENDER"]),
    (
        "CUSTOMER",
        &["ACHBANKROUTINGNUMBER", "ACHACCOUNTNUMBER", "ACHACCOUNTTYPE"],
    ),
];

/// The fields of `object` left out unless the pipeline lists them explicitly.
pub fn private_fields(object: &str) -> &'static [&'static str] {
    PRIVATE
        .iter()
        .find(|(o, _)| o.eq_ignore_ascii_case(object))
        .map_or(&[], |(_, f)| *f)
}

/// Objects whose AUDITHISTORY `OBJECTKEY` is their unique name field, and that field.
const NAME_KEYED: &[(&str, &str)] = &[
    ("VENDOR", "VENDORID"),
    ("CUSTOMER", "CUSTOMERID"),
    ("GLACCOUNT", "ACCOUNTNO"),
    ("DEPARTMENT", "DEPARTMENTID"),
    ("LOCATION", "LOCATIONID"),
    ("CLASS", "CLASSID"),
    ("PROJECT", "PROJECTID"),
    ("EMPLOYEE", "EMPLOYEEID"),
    ("ITEM", "ITEMID"),
    ("CONTACT", "CONTACTNAME"),
];

/// Line objects: (line object, header object, the line's column holding the header RECORDNO).
const LINES: &[(&str, &str, &str)] = &[
    ("APBILLITEM", "APBILL", "RECORDKEY"),
    ("APPYMTDETAIL", "APPYMT", "PAYMENTKEY"),
    ("ARINVOICEITEM", "ARINVOICE", "RECORDKEY"),
    ("ARPYMTDETAIL", "ARPYMT", "PAYMENTKEY"),
];

fn name_keyed(object: &str) -> Option<&'static str> {
    NAME_KEYED
        .iter()
        .find(|(o, _)| o.eq_ignore_ascii_case(object))
        .map(|(_, c)| *c)
}

fn line(object: &str) -> Option<(&'static str, &'static str)> {
    LINES
        .iter()
        .find(|(o, _, _)| o.eq_ignore_ascii_case(object))
        .map(|(_, h, c)| (*h, *c))
}

/// True for the fields every read of `object` needs whatever the pipeline lists or excludes:
/// RECORDNO, the timestamps windows are paged by (WHENMODIFIED and the creation fields) and
/// the object's delete key. A bad value in one stops the object.
pub fn is_required_field(object: &str, field: &str) -> bool {
    ["RECORDNO", "WHENMODIFIED", "WHENCREATED", "AUWHENCREATED"]
        .iter()
        .any(|f| field.eq_ignore_ascii_case(f))
        || field.eq_ignore_ascii_case(delete_key(object).column())
}

/// How a tombstone of `object` names its record(s): VENDOR → `Column("VENDORID")`,
/// APBILLITEM → `Column("RECORDKEY")`, APPYMTDETAIL → `Column("PAYMENTKEY")`, APBILL →
/// `RecordNo`, and `RecordNo` for every object not in the tables.
pub fn delete_key(object: &str) -> DeleteKey {
    if let Some(column) = name_keyed(object) {
        DeleteKey::Column(column)
    } else if let Some((_, column)) = line(object) {
        DeleteKey::Column(column)
    } else {
        DeleteKey::RecordNo
    }
}

/// The object whose AUDITHISTORY delete rows stand for `object`'s deletes: the header for a
/// line object (APBILLITEM → APBILL), else the object itself.
pub fn audit_source(object: &str) -> String {
    match line(object) {
        Some((header, _)) => header.to_owned(),
        None => object.to_ascii_uppercase(),
    }
}

/// True for line objects, which AUDITHISTORY never names.
pub fn is_line_object(object: &str) -> bool {
    line(object).is_some()
}

/// For a line object, its header object and the line's field holding the header's RECORDNO:
/// APBILLITEM → (APBILL, RECORDKEY), APPYMTDETAIL → (APPYMT, PAYMENTKEY); `None` otherwise.
pub fn line_header(object: &str) -> Option<(&'static str, &'static str)> {
    line(object)
}

/// The RECORDNO in an `OBJECTKEY` of a RECORDNO-keyed object: `N--REC` or a bare `N`.
fn record_no_of(key: &str) -> Option<u64> {
    let number = key.strip_suffix("--REC").unwrap_or(key);
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    number.parse().ok().filter(|n| *n > 0)
}

/// The value a tombstone of `object` carries in its [`delete_key`] column, read from an
/// AUDITHISTORY `OBJECTKEY` of [`audit_source`]`(object)`; `None` when the text is in no
/// format known for the object (the row is set aside, never guessed).
///
/// * RECORDNO-keyed objects and line objects (whose key is the header's RECORDNO):
///   `N--REC` or a bare `N` → `N`;
/// * name-keyed objects: the name as written (a bare number is an ID like any other), except
///   an empty value or `N--REC`, which names a RECORDNO this feed cannot map to the name.
pub fn delete_key_value(object: &str, object_key: &str) -> Option<String> {
    let key = object_key.trim();
    match delete_key(object) {
        DeleteKey::Column(_) if !is_line_object(object) => {
            let looks_like_record = key
                .strip_suffix("--REC")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            (!key.is_empty() && !looks_like_record).then(|| object_key.to_owned())
        }
        _ => record_no_of(key).map(|n| n.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delete_keys_follow_the_tables() {
        assert_eq!(delete_key("VENDOR"), DeleteKey::Column("VENDORID"));
        assert_eq!(delete_key("vendor"), DeleteKey::Column("VENDORID"));
        assert_eq!(delete_key("GLACCOUNT"), DeleteKey::Column("ACCOUNTNO"));
        assert_eq!(delete_key("APBILLITEM"), DeleteKey::Column("RECORDKEY"));
        assert_eq!(delete_key("APPYMTDETAIL"), DeleteKey::Column("PAYMENTKEY"));
        assert_eq!(delete_key("APBILL"), DeleteKey::RecordNo);
        assert_eq!(delete_key("SOMETHINGELSE"), DeleteKey::RecordNo);
        assert_eq!(DeleteKey::RecordNo.column(), "RECORDNO");
        assert_eq!(audit_source("APBILLITEM"), "APBILL");
        assert_eq!(audit_source("appymtdetail"), "APPYMT");
        assert_eq!(audit_source("VENDOR"), "VENDOR");
        assert_eq!(line_header("apbillitem"), Some(("APBILL", "RECORDKEY")));
        assert_eq!(line_header("APPYMTDETAIL"), Some(("APPYMT", "PAYMENTKEY")));
        assert_eq!(line_header("APBILL"), None);
    }

    #[test]
    fn the_creation_field_is_a_timestamp_from_lookup() {
        use crate::intacct::response::FieldMeta;
        let meta = |fields: &[(&str, IntacctType)]| ObjectMeta {
            name: "X".into(),
            fields: fields
                .iter()
                .map(|(n, t)| FieldMeta::new(*n, t.clone()))
                .collect(),
        };
        let vendor = meta(&[("WHENCREATED", IntacctType::Timestamp)]);
        assert_eq!(creation_field(&vendor).as_deref(), Some("WHENCREATED"));
        let bill = meta(&[
            ("WHENCREATED", IntacctType::Date),
            ("AUWHENCREATED", IntacctType::Timestamp),
        ]);
        assert_eq!(creation_field(&bill).as_deref(), Some("AUWHENCREATED"));
        let dated = meta(&[("WHENCREATED", IntacctType::Date)]);
        assert_eq!(creation_field(&dated), None);
    }

    #[test]
    fn refused_fields_are_read_from_the_failure_text() {
        use crate::intacct::response::{ErrorDetail, ErrorLevel};
        let failure = |d2: &str| {
            crate::intacct::codes::failure(
                ErrorLevel::Result,
                Some("query".into()),
                None,
                false,
                vec![ErrorDetail {
                    errorno: "XL03000006".into(),
                    description: None,
                    description2: Some(d2.into()),
                    correction: None,
                }],
            )
        };
        assert_eq!(
            refused_in_failure(&failure(
                "The following fields cannot be queried: [\n apbill: [PAYTOCONTACTNAME, RETURNTOCONTACTNAME] ]"
            )),
            ["PAYTOCONTACTNAME", "RETURNTOCONTACTNAME"]
        );
        assert!(refused_in_failure(&failure("Invalid field(s) in select: FOO")).is_empty());
        assert_eq!(not_queryable("project"), ["ROOTPARENTID", "ROOTPARENTNAME"]);
        assert!(not_queryable("VENDOR").is_empty());
    }

    #[test]
    fn object_keys_are_read_per_object() {
        assert_eq!(
            delete_key_value("APBILL", "123--REC").as_deref(),
            Some("123")
        );
        assert_eq!(delete_key_value("APBILL", " 42 ").as_deref(), Some("42"));
        assert_eq!(
            delete_key_value("APBILLITEM", "7--REC").as_deref(),
            Some("7")
        );
        for bad in [
            "", "--REC", "abc", "12a--REC", "-5", "0", "123--rec", "V001",
        ] {
            assert_eq!(delete_key_value("APBILL", bad), None, "{bad:?}");
        }
        // A number is an account number, never a RECORDNO.
        assert_eq!(
            delete_key_value("GLACCOUNT", "6000").as_deref(),
            Some("6000")
        );
        assert_eq!(
            delete_key_value("VENDOR", "V00042").as_deref(),
            Some("V00042")
        );
        assert_eq!(delete_key_value("VENDOR", "12--REC"), None);
        assert_eq!(delete_key_value("VENDOR", "  "), None);
    }
}
