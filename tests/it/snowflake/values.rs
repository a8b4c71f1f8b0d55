//! Value decoding of every type from a real SELECT through the emulator, and DML counts.

use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use intacct_snowflake::SqlValue;
use intacct_snowflake::snowflake::Decimal;

use super::*;

#[tokio::test]
async fn every_type_decodes_from_a_real_result() {
    let f = Fixture::start(|_| {}).await;
    let run = |sql: &str| {
        let client = f.client.clone();
        let st = statement(sql);
        async move { client.execute(&st).await.unwrap() }
    };
    run("CREATE TABLE T_TYPES (N NUMBER(38,2), BIG NUMBER(38,0), F FLOAT, S VARCHAR, B BOOLEAN, D DATE, TM TIME, \
         TS TIMESTAMP_NTZ, TZ TIMESTAMP_TZ, V VARIANT, Z VARCHAR)")
        .await;
    let insert = run(
        "INSERT INTO T_TYPES SELECT -1234.50, 9007199254740993, 1.5, 'naïve ]]> text', TRUE, \
         '2024-02-29'::DATE, '12:34:56.789'::TIME, '2024-01-01 12:34:56.789'::TIMESTAMP_NTZ, \
         '2024-01-01 12:34:56+00:00'::TIMESTAMP_TZ, PARSE_JSON('{\"a\":1}'), NULL",
    )
    .await;
    assert_eq!(insert.dml_counts().inserted, 1);

    let out = run("SELECT N, BIG, F, S, B, D, TM, TS, TZ, V, Z FROM T_TYPES").await;
    let types: Vec<&str> = out.columns.iter().map(|c| c.type_name.as_str()).collect();
    assert_eq!(
        types,
        [
            "fixed",
            "fixed",
            "real",
            "text",
            "boolean",
            "date",
            "time",
            "timestamp_ntz",
            "timestamp_tz",
            "variant",
            "text"
        ],
        "{:?}",
        out.columns
    );
    assert_eq!(out.columns[0].scale, Some(2));
    assert_eq!(
        out.decoded(0, "n").unwrap(),
        SqlValue::Number(Decimal {
            unscaled: -123450,
            scale: 2
        })
    );
    // 2^53 + 1: a float would round it.
    assert_eq!(
        out.decoded(0, "BIG").unwrap(),
        SqlValue::Number(Decimal {
            unscaled: 9007199254740993,
            scale: 0
        })
    );
    assert_eq!(out.decoded(0, "F").unwrap(), SqlValue::Float(1.5));
    assert_eq!(
        out.decoded(0, "S").unwrap(),
        SqlValue::Text("naïve ]]> text".into())
    );
    assert_eq!(out.decoded(0, "B").unwrap(), SqlValue::Boolean(true));
    assert_eq!(
        out.decoded(0, "D").unwrap(),
        SqlValue::Date(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap())
    );
    assert_eq!(
        out.decoded(0, "TM").unwrap(),
        SqlValue::Time(NaiveTime::from_hms_milli_opt(12, 34, 56, 789).unwrap())
    );
    assert_eq!(
        out.decoded(0, "TS").unwrap(),
        SqlValue::TimestampNtz(
            NaiveDate::from_ymd_opt(2024, 1, 1)
                .unwrap()
                .and_hms_milli_opt(12, 34, 56, 789)
                .unwrap()
        )
    );
    // The emulator keeps TIMESTAMP_TZ in UTC (README "Differences from Snowflake"); the instant
    // is what is compared here, offsets are covered by the unit tests.
    let SqlValue::TimestampTz(tz) = out.decoded(0, "TZ").unwrap() else {
        panic!("{:?}", out.value(0, "TZ"))
    };
    assert_eq!(
        tz.with_timezone(&Utc),
        Utc.with_ymd_and_hms(2024, 1, 1, 12, 34, 56).unwrap()
    );
    let SqlValue::Variant(json) = out.decoded(0, "V").unwrap() else {
        panic!("{:?}", out.value(0, "V"))
    };
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&json).unwrap(),
        serde_json::json!({"a": 1})
    );
    assert_eq!(out.decoded(0, "Z").unwrap(), SqlValue::Null);
    assert_eq!(out.value(0, "Z"), None);
    assert!(out.decoded(0, "NO_SUCH_COLUMN").is_err());
    assert!(out.decoded(1, "N").is_err());
}

#[tokio::test]
async fn dml_counts_of_insert_update_delete_and_merge() {
    let f = Fixture::start(|_| {}).await;
    let run = |sql: &str| {
        let client = f.client.clone();
        let st = statement(sql);
        async move { client.execute(&st).await.unwrap() }
    };
    run("CREATE TABLE T_DML (K INT, V VARCHAR)").await;
    run("CREATE TABLE T_SRC (K INT, V VARCHAR)").await;
    let inserted = run("INSERT INTO T_DML VALUES (1, 'a'), (2, 'b'), (3, 'c')").await;
    assert_eq!(inserted.dml_counts().inserted, 3);
    let updated = run("UPDATE T_DML SET V = 'z' WHERE K >= 2").await;
    assert_eq!(updated.dml_counts().updated, 2);
    let deleted = run("DELETE FROM T_DML WHERE K = 1").await;
    assert_eq!(deleted.dml_counts().deleted, 1);
    run("INSERT INTO T_SRC VALUES (2, 'new'), (9, 'nine')").await;
    let merged = run(
        "MERGE INTO T_DML t USING T_SRC s ON t.K = s.K \
         WHEN MATCHED THEN UPDATE SET V = s.V WHEN NOT MATCHED THEN INSERT (K, V) VALUES (s.K, s.V)",
    )
    .await;
    let counts = merged.dml_counts();
    assert_eq!(
        (counts.inserted, counts.updated, counts.deleted),
        (1, 1, 0),
        "{merged:?}"
    );
    // The result columns say the same as the stats object.
    assert_eq!(merged.value(0, "number of rows inserted"), Some("1"));
    assert_eq!(merged.value(0, "number of rows updated"), Some("1"));
}
