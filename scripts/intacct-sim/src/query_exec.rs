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
//! A scan renders only the columns that decide the filter and the orders; the records of
//! the page alone are then rendered in full, so the count and the rejected records cost a
//! few fields each rather than a whole record.
//!
//! Filters compare tenant wall-clock text, while the index is in UTC: in the repeated hour
//! of a DST change the two orders differ, so index scans pass through a small reorder buffer
//! that releases a record only when no later record can sort before it.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

use intacct_snowflake::intacct::ObjectMeta;
use intacct_snowflake::intacct::{Comparison, Filter, OrderBy};

use crate::dataset::{Dataset, RecordStamp, SimRecord};
use crate::filter_eval::{
    Columns, Compiled, FilterError, FilterRow, RecordOrder, Typed, ValueKind, compile,
    compile_order, parse_wire_time,
};

/// A function-level failure: `(errorno, description2)`.
pub(super) type Failure = (String, String);

fn query_failed(description: impl Into<String>) -> Failure {
    ("Query Failed".into(), description.into())
}

/// The object's metadata, or the gateway's "not found" failure.
pub(super) fn object_meta<'d>(
    dataset: &'d Dataset,
    object: &str,
) -> Result<&'d ObjectMeta, Failure> {
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
pub(super) fn select_columns(
    columns: &Columns<'_>,
    fields: &[String],
) -> Result<Vec<usize>, Failure> {
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
    /// The width of a key written as zero-padded text (AUDITHISTORY's ID, typed TEXT): its
    /// text order is its numeric order, so stamps and key ranges still decide it.
    key_width: Option<usize>,
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
            key_width: dataset.key_text_width(object),
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

/// Bounds on the key (RECORDNO) implied by a filter. A text key (`width`) bounds only by
/// values of its own padded form, whose text order is numeric order; any other value
/// compares as text in an order the key's numbers do not follow, so it bounds nothing.
fn key_bounds(filter: &Filter, key: &str, width: Option<usize>) -> Bounds<u64> {
    match filter {
        Filter::And(children) => children
            .iter()
            .map(|c| key_bounds(c, key, width))
            .fold(Bounds::default(), combine_and),
        Filter::Or(children) => {
            let all: Vec<_> = children.iter().map(|c| key_bounds(c, key, width)).collect();
            combine_or(&all)
        }
        leaf => {
            let padded = |v: &str| {
                width.is_none_or(|w| v.len() == w && v.bytes().all(|b| b.is_ascii_digit()))
            };
            let parse = |v: &str| {
                padded(v)
                    .then(|| v.trim().parse::<f64>().ok().map(|f| f.max(0.0)))
                    .flatten()
            };
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

/// A visited record: what a scan needs of it besides the filter.
trait ScanRow: FilterRow {
    /// RECORDNO (ID for AUDITHISTORY).
    fn record_no(&self) -> u64;
    /// The effective instant as tenant wall-clock time.
    fn effective_local(&self, fields: &IndexFields) -> Option<NaiveDateTime>;
}

impl FilterRow for SimRecord {
    fn is_present(&self, column: usize) -> bool {
        self.values[..].is_present(column)
    }

    fn text(&self, column: usize) -> Option<&str> {
        self.values[..].text(column)
    }

    fn typed(&self, column: usize, kind: ValueKind, case_insensitive: bool) -> Option<Typed> {
        self.values[..].typed(column, kind, case_insensitive)
    }
}

impl ScanRow for SimRecord {
    fn record_no(&self) -> u64 {
        self.record_no
    }

    fn effective_local(&self, fields: &IndexFields) -> Option<NaiveDateTime> {
        fields.effective(self)
    }
}

/// Where a [`RecordStamp`]'s values sit among the query's columns.
#[derive(Clone, Copy, Debug)]
struct StampColumns {
    watermark: Option<usize>,
    standin: Option<usize>,
    key: usize,
    /// The key is zero-padded text of this width.
    key_width: Option<usize>,
}

impl StampColumns {
    /// The stamp columns, when every column `compiled` and `order` read is one of them with
    /// the kind a stamp carries (instants for the timestamps, a number for the key) and no
    /// `like` reads text: then a stamp decides the filter exactly as the rendered text would.
    fn for_query(
        columns: &Columns<'_>,
        fields: &IndexFields,
        compiled: Option<&Compiled>,
        order_columns: &[bool],
    ) -> Option<StampColumns> {
        let key = columns.index(fields.key?)?;
        let watermark = fields.watermark.map(|(_, i)| i);
        let standin = fields.standin.map(|(_, i)| i);
        let times = watermark.iter().chain(standin.iter());
        let key_kind_ok = match fields.key_width {
            Some(_) => columns.kind(key) == ValueKind::Text,
            None => columns.kind(key) == ValueKind::Number,
        };
        if !key_kind_ok || times.clone().any(|i| columns.kind(*i) != ValueKind::Time) {
            return None;
        }
        let allowed: Vec<usize> = times.copied().chain([key]).collect();
        let ordered_elsewhere = order_columns
            .iter()
            .enumerate()
            .any(|(i, o)| *o && !allowed.contains(&i));
        let decidable = compiled.is_none_or(|c| c.reads_only(&allowed));
        (decidable && !ordered_elsewhere).then_some(StampColumns {
            watermark,
            standin,
            key,
            key_width: fields.key_width,
        })
    }
}

/// A stamp read through the query's columns.
struct StampRow {
    stamp: RecordStamp,
    columns: StampColumns,
}

impl StampRow {
    fn time(&self, column: usize) -> Option<NaiveDateTime> {
        if Some(column) == self.columns.watermark {
            self.stamp.watermark
        } else if Some(column) == self.columns.standin {
            self.stamp.standin
        } else {
            None
        }
    }
}

impl FilterRow for StampRow {
    fn is_present(&self, column: usize) -> bool {
        column == self.columns.key || self.time(column).is_some()
    }

    fn text(&self, _column: usize) -> Option<&str> {
        None
    }

    fn typed(&self, column: usize, kind: ValueKind, _case_insensitive: bool) -> Option<Typed> {
        match kind {
            ValueKind::Number if column == self.columns.key => {
                Some(Typed::Number(self.stamp.record_no as f64))
            }
            ValueKind::Text if column == self.columns.key => {
                let width = self.columns.key_width?;
                Some(Typed::Text(format!("{:0width$}", self.stamp.record_no)))
            }
            ValueKind::Time => self.time(column).map(Typed::Time),
            _ => None,
        }
    }
}

impl ScanRow for StampRow {
    fn record_no(&self) -> u64 {
        self.stamp.record_no
    }

    fn effective_local(&self, _fields: &IndexFields) -> Option<NaiveDateTime> {
        self.stamp.watermark.or(self.stamp.standin)
    }
}

/// A record waiting in the reorder buffer, ordered by (wall-clock instant, key).
struct Pending<R> {
    at: NaiveDateTime,
    record: R,
}

impl<R: ScanRow> PartialEq for Pending<R> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<R: ScanRow> Eq for Pending<R> {}
impl<R: ScanRow> PartialOrd for Pending<R> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<R: ScanRow> Ord for Pending<R> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.record.record_no()).cmp(&(other.at, other.record.record_no()))
    }
}

/// Most any UTC offset changes in a year (DST is one hour; two covers every zone).
const MAX_OFFSET_SWING: chrono::Duration = chrono::Duration::hours(2);

/// Which range of which order a scan walks.
#[derive(Clone, Copy, Debug)]
enum ScanPlan {
    /// The change index from `since`; stop past `upper` (UTC).
    Index {
        since: DateTime<Utc>,
        upper: Option<DateTime<Utc>>,
    },
    /// RECORDNO order from `first`; stop past `upper`.
    Key { first: u64, upper: Option<u64> },
}

/// A scan's records.
enum Scan<'d, R> {
    /// The change index, with each record's effective instant (UTC).
    Index {
        iter: Box<dyn Iterator<Item = (DateTime<Utc>, R)> + 'd>,
        upper: Option<DateTime<Utc>>,
    },
    /// RECORDNO order.
    Key {
        iter: Box<dyn Iterator<Item = R> + 'd>,
        upper: Option<u64>,
    },
}

/// `key_order`: the query asks for RECORDNO order, which a key scan streams (the change index
/// would have to collect and sort the whole window for every page).
fn plan_scan(
    dataset: &Dataset,
    fields: &IndexFields,
    filter: Option<&Filter>,
    key_order: bool,
) -> ScanPlan {
    if let Some(filter) = filter {
        let b = instant_bounds(filter, fields, false);
        if let Some(lower) = b.lower
            && !key_order
        {
            let tz = dataset.config().time_zone;
            return ScanPlan::Index {
                since: tenant_to_utc(tz, lower, false),
                upper: b.upper.map(|u| tenant_to_utc(tz, u, true)),
            };
        }
        if let Some(key) = fields.key {
            let b = key_bounds(filter, key, fields.key_width);
            if b.lower.is_some() || b.upper.is_some() {
                return ScanPlan::Key {
                    first: b.lower.unwrap_or(0),
                    upper: b.upper,
                };
            }
        }
    }
    ScanPlan::Key {
        first: 0,
        upper: None,
    }
}

/// The plan's records, with the values of `columns` rendered.
fn text_scan<'d>(
    dataset: &'d Dataset,
    object: &str,
    plan: ScanPlan,
    columns: &'d [bool],
) -> Scan<'d, SimRecord> {
    match plan {
        ScanPlan::Index { since, upper } => Scan::Index {
            iter: dataset.records_changed_since_columns(object, since, columns),
            upper,
        },
        ScanPlan::Key { first, upper } => Scan::Key {
            iter: dataset.records_from_columns(object, first, columns),
            upper,
        },
    }
}

/// The plan's records as stamps: nothing rendered.
fn stamp_scan<'d>(
    dataset: &'d Dataset,
    object: &str,
    plan: ScanPlan,
    columns: StampColumns,
) -> Scan<'d, StampRow> {
    let row = move |stamp| StampRow { stamp, columns };
    match plan {
        ScanPlan::Index { since, upper } => Scan::Index {
            iter: Box::new(
                dataset
                    .stamps_changed_since(object, since)
                    .map(move |(t, s)| (t, row(s))),
            ),
            upper,
        },
        ScanPlan::Key { first, upper } => Scan::Key {
            iter: Box::new(dataset.stamps_from(object, first).map(row)),
            upper,
        },
    }
}

/// The columns a text scan must render to decide the filter and place records in index
/// order.
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
fn for_each_match<R: ScanRow>(
    scan: Scan<'_, R>,
    fields: &IndexFields,
    compiled: Option<&Compiled>,
    case_insensitive: bool,
    mut visit: impl FnMut(R) -> bool,
) {
    let matches = |r: &R| compiled.is_none_or(|c| c.matches(r, case_insensitive));
    match scan {
        Scan::Key { iter, upper } => {
            for record in iter {
                if upper.is_some_and(|u| record.record_no() > u) {
                    break;
                }
                if matches(&record) && !visit(record) {
                    return;
                }
            }
        }
        Scan::Index { iter, upper } => {
            let mut pending: BinaryHeap<Reverse<Pending<R>>> = BinaryHeap::new();
            for (instant, record) in iter {
                if upper.is_some_and(|u| instant > u) {
                    break;
                }
                if !matches(&record) {
                    continue;
                }
                let Some(at) = record.effective_local(fields) else {
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

/// A scan that only needs the keys of its matches: it walks stamps when they decide the
/// filter, and otherwise renders only the deciding columns.
struct KeyScan<'d, 'c> {
    dataset: &'d Dataset,
    columns: &'c Columns<'c>,
    object: &'c str,
    plan: ScanPlan,
    fields: &'c IndexFields,
    compiled: Option<&'c Compiled>,
    stamps: Option<StampColumns>,
}

impl<'d, 'c> KeyScan<'d, 'c> {
    /// A key scan over `plan`, on stamps when they decide `compiled` and `order_columns`.
    fn new(
        dataset: &'d Dataset,
        columns: &'c Columns<'c>,
        object: &'c str,
        plan: ScanPlan,
        fields: &'c IndexFields,
        compiled: Option<&'c Compiled>,
        order_columns: &[bool],
    ) -> Self {
        KeyScan {
            dataset,
            columns,
            object,
            plan,
            fields,
            compiled,
            stamps: StampColumns::for_query(columns, fields, compiled, order_columns),
        }
    }

    /// Visits the key of every match, in scan order, until `visit` returns false.
    fn for_each_key(&self, case_insensitive: bool, mut visit: impl FnMut(u64) -> bool) {
        match self.stamps {
            Some(stamp_columns) => for_each_match(
                stamp_scan(self.dataset, self.object, self.plan, stamp_columns),
                self.fields,
                self.compiled,
                case_insensitive,
                |row| visit(row.record_no()),
            ),
            None => {
                let wanted = deciding_columns(self.columns, self.compiled, self.fields);
                for_each_match(
                    text_scan(self.dataset, self.object, self.plan, &wanted),
                    self.fields,
                    self.compiled,
                    case_insensitive,
                    |record| visit(record.record_no),
                );
            }
        }
    }
}

/// One page of a `query`.
#[derive(Debug)]
pub(super) struct QueryPage {
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

/// A sort the real gateway cannot finish: a line object (APBILLITEM, APPYMTDETAIL)
/// with more than `limit` records, ordered by anything but its RECORDNO, times out with
/// `DL02000001`, as large line objects do on real tenants when sorted by WHENMODIFIED.
pub(super) fn check_sort_cost(
    dataset: &Dataset,
    object: &str,
    order_by: &[OrderBy],
    limit: u64,
) -> Result<(), Failure> {
    let line_object = dataset.line_header(object).is_some();
    let by_key = order_by
        .first()
        .is_none_or(|o| o.field.eq_ignore_ascii_case("RECORDNO"));
    if !line_object || by_key || dataset.len(object) <= limit {
        return Ok(());
    }
    Err((
        "DL02000001".into(),
        "There was an error processing the request.".into(),
    ))
}

/// Runs a filter + order + window over an object.
///
/// `count_limit`: when the order streams, stop counting this many matches past the page, so
/// `total` is a lower bound (still larger than the page end while rows remain); `None`
/// counts everything. `visible` says whether the session sees a record (by key): a record it
/// does not see is neither counted nor returned.
#[allow(clippy::too_many_arguments)]
pub(super) fn run(
    dataset: &Dataset,
    columns: &Columns<'_>,
    object: &str,
    filter: Option<&Filter>,
    order_by: &[OrderBy],
    case_insensitive: bool,
    offset: u64,
    limit: u64,
    count_limit: Option<u64>,
    visible: &dyn Fn(u64) -> bool,
) -> Result<QueryPage, Failure> {
    let compiled = filter
        .map(|f| compile(f, columns, case_insensitive))
        .transpose()
        .map_err(filter_failure)?;
    let order: RecordOrder = compile_order(order_by, columns).map_err(filter_failure)?;
    let fields = IndexFields::of(dataset, columns, object);
    let key_order = order_by.len() == 1
        && order_by[0].ascending
        && is(&order_by[0].field, fields.key.unwrap_or("RECORDNO"));
    let plan = plan_scan(dataset, &fields, filter, key_order);
    let streaming = order_matches_scan(
        order_by,
        filter,
        &fields,
        matches!(plan, ScanPlan::Index { .. }),
    );
    let end = offset.saturating_add(limit);
    let stop_at = match count_limit {
        // At least one past the page, so `numremaining` is non-zero while rows remain.
        Some(extra) if streaming => end.saturating_add(extra.max(1)),
        _ => u64::MAX,
    };
    // Only the page's records are rendered in full. The scan before them renders nothing
    // when stamps (key and instants) decide the filter, and otherwise only the columns that
    // decide it: every page counts the rest of its window, and a pass whose filter rejects
    // most visited records (the WHENCREATED pass) visits far more records than it keeps.
    let mut total = 0u64;
    let mut page_keys: Vec<u64> = Vec::new();
    if streaming {
        let visit = |record_no: u64| {
            if !visible(record_no) {
                return true;
            }
            if total >= offset && total < end {
                page_keys.push(record_no);
            }
            total += 1;
            total < stop_at
        };
        let mut order_columns = vec![false; columns.meta().fields.len()];
        order.mark_columns(&mut order_columns);
        let scan = KeyScan::new(
            dataset,
            columns,
            object,
            plan,
            &fields,
            compiled.as_ref(),
            &order_columns,
        );
        scan.for_each_key(case_insensitive, visit);
    } else {
        let mut wanted = deciding_columns(columns, compiled.as_ref(), &fields);
        order.mark_columns(&mut wanted);
        let mut matched = Vec::new();
        for_each_match(
            text_scan(dataset, object, plan, &wanted),
            &fields,
            compiled.as_ref(),
            case_insensitive,
            |record| {
                if visible(record.record_no) {
                    matched.push(record);
                }
                true
            },
        );
        total = matched.len() as u64;
        matched.sort_by(|a, b| {
            order
                .compare(&a.values, &b.values)
                .then(a.record_no.cmp(&b.record_no))
        });
        page_keys = matched
            .iter()
            .skip(offset as usize)
            .take(limit as usize)
            .map(|r| r.record_no)
            .collect();
    }
    let records = page_keys
        .iter()
        .filter_map(|no| dataset.get(object, *no))
        .collect();
    Ok(QueryPage { records, total })
}

/// RECORDNOs of every match, ascending (the cursor of a `readByQuery`).
pub(super) fn matching_keys(
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
    let plan = plan_scan(dataset, &fields, filter, false);
    let mut keys = Vec::new();
    let scan = KeyScan::new(
        dataset,
        columns,
        object,
        plan,
        &fields,
        compiled.as_ref(),
        &[],
    );
    scan.for_each_key(false, |key| {
        keys.push(key);
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
        key_width: None,
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

    /// Stamps decide a filter on the key and the instants exactly as the rendered text does:
    /// same matches, same order, over base records, changed, created and deleted ones, for
    /// AUDITHISTORY too, and across a DST change (Los Angeles, with records in March and
    /// November of several years).
    #[test]
    fn stamps_decide_filters_exactly_like_rendered_text() {
        use crate::dataset::{DatasetConfig, Scale};
        let mut dataset = Dataset::new(DatasetConfig {
            seed: 7,
            scale: Scale::Demo,
            start: DateTime::parse_from_rfc3339("2026-01-15T00:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            time_zone: chrono_tz::America::Los_Angeles,
        });
        dataset.advance_days(3);
        let cmp = |op, field: &str, value: &str| Filter::compare(op, field, value);
        let cases: Vec<(&str, Filter)> = vec![
            (
                "APBILLITEM",
                Filter::And(vec![
                    Filter::Or(vec![
                        cmp(
                            Comparison::GreaterThan,
                            "WHENMODIFIED",
                            "11/01/2025 01:30:00",
                        ),
                        Filter::And(vec![
                            cmp(Comparison::EqualTo, "WHENMODIFIED", "11/01/2025 01:30:00"),
                            cmp(Comparison::GreaterThan, "RECORDNO", "40"),
                        ]),
                    ]),
                    cmp(Comparison::LessThan, "WHENMODIFIED", "01/17/2026 00:00:00"),
                ]),
            ),
            (
                "APBILL",
                Filter::And(vec![
                    Filter::IsNull {
                        field: "WHENMODIFIED".into(),
                    },
                    // APBILL's creation timestamp (WHENCREATED is the bill date).
                    Filter::Between {
                        field: "AUWHENCREATED".into(),
                        low: "03/01/2024 00:00:00".into(),
                        high: "01/20/2026 00:00:00".into(),
                    },
                ]),
            ),
            (
                "VENDOR",
                Filter::In {
                    field: "RECORDNO".into(),
                    values: vec!["1".into(), "7".into(), "99".into(), "100000".into()],
                },
            ),
            (
                "APBILL",
                Filter::Or(vec![
                    cmp(
                        Comparison::GreaterThanOrEqualTo,
                        "WHENMODIFIED",
                        "01/15/2026",
                    ),
                    cmp(Comparison::LessThanOrEqualTo, "RECORDNO", "25"),
                ]),
            ),
            (
                "AUDITHISTORY",
                cmp(Comparison::GreaterThan, "ACCESSTIME", "01/14/2026 12:00:00"),
            ),
        ];
        for (object, filter) in cases {
            let meta = dataset.object_meta(object).unwrap();
            let columns = Columns::new(meta);
            let compiled = compile(&filter, &columns, false).unwrap();
            let fields = IndexFields::of(&dataset, &columns, object);
            let plan = plan_scan(&dataset, &fields, Some(&filter), false);
            let Some(stamp_columns) =
                StampColumns::for_query(&columns, &fields, Some(&compiled), &[])
            else {
                panic!("{object}: {filter:?} reads only stamp columns");
            };
            let mut by_stamp = Vec::new();
            for_each_match(
                stamp_scan(&dataset, object, plan, stamp_columns),
                &fields,
                Some(&compiled),
                false,
                |r| {
                    by_stamp.push(r.record_no());
                    true
                },
            );
            let all = vec![true; meta.fields.len()];
            let mut by_text = Vec::new();
            for_each_match(
                text_scan(&dataset, object, plan, &all),
                &fields,
                Some(&compiled),
                false,
                |r| {
                    by_text.push(r.record_no);
                    true
                },
            );
            assert!(
                !by_text.is_empty(),
                "{object}: {filter:?} matches something"
            );
            assert_eq!(by_stamp, by_text, "{object}: {filter:?}");
        }
    }

    #[test]
    fn a_filter_on_another_column_is_not_decided_by_stamps() {
        let meta = ObjectMeta {
            name: "X".into(),
            fields: ["RECORDNO", "WHENMODIFIED", "WHENCREATED", "NAME"]
                .iter()
                .zip([
                    intacct_snowflake::intacct::IntacctType::Integer,
                    intacct_snowflake::intacct::IntacctType::Timestamp,
                    intacct_snowflake::intacct::IntacctType::Timestamp,
                    intacct_snowflake::intacct::IntacctType::Text,
                ])
                .map(|(n, t)| intacct_snowflake::intacct::FieldMeta::new(*n, t))
                .collect(),
        };
        let columns = Columns::new(&meta);
        let fields = IndexFields {
            watermark: Some(("WHENMODIFIED", 1)),
            standin: Some(("WHENCREATED", 2)),
            key: Some("RECORDNO"),
            key_width: None,
        };
        let on_index = compile(
            &Filter::compare(Comparison::GreaterThan, "RECORDNO", "3"),
            &columns,
            false,
        )
        .unwrap();
        let on_name = compile(
            &Filter::compare(Comparison::EqualTo, "NAME", "x"),
            &columns,
            false,
        )
        .unwrap();
        let like = compile(
            &Filter::compare(Comparison::Like, "WHENMODIFIED", "01/%"),
            &columns,
            false,
        )
        .unwrap();
        assert!(StampColumns::for_query(&columns, &fields, Some(&on_index), &[]).is_some());
        assert!(StampColumns::for_query(&columns, &fields, Some(&on_name), &[]).is_none());
        assert!(StampColumns::for_query(&columns, &fields, Some(&like), &[]).is_none());
        let ordered_by_name = [false, false, false, true];
        assert!(
            StampColumns::for_query(&columns, &fields, Some(&on_index), &ordered_by_name).is_none()
        );
    }

    #[test]
    fn key_bounds_follow_and_or() {
        let f = Filter::And(vec![
            Filter::compare(Comparison::GreaterThan, "RECORDNO", "10"),
            Filter::compare(Comparison::LessThanOrEqualTo, "RECORDNO", "20"),
        ]);
        assert_eq!(
            key_bounds(&f, "RECORDNO", None),
            Bounds {
                lower: Some(10),
                upper: Some(20)
            }
        );
        let g = Filter::Or(vec![f, Filter::compare(Comparison::EqualTo, "NAME", "x")]);
        assert_eq!(key_bounds(&g, "RECORDNO", None), Bounds::default());
    }
}
