//! Real value forms against the simulator: INTEGER values the gateway writes as `12.0` stage
//! as typed integers equal to the ground truth, never quarantined; and every value of every
//! object, read back from the staged Parquet by an independent reader (pyarrow), equals the
//! simulator's ground truth in its typed column — negative, unscaled and long amounts,
//! ten-digit exchange rates and many-digit percentages included, each asserted present.

use std::collections::{BTreeMap, BTreeSet};

use arrow::array::{Array, BooleanArray, Int64Array};
use chrono::{DateTime, NaiveDate, Utc};
use intacct_sim::{self as sim, SimConfig};
use intacct_snowflake::intacct::column_name;

use crate::support::demo_pipeline::{assert_all_ok, extract_reports, sim_clock, spec_for};
use crate::support::ground_truth::canonical_decimal;
use crate::support::parquet::{PyarrowFile, batch_rows, read_with_pyarrow};
use crate::support::stage_state::manifest_state;
use crate::support::wall_clock::WallClock;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integers_with_a_zero_fraction_stage_as_integers() {
    let sim = sim::spawn(SimConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_for(&sim, dir.path());
    let reports = extract_reports(&spec, &["VENDOR"], sim_clock(&sim).await).await;
    assert_all_ok(&reports);
    assert_eq!(reports[0].quarantined, 0);
    let truth: BTreeMap<i64, String> = sim
        .records("VENDOR")
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["RECORDNO"].as_str().unwrap().parse().unwrap(),
                r["CREATEDBY"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(truth.values().any(|v| v.ends_with(".0")), "no `N.0` value");
    let state = manifest_state(&spec).await;
    let batch = state.batches_of("VENDOR").last().unwrap().clone();
    let mut checked = 0;
    for rb in batch_rows(&spec, &batch).await {
        let keys = rb.column_by_name("RECORDNO").unwrap();
        let keys = keys.as_any().downcast_ref::<Int64Array>().unwrap();
        let deleted = rb.column_by_name("_DELETED").unwrap();
        let deleted = deleted.as_any().downcast_ref::<BooleanArray>().unwrap();
        let created_by = rb.column_by_name("CREATEDBY").unwrap();
        let created_by = created_by
            .as_any()
            .downcast_ref::<Int64Array>()
            .expect("CREATEDBY is an integer column");
        for row in 0..rb.num_rows() {
            if deleted.value(row) {
                continue;
            }
            let want = &truth[&keys.value(row)];
            let want: i64 = want.strip_suffix(".0").unwrap_or(want).parse().unwrap();
            assert!(created_by.is_valid(row));
            assert_eq!(created_by.value(row), want);
            checked += 1;
        }
    }
    assert_eq!(checked, truth.len());
    sim.shutdown().await.unwrap();
}

/// The value forms the round trip must meet at least once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// An INTEGER written `12.0`.
    IntegerWithZeroFraction,
    /// A decimal below zero.
    NegativeAmount,
    /// A decimal without a fraction (`100`).
    UnscaledAmount,
    /// A decimal with at least 14 integer digits.
    LongAmount,
    /// A decimal with ten fraction digits (`1.0843920000`).
    TenFractionDigits,
    /// A decimal with more fraction digits than the CURRENCY scale (10).
    ManyFractionDigits,
    Integer,
    Decimal,
    Date,
    Timestamp,
    Boolean,
    Text,
}

/// Checks one pyarrow value against the simulator's text for it; the kinds it shows.
fn check_value(
    where_: &str,
    arrow_type: &str,
    truth: Option<&str>,
    staged: &serde_json::Value,
    timestamps: &WallClock,
    kinds: &mut BTreeSet<Kind>,
) {
    let Some(truth) = truth else {
        assert!(
            staged.is_null(),
            "{where_}: truth is empty, staged {staged}"
        );
        return;
    };
    assert!(!staged.is_null(), "{where_}: {truth:?} staged as NULL");
    match arrow_type {
        "int64" => {
            kinds.insert(Kind::Integer);
            let whole = match truth.split_once('.') {
                Some((whole, frac)) => {
                    assert!(frac.bytes().all(|b| b == b'0'), "{where_}: {truth:?}");
                    kinds.insert(Kind::IntegerWithZeroFraction);
                    whole
                }
                None => truth,
            };
            assert_eq!(
                staged.as_i64(),
                Some(whole.parse::<i64>().unwrap()),
                "{where_}: {truth:?}"
            );
        }
        t if t.starts_with("decimal128(38, ") => {
            kinds.insert(Kind::Decimal);
            let staged = staged.as_str().unwrap();
            // pyarrow renders the full scale: the column's type is in the text.
            let scale: usize = t["decimal128(38, ".len()..t.len() - 1].parse().unwrap();
            assert_eq!(
                staged.split_once('.').map_or(0, |(_, f)| f.len()),
                scale,
                "{where_}: {staged}"
            );
            assert_eq!(
                canonical_decimal(staged),
                canonical_decimal(truth),
                "{where_}: staged {staged}, truth {truth:?}"
            );
            let (int, frac) = truth
                .trim_start_matches('-')
                .split_once('.')
                .unwrap_or((truth.trim_start_matches('-'), ""));
            if truth.starts_with('-') {
                kinds.insert(Kind::NegativeAmount);
            }
            if !truth.contains('.') {
                kinds.insert(Kind::UnscaledAmount);
            }
            if int.len() >= 14 {
                kinds.insert(Kind::LongAmount);
            }
            if frac.len() == 10 {
                kinds.insert(Kind::TenFractionDigits);
            }
            if frac.len() > 10 {
                kinds.insert(Kind::ManyFractionDigits);
            }
        }
        "date32[day]" => {
            kinds.insert(Kind::Date);
            let date = NaiveDate::parse_from_str(truth, "%m/%d/%Y").unwrap();
            assert_eq!(
                staged.as_str(),
                Some(date.format("%Y-%m-%d").to_string().as_str()),
                "{where_}: {truth:?}"
            );
        }
        "timestamp[us, tz=UTC]" => {
            kinds.insert(Kind::Timestamp);
            let want = timestamps.instant(truth);
            let got: DateTime<Utc> = DateTime::parse_from_rfc3339(staged.as_str().unwrap())
                .unwrap()
                .with_timezone(&Utc);
            assert_eq!(got, want, "{where_}: {truth:?}");
        }
        "bool" => {
            kinds.insert(Kind::Boolean);
            assert_eq!(
                staged.as_bool(),
                Some(truth.eq_ignore_ascii_case("true")),
                "{where_}: {truth:?}"
            );
        }
        "string" => {
            kinds.insert(Kind::Text);
            assert_eq!(staged.as_str(), Some(truth), "{where_}");
        }
        other => panic!("{where_}: unexpected column type {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_value_kind_round_trips_from_the_simulator_into_parquet_read_by_pyarrow() {
    let config = SimConfig::default();
    let tz = config.dataset.time_zone;
    let sim = sim::spawn(config).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_for(&sim, dir.path());
    let reports = extract_reports(&spec, &[], sim_clock(&sim).await).await;
    assert_all_ok(&reports);
    for r in &reports {
        // Every value the simulator writes fits its column: nothing is set aside.
        assert_eq!(r.quarantined, 0, "{}: {:?}", r.object, r.quarantined_fields);
    }
    let state = manifest_state(&spec).await;
    let mut kinds = BTreeSet::new();
    for report in &reports {
        let object = report.object.as_str();
        let truth: BTreeMap<String, serde_json::Map<String, serde_json::Value>> = sim
            .records(object)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r["RECORDNO"].as_str().unwrap().to_owned(), r))
            .collect();
        // Column → Intacct field, from the truth's own field names.
        let fields: BTreeMap<String, String> = truth
            .values()
            .next()
            .unwrap()
            .keys()
            .map(|f| (column_name(f), f.clone()))
            .collect();
        let batch = state
            .batches
            .values()
            .find(|b| b.batch_id == report.batch_id)
            .unwrap_or_else(|| panic!("{object}: batch {} in the manifest", report.batch_id));
        let paths: Vec<String> = batch
            .files
            .iter()
            .map(|f| dir.path().join(&f.path).display().to_string())
            .collect();
        assert!(!paths.is_empty(), "{object}: no parts");
        let files = read_with_pyarrow(&paths);
        // The instant of every timestamp the truth holds, read independently.
        let timestamp_fields: Vec<&String> = files[0]
            .schema
            .iter()
            .filter(|(column, t)| !column.starts_with('_') && t == "timestamp[us, tz=UTC]")
            .map(|(column, _)| &fields[column])
            .collect();
        let timestamps = WallClock::of(
            tz.name(),
            truth.values().flat_map(|record| {
                timestamp_fields
                    .iter()
                    .filter_map(|f| record.get(*f).and_then(|v| v.as_str()))
            }),
        );
        let mut seen = BTreeSet::new();
        for PyarrowFile { json: file, schema } in files {
            for row in file["rows"].as_array().unwrap() {
                if row["_DELETED"].as_bool() == Some(true) {
                    continue;
                }
                let key = row["RECORDNO"].as_i64().unwrap().to_string();
                let record = truth
                    .get(&key)
                    .unwrap_or_else(|| panic!("{object} {key} is not in the truth"));
                seen.insert(key.clone());
                for (column, arrow_type) in &schema {
                    if column.starts_with('_') {
                        continue;
                    }
                    let field = fields
                        .get(column)
                        .unwrap_or_else(|| panic!("{object}: column {column} has no field"));
                    // A field `query` refuses keeps its column, NULL (the report names it).
                    if report.refused_fields.contains(field) {
                        assert!(row[column].is_null(), "{object} {key} {field}");
                        continue;
                    }
                    check_value(
                        &format!("{object} {key} {field}"),
                        arrow_type,
                        record[field].as_str(),
                        &row[column],
                        &timestamps,
                        &mut kinds,
                    );
                }
            }
        }
        assert_eq!(
            seen.len(),
            truth.len(),
            "{object}: every record staged once"
        );
    }
    let all = [
        Kind::IntegerWithZeroFraction,
        Kind::NegativeAmount,
        Kind::UnscaledAmount,
        Kind::LongAmount,
        Kind::TenFractionDigits,
        Kind::ManyFractionDigits,
        Kind::Integer,
        Kind::Decimal,
        Kind::Date,
        Kind::Timestamp,
        Kind::Boolean,
        Kind::Text,
    ];
    let missing: Vec<&Kind> = all.iter().filter(|k| !kinds.contains(k)).collect();
    assert!(missing.is_empty(), "value kinds never seen: {missing:?}");
    sim.shutdown().await.unwrap();
}

#[test]
fn canonical_decimals_compare_values_not_spellings() {
    assert_eq!(canonical_decimal("-100"), "-100");
    assert_eq!(canonical_decimal("-100.000000"), "-100");
    assert_eq!(canonical_decimal("1.0843920000"), "1.084392");
    assert_eq!(canonical_decimal("0.50"), "0.5");
    assert_eq!(canonical_decimal("-0.00"), "0");
    assert_ne!(canonical_decimal("10"), canonical_decimal("1"));
}
