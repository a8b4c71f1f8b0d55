//! Benchmark of the Intacct gateway simulator: start-up and memory of the `large` preset
//! against `tiny` (the baseline, measured in the same run), and the cost of a keyset page of
//! recent changes on `large` against the same page on `demo`.
//!
//! Run: `cargo bench --bench sim`. Prints ratios; asserts only that every page succeeded. Without
//! `--bench` (as `cargo test --benches` runs it) or with `BENCH_SMOKE=1` it measures `tiny` and
//! `demo` only, `demo` standing in for `large`.

#[allow(dead_code)] // not every benchmark uses every item
#[path = "../../../benches/mode.rs"]
mod mode;

use std::time::{Duration, Instant};

use intacct_sim::Scale;
use intacct_sim::{SimConfig, spawn};

const LOGIN: &str = "<?xml version=\"1.0\" encoding=\"utf-8\" ?><request><control><senderid>sim-sender</senderid><password>sim-sender-password</password><controlid>c</controlid><uniqueid>false</uniqueid><dtdversion>3.0</dtdversion></control><operation><authentication><login><userid>sim-user</userid><companyid>sim-company</companyid><password>sim-user-password</password></login></authentication><content><function controlid=\"f\"><getAPISession/></function></content></operation></request>";

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn keyset_page(session: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\" ?><request><control><senderid>sim-sender</senderid><password>sim-sender-password</password><controlid>c</controlid><uniqueid>false</uniqueid><dtdversion>3.0</dtdversion></control><operation><authentication><sessionid>{session}</sessionid></authentication><content><function controlid=\"f\"><query><object>APBILL</object><select><field>*</field></select><filter><and><greaterthan><field>WHENMODIFIED</field><value>01/14/2026 00:00:00</value></greaterthan><lessthan><field>WHENMODIFIED</field><value>01/15/2026 00:00:00</value></lessthan></and></filter><orderby><order><field>WHENMODIFIED</field><ascending/></order><order><field>RECORDNO</field><ascending/></order></orderby><pagesize>2000</pagesize></query></function></content></operation></request>"
    )
}

/// Starts a simulator, opens a session, times one keyset page: (start-up, page, RSS growth).
async fn measure(scale: Scale) -> (Duration, Duration, u64) {
    let rss_before = rss_kib();
    let mut config = SimConfig::default();
    config.dataset.scale = scale;
    let started = Instant::now();
    let sim = spawn(config).await.expect("simulator starts");
    let http = reqwest::Client::new();
    let text = http
        .post(sim.endpoint_url())
        .body(LOGIN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let startup = started.elapsed();
    let session = text
        .split("<sessionid>")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("session id")
        .to_owned();
    let page_started = Instant::now();
    let body = http
        .post(sim.endpoint_url())
        .body(keyset_page(&session))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let page = page_started.elapsed();
    assert!(body.contains("<status>success</status>"), "{body}");
    assert!(body.contains("<data "), "a page of records: {body}");
    let rss = rss_kib().saturating_sub(rss_before);
    sim.shutdown().await.unwrap();
    (startup, page, rss)
}

#[tokio::main]
async fn main() {
    let smoke = mode::is_smoke();
    let (big_name, big) = if smoke {
        ("demo", Scale::Demo)
    } else {
        ("large", Scale::Large)
    };
    let (tiny_start, _, tiny_rss) = measure(Scale::Tiny).await;
    let (demo_start, demo_page, _) = measure(Scale::Demo).await;
    let (large_start, large_page, large_rss) = measure(big).await;
    println!(
        "start-up to first session: tiny {tiny_start:?}, demo {demo_start:?}, {big_name} {large_start:?}"
    );
    println!(
        "{big_name}/tiny start-up ratio: {:.1}",
        large_start.as_secs_f64() / tiny_start.as_secs_f64()
    );
    println!("RSS growth: tiny {tiny_rss} KiB, {big_name} {large_rss} KiB");
    println!(
        "keyset page of one day's changes: demo {demo_page:?}, {big_name} {large_page:?}, ratio {:.1}",
        large_page.as_secs_f64() / demo_page.as_secs_f64()
    );
}
