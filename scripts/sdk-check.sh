#!/usr/bin/env bash
# SDK compatibility check: Sage's official JavaScript SDK (@intacct/intacct-sdk, pinned in
# scripts/sdk-check/package-lock.json) and the PyPI sageintacctsdk (pinned with every
# transitive package in scripts/sdk-check/requirements.txt) each open a session against
# `intacct-snowflake sim intacct` and read every VENDOR through paging; each count must equal
# the line count of GET /__sim/records?object=VENDOR.
#
# Non-interactive; needs node/npm and python3 (npm registry and PyPI reachable on first run).
# Environment: SDK_CHECK_SCALE (default demo), SDK_CHECK_SEED (default 1),
# CARGO_TARGET_DIR (where the binary is built; default ./target), SDK_CHECK_ENTITY (e.g. E100:
# the simulator is a multi-entity company with entities E100 and E100-OTHER, each SDK logs in
# to that entity, and the count must equal the records it owns plus the top level's shared ones).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/scripts/sdk-check"
target="${CARGO_TARGET_DIR:-$root/target}"
bin="$target/debug/intacct-snowflake"
scale="${SDK_CHECK_SCALE:-demo}"
seed="${SDK_CHECK_SEED:-1}"
entity="${SDK_CHECK_ENTITY:-}"
entity_flags=()
if [ -n "$entity" ]; then
  entity_flags=(--entities "$entity,$entity-OTHER")
fi

echo "sdk-check: building the binaries (the tool and the simulator it runs)" >&2
(cd "$root" && cargo build --quiet --locked)

if [ ! -d "$dir/node_modules/@intacct/intacct-sdk" ]; then
  echo "sdk-check: npm ci" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --silent)
fi
if [ ! -x "$dir/.venv/bin/python" ] || ! "$dir/.venv/bin/python" -c "import sageintacctsdk" 2>/dev/null; then
  echo "sdk-check: creating the Python venv" >&2
  python3 -m venv "$dir/.venv"
  "$dir/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$dir/requirements.txt"
fi

log="$(mktemp)"
sim_pid=""
cleanup() {
  if [ -n "$sim_pid" ]; then
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
  rm -f "$log"
}
trap cleanup EXIT

"$bin" sim intacct --listen 127.0.0.1:0 --scale "$scale" --seed "$seed" ${entity_flags[@]+"${entity_flags[@]}"} >"$log" 2>&1 &
sim_pid=$!
base=""
for _ in $(seq 1 100); do
  base="$(sed -n 's/^listening on //p' "$log" | head -n 1)"
  [ -n "$base" ] && break
  if ! kill -0 "$sim_pid" 2>/dev/null; then
    echo "sdk-check: the simulator exited:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$base" ]; then
  echo "sdk-check: the simulator did not report its address" >&2
  exit 1
fi
endpoint="$base/ia/xml/xmlgw.phtml"
if [ -n "$entity" ]; then
  # What an entity session sees: the entity's own records and the top level's.
  expected="$(curl -fsS "$base/__sim/records?object=VENDOR" | python3 -c '
import json, sys
entity = sys.argv[1]
print(sum(1 for line in sys.stdin if json.loads(line)["_OWNER"] in (None, entity)))
' "$entity")"
  echo "sdk-check: simulator at $base, $expected VENDOR records visible from entity $entity" >&2
else
  expected="$(curl -fsS "$base/__sim/records?object=VENDOR" | wc -l | tr -d ' ')"
  echo "sdk-check: simulator at $base, $expected VENDOR records" >&2
fi

passed=0
failed=0
check() {
  local name="$1"
  shift
  local got
  if got="$("$@" "$endpoint" "$entity")"; then
    if [ "$got" = "$expected" ]; then
      echo "sdk-check: $name read $got of $expected VENDOR records: ok"
      passed=$((passed + 1))
    else
      echo "sdk-check: $name read $got of $expected VENDOR records: MISMATCH"
      failed=$((failed + 1))
    fi
  else
    echo "sdk-check: $name failed to run"
    failed=$((failed + 1))
  fi
}

check "@intacct/intacct-sdk (JavaScript)" node "$dir/check_js_sdk.js"
check "sageintacctsdk (Python)" "$dir/.venv/bin/python" "$dir/check_python_sdk.py"

echo "sdk-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
