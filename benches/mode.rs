//! What every benchmark binary decides the same way: whether this is a measured run or a smoke
//! run, and its numeric settings from the environment. Each benchmark includes this file
//! (`#[path = "mode.rs"] mod mode;`, the simulator's in `scripts/intacct-sim/benches/` by
//! `#[path = "../../../benches/mode.rs"]`); not every one uses every item.

/// True for a smoke run: `cargo test --benches` runs a benchmark without `--bench`, and
/// `BENCH_SMOKE=1` asks for one under `cargo bench` too. A smoke run is small and quick and
/// still checks its outputs against its baselines.
pub(crate) fn is_smoke() -> bool {
    std::env::var("BENCH_SMOKE").is_ok_and(|v| v == "1")
        || !std::env::args().any(|a| a == "--bench")
}

/// The environment variable `name` as a number, or `default` when it is unset or no number.
pub(crate) fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
