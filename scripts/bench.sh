#!/usr/bin/env bash
# Every benchmark, release build, then the end-to-end backfill. Each figure is printed beside a
# baseline measured in the same run; the README's Performance section quotes them. 430 s on
# 2 cores once built and once the stage's pages exist (the first run writes them: a few minutes).
# STAGE_BENCH_SIZES (default 1000000,5000000) picks the record counts of the stage benchmark.
# LOAD_BENCH_ROWS (default 10000,100000,1000000) picks the batch sizes of the load benchmark.
# BENCH_BACKFILL_SCALE (default 1000000 records) picks the simulator scale of the backfill: the
# `large` preset (5.3M) takes far longer than the 15 minutes this script has, in the simulator.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
scripts/pytools/setup.sh
cargo build --release --locked
cargo bench --workspace --locked --bench '*'
BENCH_BACKFILL_SCALE="${BENCH_BACKFILL_SCALE:-1000000}" \
  BIN="${CARGO_TARGET_DIR:-target}/release/intacct-snowflake" scripts/bench-backfill.sh
echo "bench.sh: $(( $(date +%s) - started )) s"
