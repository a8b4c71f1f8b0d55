# Sourced (not run) by scripts/snowflake-emulator.sh and scripts/test-snowflake-emulator.sh.
# Owns the emulator's virtualenv at scripts/snowflake-emulator/.venv: creates it from the pinned
# requirement files, or reuses it when the stamp (a hash of both files and of the Python version)
# still matches. A changed requirements file therefore rebuilds the venv from scratch, so a package
# dropped from the pins cannot linger. Everything pip prints goes to stderr: the launcher's stdout
# must carry only its "listening on" line.

EMULATOR_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EMULATOR_VENV="$EMULATOR_DIR/.venv"

ensure_emulator_venv() {
    local python="${PYTHON:-python3}"
    local stamp_file="$EMULATOR_VENV/.requirements-stamp"
    local wanted
    wanted="$(
        cat "$EMULATOR_DIR/requirements.txt" "$EMULATOR_DIR/requirements-test.txt"
        "$python" -c 'import sys; print(sys.version)'
    )"
    wanted="$(printf '%s' "$wanted" | sha256sum | cut -d' ' -f1)"

    # The launcher and the test script may run at the same time (a test starts the launcher);
    # the lock keeps two of them from building the same venv at once. It lives outside the
    # work tree so it never shows up as an untracked file.
    local lock_file
    lock_file="${TMPDIR:-/tmp}/snowflake-emulator-venv-$(printf '%s' "$EMULATOR_VENV" | sha256sum | cut -c1-16).lock"
    exec {lock_fd}>"$lock_file"
    flock "$lock_fd"

    if [[ -f "$stamp_file" && "$(cat "$stamp_file")" == "$wanted" && -x "$EMULATOR_VENV/bin/python" ]]; then
        flock -u "$lock_fd"
        exec {lock_fd}>&-
        return 0
    fi

    echo "snowflake-emulator: building $EMULATOR_VENV from the pinned requirements" >&2
    rm -rf "$EMULATOR_VENV"
    "$python" -m venv "$EMULATOR_VENV" >&2
    # --no-deps: every package, transitive ones included, is pinned in the files, so pip must not
    # resolve anything on its own; `pip check` then proves the pinned set is complete and consistent.
    "$EMULATOR_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input --no-deps \
        -r "$EMULATOR_DIR/requirements.txt" -r "$EMULATOR_DIR/requirements-test.txt" >&2
    "$EMULATOR_VENV/bin/python" -m pip check >&2
    printf '%s' "$wanted" >"$stamp_file"

    flock -u "$lock_fd"
    exec {lock_fd}>&-
}
