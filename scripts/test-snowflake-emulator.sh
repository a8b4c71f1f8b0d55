#!/usr/bin/env bash
# Installs (pinned venv, created or reused) and runs the Snowflake emulator's test suite,
# non-interactively. Extra arguments go to pytest (e.g. -k faults, -x).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=snowflake-emulator/venv.sh
source "$here/snowflake-emulator/venv.sh"
ensure_emulator_venv
cd "$EMULATOR_DIR"
exec "$EMULATOR_VENV/bin/python" -m pytest -q "$@"
