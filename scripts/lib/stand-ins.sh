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
#     With STAGE_URL=s3://bucket/prefix/ already set, the stage is on S3 instead: an
#     S3-compatible server on loopback (moto from scripts/pytools, started here with the bucket
#     created, unless AWS_ENDPOINT_URL names one already), the emulator reading the stage there
#     as an external S3 stage through the storage integration DEMO_S3, and the AWS_* variables
#     and SNOWFLAKE_STORAGE_INTEGRATION exported for the tool. The emulator never talks to AWS.
#   stop_stand_ins     stops what it started (call it from the caller's EXIT trap).
#   sim_now            the simulator's clock: it moves only when told, so runs are "as of" it.
#   demo_sim_start     the demo's START: midnight (UTC) three days before today, so after its
#                      three simulated days the data ends today and the views that age
#                      against the current date (AP_AGING) read as they would on a live
#                      company.
#   stage_cat PATH     prints one file of the stage (PATH relative to STAGE_URL).

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

# A free loopback port (for moto, which cannot report one it picked itself).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The S3 side of a stage at STAGE_URL=s3://...: moto on loopback with the bucket (unless
# AWS_ENDPOINT_URL is set), and the AWS variables the tool and the emulator read.
start_s3_stage() {
  local dir="$1"
  local bucket="${STAGE_URL#s3://}"
  bucket="${bucket%%/*}"
  [[ -n "$bucket" ]] || { echo "STAGE_URL=$STAGE_URL names no bucket" >&2; return 1; }
  export AWS_REGION="${AWS_REGION:-us-east-1}"
  export AWS_ALLOW_HTTP="${AWS_ALLOW_HTTP:-true}"
  export AWS_VIRTUAL_HOSTED_STYLE_REQUEST=false
  bash scripts/pytools/setup.sh
  if [[ -n "${AWS_ENDPOINT_URL:-}" ]]; then
    echo "== the S3 stage on $AWS_ENDPOINT_URL (AWS_ENDPOINT_URL; the bucket must exist)"
    return 0
  fi
  echo "== moto: an S3-compatible server on loopback for the stage (pinned venv, scripts/pytools)"
  local port
  port="$(free_port)"
  scripts/pytools/.venv/bin/moto_server -H 127.0.0.1 -p "$port" >"$dir/moto.log" 2>&1 &
  PIDS+=($!)
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
  # moto accepts any key; these are not secrets.
  export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-demo-key}"
  export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-demo-secret}"
  for _ in $(seq 1 300); do
    if curl -fsS -o /dev/null -X PUT "$AWS_ENDPOINT_URL/$bucket" 2>/dev/null; then
      echo "== moto at $AWS_ENDPOINT_URL, bucket $bucket"
      return 0
    fi
    if ! kill -0 "${PIDS[-1]}" 2>/dev/null; then cat "$dir/moto.log" >&2; return 1; fi
    sleep 0.2
  done
  echo "moto did not come up on $AWS_ENDPOINT_URL" >&2
  return 1
}

start_stand_ins() {
  local bin="$1" dir="$2" scale="$3" start="${4:-}"
  local s3_flags=()
  if [[ "${STAGE_URL:-}" == s3://* ]]; then
    start_s3_stage "$dir"
    export SNOWFLAKE_STORAGE_INTEGRATION="${SNOWFLAKE_STORAGE_INTEGRATION:-DEMO_S3}"
    s3_flags=(--s3-endpoint "$AWS_ENDPOINT_URL" --storage-integration "$SNOWFLAKE_STORAGE_INTEGRATION")
  else
    export STAGE_URL="$dir/stage"
  fi
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
    --public-key "$dir/snowflake_key.pub" --account DEMO --user LOADER "${s3_flags[@]}" \
    >"$dir/emulator.out" 2>"$dir/emulator.log" &
  PIDS+=($!)
  SNOWFLAKE_URL="$(wait_for_url "$dir/emulator.out" "$dir/emulator.log" "${PIDS[-1]}")"
  echo "== Snowflake emulator at $SNOWFLAKE_URL"

  export INTACCT_ENDPOINT="$SIM_URL/ia/xml/xmlgw.phtml"
  export SNOWFLAKE_URL
  export SNOWFLAKE_PRIVATE_KEY_PATH="$dir/snowflake_key.p8"
}

stage_cat() {
  if [[ "$STAGE_URL" == s3://* ]]; then
    scripts/pytools/.venv/bin/python - "$STAGE_URL" "$1" <<'EOF'
import os, sys
import boto3
url, path = sys.argv[1], sys.argv[2]
bucket, _, prefix = url[len("s3://"):].partition("/")
key = prefix.rstrip("/") + "/" + path if prefix.strip("/") else path
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
sys.stdout.buffer.write(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
EOF
  else
    cat "$STAGE_URL/$1"
  fi
}

sim_now() { curl -fsS "$SIM_URL/__sim/clock" | sed 's/.*"now":"\([^"]*\)".*/\1/'; }

demo_sim_start() {
  python3 -c 'import datetime as d; t = d.datetime.now(d.timezone.utc).date() - d.timedelta(days=3); print(t.isoformat() + "T00:00:00Z")'
}
