//! Unit tests of the schema mapping.

use arrow::array::{
    Array, BooleanArray, Date32Array, Decimal128Array, Int64Array, StringArray,
    TimestampMicrosecondArray,
};

use super::*;
use crate::intacct::response::FieldMeta;

fn field(name: &str, data_type: IntacctType) -> FieldMeta {
    FieldMeta::new(name, data_type)
}

fn vendor() -> ObjectMeta {
    ObjectMeta {
        name: "VENDOR".to_owned(),
        fields: vec![
            field("RECORDNO", IntacctType::Integer),
            field("NAME", IntacctType::Text),
            field("ZIP", IntacctType::Text),
            field("TOTALDUE", IntacctType::Currency),
            field("ONHOLD", IntacctType::Boolean),
            field("LASTPAID", IntacctType::Date),
            field("WHENMODIFIED", IntacctType::Timestamp),
            field("PAYTO.CONTACTNAME", IntacctType::Text),
        ],
    }
}

fn ctx(quarantine: bool) -> BatchContext<'static> {
    BatchContext {
        batch_id: "b1",
        extracted_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        time_zone: "America/New_York".parse().unwrap(),
        deleted: false,
        quarantine,
    }
}

fn page(columns: &[&str], rows: &[&[Option<&str>]]) -> RecordPage {
    RecordPage::from_rows(
        columns.iter().map(|c| c.to_string()).collect(),
        rows.iter()
            .map(|r| r.iter().map(|v| v.map(str::to_owned)).collect())
            .collect(),
    )
}

#[test]
fn types_come_from_metadata_and_loader_columns_follow() {
    let plan = arrow_schema(&vendor()).unwrap();
    let types: Vec<(String, DataType)> = plan
        .schema
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect();
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    assert_eq!(
        types,
        vec![
            ("RECORDNO".into(), DataType::Int64),
            ("NAME".into(), DataType::Utf8),
            ("ZIP".into(), DataType::Utf8),
            ("TOTALDUE".into(), DataType::Decimal128(38, 10)),
            ("ONHOLD".into(), DataType::Boolean),
            ("LASTPAID".into(), DataType::Date32),
            ("WHENMODIFIED".into(), ts.clone()),
            ("PAYTO__CONTACTNAME".into(), DataType::Utf8),
            ("_BATCH_ID".into(), DataType::Utf8),
            ("_EXTRACTED_AT".into(), ts),
            ("_DELETED".into(), DataType::Boolean),
        ]
    );
}

#[test]
fn fingerprint_is_stable_and_changes_with_the_shape() {
    let a = arrow_schema(&vendor()).unwrap().fingerprint;
    assert_eq!(a, arrow_schema(&vendor()).unwrap().fingerprint);
    assert_eq!(a.len(), 64);
    let mut retyped = vendor();
    retyped.fields[2].data_type = IntacctType::Integer;
    assert_ne!(a, arrow_schema(&retyped).unwrap().fingerprint);
    let mut relabelled = vendor();
    relabelled.fields[1].label = Some("Vendor name".into());
    assert_eq!(a, arrow_schema(&relabelled).unwrap().fingerprint);
}

#[test]
fn colliding_columns_are_an_error() {
    let mut meta = vendor();
    meta.fields
        .push(field("PAYTO__CONTACTNAME", IntacctType::Text));
    assert!(matches!(arrow_schema(&meta), Err(Error::Schema { .. })));
}

#[test]
fn values_convert_exactly() {
    let plan = arrow_schema(&vendor()).unwrap();
    let p = page(
        &[
            "RECORDNO",
            "ZIP",
            "TOTALDUE",
            "ONHOLD",
            "LASTPAID",
            "WHENMODIFIED",
            "EXTRA",
        ],
        &[
            &[
                Some("7"),
                Some("00640"),
                Some("-1234.5678901234"),
                Some("true"),
                Some("02/29/2024"),
                Some("07/04/2024 12:00:00"),
                Some("x"),
            ],
            &[Some("8"), None, Some("0"), Some("F"), None, None, None],
        ],
    );
    let out = record_batch(&plan, &p, &ctx(false)).unwrap();
    let b = &out.batch;
    assert_eq!(b.num_rows(), 2);
    assert_eq!(out.unknown_column_values, 1);
    let col = |name: &str| b.column_by_name(name).unwrap().clone();
    let recno = col("RECORDNO");
    let recno = recno.as_any().downcast_ref::<Int64Array>().unwrap();
    assert_eq!(recno.values().to_vec(), vec![7, 8]);
    let zip = col("ZIP");
    let zip = zip.as_any().downcast_ref::<StringArray>().unwrap();
    assert_eq!(zip.value(0), "00640");
    assert!(zip.is_null(1));
    let due = col("TOTALDUE");
    let due = due.as_any().downcast_ref::<Decimal128Array>().unwrap();
    assert_eq!(due.value(0), -12_345_678_901_234);
    assert_eq!(due.value_as_string(0), "-1234.5678901234");
    let hold = col("ONHOLD");
    let hold = hold.as_any().downcast_ref::<BooleanArray>().unwrap();
    assert!(hold.value(0) && !hold.value(1));
    let paid = col("LASTPAID");
    let paid = paid.as_any().downcast_ref::<Date32Array>().unwrap();
    // 2024-02-29 is day 19782 after 1970-01-01.
    assert_eq!(paid.value(0), 19_782);
    assert!(paid.is_null(1));
    let modified = col("WHENMODIFIED");
    let modified = modified
        .as_any()
        .downcast_ref::<TimestampMicrosecondArray>()
        .unwrap();
    // Noon EDT (UTC-4) on 2024-07-04 is 16:00 UTC = 1720108800 s.
    assert_eq!(modified.value(0), 1_720_108_800_000_000);
    // A metadata field the page lacks is an all-NULL column.
    assert_eq!(col("NAME").null_count(), 2);
    let ids = col("_BATCH_ID");
    let ids = ids.as_any().downcast_ref::<StringArray>().unwrap();
    assert_eq!(ids.value(1), "b1");
    let del = col("_DELETED");
    assert_eq!(
        del.as_any()
            .downcast_ref::<BooleanArray>()
            .unwrap()
            .true_count(),
        0
    );
}

#[test]
fn a_bad_value_is_an_error_naming_object_record_field_and_value() {
    let plan = arrow_schema(&vendor()).unwrap();
    let p = page(
        &["RECORDNO", "TOTALDUE"],
        &[&[Some("1"), Some("1.00")], &[Some("2"), Some("1,000.00")]],
    );
    let err = record_batch(&plan, &p, &ctx(false)).unwrap_err();
    match &err {
        Error::Value {
            object,
            record_no,
            field,
            value,
            ..
        } => {
            assert_eq!(object, "VENDOR");
            assert_eq!(record_no.as_deref(), Some("2"));
            assert_eq!(field, "TOTALDUE");
            assert_eq!(value, "1,000.00");
        }
        other => panic!("unexpected {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("VENDOR") && message.contains("1,000.00"),
        "{message}"
    );
}

#[test]
fn quarantine_sets_whole_rows_aside() {
    let plan = arrow_schema(&vendor()).unwrap();
    let p = page(
        &["RECORDNO", "LASTPAID", "ONHOLD"],
        &[
            &[Some("1"), Some("2024-01-01"), Some("true")],
            &[Some("2"), Some("01/01/2024"), Some("false")],
            &[Some("3"), Some("01/01/2024"), Some("maybe")],
        ],
    );
    let out = record_batch(&plan, &p, &ctx(true)).unwrap();
    assert_eq!(out.batch.num_rows(), 1);
    let recno = out.batch.column_by_name("RECORDNO").unwrap();
    let recno = recno.as_any().downcast_ref::<Int64Array>().unwrap();
    assert_eq!(recno.value(0), 2);
    let set_aside: Vec<(Option<&str>, &str, &str)> = out
        .quarantined
        .iter()
        .map(|q| (q.record_no.as_deref(), q.field.as_str(), q.value.as_str()))
        .collect();
    assert_eq!(
        set_aside,
        vec![
            (Some("1"), "LASTPAID", "2024-01-01"),
            (Some("3"), "ONHOLD", "maybe")
        ]
    );
}

#[test]
fn delete_feed_rows_are_flagged() {
    let plan = arrow_schema(&vendor()).unwrap();
    let p = page(&["RECORDNO"], &[&[Some("9")]]);
    let mut c = ctx(false);
    c.deleted = true;
    let out = record_batch(&plan, &p, &c).unwrap();
    let del = out.batch.column_by_name("_DELETED").unwrap();
    assert!(
        del.as_any()
            .downcast_ref::<BooleanArray>()
            .unwrap()
            .value(0)
    );
}
