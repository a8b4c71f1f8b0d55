//! Runs reads (`query`, `readByQuery`, `read`) against the dataset.
//!
//! Speed on the `large` preset comes from one analysis of the filter: every record's
//! *effective change instant* is its WHENMODIFIED, or its WHENCREATED when WHENMODIFIED is
//! empty — the order of [`Dataset::records_changed_since`]. When the filter bounds that
//! instant from below (`WHENMODIFIED >`/`>=`/`=`/between, or `isnull(WHENMODIFIED) AND
//! WHENCREATED > t`, through `and`/`or`), only the index range from the bound is visited;
//! when it also bounds it from above, the visit stops past the upper bound. When the requested
//! order equals the index order on the matching set (`WHENMODIFIED, RECORDNO` with
//! WHENMODIFIED known non-empty, `WHENCREATED, RECORDNO` with it known empty, or no order)
//! only the requested page is kept; `totalcount` is still a full count over the range.
//! Otherwise every match is collected and sorted. Offsets re-run the query, so changes
//! between pages can shift rows, as on the real gateway.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

use crate::intacct::request::{Comparison, Filter, OrderBy};
use crate::intacct::response::ObjectMeta;
use crate::sim::dataset::{Dataset, SimRecord};
use crate::sim::filter_eval::{
    Columns, Compiled, FilterError, RecordOrder, compile, compile_order, parse_wire_time,
};

const WHENMODIFIED: &str = "WHENMODIFIED";
const WHENCREATED: &str = "WHENCREATED";

/// A function-level failure: `(errorno, description2)`.
pub type Failure = (String, String);

fn query_failed(description: impl Into<String>) -> Failure {
    ("Query Failed".into(), description.into())
}

/// The object's metadata, or the gateway's "not found" failure.
pub fn object_meta<'d>(dataset: &'d Dataset, object: &str) -> Result<&'d ObjectMeta, Failure> {
    if dataset.object_names().contains(&object)
        && let Some(meta) = dataset.object_meta(object)
    {
        return Ok(meta);
    }
    Err(query_failed(format!(
        "Object definition {object} not found"
    )))
}

/// Resolves a field list (empty or `*` = every field) to column indexes.
pub fn select_columns(columns: &Columns<'_>, fields: &[String]) -> Result<Vec<usize>, Failure> {
    if fields.is_empty() || fields.iter().any(|f| f == "*") {
        return Ok((0..columns.meta().fields.len()).collect());
    }
    let mut indexes = Vec::new();
    let mut unknown = Vec::new();
    for field in fields {
        match columns.index(field) {
            Some(i) => indexes.push(i),
            None => unknown.push(field.clone()),
        }
    }
    if unknown.is_empty() {
        Ok(indexes)
    } else {
        Err(query_failed(format!(
            "Invalid field(s) in select: {}",
            unknown.join(", ")
        )))
    }
}

fn filter_failure(error: FilterError) -> Failure {
    query_failed(error.description())
}

/// Bounds on the effective change instant implied by a filter.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Bounds {
    lower: Option<NaiveDateTime>,
    upper: Option<NaiveDateTime>,
}

fn is(field: &str, name: &str) -> bool {
    field.eq_ignore_ascii_case(name)
}

/// True when every record matching `filter` has a non-empty `field`.
fn implies_present(filter: &Filter, field: &str) -> bool {
    match filter {
        Filter::And(children) => children.iter().any(|c| implies_present(c, field)),
        Filter::Or(children) => children.iter().all(|c| implies_present(c, field)),
        Filter::IsNull { .. } => false,
        Filter::IsNotNull { field: f }
        | Filter::Compare { field: f, .. }
        | Filter::Between { field: f, .. }
        | Filter::In { field: f, .. }
        | Filter::NotIn { field: f, .. } => is(f, field),
    }
}

/// True when every record matching `filter` has an empty `field`.
fn implies_absent(filter: &Filter, field: &str) -> bool {
    match filter {
        Filter::And(children) => children.iter().any(|c| implies_absent(c, field)),
        Filter::Or(children) => children.iter().all(|c| implies_absent(c, field)),
        Filter::IsNull { field: f } => is(f, field),
        _ => false,
    }
}

/// Bounds of a leaf on `field` (whose value is the effective instant in context).
fn leaf_bounds(filter: &Filter, field: &str) -> Bounds {
    let t = |v: &str| parse_wire_time(v);
    match filter {
        Filter::Compare {
            op,
            field: f,
            value,
        } if is(f, field) => match op {
            Comparison::GreaterThan | Comparison::GreaterThanOrEqualTo => Bounds {
                lower: t(value),
                upper: None,
            },
            Comparison::LessThan | Comparison::LessThanOrEqualTo => Bounds {
                lower: None,
                upper: t(value),
            },
            Comparison::EqualTo => Bounds {
                lower: t(value),
                upper: t(value),
            },
            _ => Bounds::default(),
        },
        Filter::Between {
            field: f,
            low,
            high,
        } if is(f, field) => Bounds {
            lower: t(low),
            upper: t(high),
        },
        Filter::In { field: f, values } if is(f, field) => {
            let parsed: Option<Vec<NaiveDateTime>> = values.iter().map(|v| t(v)).collect();
            match parsed {
                Some(p) => Bounds {
                    lower: p.iter().min().copied(),
                    upper: p.iter().max().copied(),
                },
                None => Bounds::default(),
            }
        }
        _ => Bounds::default(),
    }
}

/// Bounds on the effective instant; `modified_absent` is true inside an `and` that also
/// requires WHENMODIFIED to be empty (then WHENCREATED is the effective instant).
fn bounds(filter: &Filter, modified_absent: bool) -> Bounds {
    match filter {
        Filter::And(children) => {
            let absent =
                modified_absent || children.iter().any(|c| implies_absent(c, WHENMODIFIED));
            let mut out = Bounds::default();
            for child in children {
                let b = bounds(child, absent);
                out.lower = max_opt(out.lower, b.lower);
                out.upper = min_opt(out.upper, b.upper);
            }
            out
        }
        Filter::Or(children) => {
            let all: Vec<Bounds> = children
                .iter()
                .map(|c| bounds(c, modified_absent))
                .collect();
            Bounds {
                lower: all
                    .iter()
                    .map(|b| b.lower)
                    .collect::<Option<Vec<_>>>()
                    .and_then(|v| v.into_iter().min()),
                upper: all
                    .iter()
                    .map(|b| b.upper)
                    .collect::<Option<Vec<_>>>()
                    .and_then(|v| v.into_iter().max()),
            }
        }
        leaf => {
            let on_modified = leaf_bounds(leaf, WHENMODIFIED);
            if on_modified != Bounds::default() {
                on_modified
            } else if modified_absent {
                leaf_bounds(leaf, WHENCREATED)
            } else {
                Bounds::default()
            }
        }
    }
}

fn max_opt(a: Option<NaiveDateTime>, b: Option<NaiveDateTime>) -> Option<NaiveDateTime> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn min_opt(a: Option<NaiveDateTime>, b: Option<NaiveDateTime>) -> Option<NaiveDateTime> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// Tenant wall-clock time to a UTC instant, taking the earliest reading across a DST change
/// (so a lower bound never excludes a record).
fn tenant_to_utc(tz: chrono_tz::Tz, local: NaiveDateTime) -> DateTime<Utc> {
    for back_hours in 0..3 {
        let candidate = local - chrono::Duration::hours(back_hours);
        if let Some(t) = tz.from_local_datetime(&candidate).earliest() {
            return t.with_timezone(&Utc);
        }
    }
    Utc.from_utc_datetime(&local)
}

/// Where the scan's rows come from and in which order.
struct Scan<'d> {
    iter: Box<dyn Iterator<Item = SimRecord> + 'd>,
    /// Stop once the effective instant passes this (index order only).
    upper: Option<NaiveDateTime>,
    /// Index order (effective instant, RECORDNO) rather than RECORDNO order.
    index_order: bool,
}

fn plan_scan<'d>(
    dataset: &'d Dataset,
    columns: &Columns<'_>,
    object: &str,
    filter: Option<&Filter>,
) -> Scan<'d> {
    let has_modified =
        columns.index(WHENMODIFIED).is_some() && columns.index(WHENCREATED).is_some();
    if let (Some(filter), true) = (filter, has_modified) {
        let b = bounds(filter, false);
        if let Some(lower) = b.lower {
            let since = tenant_to_utc(dataset.config().time_zone, lower);
            return Scan {
                iter: dataset.records_changed_since(object, since),
                upper: b.upper,
                index_order: true,
            };
        }
    }
    Scan {
        iter: dataset.records(object),
        upper: None,
        index_order: false,
    }
}

fn effective_instant(record: &SimRecord, modified: usize, created: usize) -> Option<NaiveDateTime> {
    let value = |i: usize| {
        record
            .values
            .get(i)
            .and_then(|v| v.as_deref())
            .filter(|v| !v.is_empty())
    };
    value(modified)
        .or_else(|| value(created))
        .and_then(parse_wire_time)
}

/// Visits every record of a scan that matches the filter; the visitor returns false to stop.
fn for_each_match(
    scan: Scan<'_>,
    columns: &Columns<'_>,
    compiled: Option<&Compiled>,
    case_insensitive: bool,
    mut visit: impl FnMut(SimRecord) -> bool,
) {
    let modified = columns.index(WHENMODIFIED).unwrap_or(usize::MAX);
    let created = columns.index(WHENCREATED).unwrap_or(usize::MAX);
    for record in scan.iter {
        if let Some(upper) = scan.upper
            && effective_instant(&record, modified, created).is_some_and(|t| t > upper)
        {
            break;
        }
        if compiled.is_none_or(|c| c.matches(&record.values, case_insensitive)) && !visit(record) {
            return;
        }
    }
}

/// One page of a `query` (or the full match list of a `readByQuery`).
#[derive(Debug)]
pub struct QueryPage {
    /// The page's records.
    pub records: Vec<SimRecord>,
    /// All matches.
    pub total: u64,
}

/// Whether the requested order equals the index order on the matching set.
fn order_matches_index(order_by: &[OrderBy], filter: Option<&Filter>) -> bool {
    let asc_fields: Option<Vec<&str>> = order_by
        .iter()
        .map(|o| o.ascending.then_some(o.field.as_str()))
        .collect();
    let Some(fields) = asc_fields else {
        return false;
    };
    let (first, rest) = match fields.split_first() {
        None => return true,
        Some((first, rest)) => (*first, rest),
    };
    if !(rest.is_empty() || (rest.len() == 1 && is(rest[0], "RECORDNO"))) {
        return false;
    }
    let Some(filter) = filter else {
        return false;
    };
    (is(first, WHENMODIFIED) && implies_present(filter, WHENMODIFIED))
        || (is(first, WHENCREATED) && implies_absent(filter, WHENMODIFIED))
}

/// Whether the requested order equals RECORDNO order (the full-scan order).
fn order_is_record_no(order_by: &[OrderBy]) -> bool {
    order_by.is_empty()
        || (order_by.len() == 1 && order_by[0].ascending && is(&order_by[0].field, "RECORDNO"))
}

/// Runs a filter + order + window over an object.
#[allow(clippy::too_many_arguments)]
pub fn run(
    dataset: &Dataset,
    columns: &Columns<'_>,
    object: &str,
    filter: Option<&Filter>,
    order_by: &[OrderBy],
    case_insensitive: bool,
    offset: u64,
    limit: u64,
) -> Result<QueryPage, Failure> {
    let compiled = filter
        .map(|f| compile(f, columns, case_insensitive))
        .transpose()
        .map_err(filter_failure)?;
    let order: RecordOrder = compile_order(order_by, columns).map_err(filter_failure)?;
    let end = offset.saturating_add(limit);
    let scan = plan_scan(dataset, columns, object, filter);
    // Streaming keeps only the requested window; otherwise every match is sorted.
    let streaming = if scan.index_order {
        order_by.is_empty() || order_matches_index(order_by, filter)
    } else {
        order_is_record_no(order_by)
    };
    let mut total = 0u64;
    let mut kept = Vec::new();
    for_each_match(
        scan,
        columns,
        compiled.as_ref(),
        case_insensitive,
        |record| {
            if !streaming || (total >= offset && total < end) {
                kept.push(record);
            }
            total += 1;
            true
        },
    );
    if !streaming {
        kept.sort_by(|a, b| {
            order
                .compare(&a.values, &b.values)
                .then(a.record_no.cmp(&b.record_no))
        });
        kept = kept
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .collect();
    }
    Ok(QueryPage {
        records: kept,
        total,
    })
}

/// RECORDNOs of every match, in RECORDNO order (the cursor of a `readByQuery`).
pub fn matching_keys(
    dataset: &Dataset,
    columns: &Columns<'_>,
    object: &str,
    filter: Option<&Filter>,
) -> Result<Vec<u64>, Failure> {
    let compiled = filter
        .map(|f| compile(f, columns, false))
        .transpose()
        .map_err(filter_failure)?;
    let scan = plan_scan(dataset, columns, object, filter);
    let index_order = scan.index_order;
    let mut keys = Vec::new();
    for_each_match(scan, columns, compiled.as_ref(), false, |r| {
        keys.push(r.record_no);
        true
    });
    if index_order {
        keys.sort_unstable();
    }
    Ok(keys)
}
