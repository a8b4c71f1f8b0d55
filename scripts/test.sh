#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what the tests need (pinned), then runs
# format and lint checks and every test. `.ci/run` calls this and nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --all-targets --locked -- -D warnings

echo "== cargo test"
cargo test --locked --all-targets

echo "== snowflake emulator (pytest, pinned venv)"
bash scripts/test-snowflake-emulator.sh
