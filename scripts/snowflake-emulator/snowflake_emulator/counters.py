"""Counters reported by `GET /__emulator/stats`, so tests can prove what ran and what did not.

* `statements_executed`: statements fakesnow actually ran, by kind (copy, merge, other); a
  multi-statement request counts each of its statements.
* `statements_by_kind`: the same statements by their first word (statement_text.VERBS: copy,
  merge, insert, update, delete, truncate, create, alter, drop, grant, select, show, describe,
  list, other); every key is present, zero included, so "no COPY, MERGE or DELETE was sent" is
  an equality on three keys.
* `warehouse_statements`: statements that needed a running warehouse (queries and DML; what
  resumes a suspended warehouse in Snowflake) and had one.
* `admin_statements`: statements run by the emulator's administrator (`POST /__emulator/sql`,
  `--setup-sql`); they are counted nowhere else.
* `submissions`: POSTs to /api/v2/statements that passed authentication.
* `served_from_history`: resends with `retry=true` answered from a stored statement, running
  nothing.
* `faults_injected`: by fault kind.
* `auth_failures`: requests refused with 401 by token checks (injected 401s are faults instead).
* `polls`: GETs of a statement handle.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from snowflake_emulator.statement_text import ALL_VERBS


class Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executed: Counter[str] = Counter({"copy": 0, "merge": 0, "other": 0})
        self._by_verb: Counter[str] = Counter(dict.fromkeys(ALL_VERBS, 0))
        self._faults: Counter[str] = Counter()
        self._totals: Counter[str] = Counter(
            {
                "submissions": 0,
                "served_from_history": 0,
                "auth_failures": 0,
                "polls": 0,
                "warehouse_statements": 0,
                "admin_statements": 0,
            }
        )

    def statement_executed(self, kind: str, verb: str = "other") -> None:
        with self._lock:
            self._executed[kind] += 1
            self._by_verb[verb] += 1

    def fault_injected(self, kind: str) -> None:
        with self._lock:
            self._faults[kind] += 1

    def count(self, name: str) -> None:
        with self._lock:
            self._totals[name] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "statements_executed": dict(self._executed),
                "statements_by_kind": dict(self._by_verb),
                "faults_injected": dict(self._faults),
                **dict(self._totals),
            }
