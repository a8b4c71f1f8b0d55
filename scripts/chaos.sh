#!/usr/bin/env bash
# Chaos: N seeds of run, backfill and replay against the Intacct simulator and the Snowflake
# emulator with random faults on both, SIGKILL at random moments and at load crash points,
# restarted until each command completes; then every target table is compared with the
# simulator's ground truth. Prints `N runs, D divergences`; a divergence keeps its seed, log,
# stage and manifest under CHAOS_DIR (default: a new directory in /tmp) and says where.
# CHAOS_JOBS (default 1) runs that many seeds at once, each in its own world.
#   scripts/chaos.sh [N] [FIRST_SEED]
set -uo pipefail
cd "$(dirname "$0")/.."
export CHAOS_RUNS="${1:-10}"
export CHAOS_SEED="${2:-1}"
log="$(mktemp)"
cargo test --locked --test it -- --ignored --exact chaos::chaos --nocapture >"$log" 2>&1
status=$?
grep -E '^(seed [0-9]+:|[0-9]+ runs, [0-9]+ divergences)' "$log"
if [ "$status" -ne 0 ] && ! grep -qE '^[0-9]+ runs, ' "$log"; then
  tail -40 "$log" >&2
fi
rm -f "$log"
exit "$status"
