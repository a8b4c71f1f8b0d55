"""The --faults grammar and trigger arithmetic, without a server."""

from __future__ import annotations

import pytest
from snowflake_emulator.faults import FaultPlan, FaultSpecError, parse_spec


def test_grammar_accepts_every_kind_target_and_trigger() -> None:
    rules = parse_spec("429:copy:nth=1, 503:merge:rate=0.5, 401:any:nth=3, drop:other:nth=2, running=4:any:rate=1, slow=0.5:copy:nth=1, seed=9")
    assert [(r.kind, r.target, r.nth, r.rate, r.amount) for r in rules] == [
        ("429", "copy", 1, None, 0),
        ("503", "merge", None, 0.5, 0),
        ("401", "any", 3, None, 0),
        ("drop", "other", 2, None, 0),
        ("running", "any", None, 1.0, 4),
        ("slow", "copy", 1, None, 0.5),
    ]
    assert parse_spec("") == []


@pytest.mark.parametrize(
    "spec",
    ["429:copy", "418:copy:nth=1", "429:table:nth=1", "429:copy:nth=0", "429:copy:rate=2", "429:copy:every=2",
     "running:copy:nth=1", "slow=0:copy:nth=1", "drop=1:copy:nth=1", "seed=x"],
)
def test_grammar_rejects_malformed_items(spec: str) -> None:
    with pytest.raises(FaultSpecError):
        parse_spec(spec)


def test_nth_fires_once_on_the_nth_matching_submission() -> None:
    plan = FaultPlan("503:copy:nth=2")
    copy, other = frozenset({"copy"}), frozenset({"other"})
    assert [plan.front_door(kinds) for kinds in (other, copy, other, copy, copy)] == [None, None, None, "503", None]


def test_execution_faults_combine_and_ignore_front_door_rules() -> None:
    plan = FaultPlan("429:merge:nth=1,drop:merge:nth=1,running=3:any:nth=1,slow=2:merge:rate=1")
    faults = plan.execution(frozenset({"merge"}))
    assert (faults.drop_response, faults.running_polls, faults.slow_secs) == (True, 3, 2.0)
    assert plan.execution(frozenset({"merge"})).names() == ["slow"]


def test_rates_are_deterministic_for_a_seed() -> None:
    def draws(spec: str) -> list[str | None]:
        plan = FaultPlan(spec)
        return [plan.front_door(frozenset({"other"})) for _ in range(40)]

    assert draws("429:any:rate=0.3,seed=5") == draws("429:any:rate=0.3,seed=5")
    assert draws("429:any:rate=0.3,seed=5") != draws("429:any:rate=0.3,seed=6")
    assert set(draws("429:any:rate=0")) == {None}
    assert set(draws("429:any:rate=1")) == {"429"}
