//! The keyset cursor: which filter asks for the next page of a time window, and where a page
//! leaves the cursor. Pure; the client does the IO.
//!
//! A window `[from, to)` holds two kinds of rows:
//! 1. **modified** — `WHENMODIFIED` in the window;
//! 2. **created** — `WHENMODIFIED` empty and the creation timestamp in the window.
//!
//! A `query` of a standard object reads both in one pass, [`Pass::Combined`]: one `<or>` of
//! the two conditions (`query` filters nest `and`/`or` and take `isnull`, per Sage's schema),
//! so an object costs one chain of pages rather than two, the second of which is usually a
//! single empty page. `readByQuery` keeps the two passes one after the other.
//!
//! Standard objects ([`PageOrder::RecordKey`]) are read in `RECORDNO` order alone: every page
//! filters on the closed window and `RECORDNO > r`, where `r` is the last row delivered. The
//! sort is on the primary key, which the gateway serves on objects of any size (a sort on
//! WHENMODIFIED times out on large line objects), and `to` is fixed before the read starts
//! (the run's clock, never later than the first request), so a record changed while the window
//! is read moves out of it (past `to`) and is read by the next run, whose window starts at most
//! the lookback before this `to`; no record in the window is skipped or read twice.
//!
//! AUDITHISTORY ([`PageOrder::ChangeTime`]) is ordered by (`ACCESSTIME`, `ID`) and the next page
//! filters on `key > t OR (key = t AND ID > r)` where `(t, r)` is the last row delivered; `t` is
//! the row's own text parsed in the tenant zone and re-rendered (see
//! [`crate::intacct::tenant_time`]), which is the same text for every valid local time, so
//! equality at the gateway is exact; a date-only value becomes its midnight.
//!
//! The record key of a keyset is RECORDNO, an integer, compared as a number. AUDITHISTORY's
//! `ID` is paged as opaque text ([`RecordKey::Text`]): Sage documents no type for it, so
//! only a `lookup` that types it INTEGER makes it a number ([`KeyFields::record_key_text`]).
//! A text key is sent back exactly as the gateway wrote it (`ID > '<last>'`), never parsed.
//! Keyset paging on it assumes one thing of the gateway: that its `orderby` and its
//! `greaterthan` on the field use the same collation, whatever it is, so the rows after the
//! cursor in the order are exactly those the filter keeps. [`check_progress`] compares text
//! keys by bytes (Oracle's binary collation, Intacct's database; a guess): a gateway that
//! collates otherwise can make a full page look as if it did not advance, which stops the
//! read with an error rather than looping or skipping.
//!
//! A read may carry an extra condition every row must also meet (the delete feed reads
//! AUDITHISTORY with `ACCESSMODE = 'D' AND OBJECTTYPE = '<object>'`): [`restrict`] ANDs it
//! into each page's keyset filter, so the cursor logic is the same with or without it.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::error::{Error, MalformedKind, Result};
use crate::intacct::names::column_name;
use crate::intacct::request::{Comparison, Filter, OrderBy, Query, ReadByQuery};
use crate::intacct::response::RecordPage;
use crate::intacct::tenant_time::{parse, render};

/// `RECORDNO`.
pub(crate) const RECORDNO: &str = "RECORDNO";
/// `WHENMODIFIED`.
pub(crate) const WHENMODIFIED: &str = "WHENMODIFIED";
/// `WHENCREATED`.
pub(crate) const WHENCREATED: &str = "WHENCREATED";

/// A half-open window of modification instants, `[from, to)`; no `from` means from the
/// beginning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeWindow {
    /// Inclusive lower bound.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive upper bound.
    pub to: DateTime<Utc>,
}

/// The fields an object is paged by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyFields {
    /// The primary key: `RECORDNO` (`ID` for AUDITHISTORY).
    pub record_key: String,
    /// The primary key is opaque text, compared as the gateway compares strings, rather
    /// than an integer: AUDITHISTORY's `ID` unless `lookup` types it INTEGER.
    pub record_key_text: bool,
    /// The modification timestamp: `WHENMODIFIED` (`ACCESSTIME` for AUDITHISTORY).
    pub modified: String,
    /// The creation timestamp for rows whose modification timestamp is empty:
    /// `WHENCREATED`; `None` when the object has none (AUDITHISTORY, which is append-only).
    pub created: Option<String>,
    /// How pages are ordered and continued.
    pub order: PageOrder,
}

/// How a pass is ordered, and so what the next page's filter continues after.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageOrder {
    /// By the record key alone, inside the closed window: standard objects.
    RecordKey,
    /// By (timestamp, record key): AUDITHISTORY, read by ACCESSTIME.
    ChangeTime,
}

impl KeyFields {
    /// The keys of a standard object: `RECORDNO`, `WHENMODIFIED`, `WHENCREATED`.
    pub fn standard() -> KeyFields {
        KeyFields {
            record_key: RECORDNO.to_owned(),
            record_key_text: false,
            modified: WHENMODIFIED.to_owned(),
            created: Some(WHENCREATED.to_owned()),
            order: PageOrder::RecordKey,
        }
    }

    /// The keys of `object`: the standard ones, except AUDITHISTORY (`ID` as opaque text,
    /// `ACCESSTIME`).
    pub fn for_object(object: &str) -> KeyFields {
        if object.eq_ignore_ascii_case("AUDITHISTORY") {
            KeyFields {
                record_key: "ID".to_owned(),
                record_key_text: true,
                modified: "ACCESSTIME".to_owned(),
                created: None,
                order: PageOrder::ChangeTime,
            }
        } else {
            KeyFields::standard()
        }
    }

    /// The passes a window needs: modified, then created when the object has the field.
    pub fn passes(&self) -> Vec<Pass> {
        match self.created {
            Some(_) => vec![Pass::Modified, Pass::Created],
            None => vec![Pass::Modified],
        }
    }

    /// The timestamp field `pass` orders and filters by (for [`Pass::Combined`], the
    /// modification timestamp, the creation one standing in where it is empty).
    pub fn key_field(&self, pass: Pass) -> &str {
        match (pass, &self.created) {
            (Pass::Created, Some(created)) => created,
            _ => &self.modified,
        }
    }

    /// Every key field, for the select list.
    pub fn all(&self) -> impl Iterator<Item = &str> {
        [
            Some(&self.record_key),
            Some(&self.modified),
            self.created.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(String::as_str)
    }
}

/// Which pass over a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Pass {
    /// Records by their modification timestamp.
    Modified,
    /// Records with an empty modification timestamp, by their creation timestamp.
    Created,
    /// Both at once: modified in the window, or empty and created in it (RECORDNO order
    /// only).
    Combined,
}

/// The record key of a cursor: an integer, or opaque text kept exactly as sent. A recorded
/// cursor reads back as it was written (a JSON number or string).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum RecordKey {
    /// RECORDNO, or an ID `lookup` types INTEGER: compared as a number.
    Integer(u64),
    /// An ID of no known type: compared byte by byte (see the module docs).
    Text(String),
}

impl std::fmt::Display for RecordKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordKey::Integer(n) => write!(f, "{n}"),
            RecordKey::Text(t) => f.write_str(t),
        }
    }
}

/// A position in a pass: everything at or before `(instant, record_no)` is delivered.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cursor {
    /// The pass.
    pub pass: Pass,
    /// The key field's value of the last delivered row.
    pub instant: DateTime<Utc>,
    /// Its record key (RECORDNO, or AUDITHISTORY's ID).
    pub record_no: RecordKey,
}

/// The `query` filter for the page after `after` (or the first page when `None`).
pub(crate) fn keyset_filter(
    keys: &KeyFields,
    pass: Pass,
    window: &TimeWindow,
    after: Option<&Cursor>,
    tz: Tz,
) -> Filter {
    if pass == Pass::Combined
        && let Some(created) = &keys.created
    {
        return combined_filter(keys, created, window, after, tz);
    }
    let key = keys.key_field(pass);
    let mut parts = Vec::with_capacity(4);
    if pass == Pass::Created {
        parts.push(Filter::IsNull {
            field: keys.modified.clone(),
        });
    }
    let lower_bound = |parts: &mut Vec<Filter>| {
        if let Some(from) = window.from {
            parts.push(Filter::compare(
                Comparison::GreaterThanOrEqualTo,
                key,
                render(from, tz),
            ));
        }
    };
    match (keys.order, after) {
        (_, None) => lower_bound(&mut parts),
        (PageOrder::RecordKey, Some(cursor)) => {
            lower_bound(&mut parts);
            parts.push(Filter::compare(
                Comparison::GreaterThan,
                &keys.record_key,
                cursor.record_no.to_string(),
            ));
        }
        (PageOrder::ChangeTime, Some(cursor)) => {
            let t = render(cursor.instant, tz);
            parts.push(Filter::Or(vec![
                Filter::compare(Comparison::GreaterThan, key, t.clone()),
                Filter::And(vec![
                    Filter::compare(Comparison::EqualTo, key, t),
                    Filter::compare(
                        Comparison::GreaterThan,
                        &keys.record_key,
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

/// The filter of a [`Pass::Combined`] page: `(modified in the window) OR (modified empty AND
/// created in the window)`, and after `after`'s RECORDNO.
fn combined_filter(
    keys: &KeyFields,
    created: &str,
    window: &TimeWindow,
    after: Option<&Cursor>,
    tz: Tz,
) -> Filter {
    let in_window = |field: &str| {
        let mut parts = Vec::with_capacity(2);
        if let Some(from) = window.from {
            parts.push(Filter::compare(
                Comparison::GreaterThanOrEqualTo,
                field,
                render(from, tz),
            ));
        }
        parts.push(Filter::compare(
            Comparison::LessThan,
            field,
            render(window.to, tz),
        ));
        parts
    };
    let modified = match in_window(&keys.modified).as_slice() {
        [one] => one.clone(),
        parts => Filter::And(parts.to_vec()),
    };
    let mut empty = vec![Filter::IsNull {
        field: keys.modified.clone(),
    }];
    empty.extend(in_window(created));
    let either = Filter::Or(vec![modified, Filter::And(empty)]);
    match after {
        None => either,
        Some(cursor) => Filter::And(vec![
            either,
            Filter::compare(
                Comparison::GreaterThan,
                &keys.record_key,
                cursor.record_no.to_string(),
            ),
        ]),
    }
}

/// `filter` with `condition` ANDed in (the condition's parts first), flattened into one
/// `<and>`; `filter` itself without a condition.
pub(crate) fn restrict(filter: Filter, condition: Option<&Filter>) -> Filter {
    let Some(condition) = condition else {
        return filter;
    };
    let mut parts = match condition {
        Filter::And(parts) => parts.clone(),
        other => vec![other.clone()],
    };
    match filter {
        Filter::And(rest) => parts.extend(rest),
        other => parts.push(other),
    }
    Filter::And(parts)
}

/// AUDITHISTORY's `OBJECTTYPE` for an object: its name in lower case (`APBILL` → `apbill`).
pub(crate) fn audit_object_type(object: &str) -> String {
    object.to_ascii_lowercase()
}

/// The condition that limits an AUDITHISTORY read to the deletes of `objects` (at most
/// 1,000): `ACCESSMODE = 'D' AND OBJECTTYPE in ('<object lower-case>', …)`.
pub(crate) fn audit_deletes_condition(objects: &[String]) -> Filter {
    Filter::And(vec![
        Filter::compare(Comparison::EqualTo, "ACCESSMODE", "D"),
        Filter::In {
            field: "OBJECTTYPE".to_owned(),
            values: objects.iter().map(|o| audit_object_type(o)).collect(),
        },
    ])
}

/// The whole `query` for one keyset page, with the [`keyset_filter`] of that page and
/// `showprivate` set.
pub(crate) fn keyset_query(
    object: &str,
    select: &[String],
    keys: &KeyFields,
    pass: Pass,
    filter: Filter,
    page_size: u32,
) -> Query {
    Query {
        object: object.to_owned(),
        select: select.to_vec(),
        filter: Some(filter),
        order_by: match keys.order {
            PageOrder::RecordKey => vec![OrderBy {
                field: keys.record_key.clone(),
                ascending: true,
            }],
            PageOrder::ChangeTime => vec![
                OrderBy {
                    field: keys.key_field(pass).to_owned(),
                    ascending: true,
                },
                OrderBy {
                    field: keys.record_key.clone(),
                    ascending: true,
                },
            ],
        },
        page_size: Some(page_size),
        // In a multi-entity company a top-level query omits entity-private records unless
        // asked (Sage's query options; MeltanoLabs tap-intacct sends it on every query).
        show_private: true,
        ..Query::default()
    }
}

/// `<record key> <= upper`: the upper end of one RECORDNO slice of a pass.
pub(crate) fn key_at_most(keys: &KeyFields, upper: u64) -> Filter {
    Filter::compare(
        Comparison::LessThanOrEqualTo,
        &keys.record_key,
        upper.to_string(),
    )
}

/// The `query` for the highest record key matching `filter`: the key alone, ordered
/// descending, one row.
pub(crate) fn highest_key_query(object: &str, keys: &KeyFields, filter: Filter) -> Query {
    Query {
        object: object.to_owned(),
        select: vec![keys.record_key.clone()],
        filter: Some(filter),
        order_by: vec![OrderBy {
            field: keys.record_key.clone(),
            ascending: false,
        }],
        page_size: Some(1),
        show_private: true,
        ..Query::default()
    }
}

/// The legacy `readByQuery` for one pass over a window (no order, no keyset).
pub(crate) fn read_by_query(
    object: &str,
    select: &[String],
    keys: &KeyFields,
    pass: Pass,
    window: &TimeWindow,
    page_size: u32,
    tz: Tz,
) -> ReadByQuery {
    debug_assert_ne!(pass, Pass::Combined, "readByQuery reads the passes in turn");
    let key = keys.key_field(pass);
    let mut clauses = Vec::with_capacity(3);
    if pass == Pass::Created {
        clauses.push(format!("{} IS NULL", keys.modified));
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
pub(crate) fn cursor_after(
    page: &RecordPage,
    keys: &KeyFields,
    pass: Pass,
    tz: Tz,
) -> Result<Option<Cursor>> {
    let Some(last) = page.len().checked_sub(1) else {
        return Ok(None);
    };
    let key = column_name(keys.key_field(pass));
    let key_column = column_name(&keys.record_key);
    let bad = |detail: String| Error::MalformedResponse {
        kind: MalformedKind::UnexpectedStructure,
        detail,
    };
    let record_no = page
        .get(last, &key_column)
        .ok_or_else(|| bad(format!("row {last} of a page has no {key_column}")))?;
    let record_no = if keys.record_key_text {
        RecordKey::Text(record_no.to_owned())
    } else {
        RecordKey::Integer(
            record_no
                .trim()
                .parse()
                .map_err(|_| bad(format!("{key_column} {record_no:?} is not an integer")))?,
        )
    };
    // A combined pass's row with an empty modification timestamp stands at its creation
    // time; an error names the field the text came from.
    let stand_in = match (pass, &keys.created) {
        (Pass::Combined, Some(created)) => {
            let created = column_name(created);
            page.get(last, &created).map(|text| (created, text))
        }
        _ => None,
    };
    let (field, text) = page
        .get(last, &key)
        .map(|text| (key.clone(), text))
        .or(stand_in)
        .ok_or_else(|| {
            bad(format!(
                "record {record_no} has no {key} in a {pass:?} pass"
            ))
        })?;
    let instant = parse(text, tz).map_err(|_| {
        bad(format!(
            "record {record_no}: {field} {text:?} is not a tenant timestamp"
        ))
    })?;
    Ok(Some(Cursor {
        pass,
        instant,
        record_no,
    }))
}

/// Checks that a page moved the cursor: a page that is not the last of its pass must end
/// strictly after where the previous one did, or the next request would ask for the same
/// rows again. A gateway that answers so is an error, never a loop.
pub(crate) fn check_progress(
    object: &str,
    order: PageOrder,
    before: Option<&Cursor>,
    after: Option<&Cursor>,
    last_page: bool,
) -> Result<()> {
    if last_page {
        return Ok(());
    }
    let moved = match (before, after) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(b), Some(a)) => match order {
            PageOrder::RecordKey => a.record_no > b.record_no,
            PageOrder::ChangeTime => (a.instant, &a.record_no) > (b.instant, &b.record_no),
        },
    };
    if moved {
        return Ok(());
    }
    Err(Error::MalformedResponse {
        kind: MalformedKind::UnexpectedStructure,
        detail: format!(
            "a full page of {object} did not advance the keyset cursor (still at {:?}); \
             stopping rather than asking for the same rows again",
            after
                .or(before)
                .map(|c| (c.instant, c.record_no.to_string()))
        ),
    })
}

/// True when no page follows `page` in its pass: the gateway says nothing remains, or (when
/// it does not say) the page is short. An empty page always ends the pass, so a confused
/// count can never loop on the same cursor.
pub(crate) fn is_last_page(page: &RecordPage, page_size: u32) -> bool {
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
        let f = keyset_filter(&KeyFields::standard(), Pass::Modified, &window(), None, LA);
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
            keyset_filter(&KeyFields::standard(), Pass::Modified, &w, None, LA),
            cmp(Comparison::LessThan, WHENMODIFIED, "02/01/2024 00:00:00")
        );
    }

    #[test]
    fn next_pages_continue_after_the_last_recordno_inside_the_closed_window() {
        let cursor = Cursor {
            pass: Pass::Created,
            instant: Utc.with_ymd_and_hms(2024, 1, 31, 23, 0, 0).unwrap(),
            record_no: RecordKey::Integer(42),
        };
        let f = keyset_filter(
            &KeyFields::standard(),
            Pass::Created,
            &window(),
            Some(&cursor),
            LA,
        );
        assert_eq!(
            f,
            Filter::And(vec![
                Filter::IsNull {
                    field: WHENMODIFIED.into()
                },
                cmp(
                    Comparison::GreaterThanOrEqualTo,
                    WHENCREATED,
                    "01/31/2024 13:05:00"
                ),
                cmp(Comparison::GreaterThan, RECORDNO, "42"),
                cmp(Comparison::LessThan, WHENCREATED, "02/01/2024 00:00:00"),
            ])
        );
    }

    #[test]
    fn one_combined_pass_asks_for_both_kinds_of_rows_with_one_or() {
        let keys = KeyFields::standard();
        let either = Filter::Or(vec![
            Filter::And(vec![
                cmp(
                    Comparison::GreaterThanOrEqualTo,
                    WHENMODIFIED,
                    "01/31/2024 13:05:00",
                ),
                cmp(Comparison::LessThan, WHENMODIFIED, "02/01/2024 00:00:00"),
            ]),
            Filter::And(vec![
                Filter::IsNull {
                    field: WHENMODIFIED.into(),
                },
                cmp(
                    Comparison::GreaterThanOrEqualTo,
                    WHENCREATED,
                    "01/31/2024 13:05:00",
                ),
                cmp(Comparison::LessThan, WHENCREATED, "02/01/2024 00:00:00"),
            ]),
        ]);
        assert_eq!(
            keyset_filter(&keys, Pass::Combined, &window(), None, LA),
            either
        );
        let cursor = Cursor {
            pass: Pass::Combined,
            instant: Utc.with_ymd_and_hms(2024, 1, 31, 23, 0, 0).unwrap(),
            record_no: RecordKey::Integer(42),
        };
        assert_eq!(
            keyset_filter(&keys, Pass::Combined, &window(), Some(&cursor), LA),
            Filter::And(vec![either, cmp(Comparison::GreaterThan, RECORDNO, "42")])
        );
        // An open window: the upper bounds alone.
        let open = TimeWindow {
            from: None,
            ..window()
        };
        assert_eq!(
            keyset_filter(&keys, Pass::Combined, &open, None, LA),
            Filter::Or(vec![
                cmp(Comparison::LessThan, WHENMODIFIED, "02/01/2024 00:00:00"),
                Filter::And(vec![
                    Filter::IsNull {
                        field: WHENMODIFIED.into()
                    },
                    cmp(Comparison::LessThan, WHENCREATED, "02/01/2024 00:00:00"),
                ]),
            ])
        );
        // A row with an empty WHENMODIFIED leaves the cursor at its creation time.
        let page = RecordPage::from_rows(
            vec![RECORDNO.into(), WHENMODIFIED.into(), WHENCREATED.into()],
            vec![
                vec![Some("7".into()), Some("01/31/2024 13:05:00".into()), None],
                vec![Some("9".into()), None, Some("01/31/2024 14:00:00".into())],
            ],
        );
        let c = cursor_after(&page, &keys, Pass::Combined, LA)
            .unwrap()
            .unwrap();
        assert_eq!(
            (c.record_no, render(c.instant, LA)),
            (RecordKey::Integer(9), "01/31/2024 14:00:00".to_owned())
        );
    }

    #[test]
    fn audit_pages_continue_strictly_after_the_last_change() {
        let keys = KeyFields::for_object("AUDITHISTORY");
        let cursor = Cursor {
            pass: Pass::Modified,
            instant: Utc.with_ymd_and_hms(2024, 1, 31, 23, 0, 0).unwrap(),
            record_no: RecordKey::Integer(42),
        };
        let f = keyset_filter(&keys, Pass::Modified, &window(), Some(&cursor), LA);
        assert_eq!(
            f,
            Filter::And(vec![
                Filter::Or(vec![
                    cmp(Comparison::GreaterThan, "ACCESSTIME", "01/31/2024 15:00:00"),
                    Filter::And(vec![
                        cmp(Comparison::EqualTo, "ACCESSTIME", "01/31/2024 15:00:00"),
                        cmp(Comparison::GreaterThan, "ID", "42"),
                    ]),
                ]),
                cmp(Comparison::LessThan, "ACCESSTIME", "02/01/2024 00:00:00"),
            ])
        );
        let q = keyset_query("AUDITHISTORY", &[], &keys, Pass::Modified, f, 100);
        let order: Vec<_> = q.order_by.iter().map(|o| o.field.as_str()).collect();
        assert_eq!(order, ["ACCESSTIME", "ID"]);
    }

    #[test]
    fn a_full_page_must_advance_the_cursor() {
        let at = |s: i64, n: u64| Cursor {
            pass: Pass::Modified,
            instant: DateTime::from_timestamp(s, 0).unwrap(),
            record_no: RecordKey::Integer(n),
        };
        for order in [PageOrder::RecordKey, PageOrder::ChangeTime] {
            check_progress("APBILL", order, None, Some(&at(1, 1)), false).unwrap();
            check_progress("APBILL", order, Some(&at(1, 1)), Some(&at(1, 2)), false).unwrap();
            check_progress("APBILL", order, Some(&at(1, 1)), Some(&at(1, 1)), true).unwrap();
        }
        check_progress(
            "AUDITHISTORY",
            PageOrder::ChangeTime,
            Some(&at(1, 9)),
            Some(&at(2, 1)),
            false,
        )
        .unwrap();
        for (order, before, after) in [
            (PageOrder::RecordKey, Some(at(1, 1)), Some(at(1, 1))),
            (PageOrder::ChangeTime, Some(at(1, 1)), Some(at(1, 1))),
            (PageOrder::ChangeTime, Some(at(2, 1)), Some(at(1, 5))),
            // In RECORDNO order a later change time does not move the cursor.
            (PageOrder::RecordKey, Some(at(1, 9)), Some(at(2, 1))),
            (PageOrder::RecordKey, Some(at(1, 1)), None),
        ] {
            let err = check_progress("APBILL", order, before.as_ref(), after.as_ref(), false)
                .unwrap_err();
            assert!(matches!(err, Error::MalformedResponse { .. }), "{err}");
            assert!(err.to_string().contains("did not advance"), "{err}");
        }
    }

    #[test]
    fn query_orders_by_recordno_alone() {
        let q = keyset_query(
            "APBILL",
            &["RECORDNO".into()],
            &KeyFields::standard(),
            Pass::Modified,
            keyset_filter(&KeyFields::standard(), Pass::Modified, &window(), None, LA),
            2000,
        );
        let order: Vec<_> = q
            .order_by
            .iter()
            .map(|o| (o.field.as_str(), o.ascending))
            .collect();
        assert_eq!(order, [(RECORDNO, true)]);
        assert_eq!(q.page_size, Some(2000));
        assert!(
            q.show_private,
            "every query asks for entity-private records"
        );
    }

    #[test]
    fn a_slice_is_bounded_and_the_highest_key_is_one_descending_row() {
        let keys = KeyFields::standard();
        assert_eq!(
            key_at_most(&keys, 41_000),
            cmp(Comparison::LessThanOrEqualTo, "RECORDNO", "41000")
        );
        let filter = keyset_filter(&keys, Pass::Modified, &window(), None, chrono_tz::UTC);
        let query = highest_key_query("APBILLITEM", &keys, filter.clone());
        assert_eq!(query.select, vec!["RECORDNO".to_owned()]);
        assert_eq!(query.filter, Some(filter));
        assert_eq!(
            query.order_by,
            vec![OrderBy {
                field: "RECORDNO".into(),
                ascending: false
            }]
        );
        assert_eq!(query.page_size, Some(1));
        assert!(query.show_private);
    }

    #[test]
    fn read_by_query_strings() {
        let q = read_by_query(
            "VENDOR",
            &[],
            &KeyFields::standard(),
            Pass::Created,
            &window(),
            1000,
            LA,
        );
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
        let c = cursor_after(&p, &KeyFields::standard(), Pass::Modified, LA)
            .unwrap()
            .unwrap();
        assert_eq!(c.record_no, RecordKey::Integer(9));
        assert_eq!(render(c.instant, LA), "01/31/2024 14:00:00");
        assert_eq!(
            cursor_after(&page(&[]), &KeyFields::standard(), Pass::Modified, LA).unwrap(),
            None
        );
        assert!(
            cursor_after(
                &page(&[("x", Some("01/31/2024 13:05:00"))]),
                &KeyFields::standard(),
                Pass::Modified,
                LA
            )
            .is_err()
        );
        assert!(
            cursor_after(
                &page(&[("1", None)]),
                &KeyFields::standard(),
                Pass::Modified,
                LA
            )
            .is_err()
        );
    }

    #[test]
    fn audit_history_pages_by_id_and_access_time_in_one_pass() {
        let keys = KeyFields::for_object("AUDITHISTORY");
        assert_eq!(keys.passes(), [Pass::Modified]);
        let cursor = Cursor {
            pass: Pass::Modified,
            instant: Utc.with_ymd_and_hms(2024, 1, 31, 23, 0, 0).unwrap(),
            record_no: RecordKey::Text("5".into()),
        };
        let q = keyset_query(
            "AUDITHISTORY",
            &[],
            &keys,
            Pass::Modified,
            keyset_filter(&keys, Pass::Modified, &window(), Some(&cursor), LA),
            10,
        );
        let order: Vec<_> = q.order_by.iter().map(|o| o.field.as_str()).collect();
        assert_eq!(order, ["ACCESSTIME", "ID"]);
        let Some(Filter::And(parts)) = q.filter else {
            panic!("expected an and")
        };
        assert_eq!(
            parts[0],
            Filter::Or(vec![
                cmp(Comparison::GreaterThan, "ACCESSTIME", "01/31/2024 15:00:00"),
                Filter::And(vec![
                    cmp(Comparison::EqualTo, "ACCESSTIME", "01/31/2024 15:00:00"),
                    cmp(Comparison::GreaterThan, "ID", "5"),
                ]),
            ])
        );
        assert_eq!(KeyFields::for_object("vendor"), KeyFields::standard());
    }

    #[test]
    fn audit_ids_are_opaque_text_unless_lookup_types_them_as_integers() {
        let audit = |rows: &[(&str, &str)]| {
            RecordPage::from_rows(
                vec!["ID".into(), "ACCESSTIME".into()],
                rows.iter()
                    .map(|(id, at)| vec![Some(id.to_string()), Some(at.to_string())])
                    .collect(),
            )
        };
        let mut keys = KeyFields::for_object("AUDITHISTORY");
        assert!(keys.record_key_text);
        let at = "01/31/2024 13:05:00";
        // Sent back exactly as written, never parsed: a leading zero or a letter stays.
        for id in ["0042", "a1b2-77", " 9"] {
            let c = cursor_after(&audit(&[(id, at)]), &keys, Pass::Modified, LA)
                .unwrap()
                .unwrap();
            assert_eq!(c.record_no, RecordKey::Text(id.to_owned()));
        }
        let c = cursor_after(&audit(&[("0042", at)]), &keys, Pass::Modified, LA)
            .unwrap()
            .unwrap();
        let Filter::And(parts) = keyset_filter(&keys, Pass::Modified, &window(), Some(&c), LA)
        else {
            panic!("expected an and")
        };
        assert_eq!(
            parts[0],
            Filter::Or(vec![
                cmp(Comparison::GreaterThan, "ACCESSTIME", at),
                Filter::And(vec![
                    cmp(Comparison::EqualTo, "ACCESSTIME", at),
                    cmp(Comparison::GreaterThan, "ID", "0042"),
                ]),
            ])
        );
        // Text keys order byte by byte: "10" comes before "9".
        let instant = c.instant;
        let text = |t: &str| Cursor {
            pass: Pass::Modified,
            instant,
            record_no: RecordKey::Text(t.into()),
        };
        check_progress(
            "AUDITHISTORY",
            PageOrder::ChangeTime,
            Some(&text("10")),
            Some(&text("9")),
            false,
        )
        .unwrap();
        assert!(
            check_progress(
                "AUDITHISTORY",
                PageOrder::ChangeTime,
                Some(&text("9")),
                Some(&text("10")),
                false
            )
            .is_err()
        );
        // Typed INTEGER by lookup: a number, compared as one.
        keys.record_key_text = false;
        let c = cursor_after(&audit(&[("0042", at)]), &keys, Pass::Modified, LA)
            .unwrap()
            .unwrap();
        assert_eq!(c.record_no, RecordKey::Integer(42));
        assert!(cursor_after(&audit(&[("a1", at)]), &keys, Pass::Modified, LA).is_err());
        // A recorded cursor reads back in either form.
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["record_no"], serde_json::json!(42));
        assert_eq!(serde_json::from_value::<Cursor>(json).unwrap(), c);
        let json = serde_json::to_value(text("0042")).unwrap();
        assert_eq!(json["record_no"], serde_json::json!("0042"));
        assert_eq!(
            serde_json::from_value::<Cursor>(json).unwrap(),
            text("0042")
        );
    }

    #[test]
    fn a_condition_is_anded_into_every_page_of_the_keyset() {
        let keys = KeyFields::for_object("AUDITHISTORY");
        let condition = audit_deletes_condition(&["APBILL".to_owned(), "vendor".to_owned()]);
        let types = || Filter::In {
            field: "OBJECTTYPE".into(),
            values: vec!["apbill".into(), "vendor".into()],
        };
        let first = restrict(
            keyset_filter(&keys, Pass::Modified, &window(), None, LA),
            Some(&condition),
        );
        assert_eq!(
            first,
            Filter::And(vec![
                cmp(Comparison::EqualTo, "ACCESSMODE", "D"),
                types(),
                cmp(
                    Comparison::GreaterThanOrEqualTo,
                    "ACCESSTIME",
                    "01/31/2024 13:05:00"
                ),
                cmp(Comparison::LessThan, "ACCESSTIME", "02/01/2024 00:00:00"),
            ])
        );
        // An open window's filter is a single comparison: still one flat <and>.
        let open = TimeWindow {
            from: None,
            ..window()
        };
        let only_upper = restrict(
            keyset_filter(&keys, Pass::Modified, &open, None, LA),
            Some(&condition),
        );
        assert_eq!(
            only_upper,
            Filter::And(vec![
                cmp(Comparison::EqualTo, "ACCESSMODE", "D"),
                types(),
                cmp(Comparison::LessThan, "ACCESSTIME", "02/01/2024 00:00:00"),
            ])
        );
        let plain = keyset_filter(&keys, Pass::Modified, &open, None, LA);
        assert_eq!(restrict(plain.clone(), None), plain);
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
