# Sourced by scripts/demo.sh and scripts/bench-backfill.sh: the Intacct simulator and the
# Snowflake emulator on free loopback ports, with a key pair for the loader generated now
# (never committed).
#
#   start_stand_ins BIN DIR SCALE [START]
#     starts `BIN sim intacct --scale SCALE` (the `intacct-sim` built beside BIN; its clock
#     starting at START when given, an RFC 3339 instant) and the emulator (logs and the key
#     pair under DIR),
#     sets SIM_URL and exports what pipelines/demo.toml reads: INTACCT_ENDPOINT, STAGE_URL
#     (DIR/stage), SNOWFLAKE_URL, SNOWFLAKE_PRIVATE_KEY_PATH.
#   stop_stand_ins     stops both (call it from the caller's EXIT trap).
#   sim_now            the simulator's clock: it moves only when told, so runs are "as of" it.
#   demo_sim_start     the demo's START: midnight (UTC) three days before today, so after its
#                      three simulated days the data ends today and the views that age
#                      against the current date (AP_AGING) read as they would on a live
#                      company.

PIDS=()

stop_stand_ins() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}

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

start_stand_ins() {
  local bin="$1" dir="$2" scale="$3" start="${4:-}"
  echo "== a key pair for the loader's Snowflake user (generated now, never committed)"
  openssl genrsa 2048 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$dir/snowflake_key.p8"
  openssl rsa -in "$dir/snowflake_key.p8" -pubout -out "$dir/snowflake_key.pub" 2>/dev/null

  "$bin" sim intacct --listen 127.0.0.1:0 --seed 42 --scale "$scale" ${start:+--start "$start"} \
    >"$dir/simulator.out" 2>"$dir/simulator.log" &
  PIDS+=($!)
  SIM_URL="$(wait_for_url "$dir/simulator.out" "$dir/simulator.log" "${PIDS[-1]}")"
  echo "== Intacct simulator at $SIM_URL"

  echo "== starting the Snowflake emulator (its first start builds a pinned venv, about 1.5 min)"
  scripts/snowflake-emulator.sh --listen 127.0.0.1:0 --require-warehouse \
    --public-key "$dir/snowflake_key.pub" --account DEMO --user LOADER \
    >"$dir/emulator.out" 2>"$dir/emulator.log" &
  PIDS+=($!)
  SNOWFLAKE_URL="$(wait_for_url "$dir/emulator.out" "$dir/emulator.log" "${PIDS[-1]}")"
  echo "== Snowflake emulator at $SNOWFLAKE_URL"

  export INTACCT_ENDPOINT="$SIM_URL/ia/xml/xmlgw.phtml"
  export STAGE_URL="$dir/stage"
  export SNOWFLAKE_URL
  export SNOWFLAKE_PRIVATE_KEY_PATH="$dir/snowflake_key.p8"
}

sim_now() { curl -fsS "$SIM_URL/__sim/clock" | sed 's/.*"now":"\([^"]*\)".*/\1/'; }

demo_sim_start() {
  python3 -c 'import datetime as d; t = d.datetime.now(d.timezone.utc).date() - d.timedelta(days=3); print(t.isoformat() + "T00:00:00Z")'
}
