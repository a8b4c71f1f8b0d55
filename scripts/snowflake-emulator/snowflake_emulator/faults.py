"""Fault injection: the `--faults SPEC` grammar, and deciding which submission gets which fault.

Grammar (items separated by commas, whitespace ignored):

    SPEC    := ITEM ("," ITEM)*
    ITEM    := RULE | "seed=" INT
    RULE    := KIND ":" TARGET ":" TRIGGER
    KIND    := "429" | "503" | "401" | "drop" | "running=" N | "slow=" SECONDS
    TARGET  := "copy" | "merge" | "other" | "any"
    TRIGGER := "nth=" N | "rate=" P          (N >= 1, 0 <= P <= 1)

Kinds:

* `429`, `503`: answered before anything runs (rate limit, service unavailable).
* `401`: answered before anything runs, exactly as an expired JWT is.
* `drop`: the statement runs to its end, then the connection is closed without any response.
* `running=N`: the statement runs, but answers 202 (still running) to the submission and to the
  next N polls; poll N+1 gets the result.
* `slow=SECONDS`: the statement takes that much longer (a wait that cancel and `timeout` cut
  short), to exercise timeouts (408), cancel and the switch to asynchronous after the sync wait.

Targets are the statement's kind: `copy` (COPY INTO), `merge` (MERGE), `other` (anything else),
`any`. A multi-statement request has the kinds of all its statements.

Triggers: `nth=N` fires once, on the Nth submission the rule sees; `rate=P` fires with probability
P, drawn from a random generator seeded with `seed` (default 0) and the rule's position, so a
given spec and request sequence always injects the same faults. `429`, `503` and `401` rules see
every submission of their target (resends included); `drop`, `running` and `slow` rules see only
submissions that run a statement (a resend answered from history runs nothing).

Example: `503:copy:nth=1,drop:merge:nth=1,429:any:rate=0.2,seed=7`.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

FRONT_DOOR_KINDS = ("429", "503", "401")
TARGETS = ("copy", "merge", "other", "any")


class FaultSpecError(ValueError):
    """The spec does not follow the grammar; the message names the offending item."""


@dataclass
class FaultRule:
    kind: str  # 429, 503, 401, drop, running, slow
    target: str
    nth: int | None = None
    rate: float | None = None
    amount: float = 0  # running: polls; slow: seconds
    seen: int = 0
    fired: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def describe(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "target": self.target,
            "nth": self.nth,
            "rate": self.rate,
            "amount": self.amount,
            "seen": self.seen,
            "fired": self.fired,
        }

    def applies_to(self, kinds: frozenset[str]) -> bool:
        return self.target == "any" or self.target in kinds

    def roll(self) -> bool:
        """Count one submission and say whether the fault fires on it."""
        self.seen += 1
        if self.nth is not None:
            fires = self.seen == self.nth
        else:
            fires = self.rng.random() < (self.rate or 0.0)
        if fires:
            self.fired += 1
        return fires


@dataclass(frozen=True)
class ExecutionFaults:
    """Faults that shape a statement that does run."""

    drop_response: bool = False
    running_polls: int = 0
    slow_secs: float = 0.0

    def names(self) -> list[str]:
        return (
            (["drop"] if self.drop_response else [])
            + (["running"] if self.running_polls else [])
            + (["slow"] if self.slow_secs else [])
        )


class FaultPlan:
    """The active rules; replaced whole by the admin endpoint. Thread-safe."""

    def __init__(self, spec: str = "") -> None:
        self._lock = threading.Lock()
        self.spec = spec
        self.rules = parse_spec(spec)

    def front_door(self, kinds: frozenset[str]) -> str | None:
        """The 429/503/401 fault for this submission, if one fires (the first rule in spec order)."""
        fired: str | None = None
        with self._lock:
            for rule in self.rules:
                if rule.kind in FRONT_DOOR_KINDS and rule.applies_to(kinds) and rule.roll() and fired is None:
                    fired = rule.kind
        return fired

    def execution(self, kinds: frozenset[str]) -> ExecutionFaults:
        drop, polls, slow = False, 0, 0.0
        with self._lock:
            for rule in self.rules:
                if rule.kind in FRONT_DOOR_KINDS or not rule.applies_to(kinds) or not rule.roll():
                    continue
                if rule.kind == "drop":
                    drop = True
                elif rule.kind == "running":
                    polls = max(polls, int(rule.amount))
                elif rule.kind == "slow":
                    slow = max(slow, rule.amount)
        return ExecutionFaults(drop_response=drop, running_polls=polls, slow_secs=slow)

    def describe(self) -> dict[str, object]:
        with self._lock:
            return {"spec": self.spec, "rules": [rule.describe() for rule in self.rules]}


def parse_spec(spec: str) -> list[FaultRule]:
    items = [item.strip() for item in spec.replace(" ", "").split(",") if item.strip()]
    seed = 0
    rules: list[FaultRule] = []
    for item in items:
        if item.startswith("seed="):
            seed = _int(item, item.removeprefix("seed="), minimum=0)
            continue
        rules.append(_parse_rule(item))
    for position, rule in enumerate(rules):
        # One generator per rule: adding a rule does not change the draws of the others.
        rule.rng = random.Random(f"{seed}:{position}")
    return rules


def _parse_rule(item: str) -> FaultRule:
    parts = item.split(":")
    if len(parts) != 3:
        raise FaultSpecError(f"fault {item!r}: expected KIND:TARGET:TRIGGER")
    kind_text, target, trigger = parts[0].lower(), parts[1].lower(), parts[2].lower()

    kind, _, amount_text = kind_text.partition("=")
    amount = 0.0
    if kind in FRONT_DOOR_KINDS or kind == "drop":
        if amount_text:
            raise FaultSpecError(f"fault {item!r}: {kind} takes no value")
    elif kind == "running":
        amount = _int(item, amount_text, minimum=1)
    elif kind == "slow":
        amount = _float(item, amount_text)
        if amount <= 0:
            raise FaultSpecError(f"fault {item!r}: slow needs a positive number of seconds")
    else:
        raise FaultSpecError(f"fault {item!r}: unknown kind {kind!r} (429, 503, 401, drop, running=N, slow=SECS)")

    if target not in TARGETS:
        raise FaultSpecError(f"fault {item!r}: unknown target {target!r} (copy, merge, other, any)")

    trigger_name, _, trigger_value = trigger.partition("=")
    if trigger_name == "nth":
        return FaultRule(kind, target, nth=_int(item, trigger_value, minimum=1), amount=amount)
    if trigger_name == "rate":
        rate = _float(item, trigger_value)
        if not 0.0 <= rate <= 1.0:
            raise FaultSpecError(f"fault {item!r}: rate must be between 0 and 1")
        return FaultRule(kind, target, rate=rate, amount=amount)
    raise FaultSpecError(f"fault {item!r}: trigger must be nth=N or rate=P")


def _int(item: str, text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise FaultSpecError(f"fault {item!r}: {text!r} is not a whole number") from None
    if value < minimum:
        raise FaultSpecError(f"fault {item!r}: {value} is below {minimum}")
    return value


def _float(item: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise FaultSpecError(f"fault {item!r}: {text!r} is not a number") from None
