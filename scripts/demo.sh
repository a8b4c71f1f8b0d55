#!/usr/bin/env bash
# The demo: the main job end to end on the embedded default.
#
# Starts the Intacct gateway simulator on a free loopback port, extracts every object of
# pipelines/demo.toml to a local stage under .demo/, shows the manifest's status, advances the
# simulator by one day of changes, extracts again (only the changes plus the lookback window),
# and shows the status again. Everything it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

DEMO_DIR="${DEMO_DIR:-.demo}"
mkdir -p "$DEMO_DIR"
echo "== building"
cargo build --locked --bin intacct-snowflake
BIN="${CARGO_TARGET_DIR:-target}/debug/intacct-snowflake"

SIM_LOG="$DEMO_DIR/simulator.log"
SIM_OUT="$DEMO_DIR/simulator.out"
"$BIN" sim intacct --listen 127.0.0.1:0 --seed 42 --scale demo >"$SIM_OUT" 2>"$SIM_LOG" &
SIM_PID=$!
trap 'kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
  if grep -q '^listening on ' "$SIM_OUT"; then break; fi
  if ! kill -0 "$SIM_PID" 2>/dev/null; then cat "$SIM_LOG" >&2; exit 1; fi
  sleep 0.1
done
SIM_URL="$(sed -n 's/^listening on //p' "$SIM_OUT" | head -1)"
[ -n "$SIM_URL" ] || { echo "simulator did not start" >&2; cat "$SIM_LOG" >&2; exit 1; }
echo "== Intacct simulator at $SIM_URL"

export INTACCT_ENDPOINT="$SIM_URL/ia/xml/xmlgw.phtml"
export STAGE_URL="${STAGE_URL:-$DEMO_DIR/stage}"
rm -rf "${STAGE_URL#file://}"

# The simulator keeps its own clock (it starts in January 2026 and moves only when told), so
# every extract runs "as of" the simulated now rather than the wall clock.
sim_now() { curl -fsS "$SIM_URL/__sim/clock" | sed 's/.*"now":"\([^"]*\)".*/\1/'; }

echo "== extract (first run: everything)"
export INTACCT_SNOWFLAKE_NOW="$(sim_now)"
"$BIN" extract --config pipelines/demo.toml
echo "== status"
"$BIN" status --config pipelines/demo.toml

echo "== the simulator advances one day of creates, updates and deletes"
curl -fsS -X POST "$SIM_URL/__sim/advance?days=1"; echo

echo "== extract (second run: changes since the watermark, minus the lookback)"
export INTACCT_SNOWFLAKE_NOW="$(sim_now)"
"$BIN" extract --config pipelines/demo.toml
echo "== status"
"$BIN" status --config pipelines/demo.toml
echo "== demo finished; the stage is in $STAGE_URL"
