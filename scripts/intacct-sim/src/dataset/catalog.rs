//! The schema of every simulated object: which fields, in which order, with which Intacct
//! type, and how each value is made ([`Gen`]); the `lookup` metadata they give; the value
//! lists the generators and the metadata share.
//!
//! The per-object field tables live in `fields`, written in the terms of `model`.
//!
//! Invariants: field order here is the order of [`super::SimRecord::values`] and of the
//! `lookup` answer; every custom field name is a valid XML element name except
//! [`INVALID_NAME_FIELD`], which is served only when explicitly enabled; generators whose
//! values other records refer to (ids, names, amounts) are never `mutable`, so updates never
//! break a foreign key or a sum.

use intacct_snowflake::intacct::{FieldMeta, IntacctType, ObjectMeta};

use super::fields;
use super::model::{AuditF, BillF, FieldDef, Gen, LineF, Obj, Ty, f};

impl Obj {
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

impl FieldDef {
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

/// The custom field an administrator adds while the simulator runs
/// (`POST /__sim/custom-field?object=X`); never updated by the simulated days.
pub(crate) const NEW_CUSTOM_FIELD_DEF: FieldDef = f(
    super::NEW_CUSTOM_FIELD,
    Ty::Text,
    Gen::Pick(&["Gold", "Silver", "Bronze & <Partner>"]),
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
