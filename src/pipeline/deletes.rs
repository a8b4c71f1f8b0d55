//! The delete feed: an object's hard deletes, read from AUDITHISTORY, as tombstone rows.
//!
//! Intacct's `query` never returns a deleted record, so a WHENMODIFIED poll cannot see a
//! delete. With `extract.deletes = "audit_history"` (the default), for each object in scope
//! (never AUDITHISTORY itself) `extract` reads the AUDITHISTORY rows with `ACCESSMODE = 'D'`
//! and `OBJECTTYPE` = the object's [`objects::audit_source`] (the object itself, or a line
//! object's header: APBILLITEM's deletes are APBILL's, APPYMTDETAIL's are APPYMT's) whose
//! ACCESSTIME lies in the feed's window, keyset-paged on (ACCESSTIME, ID) through the ordinary
//! client (the ID as opaque text unless AUDITHISTORY's `lookup` types it INTEGER:
//! `feed_keys`): one more `query` read per object, staged in the object's batch.
//!
//! The feed's window is its own, planned by `super::plan`: AUDITHISTORY lags the change by up
//! to two hours (Sage's Audit Trail help), so it starts `extract.delete_lookback_secs` (per
//! object under `[extract.object.NAME]`; default [`objects::AUDIT_LAG_LOOKBACK_SECS`], three
//! hours) before the feed's own mark (the manifest's `deletes_up_to`, moved only by a feed
//! that read to the end; everything on the first run) and ends with the object's window.
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
//!
//! The delete-key column always stays in the schema (like RECORDNO). The loader's MERGE
//! expands a RECORDNO-NULL tombstone to every target row sharing its delete-key value — a
//! deleted bill's lines, including those Purchasing re-created under new RECORDNOs. A number in
//! a name-keyed OBJECTKEY is never read as a RECORDNO: GL account "6000" does not delete record
//! 6000.
//!
//! Invariants:
//! * a tombstone's WHENMODIFIED is the instant of the delete, so the loader's MERGE guard
//!   (`s.WHENMODIFIED > t.WHENMODIFIED`) lets it win over every version staged before it;
//! * an OBJECTKEY in no format known for the object is set aside as a quarantined row
//!   (counted as `deletes_quarantined` and reported), never guessed and never a failure of the
//!   object: a tombstone on a guessed key could delete a live record;
//! * a failed feed (an API user without permission on AUDITHISTORY, an outage) never fails the
//!   object: its rows stage, the run report carries `deletes_error` (for a permission refusal
//!   it names the way out, `deletes = "off"` under `[extract]`), and since the feed's mark does
//!   not move, the next run reads the same deletes again;
//! * the feed never de-duplicates against the object's own rows of the batch: should a key
//!   be both live and deleted, both rows are staged and the MERGE keeps the newest.
//!
//! The run report counts `deleted` apart from `records`, and `status` shows `deleted` beside
//! `rows`.

use crate::error::{Error, FailureClass, Result};
use crate::intacct::objects::{self, DeleteKey};
use crate::intacct::paging::{KeyFields, TimeWindow, audit_deletes_condition};
use crate::intacct::response::{IntacctType, ObjectMeta, RecordPage};
use crate::intacct::{ReadMethod, ReadRequest};
use crate::schema::{ColumnKind, QuarantinedRow, RECORD_NO_COLUMN, SchemaPlan};

/// The object the delete feed reads.
pub(super) const AUDIT_OBJECT: &str = "AUDITHISTORY";

/// The timestamp column a tombstone carries the delete time in.
pub(super) const MODIFIED_COLUMN: &str = "WHENMODIFIED";

/// True when `object` has a delete feed: every object but AUDITHISTORY itself (an append-only
/// log has no deletes to follow).
pub(super) fn has_feed(object: &str) -> bool {
    !object.eq_ignore_ascii_case(AUDIT_OBJECT)
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

/// The AUDITHISTORY read of `object`'s deletes over `window`, paged on `keys`
/// ([`feed_keys`]): only `OBJECTKEY` besides the paging keys. Controlids read
/// `<batch>-<object>-AUDITHISTORY-p<page>-a<attempt>`.
pub(super) fn feed_request(
    object: &str,
    window: TimeWindow,
    batch_id: &str,
    page_size: u32,
    keep_raw: bool,
    keys: KeyFields,
) -> ReadRequest {
    let mut request = ReadRequest::new(AUDIT_OBJECT, window, format!("{batch_id}-{object}"));
    request.keys = keys;
    request.fields = Some(vec!["OBJECTKEY".to_owned()]);
    request.method = ReadMethod::Query;
    request.page_size = page_size.clamp(1, 2_000);
    request.condition = Some(audit_deletes_condition(&objects::audit_source(object)));
    request.keep_raw = keep_raw;
    request
}

/// The tombstones of one AUDITHISTORY page, and the rows set aside.
#[derive(Debug)]
pub(super) struct Tombstones {
    /// Columns: the object's delete-key column (RECORDNO or e.g. VENDORID) and
    /// `WHENMODIFIED` (the row's ACCESSTIME, as the tenant wrote it); the schema fills every
    /// other column with NULL.
    pub page: RecordPage,
    /// AUDITHISTORY rows whose OBJECTKEY is in no format known for the object.
    pub quarantined: Vec<QuarantinedRow>,
}

/// The tombstones of one AUDITHISTORY page, one per readable delete, in the page's order. A
/// row without ID or ACCESSTIME is an error (the page is not an AUDITHISTORY page); a row
/// whose OBJECTKEY does not fit the object is set aside.
pub(super) fn tombstones(object: &str, audit: &RecordPage) -> Result<Tombstones> {
    let missing = |row: usize, field: &str| {
        let id = audit.get(row, "ID").unwrap_or("(none)");
        Error::DeleteFeed {
            object: object.to_owned(),
            message: format!("AUDITHISTORY row ID {id} has no {field}"),
        }
    };
    let key = objects::delete_key(object);
    let mut rows = Vec::with_capacity(audit.len());
    let mut quarantined = Vec::new();
    for row in 0..audit.len() {
        let id = audit.get(row, "ID").ok_or_else(|| missing(row, "ID"))?;
        let at = audit
            .get(row, "ACCESSTIME")
            .ok_or_else(|| missing(row, "ACCESSTIME"))?;
        let object_key = audit.get(row, "OBJECTKEY").unwrap_or("");
        match objects::delete_key_value(object, object_key) {
            Some(value) => rows.push(vec![Some(value), Some(at.to_owned())]),
            None => quarantined.push(QuarantinedRow {
                object: object.to_owned(),
                record_no: None,
                field: format!("{AUDIT_OBJECT}.OBJECTKEY (ID {id})"),
                value: object_key.to_owned(),
                expected: expected_key(object, key),
            }),
        }
    }
    Ok(Tombstones {
        page: RecordPage::from_rows(
            vec![key.column().to_owned(), MODIFIED_COLUMN.to_owned()],
            rows,
        ),
        quarantined,
    })
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
/// [`Error::DeleteFeed`] naming the setting that turns the feed off; anything else is
/// returned unchanged (its controlid already names AUDITHISTORY).
pub(super) fn read_error(object: &str, error: Error) -> Error {
    match &error {
        Error::Intacct(failure) if failure.class() == FailureClass::PermissionDenied => {
            Error::DeleteFeed {
                object: object.to_owned(),
                message: format!(
                    "AUDITHISTORY refused the read ({error}); give the API user read \
                     permission on AUDITHISTORY (the company audit trail), or set \
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
    use crate::intacct::request::{Comparison, Filter};
    use crate::intacct::response::{ErrorDetail, ErrorLevel};

    fn audit_page(rows: &[(&str, Option<&str>, Option<&str>)]) -> RecordPage {
        RecordPage::from_rows(
            vec!["ID".into(), "OBJECTKEY".into(), "ACCESSTIME".into()],
            rows.iter()
                .map(|(id, key, at)| {
                    vec![
                        Some(id.to_string()),
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

    #[test]
    fn tombstones_carry_the_key_and_the_delete_time() {
        let page = audit_page(&[
            ("11", Some("5--REC"), Some("02/01/2024 09:00:00")),
            ("12", Some("17"), Some("02/01/2024 09:00:01")),
            ("13", Some("x--REC"), Some("02/01/2024 09:00:02")),
        ]);
        let t = tombstones("APBILL", &page).unwrap();
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
        let err = tombstones("APBILL", &audit_page(&[("14", Some("1--REC"), None)])).unwrap_err();
        assert!(err.to_string().contains("ID 14 has no ACCESSTIME"), "{err}");
    }

    #[test]
    fn name_keyed_tombstones_never_read_a_number_as_a_record_no() {
        // GL account 6000 and record 6000 are different records.
        let page = audit_page(&[
            ("21", Some("6000"), Some("02/01/2024 09:00:00")),
            ("22", Some("6000--REC"), Some("02/01/2024 09:00:01")),
        ]);
        let t = tombstones("GLACCOUNT", &page).unwrap();
        assert_eq!(t.page.columns(), ["ACCOUNTNO", "WHENMODIFIED"]);
        assert_eq!(t.page.column_index("RECORDNO"), None);
        assert_eq!(rows(&t.page), [[Some("6000"), Some("02/01/2024 09:00:00")]]);
        assert_eq!(t.quarantined.len(), 1);
        let t = tombstones(
            "VENDOR",
            &audit_page(&[("23", Some("V00042"), Some("02/01/2024 09:00:00"))]),
        )
        .unwrap();
        assert_eq!(t.page.columns(), ["VENDORID", "WHENMODIFIED"]);
        assert_eq!(
            rows(&t.page),
            [[Some("V00042"), Some("02/01/2024 09:00:00")]]
        );
    }

    #[test]
    fn line_tombstones_name_the_header() {
        let page = audit_page(&[("31", Some("88--REC"), Some("02/01/2024 09:00:00"))]);
        let t = tombstones("APBILLITEM", &page).unwrap();
        assert_eq!(t.page.columns(), ["RECORDKEY", "WHENMODIFIED"]);
        assert_eq!(rows(&t.page), [[Some("88"), Some("02/01/2024 09:00:00")]]);
        let t = tombstones("APPYMTDETAIL", &page).unwrap();
        assert_eq!(t.page.columns(), ["PAYMENTKEY", "WHENMODIFIED"]);
    }

    #[test]
    fn the_feed_reads_only_deletes_of_the_object() {
        let window = TimeWindow {
            from: None,
            to: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        };
        let keys = KeyFields::for_object(AUDIT_OBJECT);
        let r = feed_request("APBILL", window, "b1", 5_000, true, keys.clone());
        assert_eq!(r.object, "AUDITHISTORY");
        assert_eq!(r.keys.record_key, "ID");
        assert_eq!(r.keys.modified, "ACCESSTIME");
        assert_eq!(r.page_size, 2_000);
        assert!(r.keep_raw);
        assert_eq!(r.batch_label, "b1-APBILL");
        let deletes_of = |t: &str| {
            Some(Filter::And(vec![
                Filter::compare(Comparison::EqualTo, "ACCESSMODE", "D"),
                Filter::compare(Comparison::EqualTo, "OBJECTTYPE", t),
            ]))
        };
        assert_eq!(r.condition, deletes_of("apbill"));
        // A line object's deletes are its header's.
        let r = feed_request("APBILLITEM", window, "b1", 5_000, true, keys);
        assert_eq!(r.batch_label, "b1-APBILLITEM");
        assert_eq!(r.condition, deletes_of("apbill"));
        assert!(!has_feed("AUDITHISTORY") && !has_feed("audithistory"));
        assert!(has_feed("APBILL"));
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
    fn a_permission_refusal_names_the_setting_that_turns_the_feed_off() {
        let failure = |errorno: &str| {
            codes::failure(
                ErrorLevel::Result,
                Some("query".into()),
                Some("b1-APBILL-AUDITHISTORY-p1-a1".into()),
                false,
                vec![ErrorDetail {
                    errorno: errorno.into(),
                    description: Some("You do not have permission for API operation".into()),
                    description2: None,
                    correction: None,
                }],
            )
        };
        let err = read_error("APBILL", Error::Intacct(failure("PL04000005")));
        let text = err.to_string();
        assert!(matches!(err, Error::DeleteFeed { .. }), "{text}");
        assert!(text.contains("AUDITHISTORY"), "{text}");
        assert!(text.contains("deletes = \"off\""), "{text}");
        assert!(text.contains("PL04000005"), "{text}");
        assert!(!err.is_retryable());
        // Other failures keep their own variant (and retryability).
        assert!(matches!(
            read_error("APBILL", Error::Intacct(failure("DL02000001"))),
            Error::Intacct(_)
        ));
    }
}
