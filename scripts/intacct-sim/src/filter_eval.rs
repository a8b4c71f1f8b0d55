//! Evaluates `query` filter trees and orderings over simulator records.
//!
//! A [`Filter`] is compiled once per request against the object's [`ObjectMeta`]: field
//! names become column indexes and every literal is parsed by its field's type, so that
//! integers and amounts compare numerically, dates and timestamps (`MM/DD/YYYY[ HH:MM:SS]`,
//! tenant wall-clock time) compare as instants, and text compares lexicographically
//! (optionally case-insensitively). SQL null semantics hold: an empty value matches only
//! `isnull`; every comparison with it, `notequalto` and `notin` included, is false.

use std::cmp::Ordering;
use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};

use intacct_snowflake::intacct::tenant_time::{self, DATE_FORMAT, TIMESTAMP_FORMAT};
use intacct_snowflake::intacct::{Comparison, Filter, IntacctType, ObjectMeta, OrderBy};

/// How values of a field compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ValueKind {
    /// Numerically.
    Number,
    /// As instants (dates are midnight).
    Time,
    /// As text.
    Text,
}

impl ValueKind {
    /// The comparison kind of an Intacct type.
    pub(super) fn of(data_type: &IntacctType) -> ValueKind {
        match data_type {
            IntacctType::Integer
            | IntacctType::Decimal
            | IntacctType::Currency
            | IntacctType::Percent => ValueKind::Number,
            IntacctType::Date | IntacctType::Timestamp => ValueKind::Time,
            _ => ValueKind::Text,
        }
    }
}

/// A value parsed by its field's kind.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Typed {
    /// A number.
    Number(f64),
    /// A tenant wall-clock instant.
    Time(NaiveDateTime),
    /// Text (lower-cased when the query is case-insensitive).
    Text(String),
}

impl Typed {
    fn cmp(&self, other: &Typed) -> Ordering {
        match (self, other) {
            (Typed::Number(a), Typed::Number(b)) => a.total_cmp(b),
            (Typed::Time(a), Typed::Time(b)) => a.cmp(b),
            (Typed::Text(a), Typed::Text(b)) => a.cmp(b),
            _ => Ordering::Equal,
        }
    }
}

/// Parses `MM/DD/YYYY HH:MM:SS` or `MM/DD/YYYY` (tenant wall-clock time).
pub(super) fn parse_wire_time(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    // The strict hand-written parser takes every form the gateway writes, several times
    // faster than chrono's format-driven one (this runs per record for every time
    // comparison of a filter); chrono's catches the looser forms a client may send.
    tenant_time::parse_local_timestamp(text)
        .or_else(|| NaiveDateTime::parse_from_str(text, TIMESTAMP_FORMAT).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(text, DATE_FORMAT)
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
}

/// Parses `text` as a value of `kind`; `None` when it is not one.
pub(super) fn parse_typed(kind: ValueKind, text: &str, case_insensitive: bool) -> Option<Typed> {
    match kind {
        ValueKind::Number => text.trim().parse::<f64>().ok().map(Typed::Number),
        ValueKind::Time => parse_wire_time(text).map(Typed::Time),
        ValueKind::Text if case_insensitive => Some(Typed::Text(text.to_lowercase())),
        ValueKind::Text => Some(Typed::Text(text.to_owned())),
    }
}

/// Field name → column index for one object.
#[derive(Debug)]
pub(super) struct Columns<'m> {
    meta: &'m ObjectMeta,
    by_name: HashMap<&'m str, usize>,
}

impl<'m> Columns<'m> {
    /// Indexes an object's fields.
    pub(super) fn new(meta: &'m ObjectMeta) -> Columns<'m> {
        let by_name = meta
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.as_str(), i))
            .collect();
        Columns { meta, by_name }
    }

    /// The object's metadata.
    pub(super) fn meta(&self) -> &'m ObjectMeta {
        self.meta
    }

    /// Column index of a field (names are case-insensitive on the gateway).
    pub(super) fn index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied().or_else(|| {
            self.meta
                .fields
                .iter()
                .position(|f| f.name.eq_ignore_ascii_case(name))
        })
    }

    /// The comparison kind of column `index`.
    pub(super) fn kind(&self, index: usize) -> ValueKind {
        ValueKind::of(&self.meta.fields[index].data_type)
    }
}

/// Why a filter cannot run; becomes a `Query Failed` result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum FilterError {
    /// Fields the object does not have, in first-seen order.
    UnknownFields(Vec<String>),
    /// A literal that is not a value of its field's type.
    BadValue {
        /// The field.
        field: String,
        /// The literal.
        value: String,
    },
}

impl FilterError {
    /// The `description2` text.
    pub(super) fn description(&self) -> String {
        match self {
            FilterError::UnknownFields(fields) => {
                format!("Invalid field(s) in filter: {}", fields.join(", "))
            }
            FilterError::BadValue { field, value } => {
                format!("Invalid value '{value}' for field {field}")
            }
        }
    }
}

/// A filter ready to evaluate against records of one object.
#[derive(Debug)]
pub(super) enum Compiled {
    /// All children.
    And(Vec<Compiled>),
    /// Any child.
    Or(Vec<Compiled>),
    /// One comparison.
    Compare {
        /// Column.
        column: usize,
        /// Kind.
        kind: ValueKind,
        /// Operator.
        op: Comparison,
        /// Parsed literal (for `like`, the raw pattern as text).
        value: Typed,
    },
    /// Inclusive range.
    Between {
        /// Column.
        column: usize,
        /// Kind.
        kind: ValueKind,
        /// Lower bound.
        low: Typed,
        /// Upper bound.
        high: Typed,
    },
    /// Membership (`negated` for `notin`).
    In {
        /// Column.
        column: usize,
        /// Kind.
        kind: ValueKind,
        /// Values.
        values: Vec<Typed>,
        /// `notin`.
        negated: bool,
    },
    /// Emptiness (`negated` for `isnotnull`).
    IsNull {
        /// Column.
        column: usize,
        /// `isnotnull`.
        negated: bool,
    },
}

/// Compiles a filter; reports every unknown field at once.
pub(super) fn compile(
    filter: &Filter,
    columns: &Columns<'_>,
    case_insensitive: bool,
) -> Result<Compiled, FilterError> {
    let mut unknown = Vec::new();
    collect_unknown(filter, columns, &mut unknown);
    if !unknown.is_empty() {
        return Err(FilterError::UnknownFields(unknown));
    }
    compile_known(filter, columns, case_insensitive)
}

fn collect_unknown(filter: &Filter, columns: &Columns<'_>, out: &mut Vec<String>) {
    let field = match filter {
        Filter::And(children) | Filter::Or(children) => {
            for child in children {
                collect_unknown(child, columns, out);
            }
            return;
        }
        Filter::Compare { field, .. }
        | Filter::Between { field, .. }
        | Filter::In { field, .. }
        | Filter::NotIn { field, .. }
        | Filter::IsNull { field }
        | Filter::IsNotNull { field } => field,
    };
    if columns.index(field).is_none() && !out.contains(field) {
        out.push(field.clone());
    }
}

fn compile_known(
    filter: &Filter,
    columns: &Columns<'_>,
    ci: bool,
) -> Result<Compiled, FilterError> {
    let column_of = |field: &str| columns.index(field).unwrap_or(0);
    let literal = |field: &str, kind: ValueKind, value: &str| {
        let bad = || FilterError::BadValue {
            field: field.to_owned(),
            value: value.to_owned(),
        };
        // A DATE field takes a date: a timestamp literal is refused rather than compared at
        // midnight (a guess on the harsher side; the gateway documents dates as MM/DD/YYYY).
        let is_date = columns
            .index(field)
            .is_some_and(|i| columns.meta().fields[i].data_type == IntacctType::Date);
        if is_date && value.trim().contains(':') {
            return Err(bad());
        }
        parse_typed(kind, value, ci).ok_or_else(bad)
    };
    Ok(match filter {
        Filter::And(children) => Compiled::And(
            children
                .iter()
                .map(|c| compile_known(c, columns, ci))
                .collect::<Result<_, _>>()?,
        ),
        Filter::Or(children) => Compiled::Or(
            children
                .iter()
                .map(|c| compile_known(c, columns, ci))
                .collect::<Result<_, _>>()?,
        ),
        Filter::Compare { op, field, value } => {
            let column = column_of(field);
            let kind = columns.kind(column);
            let value = if matches!(op, Comparison::Like | Comparison::NotLike) {
                Typed::Text(if ci {
                    value.to_lowercase()
                } else {
                    value.clone()
                })
            } else {
                literal(field, kind, value)?
            };
            Compiled::Compare {
                column,
                kind,
                op: *op,
                value,
            }
        }
        Filter::Between { field, low, high } => {
            let column = column_of(field);
            let kind = columns.kind(column);
            Compiled::Between {
                column,
                kind,
                low: literal(field, kind, low)?,
                high: literal(field, kind, high)?,
            }
        }
        Filter::In { field, values } | Filter::NotIn { field, values } => {
            let column = column_of(field);
            let kind = columns.kind(column);
            Compiled::In {
                column,
                kind,
                values: values
                    .iter()
                    .map(|v| literal(field, kind, v))
                    .collect::<Result<_, _>>()?,
                negated: matches!(filter, Filter::NotIn { .. }),
            }
        }
        Filter::IsNull { field } => Compiled::IsNull {
            column: column_of(field),
            negated: false,
        },
        Filter::IsNotNull { field } => Compiled::IsNull {
            column: column_of(field),
            negated: true,
        },
    })
}

fn present(values: &[Option<String>], column: usize) -> Option<&str> {
    values
        .get(column)
        .and_then(|v| v.as_deref())
        .filter(|v| !v.is_empty())
}

/// One record as a filter reads it.
pub(super) trait FilterRow {
    /// True when the column holds a non-empty value.
    fn is_present(&self, column: usize) -> bool;
    /// The column's text (for `like`); `None` when empty or when the row holds no text.
    fn text(&self, column: usize) -> Option<&str>;
    /// The column's value as `kind`; `None` when empty or not a value of that kind.
    fn typed(&self, column: usize, kind: ValueKind, case_insensitive: bool) -> Option<Typed>;
}

/// Values by column, as wire text.
impl FilterRow for [Option<String>] {
    fn is_present(&self, column: usize) -> bool {
        present(self, column).is_some()
    }

    fn text(&self, column: usize) -> Option<&str> {
        present(self, column)
    }

    fn typed(&self, column: usize, kind: ValueKind, case_insensitive: bool) -> Option<Typed> {
        present(self, column).and_then(|raw| parse_typed(kind, raw, case_insensitive))
    }
}

impl Compiled {
    /// True when every leaf reads one of `columns` and none is a `like`: such a filter can
    /// be decided on a row that carries typed values and no text.
    pub(super) fn reads_only(&self, columns: &[usize]) -> bool {
        match self {
            Compiled::And(children) | Compiled::Or(children) => {
                children.iter().all(|c| c.reads_only(columns))
            }
            Compiled::Compare { column, op, .. } => {
                columns.contains(column) && !matches!(op, Comparison::Like | Comparison::NotLike)
            }
            Compiled::Between { column, .. }
            | Compiled::In { column, .. }
            | Compiled::IsNull { column, .. } => columns.contains(column),
        }
    }

    /// Sets `wanted[column]` for every column the filter reads.
    pub(super) fn mark_columns(&self, wanted: &mut [bool]) {
        match self {
            Compiled::And(children) | Compiled::Or(children) => {
                for c in children {
                    c.mark_columns(wanted);
                }
            }
            Compiled::Compare { column, .. }
            | Compiled::Between { column, .. }
            | Compiled::In { column, .. }
            | Compiled::IsNull { column, .. } => {
                if let Some(w) = wanted.get_mut(*column) {
                    *w = true;
                }
            }
        }
    }

    /// True when a record (values by column) matches. `case_insensitive` must be the flag the
    /// filter was compiled with.
    pub(super) fn matches<R: FilterRow + ?Sized>(&self, row: &R, case_insensitive: bool) -> bool {
        match self {
            Compiled::And(children) => children.iter().all(|c| c.matches(row, case_insensitive)),
            Compiled::Or(children) => children.iter().any(|c| c.matches(row, case_insensitive)),
            Compiled::IsNull { column, negated } => row.is_present(*column) == *negated,
            Compiled::Compare {
                column,
                kind,
                op,
                value,
            } => {
                if let (Comparison::Like | Comparison::NotLike, Typed::Text(pattern)) = (op, value)
                {
                    let Some(raw) = row.text(*column) else {
                        return false;
                    };
                    let text = if case_insensitive {
                        raw.to_lowercase()
                    } else {
                        raw.to_owned()
                    };
                    return like(&text, pattern) == (*op == Comparison::Like);
                }
                let Some(actual) = row.typed(*column, *kind, case_insensitive) else {
                    return false;
                };
                let ord = actual.cmp(value);
                match op {
                    Comparison::EqualTo => ord == Ordering::Equal,
                    Comparison::NotEqualTo => ord != Ordering::Equal,
                    Comparison::LessThan => ord == Ordering::Less,
                    Comparison::LessThanOrEqualTo => ord != Ordering::Greater,
                    Comparison::GreaterThan => ord == Ordering::Greater,
                    Comparison::GreaterThanOrEqualTo => ord != Ordering::Less,
                    Comparison::Like | Comparison::NotLike => false,
                }
            }
            Compiled::Between {
                column,
                kind,
                low,
                high,
            } => row
                .typed(*column, *kind, case_insensitive)
                .is_some_and(|v| v.cmp(low) != Ordering::Less && v.cmp(high) != Ordering::Greater),
            Compiled::In {
                column,
                kind,
                values: set,
                negated,
            } => row
                .typed(*column, *kind, case_insensitive)
                .is_some_and(|v| set.iter().any(|s| v.cmp(s) == Ordering::Equal) != *negated),
        }
    }
}

/// SQL `LIKE`: `%` any run, `_` one character; no escape character.
pub(super) fn like(text: &str, pattern: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    // Greedy matcher with backtracking to the last `%`.
    let (mut ti, mut pi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '_' || p[pi] == t[ti]) {
            ti += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '%' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '%')
}

/// A compiled `orderby`: (column, kind, ascending) keys.
#[derive(Debug)]
pub(super) struct RecordOrder {
    keys: Vec<(usize, ValueKind, bool)>,
}

impl RecordOrder {
    /// Sets `wanted[column]` for every column the order reads.
    pub(super) fn mark_columns(&self, wanted: &mut [bool]) {
        for (column, _, _) in &self.keys {
            if let Some(w) = wanted.get_mut(*column) {
                *w = true;
            }
        }
    }
}

/// Compiles an `orderby`; unknown fields are reported.
pub(super) fn compile_order(
    order_by: &[OrderBy],
    columns: &Columns<'_>,
) -> Result<RecordOrder, FilterError> {
    let mut keys = Vec::new();
    let mut unknown = Vec::new();
    for order in order_by {
        match columns.index(&order.field) {
            Some(column) => keys.push((column, columns.kind(column), order.ascending)),
            None => unknown.push(order.field.clone()),
        }
    }
    if !unknown.is_empty() {
        return Err(FilterError::UnknownFields(unknown));
    }
    Ok(RecordOrder { keys })
}

impl RecordOrder {
    /// Compares two records; empty values sort last ascending and first descending (as in
    /// Oracle, which Intacct runs on).
    pub(super) fn compare(&self, a: &[Option<String>], b: &[Option<String>]) -> Ordering {
        for &(column, kind, ascending) in &self.keys {
            let va = present(a, column).and_then(|v| parse_typed(kind, v, false));
            let vb = present(b, column).and_then(|v| parse_typed(kind, v, false));
            let ord = match (va, vb) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(x), Some(y)) => x.cmp(&y),
            };
            let ord = if ascending { ord } else { ord.reverse() };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use intacct_snowflake::intacct::FieldMeta;

    fn field(name: &str, data_type: IntacctType) -> FieldMeta {
        FieldMeta::new(name, data_type)
    }

    fn meta() -> ObjectMeta {
        ObjectMeta {
            name: "VENDOR".into(),
            fields: vec![
                field("RECORDNO", IntacctType::Integer),
                field("NAME", IntacctType::Text),
                field("WHENMODIFIED", IntacctType::Timestamp),
                field("TOTALDUE", IntacctType::Currency),
            ],
        }
    }

    fn row(no: &str, name: &str, when: &str, due: &str) -> Vec<Option<String>> {
        [no, name, when, due]
            .iter()
            .map(|v| (!v.is_empty()).then(|| v.to_string()))
            .collect()
    }

    fn eval(filter: Filter, values: &[Option<String>], ci: bool) -> bool {
        let m = meta();
        let columns = Columns::new(&m);
        compile(&filter, &columns, ci).unwrap().matches(values, ci)
    }

    #[test]
    fn numbers_and_times_compare_by_value_not_text() {
        let r = row("10", "Acme", "01/02/2026 09:00:00", "100.50");
        // Text order would put "10" before "9".
        assert!(eval(
            Filter::compare(Comparison::GreaterThan, "RECORDNO", "9"),
            &r,
            false
        ));
        // Text order would put "01/02/2026" before "12/31/2025".
        assert!(eval(
            Filter::compare(
                Comparison::GreaterThan,
                "WHENMODIFIED",
                "12/31/2025 23:59:59"
            ),
            &r,
            false
        ));
        assert!(eval(
            Filter::compare(Comparison::EqualTo, "TOTALDUE", "100.5"),
            &r,
            false
        ));
        assert!(eval(
            Filter::Between {
                field: "WHENMODIFIED".into(),
                low: "01/02/2026".into(),
                high: "01/02/2026 09:00:00".into()
            },
            &r,
            false
        ));
    }

    #[test]
    fn empty_values_match_only_isnull() {
        let r = row("1", "", "", "");
        assert!(eval(
            Filter::IsNull {
                field: "NAME".into()
            },
            &r,
            false
        ));
        assert!(!eval(
            Filter::compare(Comparison::NotEqualTo, "NAME", "x"),
            &r,
            false
        ));
        assert!(!eval(
            Filter::NotIn {
                field: "NAME".into(),
                values: vec!["x".into()]
            },
            &r,
            false
        ));
    }

    #[test]
    fn like_and_case_insensitivity() {
        assert!(like("Acme Supply", "Ac%S_pply"));
        assert!(like("abc", "%"));
        assert!(!like("abc", "a_"));
        assert!(like("a%c", "a%c"));
        let r = row("1", "Acme", "", "");
        assert!(!eval(
            Filter::compare(Comparison::EqualTo, "NAME", "acme"),
            &r,
            false
        ));
        assert!(eval(
            Filter::compare(Comparison::EqualTo, "NAME", "acme"),
            &r,
            true
        ));
        assert!(eval(
            Filter::compare(Comparison::Like, "NAME", "AC%"),
            &r,
            true
        ));
        assert!(eval(
            Filter::compare(Comparison::NotLike, "NAME", "B%"),
            &r,
            false
        ));
    }

    #[test]
    fn unknown_fields_are_all_reported() {
        let m = meta();
        let columns = Columns::new(&m);
        let err = compile(
            &Filter::And(vec![
                Filter::IsNull {
                    field: "FOO".into(),
                },
                Filter::IsNull {
                    field: "BAR".into(),
                },
            ]),
            &columns,
            false,
        )
        .unwrap_err();
        assert_eq!(
            err,
            FilterError::UnknownFields(vec!["FOO".into(), "BAR".into()])
        );
    }
}
