"""Error shapes: 422 with code/sqlState/message/statementHandle, and the 400/404/405/415 answers."""

from __future__ import annotations

from sqlapi_client import SqlApi


def test_syntax_error_is_422_001003(db: SqlApi) -> None:
    failed = db.submit("SELEC 1")
    assert failed.status == 422
    assert failed.body["code"] == "001003"
    assert failed.body["sqlState"] == "42000"
    assert failed.body["message"].startswith("Invalid expression / Unexpected token")
    assert set(failed.body) >= {"code", "sqlState", "message", "statementHandle"}
    # The failed statement keeps its handle: a poll answers the same error.
    polled = db.status(failed.handle)
    assert polled.status == 422 and polled.body["code"] == "001003"


def test_unknown_table_is_422_002003_42s02(db: SqlApi) -> None:
    failed = db.submit("SELECT * FROM NO_SUCH_TABLE")
    assert failed.status == 422
    assert failed.body["code"] == "002003"
    assert failed.body["sqlState"] == "42S02"
    assert failed.body["message"] == "SQL compilation error:\nObject 'NO_SUCH_TABLE' does not exist or not authorized."
    assert failed.body["statementHandle"]


def test_unknown_database_in_the_body_fails_statements_that_need_it(api: SqlApi) -> None:
    scoped = api.scoped("NO_SUCH_DB", "RAW")
    failed = scoped.submit("SELECT * FROM T")
    assert failed.status == 422
    assert failed.body["code"] == "090105"
    # A statement that needs no database still runs, as in Snowflake.
    assert scoped.sql("SELECT 1").data == [["1"]]


def test_transaction_control_alone_is_refused(db: SqlApi) -> None:
    for statement, command in [("BEGIN", "TRANSACTION_BEGIN"), ("COMMIT", "TRANSACTION_COMMIT"), ("ROLLBACK", "TRANSACTION_ROLLBACK")]:
        refused = db.submit(statement)
        assert refused.status == 422, statement
        assert refused.body["code"] == "391911"
        assert refused.body["message"] == f"Command not supported by SQL API: {command}"


def test_invalid_payloads_are_400(db: SqlApi) -> None:
    not_json = db.request("POST", "/api/v2/statements", b"{not json", headers={"Content-Type": "application/json"})
    assert not_json.status == 400
    assert not_json.body == {"code": "390142", "message": "Incoming request does not contain a valid payload."}
    no_statement = db.request("POST", "/api/v2/statements", {"timeout": 10})
    assert no_statement.status == 400 and no_statement.body["code"] == "390142"
    empty = db.request("POST", "/api/v2/statements", {"statement": "  "})
    assert empty.status == 400 and empty.body["code"] == "000900"
    only_comment = db.request("POST", "/api/v2/statements", {"statement": "-- nothing to run"})
    assert only_comment.status == 400 and only_comment.body["code"] == "000900"


def test_wrong_media_type_is_415(db: SqlApi) -> None:
    answer = db.request("POST", "/api/v2/statements", b'{"statement":"SELECT 1"}', headers={"Content-Type": "text/plain"})
    assert answer.status == 415


def test_unknown_handle_unknown_path_and_wrong_method(db: SqlApi) -> None:
    unknown = db.status("01b2c3d4-0000-0000-0000-000000000000")
    assert unknown.status == 422 and unknown.body["code"] == "000709"
    assert db.request("GET", "/api/v2/nothing").status == 404
    assert db.request("GET", "/api/v2/statements").status == 405
