//! The reporting views over a whole extract of the simulator, loaded into the emulator, equal
//! an independent computation from the simulator's ground truth (`/__sim/records`), to the
//! cent: aging bucket totals per vendor, monthly spend, bill-versus-payment differences.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use intacct_sim::{self as sim, SimConfig};
use intacct_snowflake::intacct::IntacctClient;
use intacct_snowflake::pipeline::{client_config, extract_options, run_extract};

use crate::support::demo_pipeline::{sim_clock, spec_for};
use crate::support::load_harness::{Harness, at, decimal_units, timestamp_secs};

type Record = serde_json::Map<String, serde_json::Value>;

fn text<'a>(record: &'a Record, field: &str) -> Option<&'a str> {
    record
        .get(field)
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
}

fn amount(record: &Record, field: &str) -> i128 {
    text(record, field).map_or(0, decimal_units)
}

fn date(record: &Record, field: &str) -> Option<NaiveDate> {
    text(record, field).map(|s| NaiveDate::parse_from_str(s, "%m/%d/%Y").unwrap())
}

fn epoch_day(days: &str) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Duration::days(days.parse().unwrap())
}

fn delete_key(object: &str) -> Option<&'static str> {
    intacct_snowflake::pipeline::delete_key_column(object)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reporting_views_equal_an_independent_computation_from_the_simulator() {
    let sim = sim::spawn(SimConfig::default()).await.unwrap();
    let h = Harness::start(delete_key).await;
    let spec = spec_for(&sim, h.stage_dir.path());
    let now = sim_clock(&sim).await;
    let only: Vec<String> = [
        "VENDOR",
        "APBILL",
        "APBILLITEM",
        "APPYMT",
        "APPYMTDETAIL",
        "GLACCOUNT",
        "DEPARTMENT",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let options = extract_options(&spec, &only, now, false).unwrap();
    let client = IntacctClient::new(client_config(&spec)).unwrap();
    let reports = run_extract(&client, &h.stage, "views-test", &options)
        .await
        .unwrap();
    assert!(reports.iter().all(|r| r.error.is_none()), "{reports:?}");
    h.manifest.lock().await.refresh().await.unwrap();
    let loads = h.load().await;
    assert!(loads.iter().all(|r| r.error.is_none()), "{loads:?}");
    let created = h.init().await;
    assert!(
        created.iter().any(|s| s.contains("AP_AGING")),
        "{created:?}"
    );

    let bills = sim.records("APBILL").await.unwrap();
    let lines = sim.records("APBILLITEM").await.unwrap();
    let payments = sim.records("APPYMT").await.unwrap();
    let details = sim.records("APPYMTDETAIL").await.unwrap();

    // AP_AGING, as of the view's date.
    let aging = h
        .query("SELECT VENDORID, AS_OF_DATE, OPEN_BILLS, TOTAL_DUE, CURRENT_DUE, PAST_DUE_1_30, PAST_DUE_31_60, PAST_DUE_61_90, PAST_DUE_OVER_90 FROM \"INTACCT\".\"RAW\".\"AP_AGING\"")
        .await;
    assert!(!aging.is_empty());
    let as_of = epoch_day(aging[0][1].as_deref().unwrap());
    assert!((as_of - chrono::Utc::now().date_naive()).num_days().abs() <= 1);
    let mut want: BTreeMap<String, [i128; 7]> = BTreeMap::new();
    for bill in &bills {
        let due = amount(bill, "TOTALDUE");
        if due == 0 {
            continue;
        }
        let entry = want
            .entry(text(bill, "VENDORID").unwrap().to_owned())
            .or_default();
        entry[0] += 1;
        entry[1] += due;
        let bucket = match date(bill, "WHENDUE").map(|d| (as_of - d).num_days()) {
            None => 2,
            Some(days) if days <= 0 => 2,
            Some(1..=30) => 3,
            Some(31..=60) => 4,
            Some(61..=90) => 5,
            Some(_) => 6,
        };
        entry[bucket] += due;
    }
    let got: BTreeMap<String, [i128; 7]> = aging
        .iter()
        .map(|row| {
            let n = |i: usize| decimal_units(row[i].as_deref().unwrap_or("0"));
            (
                row[0].clone().unwrap(),
                [
                    i128::from(row[2].as_deref().unwrap().parse::<i64>().unwrap()),
                    n(3),
                    n(4),
                    n(5),
                    n(6),
                    n(7),
                    n(8),
                ],
            )
        })
        .collect();
    assert_eq!(got, want, "AP_AGING differs from the simulator's bills");
    let past_due: i128 = want.values().map(|v| v[3] + v[4] + v[5] + v[6]).sum();
    assert!(
        past_due > 0,
        "the data has no past-due bill: the check proves little"
    );

    // VENDOR_SPEND_MONTHLY through the bill lines.
    let bill_by_key: BTreeMap<&str, &Record> = bills
        .iter()
        .map(|b| (text(b, "RECORDNO").unwrap(), b))
        .collect();
    let mut spend: BTreeMap<(String, NaiveDate, String, String), (i128, i64)> = BTreeMap::new();
    for line in &lines {
        let Some(bill) = text(line, "RECORDKEY").and_then(|k| bill_by_key.get(k)) else {
            continue;
        };
        let Some(posted) = date(bill, "WHENPOSTED") else {
            continue;
        };
        let month = NaiveDate::from_ymd_opt(posted.year(), posted.month(), 1).unwrap();
        let key = (
            text(bill, "VENDORID").unwrap().to_owned(),
            month,
            text(line, "ACCOUNTNO").unwrap_or("").to_owned(),
            text(line, "DEPARTMENTID").unwrap_or("").to_owned(),
        );
        let entry = spend.entry(key).or_default();
        entry.0 += amount(line, "AMOUNT");
        entry.1 += 1;
    }
    let rows = h
        .query("SELECT VENDORID, SPEND_MONTH, ACCOUNTNO, DEPARTMENTID, BILLED_AMOUNT, BILL_LINES FROM \"INTACCT\".\"RAW\".\"VENDOR_SPEND_MONTHLY\" WHERE SPEND_MONTH IS NOT NULL")
        .await;
    let got: BTreeMap<(String, NaiveDate, String, String), (i128, i64)> = rows
        .iter()
        .map(|r| {
            let month = r[1].as_deref().unwrap();
            let month = match month.parse::<i64>() {
                Ok(_) => epoch_day(month),
                Err(_) => at(timestamp_secs(month)).date_naive(),
            };
            (
                (
                    r[0].clone().unwrap(),
                    month,
                    r[2].clone().unwrap_or_default(),
                    r[3].clone().unwrap_or_default(),
                ),
                (
                    decimal_units(r[4].as_deref().unwrap()),
                    r[5].as_deref().unwrap().parse().unwrap(),
                ),
            )
        })
        .collect();
    assert_eq!(got.len(), spend.len());
    assert_eq!(
        got, spend,
        "VENDOR_SPEND_MONTHLY differs from the simulator's lines"
    );

    // AP_PAYMENT_RECONCILIATION: each bill against the payment lines applied to it.
    let live_payments: BTreeSet<&str> = payments
        .iter()
        .map(|p| text(p, "RECORDNO").unwrap())
        .collect();
    let mut applied: BTreeMap<&str, i128> = BTreeMap::new();
    for d in &details {
        if !text(d, "PAYMENTKEY").is_some_and(|k| live_payments.contains(k)) {
            continue;
        }
        if let Some(bill) = text(d, "RECORDKEY") {
            *applied.entry(bill).or_default() +=
                amount(d, "PAYMENTAMOUNT") + amount(d, "DISCOUNTAMOUNT");
        }
    }
    let want: BTreeMap<i64, (i128, i128, i128)> = bills
        .iter()
        .map(|b| {
            let key = text(b, "RECORDNO").unwrap();
            let billed = amount(b, "TOTALENTERED");
            let paid = applied.get(key).copied().unwrap_or(0);
            (key.parse().unwrap(), (billed, paid, billed - paid))
        })
        .collect();
    let rows = h
        .query("SELECT BILL_RECORDNO, BILL_AMOUNT, APPLIED_AMOUNT, APPLIED_DISCOUNT, DIFFERENCE FROM \"INTACCT\".\"RAW\".\"AP_PAYMENT_RECONCILIATION\"")
        .await;
    let got: BTreeMap<i64, (i128, i128, i128)> = rows
        .iter()
        .map(|r| {
            let n = |i: usize| decimal_units(r[i].as_deref().unwrap());
            (
                r[0].as_deref().unwrap().parse().unwrap(),
                (n(1), n(2) + n(3), n(4)),
            )
        })
        .collect();
    assert_eq!(
        got, want,
        "AP_PAYMENT_RECONCILIATION differs from the simulator"
    );
    assert!(
        want.values().any(|v| v.1 != 0),
        "no bill has a payment: the check proves little"
    );
    sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_reading_a_column_the_pipeline_does_not_load_is_skipped_and_the_run_succeeds() {
    let mut w = crate::support::world::World::start().await;
    let dir = tempfile::tempdir().unwrap();
    // APBILL read without VENDORNAME, which AP_AGING shows.
    w.config = super::demo_pipeline_with(dir.path(), |text| {
        text + "\n[extract.object.APBILL]\nfields = [\"VENDORID\", \"RECORDID\", \"TOTALDUE\", \
                \"TOTALENTERED\", \"TOTALPAID\", \"WHENDUE\", \"WHENPOSTED\"]\n"
    });
    let objects = ["--objects", "APBILL,APPYMT,APPYMTDETAIL"];
    w.ok(&["init"]).await;
    let out = w
        .ok(&[&["run", "--no-progress"][..], &objects[..]].concat())
        .await;
    let skipped = "AP_AGING skipped: the pipeline does not load APBILL.VENDORNAME \
                   (read it: [extract.object.APBILL] fields / exclude_fields)";
    assert!(out.contains(&format!("view {skipped}")), "{out}");
    // The run report keeps it, typed.
    let reports = std::fs::read_dir(w.stage_dir.path().join("_reports")).unwrap();
    let newest = reports
        .map(|e| e.unwrap().path())
        .max()
        .expect("a run report");
    let report: intacct_snowflake::pipeline::RunReport =
        serde_json::from_slice(&std::fs::read(newest).unwrap()).unwrap();
    assert_eq!(
        report.outcome,
        intacct_snowflake::pipeline::Outcome::Success
    );
    assert_eq!(
        report.views_skipped,
        Some(vec![intacct_snowflake::loader::ViewSkipped {
            view: "AP_AGING".into(),
            missing_columns: vec!["APBILL.VENDORNAME".into()],
            reason: skipped["AP_AGING skipped: ".len()..].into(),
        }])
    );
    // `status` shows it; the view whose columns are loaded was built; `init` says the same.
    let status = w.ok(&["status"]).await;
    assert!(
        status.contains(&format!("  {}", skipped.replace(" skipped", ""))),
        "{status}"
    );
    let client = crate::support::load_harness::client(&w.emulator, w.keys.pkcs8.clone());
    let reconciled = client
        .execute(&intacct_snowflake::snowflake::Statement::new(
            "SELECT COUNT(*) AS N FROM \"INTACCT\".\"RAW\".\"AP_PAYMENT_RECONCILIATION\"",
            "test",
        ))
        .await
        .unwrap();
    assert_ne!(reconciled.value(0, "N"), Some("0"));
    let out = w.ok(&["init"]).await;
    assert!(out.contains(&format!("view {skipped}")), "{out}");
    w.sim.shutdown().await.unwrap();
}
