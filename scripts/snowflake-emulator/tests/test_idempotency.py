"""requestId and retry=true: a resend of a statement that succeeded is answered from history and
runs nothing; without retry=true, or after a failure, the statement runs again."""

from __future__ import annotations

import uuid

import pytest
from sqlapi_client import SqlApi


@pytest.fixture
def table(db: SqlApi) -> SqlApi:
    db.sql("CREATE TABLE T (ID NUMBER)")
    return db


def test_retry_true_returns_the_stored_result_without_running_again(table: SqlApi) -> None:
    request_id = str(uuid.uuid4())
    first = table.sql("INSERT INTO T VALUES (1)", request_id=request_id)
    before = table.stats()

    resent = table.sql("INSERT INTO T VALUES (1)", request_id=request_id, retry=True)

    after = table.stats()
    assert resent.handle == first.handle
    assert resent.data == first.data == [["1"]]
    assert resent.body["stats"] == first.body["stats"]
    assert after["statements_executed"] == before["statements_executed"]
    assert after["served_from_history"] == before["served_from_history"] + 1
    assert table.scalar("SELECT COUNT(*) FROM T") == "1"


def test_same_request_id_without_retry_runs_again(table: SqlApi) -> None:
    request_id = str(uuid.uuid4())
    first = table.sql("INSERT INTO T VALUES (1)", request_id=request_id)
    second = table.sql("INSERT INTO T VALUES (1)", request_id=request_id)
    assert second.handle != first.handle
    assert table.scalar("SELECT COUNT(*) FROM T") == "2"


def test_retry_after_a_failed_attempt_runs_again(db: SqlApi) -> None:
    request_id = str(uuid.uuid4())
    failed = db.submit("INSERT INTO LATER VALUES (1)", request_id=request_id)
    assert failed.status == 422
    db.sql("CREATE TABLE LATER (ID NUMBER)")

    resent = db.sql("INSERT INTO LATER VALUES (1)", request_id=request_id, retry=True)

    assert resent.handle != failed.handle
    assert resent.body["stats"]["numRowsInserted"] == 1
    assert db.scalar("SELECT COUNT(*) FROM LATER") == "1"


def test_retry_of_an_unknown_request_id_simply_runs(table: SqlApi) -> None:
    resent = table.sql("INSERT INTO T VALUES (5)", request_id=str(uuid.uuid4()), retry=True)
    assert resent.body["stats"]["numRowsInserted"] == 1
    assert table.scalar("SELECT COUNT(*) FROM T") == "1"


def test_retry_of_a_still_running_statement_does_not_start_another(table: SqlApi) -> None:
    table.set_faults("slow=1.5:other:nth=1")
    request_id = str(uuid.uuid4())
    first = table.submit("INSERT INTO T VALUES (1)", request_id=request_id, run_async=True)
    resent = table.submit("INSERT INTO T VALUES (1)", request_id=request_id, retry=True, run_async=True)

    assert resent.handle == first.handle
    assert table.wait(resent).status == 200
    assert table.scalar("SELECT COUNT(*) FROM T") == "1"
