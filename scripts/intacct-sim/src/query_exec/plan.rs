//! What a read's filter says about where its matches are: the plan of a scan.
//!
//! Every record has an *effective change instant*: its watermark field (WHENMODIFIED;
//! ACCESSTIME for AUDITHISTORY), or its stand-in (WHENCREATED) when the watermark is empty —
//! the order of [`Dataset::records_changed_since_with_instants`]. When the filter bounds that
//! instant from below (`WHENMODIFIED >`/`>=`/`=`/between/in, or
//! `isnull(WHENMODIFIED) AND WHENCREATED > t`, through `and`/`or`), only the index range from
//! the bound is visited, and the visit stops past an upper bound. Otherwise a lower bound on
//! the key (`RECORDNO > r`) starts the RECORDNO-ordered scan there
//! ([`Dataset::records_from`]). The requested order streams when it equals the scan's order on
//! the matching set (watermark then key with the watermark known non-empty, stand-in then key
//! with it known empty, key alone, or no order).
//!
//! Invariant: bounds only ever widen what the filter admits (strict bounds become inclusive);
//! the full filter still runs on every visited record.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

use intacct_snowflake::intacct::{Comparison, Filter, OrderBy};

use crate::dataset::{Dataset, SimRecord};
use crate::filter_eval::{Columns, parse_wire_time};

/// The fields that drive the fast paths of one object.
#[derive(Clone, Copy, Debug)]
pub(super) struct IndexFields {
    /// WHENMODIFIED (ACCESSTIME for AUDITHISTORY) and its column.
    pub(super) watermark: Option<(&'static str, usize)>,
    /// WHENCREATED and its column, when the watermark may be empty.
    pub(super) standin: Option<(&'static str, usize)>,
    /// RECORDNO (ID for AUDITHISTORY).
    pub(super) key: Option<&'static str>,
    /// The width of a key written as zero-padded text (AUDITHISTORY's ID, typed TEXT): its
    /// text order is its numeric order, so stamps and key ranges still decide it.
    pub(super) key_width: Option<usize>,
}

impl IndexFields {
    pub(super) fn of(dataset: &Dataset, columns: &Columns<'_>, object: &str) -> IndexFields {
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
    pub(super) fn effective(&self, record: &SimRecord) -> Option<NaiveDateTime> {
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

pub(super) fn is(field: &str, name: &str) -> bool {
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

/// Which range of which order a scan walks.
#[derive(Clone, Copy, Debug)]
pub(super) enum ScanPlan {
    /// The change index from `since`; stop past `upper` (UTC).
    Index {
        since: DateTime<Utc>,
        upper: Option<DateTime<Utc>>,
    },
    /// RECORDNO order from `first`; stop past `upper`.
    Key { first: u64, upper: Option<u64> },
}

/// `key_order`: the query asks for RECORDNO order, which a key scan streams (the change index
/// would have to collect and sort the whole window for every page).
pub(super) fn plan_scan(
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

/// Whether the requested order equals the scan order on the matching set.
pub(super) fn order_matches_scan(
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
