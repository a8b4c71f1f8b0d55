"""requestId and retry=true: a resend of a statement is answered from history and runs nothing,
whether it succeeded, is still running or definitely failed; without retry=true the statement runs
again; a requestId is matched only within its window on the emulator's clock."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from conftest import client_of, extra_emulator, fresh_database
from key_pairs import KeyPair
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


def test_retry_after_a_definite_failure_answers_that_failure_again(db: SqlApi) -> None:
    request_id = str(uuid.uuid4())
    failed = db.submit("INSERT INTO LATER VALUES (1)", request_id=request_id)
    assert failed.status == 422
    db.sql("CREATE TABLE LATER (ID NUMBER)")
    before = db.stats()

    resent = db.submit("INSERT INTO LATER VALUES (1)", request_id=request_id, retry=True)

    # The same failure, from history: nothing ran, and the id stays spent.
    assert resent.status == 422
    assert resent.handle == failed.handle
    assert (resent.body["code"], resent.body["message"]) == (failed.body["code"], failed.body["message"])
    assert db.stats()["statements_executed"] == before["statements_executed"]
    assert db.stats()["served_from_history"] == before["served_from_history"] + 1
    assert db.scalar("SELECT COUNT(*) FROM LATER") == "0"
    # A new attempt under a new id runs.
    assert db.sql("INSERT INTO LATER VALUES (1)").body["stats"]["numRowsInserted"] == 1


def test_retry_after_a_timeout_answers_the_timeout_again(table: SqlApi) -> None:
    table.set_faults("slow=5:other:nth=1")
    request_id = str(uuid.uuid4())
    timed_out = table.submit("INSERT INTO T VALUES (1)", request_id=request_id, timeout=1)
    assert timed_out.status == 408

    resent = table.submit("INSERT INTO T VALUES (1)", request_id=request_id, retry=True)

    assert resent.status == 408 and resent.handle == timed_out.handle
    assert table.scalar("SELECT COUNT(*) FROM T") == "0"


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


@pytest.fixture(scope="module")
def windowed_api(tmp_path_factory: pytest.TempPathFactory, trusted_key: KeyPair) -> Iterator[SqlApi]:
    with extra_emulator(tmp_path_factory, trusted_key, ["--request-id-window-secs", "3600"]) as running:
        yield client_of(running, trusted_key)


def test_a_request_id_is_matched_only_within_its_window(windowed_api: SqlApi) -> None:
    db = fresh_database(windowed_api)
    db.sql("CREATE TABLE T (ID NUMBER)")
    request_id = str(uuid.uuid4())
    first = db.sql("INSERT INTO T VALUES (1)", request_id=request_id)

    db.advance_clock(secs=3500)
    within = db.sql("INSERT INTO T VALUES (1)", request_id=request_id, retry=True)
    assert within.handle == first.handle
    assert db.scalar("SELECT COUNT(*) FROM T") == "1"

    db.advance_clock(secs=200)
    # Past the window (3600 s here) the id is forgotten: the resend runs as a new statement.
    late = db.sql("INSERT INTO T VALUES (1)", request_id=request_id, retry=True)
    assert late.handle != first.handle
    assert db.scalar("SELECT COUNT(*) FROM T") == "2"
