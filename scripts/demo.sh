#!/usr/bin/env bash
# The demo: the main job end to end on the embedded default, from Intacct to Snowflake.
#
# Builds the tool, generates a key pair for the loader, starts the Intacct gateway simulator
# and the Snowflake SQL API emulator on free loopback ports, then, with pipelines/demo.toml
# and a local stage under .demo/:
#   init → run (the initial load) → three simulated days of creates, updates and deletes →
#   run (only the changes) → replay of one saved batch → verify → status →
#   the first rows of AP_AGING and VENDOR_SPEND_MONTHLY.
# Everything it starts is stopped on exit. Needs only what the README's set-up lists (the
# Rust toolchain, python3, openssl, curl).
set -euo pipefail
cd "$(dirname "$0")/.."

DEMO_DIR="${DEMO_DIR:-.demo}"
rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"
echo "== building"
cargo build --locked --bin intacct-snowflake
BIN="${CARGO_TARGET_DIR:-target}/debug/intacct-snowflake"
CONFIG=pipelines/demo.toml

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# Waits for a server's `listening on URL` line and prints the URL.
wait_for_url() {
  local out="$1" log="$2" pid="$3"
  for _ in $(seq 1 3000); do
    if grep -q '^listening on ' "$out"; then sed -n 's/^listening on //p' "$out" | head -1; return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then cat "$log" >&2; return 1; fi
    sleep 0.1
  done
  echo "no 'listening on' line from $out" >&2
  return 1
}

echo "== a key pair for the loader's Snowflake user (generated now, never committed)"
openssl genrsa 2048 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$DEMO_DIR/snowflake_key.p8"
openssl rsa -in "$DEMO_DIR/snowflake_key.p8" -pubout -out "$DEMO_DIR/snowflake_key.pub" 2>/dev/null

"$BIN" sim intacct --listen 127.0.0.1:0 --seed 42 --scale demo \
  >"$DEMO_DIR/simulator.out" 2>"$DEMO_DIR/simulator.log" &
PIDS+=($!)
SIM_URL="$(wait_for_url "$DEMO_DIR/simulator.out" "$DEMO_DIR/simulator.log" "${PIDS[-1]}")"
echo "== Intacct simulator at $SIM_URL"

echo "== starting the Snowflake emulator (its first start builds a pinned venv, about 1.5 min)"
scripts/snowflake-emulator.sh --listen 127.0.0.1:0 --require-warehouse \
  --public-key "$DEMO_DIR/snowflake_key.pub" --account DEMO --user LOADER \
  >"$DEMO_DIR/emulator.out" 2>"$DEMO_DIR/emulator.log" &
PIDS+=($!)
SNOWFLAKE_URL="$(wait_for_url "$DEMO_DIR/emulator.out" "$DEMO_DIR/emulator.log" "${PIDS[-1]}")"
echo "== Snowflake emulator at $SNOWFLAKE_URL"

export INTACCT_ENDPOINT="$SIM_URL/ia/xml/xmlgw.phtml"
export STAGE_URL="$DEMO_DIR/stage"
export SNOWFLAKE_URL
export SNOWFLAKE_PRIVATE_KEY_PATH="$DEMO_DIR/snowflake_key.p8"

# The simulator keeps its own clock (it moves only when told), so every run is "as of" the
# simulated now rather than the wall clock.
sim_now() { curl -fsS "$SIM_URL/__sim/clock" | sed 's/.*"now":"\([^"]*\)".*/\1/'; }

echo "== init: database, schema, file format, stage (tables come with their first batch)"
"$BIN" init --config "$CONFIG"

echo "== run: the first run of every object is its initial load"
export INTACCT_SNOWFLAKE_NOW="$(sim_now)"
"$BIN" run --config "$CONFIG" | tee "$DEMO_DIR/run1.txt"
FIRST_REPORT="$(sed -n 's/^run report: //p' "$DEMO_DIR/run1.txt")"

echo "== the simulator advances three days of creates, updates and deletes"
curl -fsS -X POST "$SIM_URL/__sim/advance?days=3"; echo

echo "== run: only what changed since each watermark (minus the lookback), deletes included"
export INTACCT_SNOWFLAKE_NOW="$(sim_now)"
"$BIN" run --config "$CONFIG"

echo "== replay: the first APBILL batch again, from the stage alone (changes nothing newer)"
BATCH="$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(next(o["batch_id"] for o in r["objects"] if o["object"] == "APBILL"))' "$STAGE_URL/$FIRST_REPORT")"
"$BIN" replay --config "$CONFIG" --batch "$BATCH"

echo "== verify: Intacct's keys against Snowflake's live rows"
"$BIN" verify --config "$CONFIG"

echo "== status"
"$BIN" status --config "$CONFIG"

echo "== AP_AGING (open bills by vendor, by days past due)"
"$BIN" query --config "$CONFIG" --limit 5 \
  "SELECT VENDORID, OPEN_BILLS, TOTAL_DUE, CURRENT_DUE, PAST_DUE_1_30, PAST_DUE_31_60, PAST_DUE_61_90, PAST_DUE_OVER_90 FROM AP_AGING ORDER BY TOTAL_DUE DESC"
echo "== VENDOR_SPEND_MONTHLY (billed per vendor, month, GL account and department)"
"$BIN" query --config "$CONFIG" --limit 5 \
  "SELECT VENDORID, SPEND_MONTH, ACCOUNTNO, ACCOUNT_TITLE, DEPARTMENTID, BILLED_AMOUNT FROM VENDOR_SPEND_MONTHLY ORDER BY SPEND_MONTH DESC, BILLED_AMOUNT DESC"
echo "== demo finished: the stage is in $STAGE_URL, logs in $DEMO_DIR"
