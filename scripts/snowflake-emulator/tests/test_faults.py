"""Every fault kind through the admin endpoint, and the loader's recovery from each: 429 and 503
before running, a statement that stays running for N polls, a response dropped after the
statement ran, and a 401 as if the token expired."""

from __future__ import annotations

import http.client
import uuid

import pytest
from conftest import VendorSetup
from sqlapi_client import SqlApi
from vendor_parts import write_batch


@pytest.fixture
def table(db: SqlApi) -> SqlApi:
    db.sql("CREATE TABLE T (ID NUMBER)")
    return db


@pytest.mark.parametrize(
    ("kind", "status", "body_check"),
    [
        ("429", 429, lambda body: "Too many requests" in body["message"]),
        ("503", 503, lambda body: "unavailable" in body["message"]),
        ("401", 401, lambda body: body["code"] == "390144" and "expired" in body["message"]),
    ],
)
def test_front_door_faults_run_nothing_and_a_retry_recovers(table: SqlApi, kind: str, status: int, body_check) -> None:  # noqa: ANN001
    table.set_faults(f"{kind}:other:nth=1")
    before = table.stats()
    request_id = str(uuid.uuid4())

    refused = table.submit("INSERT INTO T VALUES (1)", request_id=request_id)

    assert refused.status == status
    assert body_check(refused.body), refused.body
    assert table.stats()["statements_executed"] == before["statements_executed"]
    assert table.stats()["faults_injected"].get(kind, 0) == before["faults_injected"].get(kind, 0) + 1
    # The loader resends with the same requestId and retry=true; nothing ran before, so it runs now.
    resent = table.sql("INSERT INTO T VALUES (1)", request_id=request_id, retry=True)
    assert resent.body["stats"]["numRowsInserted"] == 1
    assert table.scalar("SELECT COUNT(*) FROM T") == "1"


def test_fault_targets_only_its_statement_kind(vendor: VendorSetup) -> None:
    vendor.api.set_faults("503:copy:nth=1")
    assert vendor.api.sql("SELECT 1").data == [["1"]]  # not a COPY: untouched
    files = write_batch(vendor.stage_dir, "b1")
    assert vendor.api.submit(vendor.copy_sql(files)).status == 503
    assert vendor.count("VENDOR_STG") == 0
    copied = vendor.api.sql(vendor.copy_sql(files))  # the rule fired once (nth=1)
    assert [row[1] for row in copied.data] == ["LOADED", "LOADED"]


def test_running_for_n_polls_then_the_result(vendor: VendorSetup) -> None:
    vendor.api.sql(vendor.copy_sql(write_batch(vendor.stage_dir, "b1")))
    vendor.api.set_faults("running=2:merge:nth=1")

    submitted = vendor.api.submit(vendor.merge_sql("b1"))

    assert submitted.status == 202 and submitted.body["code"] == "333334"
    assert vendor.api.status(submitted.handle).status == 202
    assert vendor.api.status(submitted.handle).status == 202
    done = vendor.api.status(submitted.handle)
    assert done.status == 200
    assert done.body["stats"]["numRowsInserted"] == 4
    assert vendor.count("VENDOR") == 4


def test_dropped_response_after_the_statement_ran_then_retry_true(table: SqlApi) -> None:
    table.set_faults("drop:other:nth=1")
    request_id = str(uuid.uuid4())

    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError, http.client.BadStatusLine)):
        table.submit("INSERT INTO T VALUES (1)", request_id=request_id)

    assert table.scalar("SELECT COUNT(*) FROM T") == "1"  # it ran; only the answer was lost
    before = table.stats()
    resent = table.sql("INSERT INTO T VALUES (1)", request_id=request_id, retry=True)
    assert resent.body["stats"]["numRowsInserted"] == 1
    assert table.stats()["statements_executed"] == before["statements_executed"]
    assert table.scalar("SELECT COUNT(*) FROM T") == "1"
    assert table.stats()["faults_injected"]["drop"] >= 1


def test_rate_faults_are_seeded_and_repeatable(table: SqlApi) -> None:
    def outcomes() -> list[int]:
        table.set_faults("429:other:rate=0.5,seed=11")
        return [table.submit("SELECT 1").status for _ in range(12)]

    first, second = outcomes(), outcomes()
    assert first == second
    assert set(first) == {200, 429}


def test_admin_endpoint_reports_rules_and_rejects_bad_specs(table: SqlApi) -> None:
    described = table.set_faults("503:copy:nth=2, running=3:merge:rate=0.25, seed=4").body
    assert described["rules"][0] == {
        "kind": "503", "target": "copy", "nth": 2, "rate": None, "amount": 0, "seen": 0, "fired": 0,
    }
    assert described["rules"][1]["kind"] == "running" and described["rules"][1]["amount"] == 3
    bad = table.request("POST", "/__emulator/faults", {"spec": "teapot:copy:nth=1"}, auth=False)
    assert bad.status == 400 and "unknown kind" in bad.body["message"]
    assert table.request("GET", "/__emulator/faults", auth=False).body["spec"].startswith("503:copy")
