//! Visiting the matches of a planned scan, rendering as little as possible.
//!
//! A scan renders only the columns that decide the filter and the orders; when the filter
//! and the order read nothing but the key and the instants, it walks [`RecordStamp`]s and
//! renders nothing at all (`StampColumns`), so the count and the rejected records cost a few
//! fields each rather than a whole record.
//!
//! Filters compare tenant wall-clock text, while the index is in UTC: in the repeated hour
//! of a DST change the two orders differ, so index scans pass through a small reorder buffer
//! that releases a record only when no later record can sort before it.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use chrono::{DateTime, NaiveDateTime, Utc};

use super::plan::{IndexFields, ScanPlan};
use crate::dataset::{Dataset, RecordStamp, SimRecord};
use crate::filter_eval::{Columns, Compiled, FilterRow, Typed, ValueKind};

/// A visited record: what a scan needs of it besides the filter.
pub(super) trait ScanRow: FilterRow {
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

/// A scan's records.
pub(super) enum Scan<'d, R> {
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

/// The plan's records, with the values of `columns` rendered.
pub(super) fn text_scan<'d>(
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
pub(super) fn deciding_columns(
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
pub(super) fn for_each_match<R: ScanRow>(
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
pub(super) struct KeyScan<'d, 'c> {
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
    pub(super) fn new(
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
    pub(super) fn for_each_key(&self, case_insensitive: bool, mut visit: impl FnMut(u64) -> bool) {
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

#[cfg(test)]
mod tests {
    use intacct_snowflake::intacct::{Comparison, Filter, ObjectMeta};

    use super::*;
    use crate::filter_eval::compile;
    use crate::query_exec::plan::plan_scan;

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
}
