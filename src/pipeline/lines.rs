//! Lines removed from live headers: a bill (or a payment) saved with fewer lines.
//!
//! Sage updates APBILL and APPYMT from "only the lines you want to keep": a line left out of
//! an update simply stops being returned. No AUDITHISTORY row names it (lines have no audit
//! rows of their own) and only the header's WHENMODIFIED moves, so neither the delete feed nor
//! a WHENMODIFIED poll sees it, and the line would stay live in Snowflake, overstating spend by
//! account and department. So the batch of a line object (APBILLITEM, APPYMTDETAIL;
//! [`objects::line_header`]) with its delete feed on also, in a nightly window:
//!
//! 1. reads the RECORDNO and WHENMODIFIED of every header changed in the planned window
//!    (`plan`'s `lines`: the earlier of the object's window start and its feed's), **before**
//!    the object's own read, so that read can keep the (RECORDNO, header) of its rows of those
//!    headers;
//! 2. after the object's own read, reads the lines those headers have now (`<header key> in
//!    (…)`, at most 1,000 values per `in`, RECORDNO and the header key only);
//! 3. takes the lines Snowflake holds live for those headers (one `SELECT` per 1,000
//!    headers), and the lines this batch read for them;
//! 4. reads, among those Intacct no longer returns under their header, the ones it still
//!    returns at all (`RECORDNO in (…)`): a line is gone only when it is gone everywhere;
//! 5. stages a tombstone per line left, in the object's batch: RECORDNO = the line, the header
//!    key = its header, WHENMODIFIED = the header's (the edit that removed it, or a later one),
//!    `_DELETED = true`.
//!
//! # Why Snowflake is asked
//!
//! "The lines Snowflake holds" are known in one of three places: Snowflake itself, every batch
//! the stage ever staged for the object, or a marker the MERGE would expand. The stage holds
//! the answer too, but only across every earlier batch of the object (years of parts for one
//! header's lines); a marker ("these are all of header H's lines") needs a MERGE that deletes
//! by exclusion, which the loader's MERGE does not do. Snowflake answers with one indexed
//! read per 1,000 headers, and `verify` already reads it the same way. What keeps the answer
//! right:
//! * **late batches**: a staged batch of the same stream not loaded yet may hold a line
//!   Snowflake does not; the comparison is then put off (`lines_error` says so) and the
//!   stream's delete mark does not move, so the next run compares again from the same place,
//!   once that batch is in. `run` loads what is staged before it extracts, so this happens
//!   only while a load keeps failing;
//! * **a first load**: while no batch of the object was ever loaded, Snowflake holds none of
//!   its lines; only the batch's own lines are compared and Snowflake is not asked (so a first
//!   `extract` needs no Snowflake connection);
//! * **ordering**: the headers are read first, the lines they have now last, so a line read
//!   by the object's own read and removed afterwards is still found; a line removed after the
//!   last read moves its header's WHENMODIFIED, and the next run's window holds it;
//! * **a line on another header**: never tombstoned while Intacct returns it at all (step 4);
//! * **replay and backfill**: a tombstone is an ordinary staged row keyed by RECORDNO with its
//!   header's WHENMODIFIED, which is at or after the last version of the removed line (a line
//!   changes only through its header's update); RECORDNOs are never reused, so replaying any
//!   batch again, older or newer, never brings the line back, and a backfill window (which
//!   compares nothing) cannot stage a version newer than the tombstone;
//! * **entities**: each entity's batch compares the headers its own session read, through that
//!   session; Snowflake's table holds every entity's lines, and a header belongs to one.
//!
//! Cost per run and line object: the header keys of the window (a page per 2,000 headers,
//! plus the pass for an empty WHENMODIFIED); the lines of those headers (a page per 2,000
//! lines for every 1,000 headers); one `query` per 1,000 candidates, usually none; and one
//! Snowflake `SELECT` per 1,000 headers (none before the first load).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::intacct::objects;
use crate::intacct::paging::TimeWindow;
use crate::intacct::response::RecordPage;
use crate::intacct::{
    Call, Comparison, Filter, IntacctClient, OrderBy, Query, ReadRequest, ResultData,
};
use crate::loader::{Names, TableRole};
use crate::snowflake::{SnowflakeClient, Statement};

/// The most values one `in` may carry (Intacct's limit, and the size of a Snowflake chunk).
const MAX_IN_VALUES: usize = 1_000;

/// Rows per page of the key reads.
const KEY_PAGE_SIZE: u32 = 2_000;

/// Where the lines Snowflake holds are read: the pipeline's target tables, through a client
/// made when first needed (so an extract that never needs it never opens it).
#[derive(Clone)]
pub(crate) struct LiveLines {
    connect: Arc<dyn Fn() -> Result<SnowflakeClient> + Send + Sync>,
    names: Names,
    pipeline: String,
}

impl LiveLines {
    /// Reads through the client `connect` makes, from the tables `names` names.
    pub(crate) fn new(
        connect: impl Fn() -> Result<SnowflakeClient> + Send + Sync + 'static,
        names: Names,
        pipeline: String,
    ) -> LiveLines {
        LiveLines {
            connect: Arc::new(connect),
            names,
            pipeline,
        }
    }

    /// The live lines of `object` whose `key_field` is one of `headers`: line → header. A
    /// table that does not exist yet holds none.
    async fn live(
        &self,
        object: &str,
        key_field: &str,
        headers: &BTreeSet<u64>,
    ) -> Result<BTreeMap<u64, u64>> {
        let client = (self.connect)()?;
        let table = self.names.table(object, TableRole::Target)?;
        let key = crate::loader::sql::Ident::new(key_field)?;
        let record_no = crate::loader::sql::Ident::new(crate::schema::RECORD_NO_COLUMN)?;
        let headers: Vec<u64> = headers.iter().copied().collect();
        let mut out = BTreeMap::new();
        for chunk in headers.chunks(MAX_IN_VALUES) {
            let list = chunk
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT {}, {} FROM {table} WHERE NOT COALESCE(\"_DELETED\", FALSE) AND {} IN ({list})",
                record_no.sql(),
                key.sql(),
                key.sql()
            );
            let tag = format!("intacct-snowflake:{}:{object}:lines", self.pipeline);
            let outcome = match client.execute(&Statement::new(sql, tag)).await {
                Ok(outcome) => outcome,
                // 002003: the table does not exist (nothing loaded yet).
                Err(Error::Statement { code, .. }) if code == "002003" => return Ok(out),
                Err(e) => return Err(e),
            };
            for row in 0..outcome.rows.len() {
                let number = |column: &str| {
                    outcome
                        .value(row, column)
                        .and_then(crate::schema::values::parse_integer)
                        .and_then(|n| u64::try_from(n).ok())
                };
                if let (Some(line), Some(header)) =
                    (number(crate::schema::RECORD_NO_COLUMN), number(key_field))
                {
                    out.insert(line, header);
                }
            }
        }
        Ok(out)
    }
}

/// Whether the comparison may ask Snowflake, decided from the manifest by the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Known {
    /// No batch of the object was ever loaded: only the batch's own lines are known.
    BatchOnly,
    /// Snowflake holds lines of the object: ask it.
    Snowflake,
}

/// One line object's comparison, from the header read before the object's own read to the
/// tombstones after it.
#[derive(Debug)]
pub(super) struct LineCheck {
    object: String,
    key_field: &'static str,
    /// Headers changed in the window: RECORDNO → WHENMODIFIED as the tenant wrote it.
    changed: BTreeMap<u64, String>,
    /// This batch's lines of those headers: line → header.
    batch_lines: BTreeMap<u64, u64>,
}

/// The removed lines of one batch: tombstone rows (RECORDNO, header key, WHENMODIFIED).
#[derive(Debug)]
pub(super) struct Removed {
    /// Columns `RECORDNO`, the header key field, `WHENMODIFIED`.
    pub page: RecordPage,
    /// Headers compared.
    pub headers: u64,
}

impl LineCheck {
    /// Reads the headers of `object` changed in `window` (step 1 of the module docs); `None`
    /// for an object without a header.
    pub(super) async fn start(
        client: &IntacctClient,
        object: &str,
        window: TimeWindow,
        label: &str,
    ) -> Result<Option<LineCheck>> {
        let Some((header, key_field)) = objects::line_header(object) else {
            return Ok(None);
        };
        let mut request = ReadRequest::new(header, window, format!("{label}-{object}-headers"));
        request.fields = Some(vec![crate::schema::RECORD_NO_COLUMN.to_owned()]);
        request.page_size = KEY_PAGE_SIZE;
        let mut read = client.read_object(request);
        let mut changed = BTreeMap::new();
        while let Some(page) = read.pages.recv().await {
            let page = page?;
            let records = &page.records;
            for row in 0..records.len() {
                // A header never modified never lost a line.
                if let (Some(no), Some(modified)) = (
                    records
                        .get(row, crate::schema::RECORD_NO_COLUMN)
                        .and_then(key),
                    records
                        .get(row, "WHENMODIFIED")
                        .filter(|t| !t.trim().is_empty()),
                ) {
                    changed.insert(no, modified.to_owned());
                }
            }
        }
        read.finish(header).await?;
        Ok(Some(LineCheck {
            object: object.to_owned(),
            key_field,
            changed,
            batch_lines: BTreeMap::new(),
        }))
    }

    /// Keeps the (line, header) of `page`'s rows whose header changed in the window.
    pub(super) fn observe(&mut self, page: &RecordPage) {
        for row in 0..page.len() {
            if let (Some(line), Some(header)) = (
                page.get(row, crate::schema::RECORD_NO_COLUMN).and_then(key),
                page.get(row, self.key_field).and_then(key),
            ) && self.changed.contains_key(&header)
            {
                self.batch_lines.insert(line, header);
            }
        }
    }

    /// Steps 2 to 5 of the module docs: the tombstones of the lines of the changed headers
    /// that Intacct no longer returns.
    pub(super) async fn removed(
        self,
        client: &IntacctClient,
        known: Known,
        live: Option<&LiveLines>,
        label: &str,
    ) -> Result<Removed> {
        let headers: BTreeSet<u64> = self.changed.keys().copied().collect();
        let mut had = self.batch_lines.clone();
        if known == Known::Snowflake && !headers.is_empty() {
            let live = live.ok_or_else(|| Error::DeleteFeed {
                object: self.object.clone(),
                message: "removed lines cannot be compared without a Snowflake connection".into(),
            })?;
            had.extend(live.live(&self.object, self.key_field, &headers).await?);
        }
        let label = format!("{label}-{}-lines", self.object);
        let now = keyed_lines(client, &self.object, self.key_field, &headers, &label).await?;
        let mut gone = removed(&had, &now);
        if !gone.is_empty() {
            let candidates: BTreeSet<u64> = gone.keys().copied().collect();
            let elsewhere = keyed_lines(
                client,
                &self.object,
                crate::schema::RECORD_NO_COLUMN,
                &candidates,
                &format!("{label}-check"),
            )
            .await?;
            gone.retain(|line, _| !elsewhere.contains_key(line));
        }
        Ok(Removed {
            page: tombstone_page(self.key_field, &gone, &self.changed),
            headers: headers.len() as u64,
        })
    }
}

/// A key value (`12`, `12.0`, ` 12`) as a number.
fn key(text: &str) -> Option<u64> {
    crate::schema::values::parse_integer(text.trim()).and_then(|n| u64::try_from(n).ok())
}

/// The lines of `object` whose `field` is one of `values` (RECORDNO and the header key only,
/// at most [`MAX_IN_VALUES`] values an `in`, paged by RECORDNO): line → header.
async fn keyed_lines(
    client: &IntacctClient,
    object: &str,
    field: &str,
    values: &BTreeSet<u64>,
    label: &str,
) -> Result<BTreeMap<u64, u64>> {
    let (_, key_field) = objects::line_header(object).expect("a line object");
    let values: Vec<u64> = values.iter().copied().collect();
    let mut out = BTreeMap::new();
    for (n, chunk) in values.chunks(MAX_IN_VALUES).enumerate() {
        let mut after: Option<u64> = None;
        for page_no in 1.. {
            let query = keyed_query(object, key_field, field, chunk, after);
            let page = match client
                .call(
                    &format!("{label}-c{}-p{page_no}", n + 1),
                    &Call::Query(query),
                )
                .await?
            {
                ResultData::Records(page) => page,
                _ => {
                    return Err(Error::MalformedResponse {
                        kind: crate::error::MalformedKind::UnexpectedStructure,
                        detail: format!("a query of {object} returned no records element"),
                    });
                }
            };
            let mut last = None;
            for row in 0..page.len() {
                let line = page.get(row, crate::schema::RECORD_NO_COLUMN).and_then(key);
                let header = page.get(row, key_field).and_then(key);
                if let (Some(line), Some(header)) = (line, header) {
                    out.insert(line, header);
                }
                last = line.or(last);
            }
            if page.len() < KEY_PAGE_SIZE as usize {
                break;
            }
            match last {
                Some(l) if after.is_none_or(|a| l > a) => after = Some(l),
                _ => {
                    return Err(Error::ReadIncomplete {
                        object: object.to_owned(),
                        message: "a full page of line keys did not move past its last RECORDNO"
                            .into(),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// The `query` of one page of `object`'s lines whose `field` is in `values`, after RECORDNO
/// `after`: RECORDNO and `key_field` only, ordered by RECORDNO, `showprivate` set.
fn keyed_query(
    object: &str,
    key_field: &str,
    field: &str,
    values: &[u64],
    after: Option<u64>,
) -> Query {
    let within = Filter::In {
        field: field.to_owned(),
        values: values.iter().map(u64::to_string).collect(),
    };
    let filter = match after {
        None => within,
        Some(after) => Filter::And(vec![
            within,
            Filter::compare(
                Comparison::GreaterThan,
                crate::schema::RECORD_NO_COLUMN,
                after.to_string(),
            ),
        ]),
    };
    let mut select = vec![crate::schema::RECORD_NO_COLUMN.to_owned()];
    select.push(key_field.to_owned());
    Query {
        object: object.to_owned(),
        select,
        filter: Some(filter),
        order_by: vec![OrderBy {
            field: crate::schema::RECORD_NO_COLUMN.to_owned(),
            ascending: true,
        }],
        case_insensitive: false,
        show_private: true,
        page_size: Some(KEY_PAGE_SIZE),
        offset: None,
    }
}

/// The lines of `had` (line → header) that `now` (line → header) no longer lists under the
/// same header.
pub(super) fn removed(had: &BTreeMap<u64, u64>, now: &BTreeMap<u64, u64>) -> BTreeMap<u64, u64> {
    had.iter()
        .filter(|(line, header)| now.get(*line) != Some(*header))
        .map(|(l, h)| (*l, *h))
        .collect()
}

/// The tombstone rows of `gone` (line → header): RECORDNO, the header key and the header's
/// WHENMODIFIED (`modified`, by header).
pub(super) fn tombstone_page(
    key_field: &str,
    gone: &BTreeMap<u64, u64>,
    modified: &BTreeMap<u64, String>,
) -> RecordPage {
    RecordPage::from_rows(
        vec![
            crate::schema::RECORD_NO_COLUMN.to_owned(),
            key_field.to_owned(),
            super::deletes::MODIFIED_COLUMN.to_owned(),
        ],
        gone.iter()
            .filter_map(|(line, header)| {
                let when = modified.get(header)?;
                Some(vec![
                    Some(line.to_string()),
                    Some(header.to_string()),
                    Some(when.clone()),
                ])
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(u64, u64)]) -> BTreeMap<u64, u64> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn a_line_is_removed_when_its_header_no_longer_lists_it() {
        // Bill 1 lost line 11 and gained 13; bill 2 kept both; line 31 moved to bill 2.
        let had = map(&[(11, 1), (12, 1), (21, 2), (22, 2), (31, 3)]);
        let now = map(&[(12, 1), (13, 1), (21, 2), (22, 2), (31, 2)]);
        assert_eq!(removed(&had, &now), map(&[(11, 1), (31, 3)]));
        let modified: BTreeMap<u64, String> = [
            (1, "02/01/2024 09:00:00".to_owned()),
            (3, "02/01/2024 10:00:00".to_owned()),
        ]
        .into();
        let page = tombstone_page("RECORDKEY", &removed(&had, &now), &modified);
        assert_eq!(page.columns(), ["RECORDNO", "RECORDKEY", "WHENMODIFIED"]);
        let rows: Vec<Vec<Option<&str>>> = page.rows().map(|r| r.collect()).collect();
        assert_eq!(
            rows,
            [
                [Some("11"), Some("1"), Some("02/01/2024 09:00:00")],
                [Some("31"), Some("3"), Some("02/01/2024 10:00:00")]
            ]
        );
    }

    #[test]
    fn key_reads_page_by_record_no_within_one_in_list() {
        let q = keyed_query("APBILLITEM", "RECORDKEY", "RECORDKEY", &[5, 7], Some(40));
        assert_eq!(q.select, ["RECORDNO", "RECORDKEY"]);
        assert!(q.show_private);
        assert_eq!(q.page_size, Some(KEY_PAGE_SIZE));
        assert_eq!(
            q.filter,
            Some(Filter::And(vec![
                Filter::In {
                    field: "RECORDKEY".into(),
                    values: vec!["5".into(), "7".into()]
                },
                Filter::compare(Comparison::GreaterThan, "RECORDNO", "40"),
            ]))
        );
        assert_eq!(q.order_by[0].field, "RECORDNO");
        assert_eq!(key(" 12.0"), Some(12));
        assert_eq!(key("x"), None);
    }
}
