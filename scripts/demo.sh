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
#
# STAGE_URL=s3://bucket/prefix/ scripts/demo.sh runs the same demo with the stage on S3, as a
# production pipeline has it: moto serves the bucket on loopback (or the S3-compatible endpoint
# in AWS_ENDPOINT_URL, whose bucket must exist), the tool writes the stage there, and the
# emulator reads it as an external S3 stage through a storage integration
# (scripts/lib/stand-ins.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

DEMO_DIR="${DEMO_DIR:-.demo}"
rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"
echo "== building (the tool and the Intacct simulator that \`sim intacct\` runs)"
cargo build --locked
BIN="${CARGO_TARGET_DIR:-target}/debug/intacct-snowflake"
CONFIG=pipelines/demo.toml

# shellcheck source=lib/stand-ins.sh
source scripts/lib/stand-ins.sh
trap stop_stand_ins EXIT
# The simulator's clock starts three days before today, so its data ends today after the
# three simulated days below: AP_AGING ages the bills against the current date.
start_stand_ins "$BIN" "$DEMO_DIR" demo "$(demo_sim_start)"

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
BATCH="$(stage_cat "$FIRST_REPORT" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(next(o["batch_id"] for o in r["objects"] if o["object"] == "APBILL"))')"
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
