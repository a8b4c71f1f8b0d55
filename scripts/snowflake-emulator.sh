#!/usr/bin/env bash
# Local Snowflake stand-in: a Snowflake SQL API v2 endpoint over fakesnow (DuckDB), for tests,
# benchmarks and the demo. Creates or reuses its pinned venv, then serves until SIGINT/SIGTERM.
#
#   scripts/snowflake-emulator.sh --listen 127.0.0.1:PORT --public-key PEMFILE
#       [--pat TOKEN-FILE-or-value] [--db-path DIR] [--faults SPEC] [--account ACCOUNT --user USER]
#       [--warehouse NAME]... [--role NAME]... [--locked-down-role NAME] [--storage-integration NAME]...
#       [--s3-endpoint URL] [--request-id-window-secs SECS] [--setup-sql FILE]
#
# Prints exactly one line to stdout when ready: `listening on http://ADDR` (the real port when
# PORT is 0). Logs go to stderr. `--help` lists every flag; the fault grammar is in
# scripts/snowflake-emulator/snowflake_emulator/faults.py. Flags in SNOWFLAKE_EMULATOR_EXTRA_FLAGS
# are appended (to run a suite that starts the emulator itself in a stricter mode).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=snowflake-emulator/venv.sh
source "$here/snowflake-emulator/venv.sh"
ensure_emulator_venv
export PYTHONPATH="$EMULATOR_DIR${PYTHONPATH:+:$PYTHONPATH}"
# exec: the server itself receives SIGINT/SIGTERM and shuts down cleanly.
exec "$EMULATOR_VENV/bin/python" -m snowflake_emulator "$@"
