//! Simulator dataset throughput and memory: generates the `large` APBILLITEM stream (then
//! APBILL) and reports records per second against a same-run baseline (cloning an already
//! generated record, i.e. the cost of the output alone), plus peak RSS (VmHWM) after 1 M and
//! after 3 M records: a lazy dataset's peak must not grow with the records generated.
//!
//! Run: `cargo bench --bench simdata`.

use std::time::Instant;

use chrono::{TimeZone, Utc};
use intacct_snowflake::sim::dataset::{Dataset, DatasetConfig, Scale};

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let config = DatasetConfig {
        seed: 1,
        scale: Scale::Large,
        start: Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap(),
        time_zone: chrono_tz::America::Chicago,
    };
    let t = Instant::now();
    let ds = Dataset::new(config);
    let new_secs = t.elapsed().as_secs_f64();
    let total: u64 = ds.object_names().iter().map(|o| ds.len(o)).sum();
    println!(
        "new(large): {new_secs:.3} s for {total} records; VmHWM {} KiB",
        vm_hwm_kib()
    );

    // Baseline: cloning one generated line, the output's allocation cost alone.
    let sample = ds.records("APBILLITEM").next().unwrap();
    let n_base = 1_000_000;
    let t = Instant::now();
    let mut bytes = 0usize;
    for _ in 0..n_base {
        let r = std::hint::black_box(&sample).clone();
        bytes += r.values.len();
    }
    let base_rate = n_base as f64 / t.elapsed().as_secs_f64();
    std::hint::black_box(bytes);

    let mut stream = ds.records("APBILLITEM").chain(ds.records("APBILL"));
    let t = Instant::now();
    let mut values = 0usize;
    for r in stream.by_ref().take(1_000_000) {
        values += r.values.iter().flatten().map(String::len).sum::<usize>();
    }
    let rate_1m = 1_000_000.0 / t.elapsed().as_secs_f64();
    let hwm_1m = vm_hwm_kib();
    let t = Instant::now();
    let mut more = 0u64;
    for r in stream.by_ref().take(2_000_000) {
        values += r.values.iter().flatten().map(String::len).sum::<usize>();
        more += 1;
    }
    let rate_3m = more as f64 / t.elapsed().as_secs_f64();
    let hwm_3m = vm_hwm_kib();
    std::hint::black_box(values);
    println!("baseline (clone a record): {base_rate:.0} records/s");
    println!(
        "generate: {rate_1m:.0} records/s (first 1M), {rate_3m:.0} records/s (next {more}); {:.2}x the baseline's time per record",
        base_rate / rate_1m
    );
    println!(
        "VmHWM after 1M: {hwm_1m} KiB, after {}: {hwm_3m} KiB (ratio {:.3})",
        1_000_000 + more,
        hwm_3m as f64 / hwm_1m.max(1) as f64
    );

    let since = ds.now() - chrono::Duration::days(30);
    let t = Instant::now();
    let recent = ds.records_changed_since("APBILLITEM", since).count();
    println!(
        "records_changed_since(now - 30 days): {recent} APBILLITEM in {:.3} s",
        t.elapsed().as_secs_f64()
    );
}
