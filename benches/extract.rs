//! Throughput of `extract` as a user runs it: the built binary, a first run of every object
//! (each one window, the whole history, the go-live burst included), against the in-process
//! simulator with a per-page latency and a per-company concurrency limit.
//!
//! The gateway allows `max_concurrent` requests at once and each page of `page_size` records
//! takes at least `latency` to answer, so no extract can beat
//! `bound = max_concurrent × page_size / latency` records per second. The benchmark reports
//! the achieved rate (records staged / wall time of the `extract` process, start-up, log-in,
//! `lookup`s, the delete feed and the Parquet writes included) as a ratio of that bound
//! (target ≥ 0.9), and the pages the bound implies (records / page_size) beside the requests
//! and pages the simulator actually served.
//!
//! The records counted are those the run report says were staged; the benchmark fails unless,
//! per object, they equal the live rows of the object's staged batches in the manifest and the
//! simulator's live records, and unless every object the dataset serves (AUDITHISTORY, read
//! only as the delete feed, aside) was extracted without error.
//!
//! A baseline in the same run runs the same extract with no latency: the wall time per request
//! it reports is what the tool and the simulator cost themselves, which must stay well under
//! the latency for the ratio to mean anything.
//!
//! Run with `cargo bench --bench extract`; `BENCH_RECORDS` (default 300000) sets the dataset
//! size, `BENCH_LATENCY_MS` (default 200) the simulated latency. Without `--bench` (as
//! `cargo test --benches` runs it) or with `BENCH_SMOKE=1` it makes a quick smoke run on a
//! small dataset, with the same checks on the staged counts.

#[allow(dead_code)] // not every benchmark uses every item
#[path = "mode.rs"]
mod mode;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use intacct_sim::{
    DEFAULT_COMPANY_ID, DEFAULT_SENDER_ID, DEFAULT_SENDER_PASSWORD, DEFAULT_USER_ID,
    DEFAULT_USER_PASSWORD, Dataset, Scale, SimConfig, spawn,
};
use intacct_snowflake::manifest::{BatchStatus, Manifest};
use intacct_snowflake::stage::Stage;

const PAGE_SIZE: u32 = 2_000;
const MAX_CONCURRENT: usize = 2;
/// The object the simulator serves only as the delete feed, never extracted as such.
const DELETE_FEED: &str = "AUDITHISTORY";

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

/// The pipeline a user would write for this gateway: every connection setting explicit, every
/// other one (objects in scope, the delete feed, lookback) left at its default.
fn pipeline_toml(endpoint: &str, stage: &Path, unused_key: &Path) -> String {
    format!(
        r#"name = "bench"

[intacct]
endpoint = "{endpoint}"
sender_id = "{DEFAULT_SENDER_ID}"
sender_password = "${{BENCH_SENDER_PASSWORD:-{DEFAULT_SENDER_PASSWORD}}}"
company_id = "{DEFAULT_COMPANY_ID}"
user_id = "{DEFAULT_USER_ID}"
user_password = "${{BENCH_USER_PASSWORD:-{DEFAULT_USER_PASSWORD}}}"
time_zone = "America/Los_Angeles"
max_concurrent_requests = {MAX_CONCURRENT}
page_size = {PAGE_SIZE}

[stage]
url = "{stage}"

# Not contacted by `extract`; the section is required by every pipeline file.
[snowflake]
url = "http://127.0.0.1:9"
account = "BENCH"
user = "LOADER"
private_key_path = "{key}"
warehouse = "LOAD_WH"
database = "INTACCT"
schema = "RAW"
"#,
        stage = stage.display(),
        key = unused_key.display(),
    )
}

/// What one timed `extract` staged and what the simulator served.
struct Outcome {
    /// Records staged per object, from the run report (tombstones not counted).
    staged: BTreeMap<String, u64>,
    /// Pages per object, from the run report (data pages, not the delete feed's).
    report_pages: u64,
    /// The object that took longest: (name, its pages, its seconds), from the run report.
    longest: (String, u64, f64),
    /// AUDITHISTORY pages of the delete feed, from the run report.
    delete_pages: u64,
    /// Wall time of the process.
    seconds: f64,
    /// The simulator's counters after the run.
    counters: serde_json::Value,
}

impl Outcome {
    fn records(&self) -> u64 {
        self.staged.values().sum()
    }

    fn counter(&self, name: &str) -> u64 {
        self.counters[name].as_u64().unwrap_or(0)
    }
}

/// Starts the simulator, runs `intacct-snowflake extract` on a fresh local stage, and reads
/// its run report, checked against the manifest.
async fn timed_extract(config: &SimConfig) -> Outcome {
    let sim = spawn(config.clone()).await.expect("simulator");
    let dir = tempfile::tempdir().expect("tempdir");
    let stage = dir.path().join("stage");
    let pipeline = dir.path().join("bench.toml");
    std::fs::write(
        &pipeline,
        pipeline_toml(
            &sim.endpoint_url(),
            &stage,
            &dir.path().join("unused_key.p8"),
        ),
    )
    .expect("pipeline file");
    // The run is "as of" the simulator's clock, as scripts/demo.sh runs it.
    let now = Dataset::new(config.dataset.clone()).now().to_rfc3339();

    let mut command = Command::new(env!("CARGO_BIN_EXE_intacct-snowflake"));
    command
        .args(["extract", "--no-progress", "--config"])
        .arg(&pipeline)
        .current_dir(dir.path())
        .env("INTACCT_SNOWFLAKE_NOW", &now)
        .env("INTACCT_SNOWFLAKE_LOG", "warn");
    let started = Instant::now();
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("the binary runs");
    let seconds = started.elapsed().as_secs_f64();
    let counters = sim.counters().await.expect("counters");
    sim.shutdown().await.expect("simulator stops");
    assert!(
        output.status.success(),
        "extract failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    let reports: Vec<serde_json::Value> = std::fs::read_dir(stage.join("_reports"))
        .expect("a run report")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            let bytes = std::fs::read(path).unwrap();
            serde_json::from_slice(&bytes).expect("report is JSON")
        })
        .filter(|r: &serde_json::Value| r["command"] == "extract")
        .collect();
    assert_eq!(reports.len(), 1, "one extract report");
    let mut staged = BTreeMap::new();
    let (mut report_pages, mut delete_pages) = (0, 0);
    let mut longest = (String::new(), 0, 0.0);
    for object in reports[0]["objects"].as_array().expect("objects") {
        let name = object["object"].as_str().expect("object name").to_owned();
        assert!(
            object["error"].is_null(),
            "{name} failed: {}",
            object["error"]
        );
        assert!(
            object["deletes_error"].is_null(),
            "{name}'s delete feed failed: {}",
            object["deletes_error"]
        );
        let pages = object["pages"].as_u64().unwrap();
        let object_secs = object["seconds"].as_f64().unwrap();
        if object_secs > longest.2 {
            longest = (name.clone(), pages, object_secs);
        }
        report_pages += pages;
        delete_pages += object["delete_pages"].as_u64().unwrap();
        // Summed, not assumed one row per object: a double count then shows against the
        // truth instead of being hidden by the last row.
        *staged.entry(name).or_insert(0) += object["records"].as_u64().expect("records");
    }

    // The manifest must agree: the live (not tombstone) rows of the staged batches.
    let manifest = Manifest::open(Stage::open(stage.to_str().unwrap()).unwrap(), "bench")
        .await
        .expect("manifest");
    for (object, records) in &staged {
        let in_manifest: u64 = manifest
            .state()
            .batches_of(object)
            .inspect(|b| {
                assert_eq!(b.status, BatchStatus::Staged, "{object}: {}", b.batch_id);
            })
            .map(|b| b.rows - b.deleted_rows)
            .sum();
        assert_eq!(
            in_manifest, *records,
            "{object}: the manifest's staged rows differ from the run report"
        );
    }
    Outcome {
        staged,
        report_pages,
        longest,
        delete_pages,
        seconds,
        counters,
    }
}

/// Fails unless every object the dataset serves was staged, each with exactly its live
/// records (a first run's window covers the whole history).
fn check_against_truth(config: &SimConfig, outcome: &Outcome, label: &str) {
    let dataset = Dataset::new(config.dataset.clone());
    let truth: BTreeMap<String, u64> = dataset
        .object_names()
        .into_iter()
        .filter(|name| *name != DELETE_FEED)
        .map(|name| (name.to_owned(), dataset.len(name)))
        .collect();
    assert_eq!(
        outcome.staged, truth,
        "{label}: records staged per object differ from the simulator's live records"
    );
}

async fn run() {
    let measuring = !mode::is_smoke();
    let (records, latency_ms) = if measuring {
        (
            mode::env_or("BENCH_RECORDS", 300_000),
            mode::env_or("BENCH_LATENCY_MS", 200),
        )
    } else {
        (10_000, 5)
    };

    let mut config = SimConfig::default();
    config.dataset.scale = Scale::Records(records);
    config.max_concurrent = MAX_CONCURRENT;

    // Baseline, same run: the tool's and the simulator's own cost, without the latency.
    config.latency_ms = 0;
    let base = timed_extract(&config).await;
    check_against_truth(&config, &base, "baseline");
    // Wall time per request with no latency: the serial figure if one slot did all the work,
    // times `MAX_CONCURRENT` if both were busy throughout (the most it can be).
    let base_requests = base.counter("requests").max(1) as f64;
    let serial_per_request = base.seconds / base_requests;

    config.latency_ms = latency_ms;
    let timed = timed_extract(&config).await;
    check_against_truth(&config, &timed, "timed run");

    let latency = latency_ms as f64 / 1_000.0;
    let staged = timed.records();
    let achieved = staged as f64 / timed.seconds;
    let bound = MAX_CONCURRENT as f64 * f64::from(PAGE_SIZE) / latency;
    let implied_pages = staged.div_ceil(u64::from(PAGE_SIZE));
    // The best time for the pages actually served (partial pages and the delete feed's
    // included): each takes the latency, `MAX_CONCURRENT` at a time. Beside the bound's ratio,
    // this one separates idle slots (scheduling) from extra pages.
    let pages_sent = timed.counter("pages");
    let pages_secs = pages_sent as f64 * latency / MAX_CONCURRENT as f64;
    println!("extract throughput against the simulator (every object, one first run)");
    println!(
        "  dataset Records({records}), {} objects, latency {latency_ms} ms/page, max_concurrent {MAX_CONCURRENT}, page_size {PAGE_SIZE}",
        timed.staged.len()
    );
    println!(
        "  records staged      {staged} (= the simulator's live records, per object: {})",
        timed
            .staged
            .iter()
            .map(|(o, n)| format!("{o} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "  pages               bound implies {implied_pages}; sent {} (data {} + delete feed {} per the run report), {} requests in all, max in flight {}",
        timed.counter("pages"),
        timed.report_pages,
        timed.delete_pages,
        timed.counter("requests"),
        timed.counter("max_in_flight"),
    );
    println!(
        "  baseline (0 ms)     {} records in {:.2} s ({:.0} records/s), {} requests: tool+simulator work {:.0}–{:.0} ms per request (wall / requests, × {MAX_CONCURRENT})",
        base.records(),
        base.seconds,
        base.records() as f64 / base.seconds,
        base.counter("requests"),
        serial_per_request * 1_000.0,
        serial_per_request * MAX_CONCURRENT as f64 * 1_000.0
    );
    println!("  elapsed             {:.2} s", timed.seconds);
    println!(
        "  longest object      {} ({} pages) in {:.2} s",
        timed.longest.0, timed.longest.1, timed.longest.2
    );
    println!("  achieved            {achieved:.0} records/s");
    println!(
        "  bound               {bound:.0} records/s (= {MAX_CONCURRENT} × {PAGE_SIZE} / {latency_ms} ms)"
    );
    println!(
        "  ratio               {:.3} (target ≥ 0.9)",
        achieved / bound
    );
    println!(
        "  ratio vs the {pages_sent} pages sent ({pages_secs:.2} s at {MAX_CONCURRENT} in flight): {:.3}",
        pages_secs / timed.seconds
    );
    // Every request (log-in, preferences, lookups, probes, pages) holds a slot for the
    // latency: this is how full the slots were, whatever the requests were for.
    let requests = timed.counter("requests");
    let request_secs = requests as f64 * latency / MAX_CONCURRENT as f64;
    println!(
        "  slots busy          {:.3} ({requests} requests need {request_secs:.2} s at {MAX_CONCURRENT} in flight)",
        request_secs / timed.seconds
    );
}
