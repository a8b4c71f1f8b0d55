//! Runs reads (`query`, `readByQuery`) against the dataset.
//!
//! Speed on the `large` preset comes from one analysis of the filter. Every record has an
//! *effective change instant*: its watermark field (WHENMODIFIED; ACCESSTIME for
//! AUDITHISTORY), or its stand-in (WHENCREATED) when the watermark is empty — the order of
//! [`Dataset::records_changed_since_with_instants`]. When the filter bounds that instant from
//! below (`WHENMODIFIED >`/`>=`/`=`/between/in, or `isnull(WHENMODIFIED) AND WHENCREATED > t`,
//! through `and`/`or`), only the index range from the bound is visited, and the visit stops
//! past an upper bound. Otherwise a lower bound on the key (`RECORDNO > r`) starts the
//! RECORDNO-ordered scan there ([`Dataset::records_from`]). When the requested order equals the
//! scan's order on the matching set (watermark then key with the watermark known non-empty,
//! stand-in then key with it known empty, key alone, or no order) only the requested page is
//! kept; otherwise every match is collected and sorted. `totalcount` is always an exact
//! count over the visited range. Offsets re-run the query, so changes between pages can
//! shift rows, as on the real gateway.
//!
//! Filters compare tenant wall-clock text, while the index is in UTC: in the repeated hour
//! of a DST change the two orders differ, so index scans pass through a small reorder buffer
//! that releases a record only when no later record can sort before it.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

use crate::intacct::request::{Comparison, Filter, OrderBy};
use crate::intacct::response::ObjectMeta;
use crate::sim::dataset::{Dataset, SimRecord};
use crate::sim::filter_eval::{
    Columns, Compiled, FilterError, RecordOrder, compile, compile_order, parse_wire_time,
};

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

/// The fields that drive the fast paths of one object.
#[derive(Clone, Copy, Debug)]
struct IndexFields {
    /// WHENMODIFIED (ACCESSTIME for AUDITHISTORY) and its column.
    watermark: Option<(&'static str, usize)>,
    /// WHENCREATED and its column, when the watermark may be empty.
    standin: Option<(&'static str, usize)>,
    /// RECORDNO (ID for AUDITHISTORY).
    key: Option<&'static str>,
}

impl IndexFields {
    fn of(dataset: &Dataset, columns: &Columns<'_>, object: &str) -> IndexFields {
        let (watermark, standin) = match dataset.watermark_fields(object) {
            Some((w, s)) => (
                columns.index(w).map(|i| (w, i)),
                s.and_then(|s| columns.index(s).map(|i| (s, i))),
            ),
            None => (None, None),
        };
        IndexFields {
            watermark,
            standin,
            key: dataset.key_field(object),
        }
    }

    /// The record's effective instant as tenant wall-clock time.
    fn effective(&self, record: &SimRecord) -> Option<NaiveDateTime> {
        let value = |i: usize| {
            record
                .values
                .get(i)
                .and_then(|v| v.as_deref())
                .filter(|v| !v.is_empty())
        };
        self.watermark
            .and_then(|(_, i)| value(i))
            .or_else(|| self.standin.and_then(|(_, i)| value(i)))
            .and_then(parse_wire_time)
    }
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

/// Inclusive bounds implied on some ordered quantity.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Bounds<T> {
    lower: Option<T>,
    upper: Option<T>,
}

impl<T> Default for Bounds<T> {
    fn default() -> Self {
        Bounds {
            lower: None,
            upper: None,
        }
    }
}

fn combine_and<T: Ord + Copy>(a: Bounds<T>, b: Bounds<T>) -> Bounds<T> {
    Bounds {
        lower: match (a.lower, b.lower) {
            (Some(x), Some(y)) => Some(x.max(y)),
            (x, y) => x.or(y),
        },
        upper: match (a.upper, b.upper) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        },
    }
}

fn combine_or<T: Ord + Copy>(all: &[Bounds<T>]) -> Bounds<T> {
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

/// Bounds a comparison leaf on `field` puts on its value, read with `parse`; strict bounds
/// are widened to inclusive ones (the full filter runs on every visited record anyway).
fn leaf_bounds<T: Ord + Copy>(
    filter: &Filter,
    field: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Bounds<T> {
    match filter {
        Filter::Compare {
            op,
            field: f,
            value,
        } if is(f, field) => match op {
            Comparison::GreaterThan | Comparison::GreaterThanOrEqualTo => Bounds {
                lower: parse(value),
                upper: None,
            },
            Comparison::LessThan | Comparison::LessThanOrEqualTo => Bounds {
                lower: None,
                upper: parse(value),
            },
            Comparison::EqualTo => Bounds {
                lower: parse(value),
                upper: parse(value),
            },
            _ => Bounds::default(),
        },
        Filter::Between {
            field: f,
            low,
            high,
        } if is(f, field) => Bounds {
            lower: parse(low),
            upper: parse(high),
        },
        Filter::In { field: f, values } if is(f, field) => {
            match values.iter().map(|v| parse(v)).collect::<Option<Vec<T>>>() {
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

/// Bounds on the effective instant; `watermark_absent` is true inside an `and` that also
/// requires the watermark to be empty (then the stand-in is the effective instant).
fn instant_bounds(
    filter: &Filter,
    fields: &IndexFields,
    watermark_absent: bool,
) -> Bounds<NaiveDateTime> {
    let Some((watermark, _)) = fields.watermark else {
        return Bounds::default();
    };
    match filter {
        Filter::And(children) => {
            let absent = watermark_absent || children.iter().any(|c| implies_absent(c, watermark));
            children
                .iter()
                .map(|c| instant_bounds(c, fields, absent))
                .fold(Bounds::default(), combine_and)
        }
        Filter::Or(children) => {
            let all: Vec<_> = children
                .iter()
                .map(|c| instant_bounds(c, fields, watermark_absent))
                .collect();
            combine_or(&all)
        }
        leaf => {
            let on_watermark = leaf_bounds(leaf, watermark, parse_wire_time);
            match (
                on_watermark == Bounds::default(),
                watermark_absent,
                fields.standin,
            ) {
                (false, _, _) => on_watermark,
                (true, true, Some((standin, _))) => leaf_bounds(leaf, standin, parse_wire_time),
                _ => Bounds::default(),
            }
        }
    }
}

/// Bounds on the key (RECORDNO) implied by a filter.
fn key_bounds(filter: &Filter, key: &str) -> Bounds<u64> {
    match filter {
        Filter::And(children) => children
            .iter()
            .map(|c| key_bounds(c, key))
            .fold(Bounds::default(), combine_and),
        Filter::Or(children) => {
            let all: Vec<_> = children.iter().map(|c| key_bounds(c, key)).collect();
            combine_or(&all)
        }
        leaf => {
            let parse = |v: &str| v.trim().parse::<f64>().ok().map(|f| f.max(0.0));
            let b = leaf_bounds(leaf, key, |v| parse(v).map(|f| f.floor() as u64));
            // Strict `>` on an integer key starts one above; the filter decides exactly.
            Bounds {
                lower: b.lower,
                upper: leaf_bounds(leaf, key, |v| parse(v).map(|f| f.ceil() as u64)).upper,
            }
        }
    }
}

/// Tenant wall-clock time to the earliest (or latest) UTC instant that reads as it, stepping
/// over a DST gap.
fn tenant_to_utc(tz: chrono_tz::Tz, local: NaiveDateTime, latest: bool) -> DateTime<Utc> {
    for hours in 0..3 {
        let shift = chrono::Duration::hours(if latest { hours } else { -hours });
        let mapped = tz.from_local_datetime(&(local + shift));
        let found = if latest {
            mapped.latest()
        } else {
            mapped.earliest()
        };
        if let Some(t) = found {
            return t.with_timezone(&Utc);
        }
    }
    Utc.from_utc_datetime(&local)
}

/// A record waiting in the reorder buffer, ordered by (wall-clock instant, key).
struct Pending {
    at: NaiveDateTime,
    record: SimRecord,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.record.record_no).cmp(&(other.at, other.record.record_no))
    }
}

/// Most any UTC offset changes in a year (DST is one hour; two covers every zone).
const MAX_OFFSET_SWING: chrono::Duration = chrono::Duration::hours(2);

/// How a scan walks the object.
enum Scan<'d> {
    /// The change index from a lower bound; stop past `upper` (UTC).
    Index {
        iter: Box<dyn Iterator<Item = (DateTime<Utc>, SimRecord)> + 'd>,
        upper: Option<DateTime<Utc>>,
    },
    /// RECORDNO order from a key; stop past `upper`.
    Key {
        iter: Box<dyn Iterator<Item = SimRecord> + 'd>,
        upper: Option<u64>,
    },
}

/// Plans the scan; `columns` limits the values rendered (`None`: every field).
fn plan_scan<'d>(
    dataset: &'d Dataset,
    fields: &IndexFields,
    object: &str,
    filter: Option<&Filter>,
    columns: Option<&'d [bool]>,
) -> Scan<'d> {
    if let Some(filter) = filter {
        let b = instant_bounds(filter, fields, false);
        if let Some(lower) = b.lower {
            let tz = dataset.config().time_zone;
            let since = tenant_to_utc(tz, lower, false);
            return Scan::Index {
                iter: match columns {
                    None => dataset.records_changed_since_with_instants(object, since),
                    Some(c) => dataset.records_changed_since_columns(object, since, c),
                },
                upper: b.upper.map(|u| tenant_to_utc(tz, u, true)),
            };
        }
        if let Some(key) = fields.key {
            let b = key_bounds(filter, key);
            if b.lower.is_some() || b.upper.is_some() {
                return Scan::Key {
                    iter: records_from(dataset, object, b.lower.unwrap_or(0), columns),
                    upper: b.upper,
                };
            }
        }
    }
    Scan::Key {
        iter: records_from(dataset, object, 0, columns),
        upper: None,
    }
}

fn records_from<'d>(
    dataset: &'d Dataset,
    object: &str,
    first: u64,
    columns: Option<&'d [bool]>,
) -> Box<dyn Iterator<Item = SimRecord> + 'd> {
    match columns {
        None => dataset.records_from(object, first),
        Some(c) => dataset.records_from_columns(object, first, c),
    }
}

/// The columns a scan must render to decide the filter and place records in index order.
fn deciding_columns(
    columns: &Columns<'_>,
    compiled: Option<&Compiled>,
    fields: &IndexFields,
) -> Vec<bool> {
    let mut wanted = vec![false; columns.meta().fields.len()];
    if let Some(c) = compiled {
        c.mark_columns(&mut wanted);
    }
    for (_, i) in fields.watermark.iter().chain(fields.standin.iter()) {
        if let Some(w) = wanted.get_mut(*i) {
            *w = true;
        }
    }
    wanted
}

/// Visits every matching record of a scan, index scans in (wall-clock instant, key) order,
/// until the visitor returns false.
fn for_each_match(
    scan: Scan<'_>,
    fields: &IndexFields,
    compiled: Option<&Compiled>,
    case_insensitive: bool,
    mut visit: impl FnMut(SimRecord) -> bool,
) {
    let matches = |r: &SimRecord| compiled.is_none_or(|c| c.matches(&r.values, case_insensitive));
    match scan {
        Scan::Key { iter, upper } => {
            for record in iter {
                if upper.is_some_and(|u| record.record_no > u) {
                    break;
                }
                if matches(&record) && !visit(record) {
                    return;
                }
            }
        }
        Scan::Index { iter, upper } => {
            let mut pending: BinaryHeap<Reverse<Pending>> = BinaryHeap::new();
            for (instant, record) in iter {
                if upper.is_some_and(|u| instant > u) {
                    break;
                }
                if !matches(&record) {
                    continue;
                }
                let Some(at) = fields.effective(&record) else {
                    if !visit(record) {
                        return;
                    }
                    continue;
                };
                while pending
                    .peek()
                    .is_some_and(|Reverse(p)| p.at < at - MAX_OFFSET_SWING)
                {
                    if let Some(Reverse(p)) = pending.pop()
                        && !visit(p.record)
                    {
                        return;
                    }
                }
                pending.push(Reverse(Pending { at, record }));
            }
            while let Some(Reverse(p)) = pending.pop() {
                if !visit(p.record) {
                    return;
                }
            }
        }
    }
}

/// One page of a `query`.
#[derive(Debug)]
pub struct QueryPage {
    /// The page's records.
    pub records: Vec<SimRecord>,
    /// All matches.
    pub total: u64,
}

/// Whether the requested order equals the scan order on the matching set.
fn order_matches_scan(
    order_by: &[OrderBy],
    filter: Option<&Filter>,
    fields: &IndexFields,
    index_scan: bool,
) -> bool {
    let Some(ascending): Option<Vec<&str>> = order_by
        .iter()
        .map(|o| o.ascending.then_some(o.field.as_str()))
        .collect()
    else {
        return false;
    };
    let key = fields.key.unwrap_or("RECORDNO");
    let (first, rest) = match ascending.split_first() {
        None => return true,
        Some((first, rest)) => (*first, rest),
    };
    if !index_scan {
        return rest.is_empty() && is(first, key);
    }
    if !(rest.is_empty() || (rest.len() == 1 && is(rest[0], key))) {
        return false;
    }
    let (Some(filter), Some((watermark, _))) = (filter, fields.watermark) else {
        return false;
    };
    (is(first, watermark) && implies_present(filter, watermark))
        || fields
            .standin
            .is_some_and(|(s, _)| is(first, s) && implies_absent(filter, watermark))
}

/// Runs a filter + order + window over an object.
///
/// `count_limit`: when the order streams, stop counting this many matches past the page, so
/// `total` is a lower bound (still larger than the page end while rows remain); `None`
/// counts everything.
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
    count_limit: Option<u64>,
) -> Result<QueryPage, Failure> {
    let compiled = filter
        .map(|f| compile(f, columns, case_insensitive))
        .transpose()
        .map_err(filter_failure)?;
    let order: RecordOrder = compile_order(order_by, columns).map_err(filter_failure)?;
    let fields = IndexFields::of(dataset, columns, object);
    let scan = plan_scan(dataset, &fields, object, filter, None);
    let streaming = order_matches_scan(
        order_by,
        filter,
        &fields,
        matches!(scan, Scan::Index { .. }),
    );
    let end = offset.saturating_add(limit);
    let mut total = 0u64;
    let mut kept = Vec::new();
    if streaming {
        // The page, rendered in full; then the count, which needs only the deciding columns
        // of each remaining match (rendering every field of every remaining match on each
        // page made a keyset read quadratic in its size).
        for_each_match(
            scan,
            &fields,
            compiled.as_ref(),
            case_insensitive,
            |record| {
                if total >= offset {
                    kept.push(record);
                }
                total += 1;
                total < end
            },
        );
        if total == end {
            // At least one past the page, so `numremaining` is non-zero while rows remain.
            let stop_at = count_limit.map_or(u64::MAX, |extra| end.saturating_add(extra.max(1)));
            let wanted = deciding_columns(columns, compiled.as_ref(), &fields);
            let count_scan = plan_scan(dataset, &fields, object, filter, Some(&wanted));
            total = 0;
            for_each_match(
                count_scan,
                &fields,
                compiled.as_ref(),
                case_insensitive,
                |_| {
                    total += 1;
                    total < stop_at
                },
            );
        }
    } else {
        for_each_match(
            scan,
            &fields,
            compiled.as_ref(),
            case_insensitive,
            |record| {
                kept.push(record);
                total += 1;
                true
            },
        );
    }
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

/// RECORDNOs of every match, ascending (the cursor of a `readByQuery`).
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
    let fields = IndexFields::of(dataset, columns, object);
    let wanted = deciding_columns(columns, compiled.as_ref(), &fields);
    let scan = plan_scan(dataset, &fields, object, filter, Some(&wanted));
    let mut keys = Vec::new();
    for_each_match(scan, &fields, compiled.as_ref(), false, |r| {
        keys.push(r.record_no);
        true
    });
    keys.sort_unstable();
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> NaiveDateTime {
        parse_wire_time(text).unwrap()
    }

    const FIELDS: IndexFields = IndexFields {
        watermark: Some(("WHENMODIFIED", 0)),
        standin: Some(("WHENCREATED", 1)),
        key: Some("RECORDNO"),
    };

    #[test]
    fn keyset_filter_bounds_the_change_instant() {
        // (WM > t OR (WM = t AND RECORDNO > r)) AND WM < u
        let filter = Filter::And(vec![
            Filter::Or(vec![
                Filter::compare(
                    Comparison::GreaterThan,
                    "WHENMODIFIED",
                    "01/02/2026 00:00:00",
                ),
                Filter::And(vec![
                    Filter::compare(Comparison::EqualTo, "WHENMODIFIED", "01/02/2026 00:00:00"),
                    Filter::compare(Comparison::GreaterThan, "RECORDNO", "5"),
                ]),
            ]),
            Filter::compare(Comparison::LessThan, "WHENMODIFIED", "01/05/2026 00:00:00"),
        ]);
        let b = instant_bounds(&filter, &FIELDS, false);
        assert_eq!(b.lower, Some(t("01/02/2026 00:00:00")));
        assert_eq!(b.upper, Some(t("01/05/2026 00:00:00")));
        assert!(implies_present(&filter, "WHENMODIFIED"));
    }

    #[test]
    fn creations_branch_bounds_through_the_stand_in_only_when_watermark_is_empty() {
        let creations = Filter::And(vec![
            Filter::IsNull {
                field: "WHENMODIFIED".into(),
            },
            Filter::compare(
                Comparison::GreaterThan,
                "WHENCREATED",
                "01/03/2026 00:00:00",
            ),
        ]);
        assert_eq!(
            instant_bounds(&creations, &FIELDS, false).lower,
            Some(t("01/03/2026 00:00:00"))
        );
        // WHENCREATED alone says nothing about WHENMODIFIED.
        let alone = Filter::compare(
            Comparison::GreaterThan,
            "WHENCREATED",
            "01/03/2026 00:00:00",
        );
        assert_eq!(instant_bounds(&alone, &FIELDS, false).lower, None);
        // An `or` is bounded only when every branch is.
        let either = Filter::Or(vec![
            Filter::compare(
                Comparison::GreaterThan,
                "WHENMODIFIED",
                "01/04/2026 00:00:00",
            ),
            creations,
        ]);
        assert_eq!(
            instant_bounds(&either, &FIELDS, false).lower,
            Some(t("01/03/2026 00:00:00"))
        );
        let unbounded = Filter::Or(vec![
            Filter::compare(
                Comparison::GreaterThan,
                "WHENMODIFIED",
                "01/04/2026 00:00:00",
            ),
            alone,
        ]);
        assert_eq!(instant_bounds(&unbounded, &FIELDS, false).lower, None);
    }

    #[test]
    fn key_bounds_follow_and_or() {
        let f = Filter::And(vec![
            Filter::compare(Comparison::GreaterThan, "RECORDNO", "10"),
            Filter::compare(Comparison::LessThanOrEqualTo, "RECORDNO", "20"),
        ]);
        assert_eq!(
            key_bounds(&f, "RECORDNO"),
            Bounds {
                lower: Some(10),
                upper: Some(20)
            }
        );
        let g = Filter::Or(vec![f, Filter::compare(Comparison::EqualTo, "NAME", "x")]);
        assert_eq!(key_bounds(&g, "RECORDNO"), Bounds::default());
    }
}
