#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what the tests need (pinned), then runs
# format and lint checks and every test. `.ci/run` calls this and nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== python tools (pinned venv: moto for S3, pyarrow as an independent Parquet reader)"
bash scripts/pytools/setup.sh

# Two tests need Debian packages: the status page test renders the page in headless Chromium,
# the terminal test types a run into tmux and reads the screen. Installing needs root (or
# passwordless sudo), which CI has; without it each test says that it skipped.
echo "== Debian packages for the browser and terminal tests (chromium, tmux)"
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
if ((${#missing[@]})); then
    sudo=""
    if [[ "$(id -u)" -ne 0 ]] && command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; fi
    if command -v apt-get >/dev/null 2>&1 \
        && { $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
            || { $sudo apt-get update -qq >/dev/null 2>&1 \
                && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; }; }; then
        echo "installed: ${missing[*]}"
    else
        echo "${missing[*]} missing and not installable with apt-get: the tests that need them say they skipped"
    fi
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy (the workspace: the tool and the Intacct simulator)"
cargo clippy --workspace --all-targets --locked -- -D warnings

# Both binaries first: the tests that run `intacct-snowflake sim intacct` need `intacct-sim`
# beside it, and cargo builds a package's binaries only for that package's own tests.
echo "== cargo build"
cargo build --locked

echo "== cargo test"
cargo test --workspace --locked --lib --bins --test it

# Every benchmark in its smoke mode (run without `--bench`: tiny sizes, outputs checked against
# their baselines), so a benchmark cannot rot unnoticed; about a minute on 2 cores. The
# measurements themselves belong to scripts/bench.sh in an optimised build.
echo "== benchmark smoke runs"
cargo test --workspace --locked --bench '*'

echo "== snowflake emulator (pytest, pinned venv)"
bash scripts/test-snowflake-emulator.sh

echo "== SDK compatibility: Sage's JavaScript SDK and the Python sageintacctsdk against the simulator"
bash scripts/sdk-check.sh
echo "== SDK compatibility through an entity-level session of a multi-entity company"
SDK_CHECK_ENTITY=E100 bash scripts/sdk-check.sh
