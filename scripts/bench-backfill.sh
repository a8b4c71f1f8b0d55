#!/usr/bin/env bash
# End-to-end backfill benchmark: the Intacct simulator at a given scale (default `large`, about
# 5.3M records; scripts/bench.sh uses 1M) → extract → stage → COPY + MERGE into the Snowflake emulator, with the release
# binary and pipelines/demo.toml. One window covers the simulator's whole history, so each
# object is one batch (the shape of a first load). Prints wall time, records extracted and
# loaded, and records/s end to end; fails unless `verify` then finds Intacct's keys and
# Snowflake's live rows equal.
#
# BENCH_BACKFILL_SCALE (tiny | demo | large | a record count) picks the dataset; BIN the binary
# (default: the release build). Everything it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE="${BENCH_BACKFILL_SCALE:-large}"
BIN="${BIN:-${CARGO_TARGET_DIR:-target}/release/intacct-snowflake}"
CONFIG=pipelines/demo.toml
WORK="$(mktemp -d)"

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

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

openssl genrsa 2048 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$WORK/key.p8"
openssl rsa -in "$WORK/key.p8" -pubout -out "$WORK/key.pub" 2>/dev/null

"$BIN" sim intacct --listen 127.0.0.1:0 --seed 42 --scale "$SCALE" \
  >"$WORK/simulator.out" 2>"$WORK/simulator.log" &
PIDS+=($!)
SIM_URL="$(wait_for_url "$WORK/simulator.out" "$WORK/simulator.log" "${PIDS[-1]}")"
scripts/snowflake-emulator.sh --listen 127.0.0.1:0 --require-warehouse \
  --public-key "$WORK/key.pub" --account DEMO --user LOADER \
  >"$WORK/emulator.out" 2>"$WORK/emulator.log" &
PIDS+=($!)
SNOWFLAKE_URL="$(wait_for_url "$WORK/emulator.out" "$WORK/emulator.log" "${PIDS[-1]}")"

export INTACCT_ENDPOINT="$SIM_URL/ia/xml/xmlgw.phtml"
export STAGE_URL="$WORK/stage"
export SNOWFLAKE_URL
export SNOWFLAKE_PRIVATE_KEY_PATH="$WORK/key.p8"
export INTACCT_SNOWFLAKE_LOG=warn
NOW="$(curl -fsS "$SIM_URL/__sim/clock" | sed 's/.*"now":"\([^"]*\)".*/\1/')"
export INTACCT_SNOWFLAKE_NOW="$NOW"

"$BIN" init --config "$CONFIG" >/dev/null
started=$(date +%s.%N)
"$BIN" backfill --config "$CONFIG" --from 1990-01-01 --to "$NOW" --window 20000d --no-progress \
  >"$WORK/backfill.out"
finished=$(date +%s.%N)
"$BIN" verify --config "$CONFIG" >"$WORK/verify.out" || { cat "$WORK/verify.out"; exit 1; }

python3 - "$STAGE_URL" "$started" "$finished" "$SCALE" <<'EOF'
import glob, json, sys
stage, started, finished, scale = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
reports = [json.load(open(p)) for p in glob.glob(f"{stage}/_reports/*.json")]
backfill = [r for r in reports if r.get("command") == "backfill"]
assert len(backfill) == 1, f"{len(backfill)} backfill reports"
report = backfill[0]["report"]
extracted = sum(o["records"] for o in report["extracted"])
batches = len(report["loaded"])
seconds = finished - started
print(f"backfill ({scale}): {extracted} records in {len(report['extracted'])} extracts, "
      f"{batches} batches loaded, {seconds:.1f} s wall, {extracted / seconds:.0f} records/s end to end")
EOF
echo "verify: $(tail -1 "$WORK/verify.out")"
