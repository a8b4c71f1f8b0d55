//! The demo as a new user reads it: with the simulator's clock where `scripts/demo.sh` starts
//! it (three days before today, then three simulated days), `AP_AGING` spreads the open bills over its buckets, each bucket's sum equal to
//! the bills' TOTALDUE computed here from the simulator's own records against the view's
//! as-of date; and `status` measures lag on the run's clock, not the wall clock.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, Utc};
use intacct_sim::SimConfig;
use intacct_snowflake::snowflake::Statement;

use crate::support::demo_pipeline::sim_clock;
use crate::support::load_harness::client;
use crate::support::repo_root;
use crate::support::world::World;

/// The view's buckets, in its column order.
const BUCKETS: [&str; 5] = [
    "CURRENT_DUE",
    "PAST_DUE_1_30",
    "PAST_DUE_31_60",
    "PAST_DUE_61_90",
    "PAST_DUE_OVER_90",
];

/// An exact amount in ten-thousandths (`-12.5` → -125000).
fn amount(text: &str) -> i128 {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let fraction = fraction.trim_end_matches('0');
    assert!(fraction.len() <= 4, "{text}");
    let fraction = format!("{fraction:0<4}");
    sign * (whole.parse::<i128>().unwrap() * 10_000 + fraction.parse::<i128>().unwrap())
}

/// A DATE as the SQL API sends it (days since 1970-01-01), or as text.
fn date(text: &str) -> NaiveDate {
    match text.parse::<i64>() {
        Ok(days) => NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + Duration::days(days),
        Err(_) => text.parse().unwrap(),
    }
}

/// The bucket of a bill due on `due` as of `as_of` (the view's rule, written independently).
fn bucket(due: Option<NaiveDate>, as_of: NaiveDate) -> usize {
    let Some(due) = due else { return 0 };
    match (as_of - due).num_days() {
        d if d <= 0 => 0,
        1..=30 => 1,
        31..=60 => 2,
        61..=90 => 3,
        _ => 4,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demos_aging_spreads_over_the_buckets_and_status_lags_on_the_runs_clock() {
    // The demo's simulator: seed 42, its clock starting where scripts/demo.sh starts it,
    // then the demo's three simulated days.
    let start = std::process::Command::new("bash")
        .arg("-c")
        .arg("source scripts/lib/stand-ins.sh && demo_sim_start")
        .current_dir(repo_root())
        .output()
        .unwrap();
    assert!(start.status.success(), "{start:?}");
    let mut config = SimConfig::default();
    let today = Utc::now().date_naive();
    config.dataset.seed = 42;
    config.dataset.start = String::from_utf8(start.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let w = World::start_with(config).await;
    w.sim.advance_days(3).await.unwrap();
    w.ok(&["init"]).await;
    w.ok(&["run", "--objects", "VENDOR,APBILL", "--no-progress"])
        .await;

    let snowflake = client(&w.emulator, w.keys.pkcs8.clone());
    let select = format!(
        "SELECT VENDORID, AS_OF_DATE, {} FROM \"INTACCT\".\"RAW\".\"AP_AGING\"",
        BUCKETS.join(", ")
    );
    let rows = snowflake
        .execute(&Statement::new(select, "aging"))
        .await
        .unwrap()
        .rows;
    let as_of = date(rows[0][1].as_deref().unwrap());
    assert!(
        (as_of - today).num_days().abs() <= 1,
        "the view ages against the current date: {as_of}"
    );
    let mut view: BTreeMap<(String, usize), i128> = BTreeMap::new();
    for row in &rows {
        for (i, value) in row[2..].iter().enumerate() {
            let value = amount(value.as_deref().unwrap_or("0"));
            if value != 0 {
                view.insert((row[0].clone().unwrap(), i), value);
            }
        }
    }

    let mut truth: BTreeMap<(String, usize), i128> = BTreeMap::new();
    for bill in w.sim.records("APBILL").await.unwrap() {
        let due = amount(bill["TOTALDUE"].as_str().unwrap());
        if due == 0 {
            continue;
        }
        let when_due = bill["WHENDUE"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(|s| NaiveDate::parse_from_str(s, "%m/%d/%Y").unwrap());
        let vendor = bill["VENDORID"].as_str().unwrap().to_owned();
        *truth.entry((vendor, bucket(when_due, as_of))).or_default() += due;
    }
    truth.retain(|_, sum| *sum != 0);
    assert_eq!(view, truth, "AP_AGING against the simulator's bills");
    let mut by_bucket = [0i128; 5];
    for ((_, b), sum) in &truth {
        by_bucket[*b] += sum;
    }
    let filled = by_bucket.iter().filter(|s| **s != 0).count();
    assert!(filled >= 3, "the buckets are not spread: {by_bucket:?}");

    // Lag on the run's clock: nothing behind right after the run, two days after two
    // simulated days without one.
    let lags = |json: &str| -> Vec<(String, Option<i64>)> {
        serde_json::from_str::<serde_json::Value>(json)
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["object"].as_str().unwrap().to_owned(),
                    o["lag_secs"].as_i64(),
                )
            })
            .collect()
    };
    let now = sim_clock(&w.sim).await;
    for (object, lag) in lags(&w.ok(&["status", "--json"]).await) {
        assert_eq!(lag, Some(0), "{object} at {now}");
    }
    w.sim.advance_days(2).await.unwrap();
    for (object, lag) in lags(&w.ok(&["status", "--json"]).await) {
        assert_eq!(lag, Some(2 * 86_400), "{object}");
    }
    w.sim.shutdown().await.unwrap();
}
