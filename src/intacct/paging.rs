//! The keyset cursor: which filter asks for the next page of a time window, and where a page
//! leaves the cursor. Pure; the client does the IO.
//!
//! A window `[from, to)` is read in two passes, each ordered by a stable key:
//! 1. **modified** — `WHENMODIFIED` in the window, ordered by (`WHENMODIFIED`, `RECORDNO`);
//! 2. **created** — `WHENMODIFIED` empty and `WHENCREATED` in the window, ordered by
//!    (`WHENCREATED`, `RECORDNO`).
//!
//! The first page of a pass filters on the window; every next page filters on
//! `key > t OR (key = t AND RECORDNO > r)` where `(t, r)` is the last row delivered. Unlike
//! offsets, this neither skips nor repeats rows when records change between pages: a record
//! updated mid-read moves *behind* the cursor's upper bound or past `to`, and the rows not yet
//! read keep their positions relative to the cursor. `t` is the row's own text parsed in the
//! tenant zone and re-rendered (see [`crate::intacct::tenant_time`]), which is the same text
//! for every valid local time, so equality at the gateway is exact; a date-only value becomes
//! its midnight.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::error::{Error, MalformedKind, Result};
use crate::intacct::request::{Comparison, Filter, OrderBy, Query, ReadByQuery};
use crate::intacct::response::RecordPage;
use crate::intacct::tenant_time::{parse, render};

/// `RECORDNO`.
pub const RECORDNO: &str = "RECORDNO";
/// `WHENMODIFIED`.
pub const WHENMODIFIED: &str = "WHENMODIFIED";
/// `WHENCREATED`.
pub const WHENCREATED: &str = "WHENCREATED";

/// A half-open window of modification instants, `[from, to)`; no `from` means from the
/// beginning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeWindow {
    /// Inclusive lower bound.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive upper bound.
    pub to: DateTime<Utc>,
}

/// Which of the two passes over a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Pass {
    /// Records by `WHENMODIFIED`.
    Modified,
    /// Records with an empty `WHENMODIFIED`, by `WHENCREATED`.
    Created,
}

impl Pass {
    /// The timestamp field this pass orders and filters by.
    pub fn key_field(self) -> &'static str {
        match self {
            Pass::Modified => WHENMODIFIED,
            Pass::Created => WHENCREATED,
        }
    }
}

/// A position in a pass: everything at or before `(instant, record_no)` is delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Cursor {
    /// The pass.
    pub pass: Pass,
    /// The key field's value of the last delivered row.
    pub instant: DateTime<Utc>,
    /// Its RECORDNO.
    pub record_no: u64,
}

/// The `query` filter for the page after `after` (or the first page when `None`).
pub fn keyset_filter(pass: Pass, window: &TimeWindow, after: Option<&Cursor>, tz: Tz) -> Filter {
    let key = pass.key_field();
    let mut parts = Vec::with_capacity(3);
    if pass == Pass::Created {
        parts.push(Filter::IsNull {
            field: WHENMODIFIED.to_owned(),
        });
    }
    match after {
        None => {
            if let Some(from) = window.from {
                parts.push(Filter::compare(
                    Comparison::GreaterThanOrEqualTo,
                    key,
                    render(from, tz),
                ));
            }
        }
        Some(cursor) => {
            let t = render(cursor.instant, tz);
            parts.push(Filter::Or(vec![
                Filter::compare(Comparison::GreaterThan, key, t.clone()),
                Filter::And(vec![
                    Filter::compare(Comparison::EqualTo, key, t),
                    Filter::compare(
                        Comparison::GreaterThan,
                        RECORDNO,
                        cursor.record_no.to_string(),
                    ),
                ]),
            ]));
        }
    }
    parts.push(Filter::compare(
        Comparison::LessThan,
        key,
        render(window.to, tz),
    ));
    if parts.len() == 1 {
        parts.pop().expect("one part")
    } else {
        Filter::And(parts)
    }
}

/// The whole `query` for one keyset page.
pub fn keyset_query(
    object: &str,
    select: &[String],
    pass: Pass,
    window: &TimeWindow,
    after: Option<&Cursor>,
    page_size: u32,
    tz: Tz,
) -> Query {
    Query {
        object: object.to_owned(),
        select: select.to_vec(),
        filter: Some(keyset_filter(pass, window, after, tz)),
        order_by: vec![
            OrderBy {
                field: pass.key_field().to_owned(),
                ascending: true,
            },
            OrderBy {
                field: RECORDNO.to_owned(),
                ascending: true,
            },
        ],
        page_size: Some(page_size),
        ..Query::default()
    }
}

/// The legacy `readByQuery` for one pass over a window (no order, no keyset).
pub fn read_by_query(
    object: &str,
    select: &[String],
    pass: Pass,
    window: &TimeWindow,
    page_size: u32,
    tz: Tz,
) -> ReadByQuery {
    let key = pass.key_field();
    let mut clauses = Vec::with_capacity(3);
    if pass == Pass::Created {
        clauses.push(format!("{WHENMODIFIED} IS NULL"));
    }
    if let Some(from) = window.from {
        clauses.push(format!("{key} >= '{}'", render(from, tz)));
    }
    clauses.push(format!("{key} < '{}'", render(window.to, tz)));
    ReadByQuery {
        object: object.to_owned(),
        fields: select.to_vec(),
        query: clauses.join(" AND "),
        page_size: Some(page_size),
    }
}

/// Where the cursor stands after `page`: its last row's key and RECORDNO; `None` for an
/// empty page.
pub fn cursor_after(page: &RecordPage, pass: Pass, tz: Tz) -> Result<Option<Cursor>> {
    let Some(last) = page.len().checked_sub(1) else {
        return Ok(None);
    };
    let key = pass.key_field();
    let bad = |detail: String| Error::MalformedResponse {
        kind: MalformedKind::UnexpectedStructure,
        detail,
    };
    let record_no = page
        .get(last, RECORDNO)
        .ok_or_else(|| bad(format!("row {last} of a page has no {RECORDNO}")))?;
    let record_no: u64 = record_no
        .trim()
        .parse()
        .map_err(|_| bad(format!("{RECORDNO} {record_no:?} is not an integer")))?;
    let text = page.get(last, key).ok_or_else(|| {
        bad(format!(
            "record {record_no} has no {key} in a {pass:?} pass"
        ))
    })?;
    let instant = parse(text, tz).map_err(|_| {
        bad(format!(
            "record {record_no}: {key} {text:?} is not a tenant timestamp"
        ))
    })?;
    Ok(Some(Cursor {
        pass,
        instant,
        record_no,
    }))
}

/// True when no page follows `page` in its pass: the gateway says nothing remains, or (when
/// it does not say) the page is short. An empty page always ends the pass, so a confused
/// count can never loop on the same cursor.
pub fn is_last_page(page: &RecordPage, page_size: u32) -> bool {
    page.is_empty()
        || match page.num_remaining {
            Some(remaining) => remaining == 0,
            None => page.len() < page_size as usize,
        }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const LA: Tz = chrono_tz::America::Los_Angeles;

    fn window() -> TimeWindow {
        TimeWindow {
            from: Some(Utc.with_ymd_and_hms(2024, 1, 31, 21, 5, 0).unwrap()),
            to: Utc.with_ymd_and_hms(2024, 2, 1, 8, 0, 0).unwrap(),
        }
    }

    fn cmp(op: Comparison, field: &str, value: &str) -> Filter {
        Filter::compare(op, field, value)
    }

    #[test]
    fn first_modified_page_filters_on_the_window_in_tenant_time() {
        let f = keyset_filter(Pass::Modified, &window(), None, LA);
        assert_eq!(
            f,
            Filter::And(vec![
                cmp(
                    Comparison::GreaterThanOrEqualTo,
                    WHENMODIFIED,
                    "01/31/2024 13:05:00"
                ),
                cmp(Comparison::LessThan, WHENMODIFIED, "02/01/2024 00:00:00"),
            ])
        );
    }

    #[test]
    fn open_window_has_only_the_upper_bound() {
        let w = TimeWindow {
            from: None,
            ..window()
        };
        assert_eq!(
            keyset_filter(Pass::Modified, &w, None, LA),
            cmp(Comparison::LessThan, WHENMODIFIED, "02/01/2024 00:00:00")
        );
    }

    #[test]
    fn next_pages_continue_strictly_after_the_last_row() {
        let cursor = Cursor {
            pass: Pass::Created,
            instant: Utc.with_ymd_and_hms(2024, 1, 31, 23, 0, 0).unwrap(),
            record_no: 42,
        };
        let f = keyset_filter(Pass::Created, &window(), Some(&cursor), LA);
        assert_eq!(
            f,
            Filter::And(vec![
                Filter::IsNull {
                    field: WHENMODIFIED.into()
                },
                Filter::Or(vec![
                    cmp(Comparison::GreaterThan, WHENCREATED, "01/31/2024 15:00:00"),
                    Filter::And(vec![
                        cmp(Comparison::EqualTo, WHENCREATED, "01/31/2024 15:00:00"),
                        cmp(Comparison::GreaterThan, RECORDNO, "42"),
                    ]),
                ]),
                cmp(Comparison::LessThan, WHENCREATED, "02/01/2024 00:00:00"),
            ])
        );
    }

    #[test]
    fn query_orders_by_key_then_recordno() {
        let q = keyset_query(
            "APBILL",
            &["RECORDNO".into()],
            Pass::Modified,
            &window(),
            None,
            2000,
            LA,
        );
        let order: Vec<_> = q
            .order_by
            .iter()
            .map(|o| (o.field.as_str(), o.ascending))
            .collect();
        assert_eq!(order, [(WHENMODIFIED, true), (RECORDNO, true)]);
        assert_eq!(q.page_size, Some(2000));
    }

    #[test]
    fn read_by_query_strings() {
        let q = read_by_query("VENDOR", &[], Pass::Created, &window(), 1000, LA);
        assert_eq!(
            q.query,
            "WHENMODIFIED IS NULL AND WHENCREATED >= '01/31/2024 13:05:00' \
             AND WHENCREATED < '02/01/2024 00:00:00'"
        );
    }

    fn page(rows: &[(&str, Option<&str>)]) -> RecordPage {
        RecordPage::from_rows(
            vec![RECORDNO.into(), WHENMODIFIED.into()],
            rows.iter()
                .map(|(r, w)| vec![Some(r.to_string()), w.map(str::to_owned)])
                .collect(),
        )
    }

    #[test]
    fn cursor_is_the_last_row() {
        let p = page(&[
            ("7", Some("01/31/2024 13:05:00")),
            ("9", Some("01/31/2024 14:00:00")),
        ]);
        let c = cursor_after(&p, Pass::Modified, LA).unwrap().unwrap();
        assert_eq!(c.record_no, 9);
        assert_eq!(render(c.instant, LA), "01/31/2024 14:00:00");
        assert_eq!(cursor_after(&page(&[]), Pass::Modified, LA).unwrap(), None);
        assert!(
            cursor_after(
                &page(&[("x", Some("01/31/2024 13:05:00"))]),
                Pass::Modified,
                LA
            )
            .is_err()
        );
        assert!(cursor_after(&page(&[("1", None)]), Pass::Modified, LA).is_err());
    }

    #[test]
    fn last_page_detection() {
        let mut p = page(&[("1", Some("01/31/2024 13:05:00"))]);
        assert!(is_last_page(&p, 2));
        assert!(!is_last_page(&p, 1));
        p.num_remaining = Some(0);
        assert!(is_last_page(&p, 1));
        p.num_remaining = Some(5);
        assert!(!is_last_page(&p, 2));
        assert!(is_last_page(&page(&[]), 2));
    }
}
