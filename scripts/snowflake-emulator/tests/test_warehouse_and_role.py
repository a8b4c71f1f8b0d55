"""The body's `warehouse` and `role` are identifiers taken literally, as the SQL API documents:
`load_wh` is not LOAD_WH. The session emulator's account has warehouses TEST_WH and LOAD_WH and
roles LOADER (the user's default) and ANALYST."""

from __future__ import annotations

from conftest import ANALYST_ROLE, LOADER_ROLE
from sqlapi_client import SqlApi

NO_WAREHOUSE = (
    "000606",
    "57P03",
    "No active warehouse selected in the current session.  Select an active warehouse with the 'use warehouse' command.",
)


def failure(api: SqlApi, statement: str, **kwargs: object) -> tuple[str, str, str]:
    failed = api.wait(api.submit(statement, **kwargs))  # type: ignore[arg-type]
    assert failed.status == 422, (statement, failed.status, failed.body)
    return failed.body["code"], failed.body["sqlState"], failed.body["message"]


def test_a_lower_case_warehouse_in_the_body_is_another_warehouse(db: SqlApi) -> None:
    db.sql("CREATE TABLE T (ID NUMBER)")
    lower = db.with_warehouse("load_wh")

    assert failure(lower, "SELECT COUNT(*) FROM T") == NO_WAREHOUSE
    assert failure(lower, "INSERT INTO T VALUES (1)") == NO_WAREHOUSE
    # DDL needs no warehouse, so a request naming a missing one still runs it.
    assert lower.sql("CREATE TABLE U (ID NUMBER)").data == [["Table U successfully created."]]

    assert db.with_warehouse("LOAD_WH").scalar("SELECT COUNT(*) FROM T") == "0"


def test_use_warehouse_in_sql_resolves_the_identifier(db: SqlApi) -> None:
    db.sql("CREATE TABLE T (ID NUMBER)")
    missing_in_body = db.with_warehouse("nowhere")
    # Unquoted in SQL, load_wh is LOAD_WH, which exists.
    used = missing_in_body.sql("USE WAREHOUSE load_wh; SELECT COUNT(*) FROM T", parameters={"MULTI_STATEMENT_COUNT": "2"})
    assert missing_in_body.status(used.body["statementHandles"][1]).data == [["0"]]

    assert failure(db, "USE WAREHOUSE no_such_wh") == (
        "002043",
        "02000",
        "SQL compilation error:\nObject does not exist, or operation cannot be performed.",
    )
    quoted = failure(db, 'USE WAREHOUSE "load_wh"; SELECT 1', parameters={"MULTI_STATEMENT_COUNT": "2"})
    assert quoted[0] == "100132" and "002043" in quoted[2]


def test_a_role_the_user_lacks_fails_the_whole_request(db: SqlApi) -> None:
    expected = (
        "390189",
        "08004",
        "Role 'loader' specified in the connect string does not exist or not authorized. "
        "Contact your local system administrator, or attempt to login with another role, e.g. PUBLIC.",
    )
    lower = db.with_role(LOADER_ROLE.lower())
    before = db.stats()["statements_executed"]
    # Even a statement that needs nothing: the session itself is refused, and nothing runs.
    assert failure(lower, "SELECT 1") == expected
    assert failure(lower, "CREATE TABLE NEVER (ID NUMBER)") == expected
    assert db.stats()["statements_executed"] == before
    assert db.scalar("SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME = 'NEVER'") == "0"

    assert db.with_role(LOADER_ROLE).scalar("SELECT 1") == "1"
    assert db.with_role(ANALYST_ROLE).scalar("SELECT 1") == "1"
    assert db.with_role("PUBLIC").scalar("SELECT 1") == "1"


def test_a_role_created_by_the_administrator_can_be_used(db: SqlApi) -> None:
    assert failure(db.with_role("AUDITOR"), "SELECT 1")[0] == "390189"
    db.admin_sql("CREATE ROLE AUDITOR")
    assert db.with_role("AUDITOR").scalar("SELECT 1") == "1"


def test_current_role_and_warehouse_are_the_sessions(db: SqlApi) -> None:
    # The user's default role and the body's warehouse, then a role and a warehouse named in the body.
    assert db.sql("SELECT CURRENT_ROLE() AS R, CURRENT_WAREHOUSE() AS W").data == [[LOADER_ROLE, "TEST_WH"]]
    assert db.with_role(ANALYST_ROLE).scalar("SELECT CURRENT_ROLE()") == ANALYST_ROLE
    assert db.with_warehouse("LOAD_WH").scalar("SELECT CURRENT_WAREHOUSE()") == "LOAD_WH"
