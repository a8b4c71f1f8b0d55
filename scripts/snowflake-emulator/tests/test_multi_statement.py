"""Multi-statement requests: MULTI_STATEMENT_COUNT, statementHandles and their children, the count
mismatch error, partial execution on failure, and one session per request."""

from __future__ import annotations

import pytest
from sqlapi_client import SqlApi


@pytest.fixture
def table(db: SqlApi) -> SqlApi:
    db.sql("CREATE TABLE T (ID NUMBER)")
    return db


def test_statement_handles_for_each_statement(table: SqlApi) -> None:
    result = table.sql(
        "BEGIN; INSERT INTO T VALUES (1), (2); COMMIT; SELECT ID FROM T ORDER BY ID",
        parameters={"MULTI_STATEMENT_COUNT": "4"},
    )
    assert result.data == [["Multiple statements executed successfully."]]
    assert result.column_names() == ["multiple statement execution"]
    handles = result.body["statementHandles"]
    assert len(handles) == 4 and len(set(handles)) == 4 and result.handle not in handles

    children = [table.status(handle) for handle in handles]
    assert [child.status for child in children] == [200, 200, 200, 200]
    assert children[1].body["stats"]["numRowsInserted"] == 2
    assert children[3].data == [["1"], ["2"]]


def test_count_zero_accepts_any_number_and_quoted_semicolons_do_not_split(table: SqlApi) -> None:
    result = table.sql(
        "INSERT INTO T VALUES (1); SELECT 'a;b' AS \"x;y\"; -- trailing comment\n",
        parameters={"MULTI_STATEMENT_COUNT": "0"},
    )
    assert len(result.body["statementHandles"]) == 2
    assert table.status(result.body["statementHandles"][1]).data == [["a;b"]]


def test_count_mismatch_is_refused_and_runs_nothing(table: SqlApi) -> None:
    before = table.stats()["statements_executed"]["other"]

    missing_count = table.submit("INSERT INTO T VALUES (1); INSERT INTO T VALUES (2)")
    wrong_count = table.submit("INSERT INTO T VALUES (1); INSERT INTO T VALUES (2)", parameters={"MULTI_STATEMENT_COUNT": "3"})

    assert missing_count.status == 422
    assert missing_count.body["code"] == "000008"
    assert missing_count.body["message"] == "Actual statement count 2 did not match the desired statement count 1."
    assert missing_count.body["statementHandle"]
    assert wrong_count.status == 422
    assert wrong_count.body["message"] == "Actual statement count 2 did not match the desired statement count 3."
    assert table.stats()["statements_executed"]["other"] == before
    assert table.scalar("SELECT COUNT(*) FROM T") == "0"


def test_failure_stops_at_the_failing_statement(table: SqlApi) -> None:
    failed = table.submit(
        "INSERT INTO T VALUES (1);\nINSERT INTO NOPE VALUES (2);\nINSERT INTO T VALUES (3)",
        parameters={"MULTI_STATEMENT_COUNT": "3"},
    )
    assert failed.status == 422
    assert failed.body["code"] == "100132"
    assert failed.body["sqlState"] == "P0000"
    message = failed.body["message"]
    assert message.startswith('JavaScript execution error: Uncaught Execution of multiple statements failed on statement "INSERT INTO NOPE')
    assert "(at line 2, position 0)" in message and "002003" in message
    # Statements before the failure ran; the ones after did not.
    assert table.sql("SELECT ID FROM T ORDER BY ID").data == [["1"]]


def test_each_request_is_its_own_session(table: SqlApi) -> None:
    # A transaction left open at the end of a request is rolled back with its session.
    table.sql("BEGIN; INSERT INTO T VALUES (1)", parameters={"MULTI_STATEMENT_COUNT": "2"})
    assert table.scalar("SELECT COUNT(*) FROM T") == "0"
    rolled_back = table.sql(
        "BEGIN; INSERT INTO T VALUES (1); ROLLBACK; SELECT COUNT(*) FROM T", parameters={"MULTI_STATEMENT_COUNT": "4"}
    )
    assert table.status(rolled_back.body["statementHandles"][3]).data == [["0"]]


def test_bindings_are_refused_in_multi_statement_requests(table: SqlApi) -> None:
    refused = table.submit(
        "SELECT ?; SELECT 1",
        parameters={"MULTI_STATEMENT_COUNT": "2"},
        bindings={"1": {"type": "FIXED", "value": "1"}},
    )
    assert refused.status == 422
