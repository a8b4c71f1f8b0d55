//! Runs reads (`query`, `readByQuery`) against the dataset: checks the object, the selected
//! fields and the sort's cost, then pages through the matches of a filter in the requested
//! order (`run`) or lists every matching key (`matching_keys`, a readByQuery cursor).
//! `totalcount` is always an exact count over the visited range, unless a count limit is set.
//! Offsets re-run the query, so changes between pages can shift rows, as on the real gateway.
//!
//! Speed on the `large` preset comes from one analysis of the filter (`plan`: which index
//! range to visit, and whether the requested order is the scan's own) and a scan that renders
//! as little as it can (`scan`). When the requested order equals the scan's order on the
//! matching set only the requested page is kept; otherwise every match is collected (with the
//! columns that decide the filter and the order) and sorted. Only the page's records are
//! rendered in full.

mod plan;
mod scan;

use intacct_snowflake::intacct::{Filter, ObjectMeta, OrderBy};

use crate::dataset::{Dataset, SimRecord};
use crate::filter_eval::{Columns, FilterError, RecordOrder, compile, compile_order};
use plan::{IndexFields, ScanPlan, is, order_matches_scan, plan_scan};
use scan::{KeyScan, deciding_columns, for_each_match, text_scan};

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

/// One page of a `query`.
#[derive(Debug)]
pub(super) struct QueryPage {
    /// The page's records.
    pub records: Vec<SimRecord>,
    /// All matches.
    pub total: u64,
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
