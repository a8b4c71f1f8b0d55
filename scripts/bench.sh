#!/usr/bin/env bash
# Every benchmark, release build. Benchmarks report ratios against baselines measured in the
# same run; the stage benchmark needs the pinned Python tools (pyarrow, lxml) for its baseline.
# STAGE_BENCH_SIZES (default 1000000,5000000) picks the record counts of the stage benchmark.
# LOAD_BENCH_ROWS (default 10000,100000,1000000) picks the batch sizes of the load benchmark (emulator).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/pytools/setup.sh
cargo bench --locked --benches
