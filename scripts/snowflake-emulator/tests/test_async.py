"""Asynchronous execution: async=true and polling, the switch to 202 after the sync wait, the
statement timeout (408) and cancel."""

from __future__ import annotations

import time

from sqlapi_client import SqlApi

RUNNING_MESSAGE = "Asynchronous execution in progress. Use provided query id to perform query monitoring and management."


def test_async_true_answers_202_then_the_result_on_poll(db: SqlApi) -> None:
    submitted = db.submit("SELECT 41 + 1 AS ANSWER", run_async=True)

    assert submitted.status == 202
    assert submitted.body == {
        "code": "333334",
        "message": RUNNING_MESSAGE,
        "statementHandle": submitted.handle,
        "statementStatusUrl": f"/api/v2/statements/{submitted.handle}",
    }
    done = db.wait(db.request("GET", submitted.body["statementStatusUrl"]))
    assert done.status == 200
    assert done.handle == submitted.handle
    assert done.data == [["42"]]


def test_statement_longer_than_the_sync_wait_turns_asynchronous(db: SqlApi) -> None:
    # The session's emulator waits 2 s (--sync-wait-secs 2) before answering 202, like Snowflake's 45 s.
    db.set_faults("slow=3:other:nth=1")
    started = time.monotonic()
    submitted = db.submit("SELECT 'late' AS A")
    waited = time.monotonic() - started

    assert submitted.status == 202 and submitted.body["code"] == "333334"
    assert 1.5 < waited < 3.0
    assert db.status(submitted.handle).status == 202
    done = db.wait(submitted)
    assert done.status == 200 and done.data == [["late"]]


def test_timeout_answers_408_and_the_statement_does_not_run(db: SqlApi) -> None:
    db.sql("CREATE TABLE T (ID NUMBER)")
    db.set_faults("slow=5:other:nth=1")
    started = time.monotonic()
    timed_out = db.submit("INSERT INTO T VALUES (1)", timeout=1)

    assert timed_out.status == 408
    assert time.monotonic() - started < 2.5
    assert timed_out.body["code"] == "000630"
    assert timed_out.body["sqlState"] == "57014"
    assert "timeout of 1 second(s)" in timed_out.body["message"]
    assert db.status(timed_out.handle).status == 408
    assert db.scalar("SELECT COUNT(*) FROM T") == "0"


def test_timeout_interrupts_a_long_query_inside_duckdb(db: SqlApi) -> None:
    started = time.monotonic()
    timed_out = db.submit("SELECT COUNT(*) FROM TABLE(GENERATOR(ROWCOUNT => 100000000000))", timeout=1)
    assert timed_out.status == 408, timed_out.body
    assert time.monotonic() - started < 4


def test_cancel_stops_a_running_statement(db: SqlApi) -> None:
    db.sql("CREATE TABLE T (ID NUMBER)")
    db.set_faults("slow=30:other:nth=1")
    submitted = db.submit("INSERT INTO T VALUES (1)", run_async=True)

    cancelled = db.cancel(submitted.handle)

    assert cancelled.status == 200
    assert cancelled.body["code"] == "000604"
    assert cancelled.body["sqlState"] == "57014"
    assert cancelled.body["message"] == "SQL execution canceled"
    assert cancelled.body["statementHandle"] == submitted.handle
    after = db.status(submitted.handle)
    assert after.status == 422 and after.body["code"] == "000604"
    assert db.scalar("SELECT COUNT(*) FROM T") == "0"


def test_cancel_of_an_unknown_handle_is_422_000709(db: SqlApi) -> None:
    missing = db.cancel("01b2c3d4-0000-0000-0000-000000000000")
    assert missing.status == 422
    # The spec's CancelStatus and QueryFailureStatus require the statementHandle.
    assert missing.body == {
        "code": "000709",
        "sqlState": "02000",
        "message": "Statement 01b2c3d4-0000-0000-0000-000000000000 not found",
        "statementHandle": "01b2c3d4-0000-0000-0000-000000000000",
    }
