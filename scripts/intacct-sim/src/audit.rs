//! AUDITHISTORY reads as the gateway admits them, and the log of every one it was asked for.
//!
//! # Evidence
//!
//! * Sage describes AUDITHISTORY as "a combination of standard object record audit trail
//!   logs, custom object record audit trail logs, user access logs, and smart event log
//!   records" (developer.intacct.com, Audit trails): one log of everything the company did.
//! * The connector that reads deletes from it (estuary/connectors pull request 2889,
//!   "source-sage-intacct: add support for deletions") notes that AUDITHISTORY "supports (and
//!   actually requires) filter parameters on time and object type".
//! * Connectors that read it whole meet failures that a retry does not cure; the gateway's
//!   catch-all failure is `DL02000001` "There was an error processing the request." (Sage's
//!   own SDK fixture `SdkTest.testReadByQueryFailure`).
//!
//! So a `query` of AUDITHISTORY must restrict `OBJECTTYPE` (`equalto` or `in`) and bound
//! `ACCESSTIME` from below (`greaterthan`, `greaterthanorequalto`, `equalto`, `between`, or an
//! `or` whose every branch does) in its top-level conjunction; otherwise it fails with
//! `DL02000001`, every time. Which filters the real gateway accepts is a guess (no public
//! source says how narrow is narrow enough): the simulator takes the harsher reading that
//! both are required, and never looks at how far back the bound lies.
//!
//! Every AUDITHISTORY `query`, admitted or not, is logged ([`AuditRead`], `GET
//! /__sim/audit-reads`), so a test can check which windows and object types a client asked
//! for and how often it started a read.

use intacct_snowflake::intacct::{Comparison, Filter, Query};

use crate::query_exec::Failure;

/// The object this module judges.
pub(crate) const AUDIT_OBJECT: &str = "AUDITHISTORY";

/// One AUDITHISTORY `query` as the gateway saw it.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub(crate) struct AuditRead {
    /// The `OBJECTTYPE` values it was restricted to (empty: none).
    pub object_types: Vec<String>,
    /// The `ACCESSMODE` values it was restricted to (empty: none).
    pub access_modes: Vec<String>,
    /// Its lowest lower bound on `ACCESSTIME`, as sent (tenant wall-clock text); `None`: it
    /// reads from the beginning of the audit trail.
    pub from: Option<String>,
    /// Its upper bound on `ACCESSTIME` (`lessthan`/`lessthanorequalto`), as sent.
    pub to: Option<String>,
    /// True for a later page of a keyset read (the filter compares `ID`): a read's first
    /// page has none.
    pub continuation: bool,
    /// `<pagesize>`.
    pub page_size: Option<u32>,
    /// True when the gateway refused it (no `OBJECTTYPE` restriction or no lower bound).
    pub refused: bool,
}

/// Reads what `query` (of AUDITHISTORY) asks for and whether the gateway admits it: the
/// logged read, and the failure when it does not.
pub(crate) fn judge(query: &Query) -> (AuditRead, Option<Failure>) {
    let parts: Vec<&Filter> = match &query.filter {
        Some(Filter::And(parts)) => parts.iter().collect(),
        Some(other) => vec![other],
        None => vec![],
    };
    let mut read = AuditRead {
        page_size: query.page_size,
        continuation: query.filter.as_ref().is_some_and(compares_id),
        ..AuditRead::default()
    };
    for part in &parts {
        read.object_types.extend(values_of(part, "OBJECTTYPE"));
        read.access_modes.extend(values_of(part, "ACCESSMODE"));
        if let Some(from) = lower_bound(part) {
            read.from = Some(match read.from.take() {
                Some(earlier) => min_time(earlier, from),
                None => from,
            });
        }
        if let Filter::Compare {
            op: Comparison::LessThan | Comparison::LessThanOrEqualTo,
            field,
            value,
        } = part
            && field.eq_ignore_ascii_case("ACCESSTIME")
        {
            read.to = Some(value.clone());
        }
    }
    read.refused = read.object_types.is_empty() || read.from.is_none();
    let failure = read.refused.then(|| {
        (
            "DL02000001".to_owned(),
            "There was an error processing the request.".to_owned(),
        )
    });
    (read, failure)
}

/// The values an `equalto` or `in` on `field` admits.
fn values_of(filter: &Filter, field: &str) -> Vec<String> {
    match filter {
        Filter::Compare {
            op: Comparison::EqualTo,
            field: f,
            value,
        } if f.eq_ignore_ascii_case(field) => vec![value.clone()],
        Filter::In { field: f, values } if f.eq_ignore_ascii_case(field) => values.clone(),
        _ => vec![],
    }
}

/// The lowest ACCESSTIME `filter` admits, when it bounds it from below.
fn lower_bound(filter: &Filter) -> Option<String> {
    match filter {
        Filter::Compare {
            op: Comparison::GreaterThan | Comparison::GreaterThanOrEqualTo | Comparison::EqualTo,
            field,
            value,
        } if field.eq_ignore_ascii_case("ACCESSTIME") => Some(value.clone()),
        Filter::Between { field, low, .. } if field.eq_ignore_ascii_case("ACCESSTIME") => {
            Some(low.clone())
        }
        Filter::And(parts) => parts.iter().filter_map(lower_bound).reduce(max_time),
        Filter::Or(branches) => branches
            .iter()
            .map(lower_bound)
            .collect::<Option<Vec<_>>>()?
            .into_iter()
            .reduce(min_time),
        _ => None,
    }
}

/// True when `filter` compares the `ID` anywhere (a keyset continuation).
fn compares_id(filter: &Filter) -> bool {
    match filter {
        Filter::And(parts) | Filter::Or(parts) => parts.iter().any(compares_id),
        Filter::Compare { field, .. } => field.eq_ignore_ascii_case("ID"),
        _ => false,
    }
}

/// Wall-clock text `MM/DD/YYYY HH:MM:SS` as a sortable key (unparsable text sorts as is).
fn sort_key(text: &str) -> String {
    match chrono::NaiveDateTime::parse_from_str(text.trim(), "%m/%d/%Y %H:%M:%S") {
        Ok(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
        Err(_) => text.to_owned(),
    }
}

fn min_time(a: String, b: String) -> String {
    if sort_key(&b) < sort_key(&a) { b } else { a }
}

fn max_time(a: String, b: String) -> String {
    if sort_key(&b) > sort_key(&a) { b } else { a }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(filter: Option<Filter>) -> Query {
        Query {
            object: AUDIT_OBJECT.into(),
            select: vec!["ID".into()],
            filter,
            order_by: vec![],
            case_insensitive: false,
            show_private: false,
            page_size: Some(100),
            offset: None,
        }
    }

    fn cmp(op: Comparison, field: &str, value: &str) -> Filter {
        Filter::compare(op, field, value)
    }

    #[test]
    fn a_read_needs_an_object_type_and_a_lower_bound() {
        let types = Filter::In {
            field: "OBJECTTYPE".into(),
            values: vec!["apbill".into(), "vendor".into()],
        };
        let from = cmp(
            Comparison::GreaterThanOrEqualTo,
            "ACCESSTIME",
            "01/31/2024 13:05:00",
        );
        let to = cmp(Comparison::LessThan, "ACCESSTIME", "02/01/2024 00:00:00");
        let (read, failure) = judge(&query(Some(Filter::And(vec![
            cmp(Comparison::EqualTo, "ACCESSMODE", "D"),
            types.clone(),
            from.clone(),
            to.clone(),
        ]))));
        assert_eq!(failure, None);
        assert_eq!(read.object_types, ["apbill", "vendor"]);
        assert_eq!(read.access_modes, ["D"]);
        assert_eq!(read.from.as_deref(), Some("01/31/2024 13:05:00"));
        assert_eq!(read.to.as_deref(), Some("02/01/2024 00:00:00"));
        assert!(!read.continuation);
        // A keyset continuation: every branch of the `or` is bounded.
        let after = Filter::Or(vec![
            cmp(Comparison::GreaterThan, "ACCESSTIME", "01/31/2024 20:00:00"),
            Filter::And(vec![
                cmp(Comparison::EqualTo, "ACCESSTIME", "01/31/2024 20:00:00"),
                cmp(Comparison::GreaterThan, "ID", "0000000042"),
            ]),
        ]);
        let (read, failure) = judge(&query(Some(Filter::And(vec![
            types.clone(),
            after,
            to.clone(),
        ]))));
        assert_eq!(failure, None);
        assert!(read.continuation);
        assert_eq!(read.from.as_deref(), Some("01/31/2024 20:00:00"));
        // Whole: no lower bound, or no object type.
        for filter in [
            Some(Filter::And(vec![types, to])),
            Some(Filter::And(vec![
                from,
                cmp(Comparison::EqualTo, "ACCESSMODE", "D"),
            ])),
            None,
        ] {
            let (read, failure) = judge(&query(filter));
            assert!(read.refused);
            assert_eq!(failure.unwrap().0, "DL02000001");
        }
    }
}
