"""The emulator's clock: the wall clock plus an offset that tests move forward.

Everything the emulator ages by time reads this clock, never `time.time()` directly:

* COPY load metadata and the age of staged files (load_metadata.py: the 64-day rule), so a test
  can make a file loaded today look 65 days old without waiting;
* the window in which a `requestId` resent with `retry=true` is still matched (statements.py);
* `createdOn` of statements.

`GET /__emulator/clock` reports it; `POST /__emulator/clock` with `{"advance_days": N}` and/or
`{"advance_secs": S}` moves it forward (never back: Snowflake's time does not run backwards, and
load metadata written "later" must stay later).

Staged files carry wall-clock modification times (the local file system, moto's S3). The clock
maps such a time onto its own with the offset that was in effect at that wall-clock instant
(`to_emulated`): a file written before the clock moved 65 days forward is 65 days old, exactly as
if the emulator had waited; a file written after the move is new.

Not affected: JWT `iat`/`exp` checks (auth.py) and statement timeouts, which stay on the wall
clock, so advancing the clock never expires a client's token or cancels a running statement.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

SECONDS_PER_DAY = 86_400


class EmulatorClock:
    def __init__(self, offset_secs: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._offset = offset_secs
        self._initial_offset = offset_secs
        # (wall-clock time of a change, offset from then on), oldest first.
        self._changes: list[tuple[float, float]] = []

    def now(self) -> float:
        """Seconds since the epoch, as the emulator sees them."""
        with self._lock:
            return time.time() + self._offset

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    @property
    def offset_secs(self) -> float:
        with self._lock:
            return self._offset

    def advance(self, secs: float) -> None:
        if secs < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += secs
            self._changes.append((time.time(), self._offset))

    def to_emulated(self, wall_secs: float) -> float:
        """A wall-clock instant (a file's modification time) on the emulator's clock."""
        with self._lock:
            offset = self._initial_offset
            for changed_at, after in self._changes:
                if changed_at > wall_secs:
                    break
                offset = after
        return wall_secs + offset

    def describe(self) -> dict[str, object]:
        now = self.now()
        return {
            "now": datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z"),
            "now_epoch_secs": now,
            "offset_secs": self.offset_secs,
        }
