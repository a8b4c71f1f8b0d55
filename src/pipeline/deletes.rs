//! The delete feed: an object's hard deletes, read from AUDITHISTORY, as tombstone rows.
//!
//! Intacct's `query` never returns a deleted record, so a WHENMODIFIED poll cannot see a
//! delete. For each object in scope (never AUDITHISTORY itself) `extract` reads the
//! AUDITHISTORY rows with `ACCESSMODE = 'D'` and `OBJECTTYPE = '<object lower-case>'` whose
//! ACCESSTIME lies in the object's own window, keyset-paged on (ACCESSTIME, ID) through the
//! ordinary client, and stages each one in the object's batch, with the object's schema, as a
//! tombstone: the key column (RECORDNO) parsed from OBJECTKEY (`N--REC` → N), WHENMODIFIED =
//! the delete's ACCESSTIME, `_DELETED = true`, every other column NULL.
//!
//! Invariants:
//! * a tombstone's WHENMODIFIED is the instant of the delete, so the loader's MERGE guard
//!   (`s.WHENMODIFIED > t.WHENMODIFIED`) lets it win over every version staged before it;
//! * an OBJECTKEY that is not `N--REC` stops the batch with an error naming AUDITHISTORY, the
//!   row's ID and the value: a tombstone on a guessed key could delete a live record;
//! * AUDITHISTORY refusing the read for lack of permission is an error that names the setting
//!   turning the feed off (`extract.deletes = "off"`), never a silent skip;
//! * the feed never de-duplicates against the object's own rows of the batch: should a key
//!   be both live and deleted, both rows are staged and the MERGE keeps the newest.

use crate::error::{Error, Result};
use crate::intacct::client::{ReadMethod, ReadRequest};
use crate::intacct::codes::{self, FailureClass};
use crate::intacct::paging::{KeyFields, TimeWindow, audit_deletes_condition};
use crate::intacct::response::RecordPage;
use crate::schema::{ColumnKind, RECORD_NO_COLUMN, SchemaPlan};

/// The object the delete feed reads.
pub const AUDIT_OBJECT: &str = "AUDITHISTORY";

/// The timestamp column a tombstone carries the delete time in.
pub const MODIFIED_COLUMN: &str = "WHENMODIFIED";

/// The suffix of an AUDITHISTORY `OBJECTKEY` after the record number.
const OBJECT_KEY_SUFFIX: &str = "--REC";

/// True when `object` has a delete feed: every object but AUDITHISTORY itself (an append-only
/// log has no deletes to follow).
pub fn has_feed(object: &str) -> bool {
    !object.eq_ignore_ascii_case(AUDIT_OBJECT)
}

/// The AUDITHISTORY read of `object`'s deletes over `window`: only `OBJECTKEY` besides the
/// paging keys (`ID`, `ACCESSTIME`), so no `lookup` of AUDITHISTORY is needed. Controlids read
/// `<batch>-<object>-AUDITHISTORY-p<page>-a<attempt>`.
pub fn feed_request(
    object: &str,
    window: TimeWindow,
    batch_id: &str,
    page_size: u32,
    keep_raw: bool,
) -> ReadRequest {
    let mut request = ReadRequest::new(AUDIT_OBJECT, window, format!("{batch_id}-{object}"));
    request.keys = KeyFields::for_object(AUDIT_OBJECT);
    request.fields = Some(vec!["OBJECTKEY".to_owned()]);
    request.method = ReadMethod::Query;
    request.page_size = page_size.clamp(1, 2_000);
    request.condition = Some(audit_deletes_condition(object));
    request.keep_raw = keep_raw;
    request
}

/// The RECORDNO an AUDITHISTORY `OBJECTKEY` names: `N--REC` → N. Anything else is an error
/// naming AUDITHISTORY, the row `id` and the value.
pub fn parse_object_key(object: &str, id: &str, key: &str) -> Result<u64> {
    let number = key.trim().strip_suffix(OBJECT_KEY_SUFFIX).unwrap_or("");
    if !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
        && let Ok(record_no) = number.parse()
    {
        return Ok(record_no);
    }
    Err(Error::DeleteFeed {
        object: object.to_owned(),
        message: format!(
            "AUDITHISTORY row ID {id} has OBJECTKEY {:?}, expected <RECORDNO>{OBJECT_KEY_SUFFIX} \
             (e.g. 123{OBJECT_KEY_SUFFIX})",
            crate::error::snippet(key.as_bytes(), 80)
        ),
    })
}

/// The tombstones of one AUDITHISTORY page: a page with the columns `RECORDNO` (from
/// OBJECTKEY) and `WHENMODIFIED` (the row's ACCESSTIME, as the tenant wrote it), one row per
/// delete, in the page's order. The schema then fills every other column with NULL.
pub fn tombstones(object: &str, audit: &RecordPage) -> Result<RecordPage> {
    let missing = |row: usize, field: &str| {
        let id = audit.get(row, "ID").unwrap_or("(none)");
        Error::DeleteFeed {
            object: object.to_owned(),
            message: format!("AUDITHISTORY row ID {id} has no {field}"),
        }
    };
    let mut rows = Vec::with_capacity(audit.len());
    for row in 0..audit.len() {
        let id = audit.get(row, "ID").ok_or_else(|| missing(row, "ID"))?;
        let key = audit
            .get(row, "OBJECTKEY")
            .ok_or_else(|| missing(row, "OBJECTKEY"))?;
        let at = audit
            .get(row, "ACCESSTIME")
            .ok_or_else(|| missing(row, "ACCESSTIME"))?;
        let record_no = parse_object_key(object, id, key)?;
        rows.push(vec![Some(record_no.to_string()), Some(at.to_owned())]);
    }
    Ok(RecordPage::from_rows(
        vec![RECORD_NO_COLUMN.to_owned(), MODIFIED_COLUMN.to_owned()],
        rows,
    ))
}

/// Checks that `plan` can hold tombstones: an integer RECORDNO and a timestamp WHENMODIFIED.
pub fn check_plan(plan: &SchemaPlan) -> Result<()> {
    for (column, kind) in [
        (RECORD_NO_COLUMN, ColumnKind::Integer),
        (MODIFIED_COLUMN, ColumnKind::Timestamp),
    ] {
        if !plan
            .columns
            .iter()
            .any(|c| c.column == column && c.kind == kind)
        {
            return Err(Error::DeleteFeed {
                object: plan.object.clone(),
                message: format!(
                    "the object has no {column} column of type {kind:?} to stage deletes in; \
                     set `deletes = \"off\"` under [extract] in the pipeline to extract it \
                     without deletes"
                ),
            });
        }
    }
    Ok(())
}

/// The error to fail the batch with when the feed's read failed: a permission refusal
/// becomes [`Error::DeleteFeed`] naming the setting that turns the feed off; anything else
/// is returned unchanged (its controlid already names AUDITHISTORY).
pub fn read_error(object: &str, error: Error) -> Error {
    match &error {
        Error::Intacct(failure) if codes::classify(failure) == FailureClass::PermissionDenied => {
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
    use crate::intacct::request::{Comparison, Filter};
    use crate::intacct::response::{ErrorDetail, ErrorLevel, IntacctFailure};

    #[test]
    fn object_keys_are_record_numbers_with_the_rec_suffix() {
        assert_eq!(parse_object_key("APBILL", "7", "123--REC").unwrap(), 123);
        assert_eq!(parse_object_key("APBILL", "7", " 42--REC ").unwrap(), 42);
        for bad in [
            "",
            "--REC",
            "123",
            "abc--REC",
            "12a--REC",
            "-5--REC",
            "123--rec",
            "123--REC--REC",
            "99999999999999999999999--REC",
        ] {
            let err = parse_object_key("APBILL", "9001", bad).unwrap_err();
            let text = err.to_string();
            assert!(matches!(err, Error::DeleteFeed { .. }), "{bad:?}: {text}");
            assert!(text.contains("AUDITHISTORY"), "{text}");
            assert!(text.contains("ID 9001"), "{text}");
            assert!(text.contains(&format!("{bad:?}")), "{bad:?}: {text}");
            assert!(text.contains("APBILL"), "{text}");
        }
    }

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

    #[test]
    fn tombstones_carry_the_key_and_the_delete_time() {
        let page = audit_page(&[
            ("11", Some("5--REC"), Some("02/01/2024 09:00:00")),
            ("12", Some("17--REC"), Some("02/01/2024 09:00:01")),
        ]);
        let t = tombstones("APBILL", &page).unwrap();
        assert_eq!(t.columns(), ["RECORDNO", "WHENMODIFIED"]);
        let rows: Vec<Vec<Option<&str>>> = t.rows().map(|r| r.collect()).collect();
        assert_eq!(
            rows,
            [
                [Some("5"), Some("02/01/2024 09:00:00")],
                [Some("17"), Some("02/01/2024 09:00:01")]
            ]
        );
        let err = tombstones(
            "APBILL",
            &audit_page(&[("13", Some("x--REC"), Some("02/01/2024 09:00:00"))]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("ID 13"), "{err}");
        let err = tombstones("APBILL", &audit_page(&[("14", Some("1--REC"), None)])).unwrap_err();
        assert!(err.to_string().contains("ID 14 has no ACCESSTIME"), "{err}");
    }

    #[test]
    fn the_feed_reads_only_deletes_of_the_object() {
        let window = TimeWindow {
            from: None,
            to: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        };
        let r = feed_request("APBILLITEM", window, "b1", 5_000, true);
        assert_eq!(r.object, "AUDITHISTORY");
        assert_eq!(r.keys.record_key, "ID");
        assert_eq!(r.keys.modified, "ACCESSTIME");
        assert_eq!(r.page_size, 2_000);
        assert!(r.keep_raw);
        assert_eq!(r.batch_label, "b1-APBILLITEM");
        assert_eq!(
            r.condition,
            Some(Filter::And(vec![
                Filter::compare(Comparison::EqualTo, "ACCESSMODE", "D"),
                Filter::compare(Comparison::EqualTo, "OBJECTTYPE", "apbillitem"),
            ]))
        );
        assert!(!has_feed("AUDITHISTORY") && !has_feed("audithistory"));
        assert!(has_feed("APBILL"));
    }

    #[test]
    fn a_permission_refusal_names_the_setting_that_turns_the_feed_off() {
        let failure = IntacctFailure {
            level: ErrorLevel::Result,
            function: Some("query".into()),
            control_id: Some("b1-APBILL-AUDITHISTORY-p1-a1".into()),
            aborted: false,
            errors: vec![ErrorDetail {
                errorno: "PL04000005".into(),
                description: Some("You do not have permission for API operation".into()),
                description2: None,
                correction: None,
            }],
        };
        let err = read_error("APBILL", Error::Intacct(failure.clone()));
        let text = err.to_string();
        assert!(matches!(err, Error::DeleteFeed { .. }), "{text}");
        assert!(text.contains("AUDITHISTORY"), "{text}");
        assert!(text.contains("deletes = \"off\""), "{text}");
        assert!(text.contains("PL04000005"), "{text}");
        assert!(!err.is_retryable());
        // Other failures keep their own variant (and retryability).
        let mut transient = failure;
        transient.errors[0].errorno = "DL02000001".into();
        assert!(matches!(
            read_error("APBILL", Error::Intacct(transient)),
            Error::Intacct(_)
        ));
    }
}
