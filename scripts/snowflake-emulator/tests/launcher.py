"""Starting the emulator the way users do: through scripts/snowflake-emulator.sh, reading its one
`listening on http://ADDR` line from stdout."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
LAUNCHER = REPO_ROOT / "scripts" / "snowflake-emulator.sh"
LISTENING = re.compile(r"^listening on (http://127\.0\.0\.1:(\d+))\n$")


@dataclass
class RunningEmulator:
    process: subprocess.Popen[str]
    base_url: str
    port: int
    log_path: Path

    def stop(self) -> int:
        """SIGTERM, as a supervisor would; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise

    def remaining_stdout(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.read()

    def log_tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-40:])


def start_emulator(
    args: list[str], log_path: Path, ready_secs: float = 120, env: dict[str, str] | None = None
) -> RunningEmulator:
    # The venv is normally built already by scripts/test-snowflake-emulator.sh; the generous limit
    # covers a first start that has to build it.
    log_file = log_path.open("w")
    process = subprocess.Popen(
        [str(LAUNCHER), "--listen", "127.0.0.1:0", *args],
        stdout=subprocess.PIPE,
        stderr=log_file,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert process.stdout is not None
    deadline = time.monotonic() + ready_secs
    while True:
        if process.poll() is not None:
            raise AssertionError(f"emulator exited with {process.returncode}:\n{log_path.read_text()}")
        ready, _, _ = select.select([process.stdout], [], [], 0.2)
        if ready:
            line = process.stdout.readline()
            break
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"emulator not ready after {ready_secs}s:\n{log_path.read_text()}")
    match = LISTENING.match(line)
    assert match, f"unexpected first stdout line {line!r}"
    return RunningEmulator(process, match.group(1), int(match.group(2)), log_path)
