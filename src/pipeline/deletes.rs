//! The delete feed: hard deletes read from AUDITHISTORY, once per run for every object, as
//! tombstone rows in each object's batch; and, for line objects, the lines a live header no
//! longer has (`super::lines`).
//!
//! Intacct's `query` never returns a deleted record, so a WHENMODIFIED poll cannot see a
//! delete. With `extract.deletes = "audit_history"` (the default) the feed reads the
//! AUDITHISTORY rows with `ACCESSMODE = 'D'` of the objects in scope (never AUDITHISTORY
//! itself).
//!
//! # One read, bounded
//!
//! AUDITHISTORY is the company's whole audit log: every object's trail, user logins,
//! smart-event logs. Reading it whole fails on real tenants in ways a retry does not cure
//! (and the gateway wants an object type and a time filter: estuary/connectors pull request
//! 2889), so the feed never does:
//! * **one read per run** (per entity session with `intacct.entities`) for every object with
//!   a feed: `ACCESSMODE = 'D' AND OBJECTTYPE in (…)`, the [`audit_type`] of each object (the
//!   object itself, or a line object's header: APBILLITEM's deletes are APBILL's), over the
//!   union of the objects' feed windows, keyset-paged on (ACCESSTIME, ID) through the ordinary
//!   client (the ID as opaque text unless AUDITHISTORY's `lookup` types it INTEGER:
//!   [`feed_keys`]); each object's batch takes the rows of its type inside its own window;
//! * **bounded windows**, planned by `super::plan`: the feed re-reads
//!   `extract.delete_lookback_secs` (per object under `[extract.object.NAME]`; default
//!   [`objects::AUDIT_LAG_LOOKBACK_SECS`], three hours: AUDITHISTORY lags the change by up to
//!   two hours, Sage's Audit Trail help) before its own mark (the manifest's `deletes_up_to`),
//!   and ends with the object's window; without a mark it starts at the stream's first
//!   extraction minus that lookback (a first read contains no deleted record), never at the
//!   start of the audit trail. A backfill window reads no deletes: it reads the records live
//!   now, so one deleted before it is not among them, and one deleted later is the nightly
//!   feed's (its tombstone is newer than anything a backfill stages, so it wins whichever
//!   loads first);
//! * the gateway's generic `DL02000001` "There was an error processing the request." is
//!   tried [`GENERIC_ERROR_ATTEMPTS`] times on a page of the read, then the page is asked for
//!   at half the size (down to 100 rows) rather than retried for the whole retry budget.
//!
//! A failure of the shared read fails no object: objects without a feed never wait for it,
//! the others stage their rows, report `deletes_error` (a permission refusal names what Sage
//! requires: [`AUDIT_TRAIL_PERMISSION`]), and keep their delete mark where it was, so the
//! next run reads those deletes again. The mark moves only when the shared read reached its
//! end.
//!
//! # Tombstones
//!
//! Each delete becomes a **tombstone** row with the object's schema: the object's
//! [`objects::delete_key`] column set from OBJECTKEY, WHENMODIFIED = the delete's ACCESSTIME,
//! `_DELETED = true`, every other column NULL:
//!
//! | object | OBJECTKEY | tombstone carries |
//! |---|---|---|
//! | APBILL, APPYMT, others | `123--REC` or `123` | RECORDNO = 123 |
//! | VENDOR, CUSTOMER, GLACCOUNT, DEPARTMENT, LOCATION, CLASS, PROJECT, EMPLOYEE, ITEM | the unique name (`V00042`, `6000`) | VENDORID, CUSTOMERID, ACCOUNTNO, … = it; RECORDNO NULL |
//! | APBILLITEM, APPYMTDETAIL | the header's (`88--REC`) | RECORDKEY / PAYMENTKEY = 88; RECORDNO NULL |
//! | APBILLITEM, APPYMTDETAIL, a line removed from a live header (`super::lines`) | none | RECORDNO = the line, RECORDKEY / PAYMENTKEY = its header |
//!
//! The delete-key column always stays in the schema (like RECORDNO). The loader's MERGE
//! expands a RECORDNO-NULL tombstone to every target row sharing its delete-key value — a
//! deleted bill's lines, including those Purchasing re-created under new RECORDNOs. A number in
//! a name-keyed OBJECTKEY is never read as a RECORDNO: GL account "6000" does not delete record
//! 6000.
//!
//! # Removed lines
//!
//! Sage updates a bill or a payment from "only the lines you want to keep": a removed line
//! leaves no audit row and its header's WHENMODIFIED is all that moves. For a line object the
//! batch also compares, for every header changed in the planned window, the lines Intacct
//! returns now with the lines Snowflake holds live, and tombstones the difference. Why
//! Snowflake, and what it costs, is in `super::lines`.
//!
//! # A wrong object type
//!
//! OBJECTTYPE names are a guess beyond `apbill` and `vendor` (the lower-case object name). A
//! wrong one reads no delete, silently. So each run asks AUDITHISTORY, with one `query` of one
//! row, whether it holds any row at all (any access mode) of one object type over the last
//! [`AUDIT_TYPE_CHECK_DAYS`] days: the type, among those of objects that changed in that
//! period, whose last check is oldest (a type whose deletes the run's own read met needs no
//! check). The answer is kept with the object's batch (`audit_type_checked` in the manifest);
//! a type with no row at all for an object that changed is reported in the run report
//! (`audit_type_warning`) and by `status` until a later check finds rows. Cost: at most one
//! transaction a run.
//!
//! Invariants:
//! * a tombstone's WHENMODIFIED is the instant of the delete, so the loader's MERGE guard
//!   (`s.WHENMODIFIED > t.WHENMODIFIED`) lets it win over every version staged before it;
//! * an OBJECTKEY in no format known for the object is set aside as a quarantined row
//!   (counted as `deletes_quarantined` and reported), never guessed and never a failure of the
//!   object: a tombstone on a guessed key could delete a live record;
//! * the feed never de-duplicates against the object's own rows of the batch: should a key
//!   be both live and deleted, both rows are staged and the MERGE keeps the newest.
//!
//! The run report counts `deleted` apart from `records`, and `status` shows `deleted` beside
//! `rows`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::plan::PlannedExtract;
use crate::error::{Error, FailureClass, Result};
use crate::intacct::objects::{self, DeleteKey};
use crate::intacct::paging::{KeyFields, TimeWindow, audit_deletes_condition, audit_object_type};
use crate::intacct::response::{IntacctType, ObjectMeta, RecordPage};
use crate::intacct::{
    AUDIT_TRAIL_PERMISSION, Call, Comparison, Filter, IntacctClient, Query, ReadMethod,
    ReadRequest, ResultData, tenant_time,
};
use crate::manifest::{AuditTypeCheck, BatchStatus, ManifestState, Mode};
use crate::schema::{ColumnKind, QuarantinedRow, RECORD_NO_COLUMN, SchemaPlan};

/// The object the delete feed reads.
pub(super) const AUDIT_OBJECT: &str = "AUDITHISTORY";

/// The timestamp column a tombstone carries the delete time in.
pub(super) const MODIFIED_COLUMN: &str = "WHENMODIFIED";

/// Attempts for a page of the feed the gateway answers with its generic `DL02000001`, before
/// the page is asked for at half the size.
pub(super) const GENERIC_ERROR_ATTEMPTS: u32 = 2;

/// The period the object-type check asks about, in days.
pub(super) const AUDIT_TYPE_CHECK_DAYS: i64 = 30;

/// True when `object` has a delete feed: every object but AUDITHISTORY itself (an append-only
/// log has no deletes to follow).
pub(super) fn has_feed(object: &str) -> bool {
    !object.eq_ignore_ascii_case(AUDIT_OBJECT)
}

/// The `OBJECTTYPE` whose delete rows stand for `object`'s deletes: the lower-case name of
/// [`objects::audit_source`] (APBILLITEM → `apbill`).
pub(super) fn audit_type(object: &str) -> String {
    audit_object_type(&objects::audit_source(object))
}

/// The paging keys of the feed: `ACCESSTIME` and `ID`, the ID as opaque text unless
/// AUDITHISTORY's `lookup` types it INTEGER (Sage documents no type for it; see
/// [`crate::intacct::paging`] for what paging on text assumes).
pub(super) fn feed_keys(audit: &ObjectMeta) -> KeyFields {
    let mut keys = KeyFields::for_object(AUDIT_OBJECT);
    keys.record_key_text = !audit.fields.iter().any(|f| {
        f.name.eq_ignore_ascii_case(&keys.record_key) && f.data_type == IntacctType::Integer
    });
    keys
}

/// What one shared read of AUDITHISTORY covers: the object types and the union of the
/// windows of the objects it serves.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct FeedPlan {
    /// `OBJECTTYPE`s, sorted, each once.
    pub types: Vec<String>,
    /// From the earliest feed start (`None` when one has none) to the latest end.
    pub window: TimeWindow,
    /// Rows per page (the largest of the objects', at most 2000).
    pub page_size: u32,
}

/// The shared read that serves every planned extract with a delete feed; `None` when none has
/// one.
pub(super) fn feed_plan<'a>(
    planned: impl IntoIterator<Item = &'a PlannedExtract>,
) -> Option<FeedPlan> {
    let mut types = BTreeSet::new();
    let mut window: Option<TimeWindow> = None;
    let mut page_size = 0;
    for p in planned {
        let Some(feed) = p.deletes else { continue };
        types.insert(audit_type(&p.job.name));
        page_size = page_size.max(p.job.page_size);
        window = Some(match window {
            None => feed,
            Some(w) => TimeWindow {
                from: w.from.zip(feed.from).map(|(a, b)| a.min(b)),
                to: w.to.max(feed.to),
            },
        });
    }
    Some(FeedPlan {
        types: types.into_iter().collect(),
        window: window?,
        page_size: page_size.clamp(1, 2_000),
    })
}

/// The AUDITHISTORY read of `plan`, paged on `keys` ([`feed_keys`]): only `OBJECTTYPE` and
/// `OBJECTKEY` besides the paging keys. Controlids read `<label>-AUDITHISTORY-p<page>-a<attempt>`.
pub(super) fn feed_request(
    plan: &FeedPlan,
    label: &str,
    keep_raw: bool,
    keys: KeyFields,
) -> ReadRequest {
    let mut request = ReadRequest::new(AUDIT_OBJECT, plan.window, label);
    request.keys = keys;
    request.fields = Some(vec!["OBJECTTYPE".to_owned(), "OBJECTKEY".to_owned()]);
    request.method = ReadMethod::Query;
    request.page_size = plan.page_size;
    request.condition = Some(audit_deletes_condition(&plan.types));
    request.keep_raw = keep_raw;
    request.generic_error_attempts = Some(GENERIC_ERROR_ATTEMPTS);
    request
}

/// One AUDITHISTORY delete row, as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct AuditDelete {
    /// The row's ID.
    pub id: String,
    /// Its `OBJECTTYPE`, lower case.
    pub object_type: String,
    /// Its `OBJECTKEY`, as written.
    pub object_key: String,
    /// Its `ACCESSTIME`, as the tenant wrote it.
    pub access_time: String,
    /// That instant.
    pub at: DateTime<Utc>,
}

/// The delete rows of one AUDITHISTORY page. A row without ID or ACCESSTIME, or whose
/// ACCESSTIME does not read, is an error (the page is not an AUDITHISTORY page of this
/// tenant): a delete whose time does not read must not silently not delete.
pub(super) fn delete_rows(page: &RecordPage, tz: Tz) -> Result<Vec<AuditDelete>> {
    let fail = |id: &str, message: String| Error::DeleteFeed {
        object: AUDIT_OBJECT.to_owned(),
        message: format!("row ID {id} {message}"),
    };
    (0..page.len())
        .map(|row| {
            let id = page
                .get(row, "ID")
                .ok_or_else(|| fail("(none)", "has no ID".into()))?;
            let access_time = page
                .get(row, "ACCESSTIME")
                .ok_or_else(|| fail(id, "has no ACCESSTIME".into()))?;
            let at = tenant_time::parse(access_time, tz)
                .map_err(|e| fail(id, format!("has ACCESSTIME {access_time:?}: {e}")))?;
            Ok(AuditDelete {
                id: id.to_owned(),
                object_type: page
                    .get(row, "OBJECTTYPE")
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase(),
                object_key: page.get(row, "OBJECTKEY").unwrap_or("").to_owned(),
                access_time: access_time.to_owned(),
                at,
            })
        })
        .collect()
}

/// What one run's shared read of AUDITHISTORY found.
#[derive(Debug, Default)]
pub(super) struct AuditDeletes {
    /// Every delete row of the read's types and window.
    pub rows: Vec<AuditDelete>,
    /// The raw pages, when kept (every batch the read serves keeps them all).
    pub raw_pages: Vec<Bytes>,
    /// Pages read.
    pub pages: u64,
    /// The object-type check of this run, when one was made.
    pub type_check: Option<AuditTypeCheck>,
    /// The period the check asks about starts here (also the start of what a delete row of
    /// the read proves).
    pub check_since: Option<DateTime<Utc>>,
}

impl AuditDeletes {
    /// What this run learnt about `object`'s OBJECTTYPE: the check, when it asked about that
    /// type; else, when the read met a delete row of the type, that it has rows.
    pub(super) fn type_check_for(&self, object: &str) -> Option<AuditTypeCheck> {
        let object_type = audit_type(object);
        if let Some(check) = self
            .type_check
            .as_ref()
            .filter(|c| c.object_type == object_type)
        {
            return Some(check.clone());
        }
        let met = self.rows.iter().find(|r| r.object_type == object_type)?;
        Some(AuditTypeCheck {
            object_type,
            since: self.check_since.unwrap_or(met.at).min(met.at),
            seen: true,
        })
    }
}

/// The outcome of a run's shared read, shared by every batch it serves: the deletes, or the
/// read's error as text.
pub(super) type FeedOutcome = std::result::Result<AuditDeletes, String>;

/// A shared read in flight.
pub(super) type SharedFeed =
    futures::future::Shared<futures::future::BoxFuture<'static, Arc<FeedOutcome>>>;

/// Reads `request` (a [`feed_request`]) to its end; then, when `check_types` lists types, asks
/// about the first one the read met no delete of ([`type_check_query`]). `objects` names the
/// objects served, for the error.
pub(super) async fn read_feed(
    client: IntacctClient,
    request: ReadRequest,
    check_types: Vec<String>,
    objects: String,
    now: DateTime<Utc>,
) -> FeedOutcome {
    let tz = client.tenant_time_zone();
    let mut out = AuditDeletes::default();
    let mut read = client.read_object(request);
    while let Some(page) = read.pages.recv().await {
        let page = page.map_err(|e| read_error(&objects, e).to_string())?;
        if let Some(raw) = page.raw {
            out.raw_pages.push(raw);
        }
        out.rows
            .extend(delete_rows(&page.records, tz).map_err(|e| e.to_string())?);
        out.pages += 1;
    }
    read.finish(AUDIT_OBJECT)
        .await
        .map_err(|e| read_error(&objects, e).to_string())?;
    let since = now - Duration::days(AUDIT_TYPE_CHECK_DAYS);
    out.check_since = Some(since);
    let met: BTreeSet<&str> = out.rows.iter().map(|r| r.object_type.as_str()).collect();
    if let Some(object_type) = check_types.iter().find(|t| !met.contains(t.as_str())) {
        let query = type_check_query(object_type, since, now, tz);
        match client.call("audit-type-check", &Call::Query(query)).await {
            Ok(ResultData::Records(page)) => {
                out.type_check = Some(AuditTypeCheck {
                    object_type: object_type.clone(),
                    since,
                    seen: !page.is_empty(),
                });
            }
            Ok(_) => tracing::warn!(
                object_type,
                "AUDITHISTORY type check returned no records element"
            ),
            // The check is advice: the deletes read stands.
            Err(e) => tracing::warn!(object_type, error = %e, "AUDITHISTORY type check failed"),
        }
    }
    tracing::info!(objects, deletes = out.rows.len(), pages = out.pages, type_check = ?out.type_check, "deletes read");
    Ok(out)
}

/// The one-row `query` that says whether AUDITHISTORY holds any row of `object_type` (any
/// access mode) in `[since, until)`.
pub(super) fn type_check_query(
    object_type: &str,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    tz: Tz,
) -> Query {
    Query {
        object: AUDIT_OBJECT.to_owned(),
        select: vec!["ID".to_owned()],
        filter: Some(Filter::And(vec![
            Filter::compare(Comparison::EqualTo, "OBJECTTYPE", object_type),
            Filter::compare(
                Comparison::GreaterThanOrEqualTo,
                "ACCESSTIME",
                tenant_time::render(since, tz),
            ),
            Filter::compare(
                Comparison::LessThan,
                "ACCESSTIME",
                tenant_time::render(until, tz),
            ),
        ])),
        order_by: vec![],
        case_insensitive: false,
        show_private: true,
        page_size: Some(1),
        offset: None,
    }
}

/// The object types a run may check, the one to check first first: those of the planned
/// objects with a feed whose stream staged changed records (rows beyond tombstones) in a
/// nightly window starting within the check period of `now`, ordered by their last check
/// (never checked first, then the oldest), then by name.
pub(super) fn type_check_candidates<'a>(
    state: &ManifestState,
    planned: impl IntoIterator<Item = &'a PlannedExtract>,
    now: DateTime<Utc>,
) -> Vec<String> {
    let since = now - Duration::days(AUDIT_TYPE_CHECK_DAYS);
    let mut last_check: BTreeMap<String, Option<u64>> = BTreeMap::new();
    for p in planned {
        if p.deletes.is_none() {
            continue;
        }
        let job = &p.job;
        let batches: Vec<_> = state
            .batches_of_stream(&job.name, job.entity.as_deref())
            .collect();
        let changed = batches.iter().any(|b| {
            b.mode == Mode::Nightly
                && matches!(b.status, BatchStatus::Staged | BatchStatus::Loaded)
                && b.rows > b.deleted_rows
                && b.window_from.is_some_and(|f| f >= since)
        });
        if !changed {
            continue;
        }
        let checked = batches
            .iter()
            .filter(|b| b.audit_type_check.is_some())
            .map(|b| b.created_version)
            .max();
        let entry = last_check.entry(audit_type(&job.name)).or_insert(checked);
        *entry = (*entry).max(checked);
    }
    let mut types: Vec<(Option<u64>, String)> =
        last_check.into_iter().map(|(t, v)| (v, t)).collect();
    types.sort();
    types.into_iter().map(|(_, t)| t).collect()
}

/// The warning for `object` when `check` found no row of its type.
pub(super) fn audit_type_warning(object: &str, check: &AuditTypeCheck) -> Option<String> {
    (!check.seen).then(|| {
        format!(
            "{object} changed in the last {AUDIT_TYPE_CHECK_DAYS} days but AUDITHISTORY has no row \
             at all of OBJECTTYPE '{}' since {}: the object type name is probably not the one \
             this tenant uses (names beyond 'apbill' and 'vendor' are guesses), so deletes of \
             {object} are not seen; `verify` finds them meanwhile",
            check.object_type,
            check.since.format("%Y-%m-%d %H:%M UTC"),
        )
    })
}

/// The tombstones of one object from a shared read, and the rows set aside.
#[derive(Debug)]
pub(super) struct Tombstones {
    /// Columns: the object's delete-key column (RECORDNO or e.g. VENDORID) and
    /// `WHENMODIFIED` (the row's ACCESSTIME, as the tenant wrote it); the schema fills every
    /// other column with NULL.
    pub page: RecordPage,
    /// AUDITHISTORY rows whose OBJECTKEY is in no format known for the object.
    pub quarantined: Vec<QuarantinedRow>,
}

/// The tombstones of `object`: one per delete row of its [`audit_type`] whose ACCESSTIME lies
/// in `window`, in the read's order; a row whose OBJECTKEY does not fit the object is set
/// aside.
pub(super) fn tombstones(object: &str, window: TimeWindow, deletes: &[AuditDelete]) -> Tombstones {
    let object_type = audit_type(object);
    let key = objects::delete_key(object);
    let mut rows = Vec::new();
    let mut quarantined = Vec::new();
    let in_window = |d: &AuditDelete| window.from.is_none_or(|f| d.at >= f) && d.at < window.to;
    for d in deletes
        .iter()
        .filter(|d| d.object_type == object_type && in_window(d))
    {
        match objects::delete_key_value(object, &d.object_key) {
            Some(value) => rows.push(vec![Some(value), Some(d.access_time.clone())]),
            None => quarantined.push(QuarantinedRow {
                object: object.to_owned(),
                record_no: None,
                field: format!("{AUDIT_OBJECT}.OBJECTKEY (ID {})", d.id),
                value: d.object_key.clone(),
                expected: expected_key(object, key),
            }),
        }
    }
    Tombstones {
        page: RecordPage::from_rows(
            vec![key.column().to_owned(), MODIFIED_COLUMN.to_owned()],
            rows,
        ),
        quarantined,
    }
}

fn expected_key(object: &str, key: DeleteKey) -> String {
    match key {
        DeleteKey::Column(column) if !objects::is_line_object(object) => {
            format!("the record's {column}")
        }
        _ => format!("a {} RECORDNO (N or N--REC)", objects::audit_source(object)),
    }
}

/// Checks that `plan` can hold tombstones: an integer RECORDNO, a timestamp WHENMODIFIED and
/// the object's delete-key column.
pub(super) fn check_plan(plan: &SchemaPlan) -> Result<()> {
    let fail = |message: String| Error::DeleteFeed {
        object: plan.object.clone(),
        message,
    };
    for (column, kind) in [
        (RECORD_NO_COLUMN, ColumnKind::Integer),
        (MODIFIED_COLUMN, ColumnKind::Timestamp),
    ] {
        if !plan
            .columns
            .iter()
            .any(|c| c.column == column && c.kind == kind)
        {
            return Err(fail(format!(
                "the object has no {column} column of type {kind:?} to stage deletes in; \
                 set `deletes = \"off\"` under [extract] in the pipeline to extract it \
                 without deletes"
            )));
        }
    }
    let column = objects::delete_key(&plan.object).column();
    if !plan.columns.iter().any(|c| c.field == column) {
        return Err(fail(format!(
            "the object has no {column} column, which its deletes are keyed on; set \
             `deletes = \"off\"` under [extract] in the pipeline to extract it without deletes"
        )));
    }
    Ok(())
}

/// The error a failed feed read is reported with: a permission refusal becomes
/// [`Error::DeleteFeed`] saying what Sage requires ([`AUDIT_TRAIL_PERMISSION`]) and naming
/// the setting that turns the feed off; anything else is returned unchanged (its controlid
/// already names AUDITHISTORY). `objects` names the objects the read served.
pub(super) fn read_error(objects: &str, error: Error) -> Error {
    match &error {
        Error::Intacct(failure) if failure.class() == FailureClass::PermissionDenied => {
            Error::DeleteFeed {
                object: objects.to_owned(),
                message: format!(
                    "AUDITHISTORY refused the read ({error}); {AUDIT_TRAIL_PERMISSION}; or set \
                     `deletes = \"off\"` under [extract] in the pipeline to extract without \
                     deletes"
                ),
            }
        }
        _ => error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intacct::codes;
    use crate::intacct::response::{ErrorDetail, ErrorLevel};

    const LA: Tz = chrono_tz::America::Los_Angeles;

    fn at(text: &str) -> DateTime<Utc> {
        tenant_time::parse(text, LA).unwrap()
    }

    /// An AUDITHISTORY page: (ID, OBJECTTYPE, OBJECTKEY, ACCESSTIME).
    fn audit_page(rows: &[(&str, &str, Option<&str>, Option<&str>)]) -> RecordPage {
        RecordPage::from_rows(
            vec![
                "ID".into(),
                "OBJECTTYPE".into(),
                "OBJECTKEY".into(),
                "ACCESSTIME".into(),
            ],
            rows.iter()
                .map(|(id, t, key, at)| {
                    vec![
                        Some(id.to_string()),
                        Some(t.to_string()),
                        key.map(str::to_owned),
                        at.map(str::to_owned),
                    ]
                })
                .collect(),
        )
    }

    fn rows(page: &RecordPage) -> Vec<Vec<Option<&str>>> {
        page.rows().map(|r| r.collect()).collect()
    }

    fn everything() -> TimeWindow {
        TimeWindow {
            from: None,
            to: at("12/31/2030 00:00:00"),
        }
    }

    #[test]
    fn tombstones_carry_the_key_and_the_delete_time() {
        let page = audit_page(&[
            ("11", "apbill", Some("5--REC"), Some("02/01/2024 09:00:00")),
            ("12", "APBILL", Some("17"), Some("02/01/2024 09:00:01")),
            ("13", "apbill", Some("x--REC"), Some("02/01/2024 09:00:02")),
            ("14", "vendor", Some("V1"), Some("02/01/2024 09:00:03")),
        ]);
        let deletes = delete_rows(&page, LA).unwrap();
        assert_eq!(deletes[1].object_type, "apbill");
        assert_eq!(deletes[0].at, at("02/01/2024 09:00:00"));
        let t = tombstones("APBILL", everything(), &deletes);
        assert_eq!(t.page.columns(), ["RECORDNO", "WHENMODIFIED"]);
        assert_eq!(
            rows(&t.page),
            [
                [Some("5"), Some("02/01/2024 09:00:00")],
                [Some("17"), Some("02/01/2024 09:00:01")]
            ]
        );
        // The unreadable row is set aside, not a failure.
        assert_eq!(t.quarantined.len(), 1);
        assert!(
            t.quarantined[0].field.contains("ID 13"),
            "{:?}",
            t.quarantined
        );
        assert_eq!(t.quarantined[0].value, "x--REC");
        let err =
            delete_rows(&audit_page(&[("15", "apbill", Some("1--REC"), None)]), LA).unwrap_err();
        assert!(err.to_string().contains("ID 15 has no ACCESSTIME"), "{err}");
        let err = delete_rows(
            &audit_page(&[("16", "apbill", Some("1--REC"), Some("2024-02-01"))]),
            LA,
        )
        .unwrap_err();
        assert!(matches!(err, Error::DeleteFeed { .. }), "{err}");
    }

    #[test]
    fn each_object_takes_the_rows_of_its_type_inside_its_own_window() {
        let deletes = delete_rows(
            &audit_page(&[
                ("1", "apbill", Some("5--REC"), Some("02/01/2024 08:59:59")),
                ("2", "apbill", Some("6--REC"), Some("02/01/2024 09:00:00")),
                ("3", "vendor", Some("V7"), Some("02/01/2024 09:30:00")),
                ("4", "apbill", Some("8--REC"), Some("02/01/2024 10:00:00")),
            ]),
            LA,
        )
        .unwrap();
        let window = TimeWindow {
            from: Some(at("02/01/2024 09:00:00")),
            to: at("02/01/2024 10:00:00"),
        };
        let bills = tombstones("APBILL", window, &deletes);
        assert_eq!(
            rows(&bills.page),
            [[Some("6"), Some("02/01/2024 09:00:00")]]
        );
        // A line object takes its header's rows.
        let lines = tombstones("APBILLITEM", window, &deletes);
        assert_eq!(lines.page.columns(), ["RECORDKEY", "WHENMODIFIED"]);
        assert_eq!(
            rows(&lines.page),
            [[Some("6"), Some("02/01/2024 09:00:00")]]
        );
        let vendors = tombstones("VENDOR", window, &deletes);
        assert_eq!(
            rows(&vendors.page),
            [[Some("V7"), Some("02/01/2024 09:30:00")]]
        );
        assert!(tombstones("CUSTOMER", window, &deletes).page.is_empty());
    }

    #[test]
    fn name_keyed_tombstones_never_read_a_number_as_a_record_no() {
        // GL account 6000 and record 6000 are different records.
        let deletes = delete_rows(
            &audit_page(&[
                ("21", "glaccount", Some("6000"), Some("02/01/2024 09:00:00")),
                (
                    "22",
                    "glaccount",
                    Some("6000--REC"),
                    Some("02/01/2024 09:00:01"),
                ),
            ]),
            LA,
        )
        .unwrap();
        let t = tombstones("GLACCOUNT", everything(), &deletes);
        assert_eq!(t.page.columns(), ["ACCOUNTNO", "WHENMODIFIED"]);
        assert_eq!(t.page.column_index("RECORDNO"), None);
        assert_eq!(rows(&t.page), [[Some("6000"), Some("02/01/2024 09:00:00")]]);
        assert_eq!(t.quarantined.len(), 1);
    }

    fn job(object: &str, page_size: u32) -> crate::pipeline::ObjectJob {
        crate::pipeline::ObjectJob {
            name: object.to_owned(),
            method: ReadMethod::Query,
            fields: None,
            page_size,
            exclude_fields: vec![],
            lookback: None,
            key: "RECORDNO".into(),
            watermark_field: "WHENMODIFIED".into(),
            delete_lookback: None,
            entity: None,
        }
    }

    fn planned(object: &str, feed: Option<(Option<&str>, &str)>) -> PlannedExtract {
        PlannedExtract {
            job: job(object, 500),
            mode: Mode::Nightly,
            window: TimeWindow {
                from: None,
                to: at("02/02/2024 00:00:00"),
            },
            deletes: feed.map(|(from, to)| TimeWindow {
                from: from.map(at),
                to: at(to),
            }),
            lines: None,
            resume: None,
        }
    }

    #[test]
    fn one_read_serves_every_object_over_the_union_of_their_windows() {
        let plans = [
            planned(
                "APBILL",
                Some((Some("02/01/2024 21:00:00"), "02/02/2024 00:00:00")),
            ),
            planned(
                "APBILLITEM",
                Some((Some("01/30/2024 21:00:00"), "02/02/2024 00:00:00")),
            ),
            planned(
                "VENDOR",
                Some((Some("02/01/2024 22:00:00"), "02/02/2024 00:00:00")),
            ),
            planned("CUSTOMER", None),
        ];
        let plan = feed_plan(&plans).unwrap();
        assert_eq!(plan.types, ["apbill", "vendor"]);
        assert_eq!(
            plan.window,
            TimeWindow {
                from: Some(at("01/30/2024 21:00:00")),
                to: at("02/02/2024 00:00:00")
            }
        );
        assert_eq!(plan.page_size, 500);
        assert_eq!(feed_plan(&plans[3..]), None, "no object has a feed");
        let keys = KeyFields::for_object(AUDIT_OBJECT);
        let r = feed_request(&plan, "deletes", true, keys);
        assert_eq!(r.object, "AUDITHISTORY");
        assert_eq!(r.keys.record_key, "ID");
        assert_eq!(r.keys.modified, "ACCESSTIME");
        assert!(r.keep_raw);
        assert_eq!(r.batch_label, "deletes");
        assert_eq!(r.generic_error_attempts, Some(GENERIC_ERROR_ATTEMPTS));
        assert_eq!(
            r.condition,
            Some(Filter::And(vec![
                Filter::compare(Comparison::EqualTo, "ACCESSMODE", "D"),
                Filter::In {
                    field: "OBJECTTYPE".into(),
                    values: vec!["apbill".into(), "vendor".into()]
                },
            ]))
        );
        assert!(!has_feed("AUDITHISTORY") && !has_feed("audithistory"));
        assert!(has_feed("APBILL"));
        assert_eq!(audit_type("APPYMTDETAIL"), "appymt");
    }

    #[test]
    fn the_audit_id_is_text_unless_lookup_types_it_as_an_integer() {
        use crate::intacct::response::FieldMeta;
        let audit = |id_type: Option<IntacctType>| ObjectMeta {
            name: AUDIT_OBJECT.into(),
            fields: id_type
                .map(|t| FieldMeta::new("ID", t))
                .into_iter()
                .chain([FieldMeta::new("ACCESSTIME", IntacctType::Timestamp)])
                .collect(),
        };
        assert!(feed_keys(&audit(None)).record_key_text);
        assert!(feed_keys(&audit(Some(IntacctType::Text))).record_key_text);
        assert!(feed_keys(&audit(Some(IntacctType::Other(String::new())))).record_key_text);
        let integer = feed_keys(&audit(Some(IntacctType::Integer)));
        assert!(!integer.record_key_text);
        assert_eq!(integer.record_key, "ID");
        assert_eq!(integer.modified, "ACCESSTIME");
    }

    #[test]
    fn a_permission_refusal_says_what_sage_requires_and_names_the_setting() {
        let failure = |errorno: &str| {
            codes::failure(
                ErrorLevel::Result,
                Some("query".into()),
                Some("deletes-AUDITHISTORY-p1-a1".into()),
                false,
                vec![ErrorDetail {
                    errorno: errorno.into(),
                    description: Some("You do not have permission for API operation".into()),
                    description2: None,
                    correction: None,
                }],
            )
        };
        let err = read_error("APBILL, VENDOR", Error::Intacct(failure("PL04000005")));
        let text = err.to_string();
        assert!(matches!(err, Error::DeleteFeed { .. }), "{text}");
        assert!(text.contains("AUDITHISTORY"), "{text}");
        assert!(text.contains(AUDIT_TRAIL_PERMISSION), "{text}");
        assert!(text.contains("deletes = \"off\""), "{text}");
        assert!(text.contains("PL04000005"), "{text}");
        assert!(text.contains("APBILL, VENDOR"), "{text}");
        assert!(!err.is_retryable());
        // Other failures keep their own variant (and retryability).
        assert!(matches!(
            read_error("APBILL", Error::Intacct(failure("DL02000001"))),
            Error::Intacct(_)
        ));
    }

    #[test]
    fn the_type_check_asks_for_one_row_of_one_type_in_the_period() {
        let q = type_check_query(
            "project",
            at("01/01/2024 00:00:00"),
            at("01/31/2024 00:00:00"),
            LA,
        );
        assert_eq!(q.object, "AUDITHISTORY");
        assert_eq!(q.page_size, Some(1));
        assert_eq!(
            q.filter,
            Some(Filter::And(vec![
                Filter::compare(Comparison::EqualTo, "OBJECTTYPE", "project"),
                Filter::compare(
                    Comparison::GreaterThanOrEqualTo,
                    "ACCESSTIME",
                    "01/01/2024 00:00:00"
                ),
                Filter::compare(Comparison::LessThan, "ACCESSTIME", "01/31/2024 00:00:00"),
            ]))
        );
        // What a run learnt: the check about a type, or a delete row of it.
        let found = AuditDeletes {
            rows: delete_rows(
                &audit_page(&[("1", "vendor", Some("V1"), Some("01/20/2024 09:00:00"))]),
                LA,
            )
            .unwrap(),
            type_check: Some(AuditTypeCheck {
                object_type: "project".into(),
                since: at("01/01/2024 00:00:00"),
                seen: false,
            }),
            check_since: Some(at("01/01/2024 00:00:00")),
            ..AuditDeletes::default()
        };
        let project = found.type_check_for("PROJECT").unwrap();
        assert!(!project.seen);
        let warning = audit_type_warning("PROJECT", &project).unwrap();
        assert!(warning.contains("'project'"), "{warning}");
        assert!(warning.contains("30 days"), "{warning}");
        assert!(found.type_check_for("VENDOR").unwrap().seen);
        assert_eq!(
            audit_type_warning("VENDOR", &found.type_check_for("VENDOR").unwrap()),
            None
        );
        assert_eq!(found.type_check_for("CUSTOMER"), None);
    }

    #[test]
    fn the_type_checked_first_is_the_one_checked_longest_ago() {
        use crate::manifest::{Action, Commit, fold};
        let t = |day: i64| DateTime::from_timestamp(1_700_000_000 + day * 86_400, 0).unwrap();
        let batch = |id: &str, object: &str, from: Option<i64>, rows: u64| {
            vec![
                Action::BatchCreated {
                    batch_id: id.into(),
                    object: object.into(),
                    mode: Mode::Nightly,
                    window_from: from.map(t),
                    window_to: t(40),
                    schema_fingerprint: "f".into(),
                    replay_of: None,
                    keys: None,
                },
                Action::BatchStaged {
                    batch_id: id.into(),
                    files: vec![crate::stage::parts::StagedFile {
                        path: format!("{object}/{id}/part-00001.parquet"),
                        rows,
                        bytes: 1,
                        sha256: "0".into(),
                    }],
                    raw_pages: vec![],
                    quarantine: vec![],
                    rows,
                    deleted_rows: 0,
                    bytes: 1,
                    staged_up_to: Some(t(40)),
                    deletes_up_to: None,
                },
            ]
        };
        let checked = |id: &str, object_type: &str| Action::AuditTypeChecked {
            batch_id: id.into(),
            object_type: object_type.into(),
            since: t(10),
            seen: true,
        };
        let mut commits = vec![
            batch("v", "VENDOR", Some(39), 3),
            batch("c", "CUSTOMER", Some(39), 2),
            batch("p", "PROJECT", Some(39), 4),
            // A first read (everything) says nothing about the last 30 days.
            batch("e", "EMPLOYEE", None, 9),
            // Only tombstones: no change.
            batch("g", "GLACCOUNT", Some(39), 0),
        ];
        // VENDOR was checked before CUSTOMER; PROJECT never.
        commits[0].insert(1, checked("v", "vendor"));
        commits[1].insert(1, checked("c", "customer"));
        let commits: Vec<Commit> = commits
            .into_iter()
            .enumerate()
            .map(|(i, actions)| Commit {
                version: i as u64 + 1,
                written_at: t(0),
                run_id: "r".into(),
                generation: 0,
                actions,
            })
            .collect();
        let state = fold(None, &commits).unwrap();
        let plans: Vec<PlannedExtract> = ["CUSTOMER", "VENDOR", "PROJECT", "EMPLOYEE", "GLACCOUNT"]
            .iter()
            .map(|o| {
                let mut p = planned(
                    o,
                    Some((Some("01/01/2024 00:00:00"), "02/01/2024 00:00:00")),
                );
                p.job.name = o.to_string();
                p
            })
            .collect();
        assert_eq!(
            type_check_candidates(&state, &plans, t(41)),
            ["project", "vendor", "customer"]
        );
        // Changes older than the period do not count.
        assert!(type_check_candidates(&state, &plans, t(80)).is_empty());
    }
}
