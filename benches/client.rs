//! Throughput of the Intacct client against the in-process simulator with a per-page
//! latency and a per-company concurrency limit.
//!
//! The gateway allows `max_concurrent` requests at once and each page of `page_size` records
//! takes at least `latency` to answer, so no client can beat
//! `limit = max_concurrent × page_size / latency` records per second. The benchmark reads the
//! largest object as several equal time windows at once (one keyset chain is sequential, so
//! several chains are needed to keep both request slots busy) and reports the achieved rate as
//! a ratio of that limit (target ≥ 0.9).
//!
//! The simulator's latency counts from admission, its own work included (as a real gateway's
//! response time does), so the limit is reachable. A baseline in the same run reads the same
//! windows with no latency: it reports what each request costs the simulator and the client
//! themselves, which must stay well under the latency for the ratio to mean anything.
//!
//! Every window ends in a partly filled page per pass, so the dataset is large enough for
//! those to weigh little (at 1M records, about 140 pages of which 8 are partial).
//!
//! Run with `cargo bench --bench client`; `BENCH_RECORDS` (default 1000000) sets the dataset
//! size, `BENCH_WINDOWS` (default 4) the number of windows, `BENCH_LATENCY_MS` (default 200)
//! the simulated latency. Without `--bench` (as `cargo test --benches` runs it) or with
//! `BENCH_SMOKE=1` it makes a quick smoke run on a small dataset.

#[allow(dead_code)] // not every benchmark uses every item
#[path = "mode.rs"]
mod mode;

use std::time::Instant;

use chrono::{DateTime, TimeZone, Utc};
use intacct_sim::{Dataset, Scale};
use intacct_sim::{SimConfig, spawn};
use intacct_snowflake::intacct::SenderCredentials;
use intacct_snowflake::intacct::TimeWindow;
use intacct_snowflake::intacct::tenant_time;
use intacct_snowflake::intacct::{ClientConfig, IntacctClient, ReadRequest};
use intacct_snowflake::retry::RetryPolicy;

const OBJECT: &str = "APBILLITEM";
const PAGE_SIZE: u32 = 2_000;
const MAX_CONCURRENT: usize = 2;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

/// Window bounds that split the object's records into `n` groups of equal size, by the
/// instant the reader filters on (WHENMODIFIED, else WHENCREATED), and the number of records
/// they hold.
///
/// The windows start after the go-live migration burst, the one second that holds the most
/// records: a time window cannot split a second, so the burst would be one long sequential
/// keyset chain that the other windows finish well before, and the run would end measuring
/// that one chain's tail (the scheduling of unequal windows) rather than the client's
/// throughput. Boundaries are moved off repeated instants for the same reason.
fn equal_windows(config: &SimConfig, n: usize) -> (Vec<TimeWindow>, usize) {
    let dataset = Dataset::new(config.dataset.clone());
    let meta = dataset.object_meta(OBJECT).expect("object exists");
    let index = |name: &str| meta.fields.iter().position(|f| f.name == name).unwrap();
    let (modified, created) = (index("WHENMODIFIED"), index("WHENCREATED"));
    let tz = config.dataset.time_zone;
    let mut instants: Vec<DateTime<Utc>> = dataset
        .records(OBJECT)
        .filter_map(|r| {
            let text = r.values[modified].clone().or(r.values[created].clone())?;
            tenant_time::parse(&text, tz).ok()
        })
        .collect();
    instants.sort();
    let mut burst = (instants[0], 0usize);
    let mut run = (instants[0], 0usize);
    for t in &instants {
        run = if *t == run.0 {
            (run.0, run.1 + 1)
        } else {
            (*t, 1)
        };
        if run.1 > burst.1 {
            burst = run;
        }
    }
    instants.retain(|t| *t > burst.0);
    let total = instants.len();
    let end = Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0).unwrap();
    // Every window is bounded below: an unbounded filter makes the simulator scan and sort
    // the whole object for that window's pages.
    let bounds: Vec<Option<DateTime<Utc>>> = (0..n)
        .map(|i| {
            let mut k = i * total / n;
            while k > 0 && k < total && instants[k] == instants[k - 1] {
                k += 1;
            }
            Some(instants[k.min(total - 1)])
        })
        .collect();
    let windows = bounds
        .iter()
        .enumerate()
        .map(|(i, from)| TimeWindow {
            from: *from,
            to: bounds.get(i + 1).copied().flatten().unwrap_or(end),
        })
        .collect();
    (windows, total)
}

/// One timed read of every window through one client: (records, seconds, sim counters).
async fn timed_read(config: &SimConfig, windows: &[TimeWindow]) -> (u64, f64, serde_json::Value) {
    let sim = spawn(config.clone()).await.expect("simulator");
    let c = &config.credentials;
    let mut client_config = ClientConfig::new(
        sim.endpoint_url().parse().unwrap(),
        SenderCredentials {
            sender_id: c.sender_id.clone(),
            sender_password: c.sender_password.clone(),
        },
        c.user_id.clone(),
        c.company_id.clone(),
        c.user_password.clone(),
    );
    client_config.tenant_time_zone = config.dataset.time_zone;
    client_config.max_concurrent_requests = MAX_CONCURRENT;
    client_config.retry = RetryPolicy::default();
    let client = IntacctClient::new(client_config).unwrap();
    // Log in and fetch the field list outside the timed part.
    client.lookup(OBJECT).await.expect("lookup");

    let started = Instant::now();
    let reads: Vec<_> = windows
        .iter()
        .enumerate()
        .map(|(i, window)| {
            let mut request = ReadRequest::new(OBJECT, *window, format!("bench-w{i}"));
            request.page_size = PAGE_SIZE;
            let mut read = client.read_object(request);
            tokio::spawn(async move {
                let mut rows = 0u64;
                while let Some(page) = read.pages.recv().await {
                    rows += page.expect("page").records.len() as u64;
                }
                rows
            })
        })
        .collect();
    let mut records = 0;
    for read in reads {
        records += read.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let counters = sim.counters().await.unwrap();
    sim.shutdown().await.unwrap();
    (records, elapsed, counters)
}

async fn run() {
    let measuring = !mode::is_smoke();
    let (records, latency_ms) = if measuring {
        (
            mode::env_or("BENCH_RECORDS", 1_000_000),
            mode::env_or("BENCH_LATENCY_MS", 200),
        )
    } else {
        (20_000, 5)
    };
    let windows_wanted = mode::env_or("BENCH_WINDOWS", 4) as usize;

    let mut config = SimConfig::default();
    config.dataset.scale = Scale::Records(records);
    config.max_concurrent = MAX_CONCURRENT;
    let (windows, expected) = equal_windows(&config, windows_wanted);

    // Baseline, same run: the simulator's own cost per request, without the added latency.
    config.latency_ms = 0;
    let (base_records, base_elapsed, base_counters) = timed_read(&config, &windows).await;
    let base_requests = base_counters["requests"].as_u64().unwrap_or(1).max(1) as f64;
    let service_secs = base_elapsed * MAX_CONCURRENT as f64 / base_requests;

    config.latency_ms = latency_ms;
    let (read_records, elapsed, counters) = timed_read(&config, &windows).await;

    let latency = latency_ms as f64 / 1_000.0;
    let achieved = read_records as f64 / elapsed;
    let limit = MAX_CONCURRENT as f64 * f64::from(PAGE_SIZE) / latency;
    let pages = counters["pages"].as_u64().unwrap_or(1).max(1) as f64;
    // The best any client can do with these pages: each takes the latency, two at a time.
    let pages_bound = read_records as f64 / (pages * latency / MAX_CONCURRENT as f64);
    println!("client throughput against the simulator ({OBJECT})");
    println!(
        "  dataset Records({records}), {} windows, latency {latency_ms} ms/page, max_concurrent {MAX_CONCURRENT}, page_size {PAGE_SIZE}",
        windows.len()
    );
    println!("  records read        {read_records} (expected {expected})");
    println!(
        "  requests            {} (pages {}), max in flight {}, faults {}",
        counters["requests"],
        counters["pages"],
        counters["max_in_flight"],
        counters["faults_injected"]
    );
    println!(
        "  baseline (0 ms)     {base_records} records in {base_elapsed:.2} s: simulator+client work {:.0} ms per request",
        service_secs * 1_000.0
    );
    println!("  elapsed             {elapsed:.2} s");
    println!("  achieved            {achieved:.0} records/s");
    println!(
        "  limit               {limit:.0} records/s (= {MAX_CONCURRENT} × {PAGE_SIZE} / {latency_ms} ms)"
    );
    println!(
        "  ratio               {:.3} (target ≥ 0.9)",
        achieved / limit
    );
    println!(
        "  ratio vs the bound these pages allow ({pages_bound:.0} records/s, partial pages counted): {:.3}",
        achieved / pages_bound
    );
    assert_eq!(read_records as usize, expected, "every record read once");
    assert_eq!(base_records as usize, expected, "every record read once");
}
