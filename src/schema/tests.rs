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
fn quarantine_sets_bad_values_aside_as_null_and_keeps_the_row() {
    let plan = arrow_schema(&vendor()).unwrap();
    let p = page(
        &["RECORDNO", "LASTPAID", "ONHOLD", "TOTALDUE"],
        &[
            &[Some("1"), Some("2024-01-01"), Some("true"), Some("1.5")],
            &[Some("2"), Some("01/01/2024"), Some("false"), Some("1e5")],
            &[Some("3"), Some("01/01/2024"), Some("maybe"), Some("-100")],
        ],
    );
    let out = record_batch(&plan, &p, &ctx(true)).unwrap();
    assert_eq!(out.batch.num_rows(), 3);
    let recno = out.batch.column_by_name("RECORDNO").unwrap();
    let recno = recno.as_any().downcast_ref::<Int64Array>().unwrap();
    assert_eq!(recno.values().to_vec(), vec![1, 2, 3]);
    let paid = out.batch.column_by_name("LASTPAID").unwrap();
    assert!(paid.is_null(0) && paid.is_valid(1) && paid.is_valid(2));
    let hold = out.batch.column_by_name("ONHOLD").unwrap();
    let hold = hold.as_any().downcast_ref::<BooleanArray>().unwrap();
    assert!(hold.value(0) && !hold.value(1) && hold.is_null(2));
    let due = out.batch.column_by_name("TOTALDUE").unwrap();
    let due = due.as_any().downcast_ref::<Decimal128Array>().unwrap();
    assert!(due.is_null(1));
    assert_eq!(due.value_as_string(2), "-100.0000000000");
    let set_aside: Vec<(Option<&str>, &str, &str)> = out
        .quarantined
        .iter()
        .map(|q| (q.record_no.as_deref(), q.field.as_str(), q.value.as_str()))
        .collect();
    assert_eq!(
        set_aside,
        vec![
            (Some("1"), "LASTPAID", "2024-01-01"),
            (Some("2"), "TOTALDUE", "1e5"),
            (Some("3"), "ONHOLD", "maybe"),
        ]
    );
    assert!(
        out.quarantined[1].expected.contains("10 fraction digits"),
        "{:?}",
        out.quarantined[1]
    );
}

#[test]
fn a_bad_key_or_watermark_stops_the_page_even_with_quarantine_on() {
    let plan = arrow_schema(&vendor()).unwrap();
    for (column, bad, record) in [
        ("RECORDNO", "7.5", None),
        ("WHENMODIFIED", "2024-07-04T12:00:00", Some("8")),
    ] {
        let mut columns = vec!["RECORDNO", "ONHOLD"];
        if column != "RECORDNO" {
            columns.push(column);
        }
        let row: Vec<Option<&str>> = if column == "RECORDNO" {
            vec![Some(bad), Some("maybe")]
        } else {
            vec![Some("8"), Some("maybe"), Some(bad)]
        };
        let p = page(&columns, &[&row]);
        match record_batch(&plan, &p, &ctx(true)).unwrap_err() {
            Error::Value {
                object,
                field,
                value,
                record_no,
                ..
            } => {
                assert_eq!(object, "VENDOR");
                assert_eq!(field, column);
                assert_eq!(value, bad);
                // A bad RECORDNO is named by its text.
                assert_eq!(record_no.as_deref(), record.or(Some(bad)));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // The delete key of a line object is a key too.
    let lines = ObjectMeta {
        name: "APBILLITEM".into(),
        fields: vec![
            field("RECORDNO", IntacctType::Integer),
            field("RECORDKEY", IntacctType::Integer),
            field("LINE_NO", IntacctType::Integer),
        ],
    };
    let plan = arrow_schema(&lines).unwrap();
    let strict: Vec<bool> = plan.columns.iter().map(|c| c.strict).collect();
    assert_eq!(strict, [true, true, false]);
    let p = page(&["RECORDNO", "RECORDKEY"], &[&[Some("1"), Some("x")]]);
    assert!(matches!(
        record_batch(&plan, &p, &ctx(true)),
        Err(Error::Value { field, .. }) if field == "RECORDKEY"
    ));
    let p = page(&["RECORDNO", "LINE_NO"], &[&[Some("1"), Some("x")]]);
    assert_eq!(
        record_batch(&plan, &p, &ctx(true))
            .unwrap()
            .quarantined
            .len(),
        1
    );
}

#[test]
fn a_configured_key_or_watermark_field_is_strict_too() {
    let mut plan = arrow_schema(&vendor()).unwrap();
    let fingerprint = plan.fingerprint.clone();
    let p = page(
        &["RECORDNO", "LASTPAID"],
        &[&[Some("1"), Some("02/30/2024")]],
    );
    assert_eq!(
        record_batch(&plan, &p, &ctx(true))
            .unwrap()
            .quarantined
            .len(),
        1
    );
    plan.mark_strict(&["lastpaid"]);
    assert_eq!(plan.fingerprint, fingerprint);
    match record_batch(&plan, &p, &ctx(true)).unwrap_err() {
        Error::Value { field, value, .. } => {
            assert_eq!((field.as_str(), value.as_str()), ("LASTPAID", "02/30/2024"))
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn real_intacct_numbers_convert_without_loss() {
    let meta = ObjectMeta {
        name: "APBILL".into(),
        fields: vec![
            field("RECORDNO", IntacctType::Integer),
            field("CREATEDBY", IntacctType::Integer),
            field("TOTALDUE", IntacctType::Currency),
            field("EXCHANGE_RATE", IntacctType::Decimal),
            field("DISCOUNT", IntacctType::Percent),
        ],
    };
    let plan = arrow_schema(&meta).unwrap();
    let types: Vec<DataType> = plan.columns.iter().map(|c| c.kind.data_type()).collect();
    assert_eq!(
        types,
        [
            DataType::Int64,
            DataType::Int64,
            DataType::Decimal128(38, 10),
            DataType::Decimal128(38, 18),
            DataType::Decimal128(38, 18),
        ]
    );
    let rows: &[&[Option<&str>]] = &[
        &[
            Some("1"),
            Some("12.0"),
            Some("-74428823021669.4"),
            Some("1.0843920000"),
            Some("33.333333333333333"),
        ],
        &[
            Some("2"),
            Some("7"),
            Some("100"),
            Some("1"),
            Some("-0.000000000000000001"),
        ],
        &[
            Some("3"),
            Some("-3.00"),
            Some("9999999999999999999999999999.9999999999"),
            Some("99999999999999999999.999999999999999999"),
            Some("12.5"),
        ],
    ];
    let p = page(
        &[
            "RECORDNO",
            "CREATEDBY",
            "TOTALDUE",
            "EXCHANGE_RATE",
            "DISCOUNT",
        ],
        rows,
    );
    let out = record_batch(&plan, &p, &ctx(false)).unwrap();
    let b = &out.batch;
    let ints = b.column_by_name("CREATEDBY").unwrap();
    let ints = ints.as_any().downcast_ref::<Int64Array>().unwrap();
    assert_eq!(ints.values().to_vec(), vec![12, 7, -3]);
    let text = |name: &str| -> Vec<String> {
        let c = b.column_by_name(name).unwrap();
        let c = c.as_any().downcast_ref::<Decimal128Array>().unwrap();
        (0..c.len()).map(|i| c.value_as_string(i)).collect()
    };
    assert_eq!(
        text("TOTALDUE"),
        [
            "-74428823021669.4000000000",
            "100.0000000000",
            "9999999999999999999999999999.9999999999"
        ]
    );
    assert_eq!(
        text("EXCHANGE_RATE"),
        [
            "1.084392000000000000",
            "1.000000000000000000",
            "99999999999999999999.999999999999999999"
        ]
    );
    assert_eq!(
        text("DISCOUNT"),
        [
            "33.333333333333333000",
            "-0.000000000000000001",
            "12.500000000000000000"
        ]
    );
    // One digit past the scale, or past 38 digits, is refused, never rounded.
    for (column, value) in [
        ("EXCHANGE_RATE", "1.0000000000000000001"),
        ("TOTALDUE", "0.00000000001"),
        ("TOTALDUE", "99999999999999999999999999999"),
    ] {
        let p = page(&["RECORDNO", column], &[&[Some("4"), Some(value)]]);
        let out = record_batch(&plan, &p, &ctx(true)).unwrap();
        assert_eq!(out.quarantined.len(), 1, "{column} {value}");
        assert_eq!(out.quarantined[0].value, value);
    }
}

#[test]
fn a_decimal_scale_follows_max_length_or_the_column_is_kept_as_text() {
    let mut short = field("RATE", IntacctType::Decimal);
    short.max_length = Some(12);
    let mut long = field("HUGE", IntacctType::Decimal);
    long.max_length = Some(30);
    let meta = ObjectMeta {
        name: "X".into(),
        fields: vec![field("RECORDNO", IntacctType::Integer), short, long],
    };
    let plan = arrow_schema(&meta).unwrap();
    assert_eq!(plan.columns[1].kind, ColumnKind::Decimal { scale: 12 });
    assert_eq!(plan.columns[2].kind, ColumnKind::Text);
    let f = plan.schema.field_with_name("HUGE").unwrap();
    assert_eq!(f.data_type(), &DataType::Utf8);
    assert!(
        f.metadata()
            .get(KEPT_AS_TEXT_METADATA)
            .is_some_and(|why| why.contains("maxLength 30")),
        "{:?}",
        f.metadata()
    );
    assert!(
        plan.schema
            .field_with_name("RATE")
            .unwrap()
            .metadata()
            .is_empty()
    );
    let p = page(
        &["RECORDNO", "HUGE"],
        &[&[Some("1"), Some("-123456789012345678901234.5")]],
    );
    let out = record_batch(&plan, &p, &ctx(false)).unwrap();
    let huge = out.batch.column_by_name("HUGE").unwrap();
    let huge = huge.as_any().downcast_ref::<StringArray>().unwrap();
    assert_eq!(huge.value(0), "-123456789012345678901234.5");
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
