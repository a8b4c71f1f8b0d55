//! Simulator dataset throughput and memory: generates the `large` APBILLITEM stream (then
//! APBILL) and reports records per second against a same-run baseline (cloning an already
//! generated record, i.e. the cost of the output alone), plus peak RSS (VmHWM) after 1 M and
//! after 3 M records: a lazy dataset's peak must not grow with the records generated.
//!
//! Run: `cargo bench --bench simdata`. Without `--bench` (as `cargo test --benches` runs it) or
//! with `BENCH_SMOKE=1`, a smoke run: a 200k-record dataset and 10k + 20k records, checking that the
//! stream yields what `len` promises.

#[allow(dead_code)] // not every benchmark uses every item
#[path = "../../../benches/mode.rs"]
mod mode;

use std::time::Instant;

use chrono::{TimeZone, Utc};
use intacct_sim::{Dataset, DatasetConfig, Scale};

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

/// CPU time of this thread (ns), so that a busy shared machine does not skew the rates.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// Records per second of wall time and of CPU time since (`wall`, `cpu`).
fn rates(n: u64, wall: Instant, cpu: u64) -> (f64, f64) {
    let cpu_secs = (cpu_ns() - cpu) as f64 / 1e9;
    (
        n as f64 / wall.elapsed().as_secs_f64(),
        n as f64 / cpu_secs.max(1e-9),
    )
}

fn main() {
    let smoke = mode::is_smoke();
    let (scale, first, next) = if smoke {
        (Scale::Records(200_000), 10_000u64, 20_000u64)
    } else {
        (Scale::Large, 1_000_000, 2_000_000)
    };
    let config = DatasetConfig {
        seed: 1,
        scale,
        start: Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap(),
        time_zone: chrono_tz::America::Chicago,
    };
    let t = Instant::now();
    let ds = Dataset::new(config);
    let new_secs = t.elapsed().as_secs_f64();
    let total: u64 = ds.object_names().iter().map(|o| ds.len(o)).sum();
    println!(
        "new({scale:?}): {new_secs:.3} s for {total} records; VmHWM {} KiB",
        vm_hwm_kib()
    );

    // Baseline: cloning one generated line, the output's allocation cost alone.
    let sample = ds.records("APBILLITEM").next().unwrap();
    let n_base = first;
    let (t, c) = (Instant::now(), cpu_ns());
    let mut bytes = 0usize;
    for _ in 0..n_base {
        let r = std::hint::black_box(&sample).clone();
        bytes += r.values.len();
    }
    let (base_rate, base_cpu) = rates(n_base, t, c);
    std::hint::black_box(bytes);

    let available = ds.len("APBILLITEM") + ds.len("APBILL");
    assert!(
        available >= first + next,
        "{available} records, fewer than measured"
    );
    let mut stream = ds.records("APBILLITEM").chain(ds.records("APBILL"));
    let (t, c) = (Instant::now(), cpu_ns());
    let mut values = 0usize;
    let mut generated = 0u64;
    for r in stream.by_ref().take(first as usize) {
        values += r.values.iter().flatten().map(String::len).sum::<usize>();
        generated += 1;
    }
    assert_eq!(generated, first);
    let (rate_1m, cpu_1m) = rates(first, t, c);
    let hwm_1m = vm_hwm_kib();
    let (t, c) = (Instant::now(), cpu_ns());
    let mut more = 0u64;
    for r in stream.by_ref().take(next as usize) {
        values += r.values.iter().flatten().map(String::len).sum::<usize>();
        more += 1;
    }
    let (rate_3m, cpu_3m) = rates(more, t, c);
    let hwm_3m = vm_hwm_kib();
    assert_eq!(more, next);
    assert!(values > 0, "records carry values");
    std::hint::black_box(values);
    println!(
        "baseline (clone a record): {base_rate:.0} records/s wall, {base_cpu:.0} per CPU second"
    );
    println!(
        "generate: {rate_1m:.0} records/s wall ({cpu_1m:.0} per CPU second) for the first {first}, \
         {rate_3m:.0} ({cpu_3m:.0}) for the next {more}; {:.2}x the baseline's CPU time per record",
        base_cpu / cpu_1m
    );
    println!(
        "VmHWM after {first}: {hwm_1m} KiB, after {}: {hwm_3m} KiB (ratio {:.3})",
        first + more,
        hwm_3m as f64 / hwm_1m.max(1) as f64
    );

    let since = ds.now() - chrono::Duration::days(30);
    let t = Instant::now();
    let recent = ds.records_changed_since("APBILLITEM", since).count();
    assert!(recent as u64 <= ds.len("APBILLITEM"));
    println!(
        "records_changed_since(now - 30 days): {recent} APBILLITEM in {:.3} s",
        t.elapsed().as_secs_f64()
    );
}
