"""The launcher: one `listening on` line with the real port, clean shutdown on SIGTERM (checked by
the session fixture at teardown), and refusal of unusable flags before it binds anything."""

from __future__ import annotations

import subprocess

from launcher import LAUNCHER, RunningEmulator
from sqlapi_client import SqlApi


def test_listening_line_names_the_real_port(emulator: RunningEmulator, api: SqlApi) -> None:
    assert emulator.port > 0
    assert emulator.base_url == f"http://127.0.0.1:{emulator.port}"
    assert api.sql("SELECT 'up' AS STATUS").data == [["up"]]


def test_unusable_flags_exit_with_a_message_and_no_listening_line() -> None:
    for args, complaint in [
        (["--listen", "127.0.0.1:0"], "give --public-key, --pat, or both"),
        (["--listen", "127.0.0.1:0", "--pat", "x", "--faults", "418:copy:nth=1"], "unknown kind"),
        (["--listen", "nowhere", "--pat", "x"], "--listen must be HOST:PORT"),
        (["--listen", "127.0.0.1:0", "--pat", "x", "--account", "A"], "--account and --user go together"),
    ]:
        finished = subprocess.run([str(LAUNCHER), *args], capture_output=True, text=True, timeout=120)
        assert finished.returncode == 2, args
        assert finished.stdout == "", args
        assert complaint in finished.stderr, (args, finished.stderr[-500:])
