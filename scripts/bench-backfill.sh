#!/usr/bin/env bash
# End-to-end backfill benchmark: the Intacct simulator at a given scale (default `large`, about
# 5.3M records; scripts/bench.sh uses 1M) → extract → stage → COPY + MERGE into the Snowflake emulator, with the release
# binary and pipelines/demo.toml. One window covers the simulator's whole history, so each
# object is one batch (the shape of a first load). Prints wall time, records extracted and
# loaded, and records/s end to end; fails unless `verify` then finds Intacct's keys and
# Snowflake's live rows equal.
#
# BENCH_BACKFILL_SCALE (tiny | demo | large | a record count) picks the dataset; BIN the binary
# (default: the release build; `BIN sim intacct` runs the `intacct-sim` built beside it, and
# `cargo build --release` builds both). Everything it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE="${BENCH_BACKFILL_SCALE:-large}"
BIN="${BIN:-${CARGO_TARGET_DIR:-target}/release/intacct-snowflake}"
CONFIG=pipelines/demo.toml
WORK="$(mktemp -d)"

# shellcheck source=lib/stand-ins.sh
source scripts/lib/stand-ins.sh
cleanup() {
  stop_stand_ins
  rm -rf "$WORK"
}
trap cleanup EXIT
start_stand_ins "$BIN" "$WORK" "$SCALE" >&2

export INTACCT_SNOWFLAKE_LOG=warn
NOW="$(sim_now)"
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
report = backfill[0]
extracted = sum(o["records"] for o in report["objects"])
batches = len(report["loads"])
seconds = finished - started
print(f"backfill ({scale}): {extracted} records in {len(report['objects'])} extracts, "
      f"{batches} batches loaded, {seconds:.1f} s wall, {extracted / seconds:.0f} records/s end to end")
EOF
echo "verify: $(tail -1 "$WORK/verify.out")"
