"""Grants on views: GRANT and REVOKE are kept, SHOW GRANTS ON VIEW lists them in Snowflake's
columns (with the OWNERSHIP of the role that created the view), and CREATE OR REPLACE VIEW drops
them unless it says COPY GRANTS."""

from __future__ import annotations

import pytest
from conftest import ANALYST_ROLE, LOADER_ROLE
from sqlapi_client import SqlApi

SHOW_GRANTS_COLUMNS = ["created_on", "privilege", "granted_on", "name", "granted_to", "grantee_name", "grant_option", "granted_by"]


@pytest.fixture
def view(db: SqlApi) -> str:
    db.sql("CREATE TABLE BILLS (ID NUMBER, AMOUNT NUMBER(38,2))")
    db.sql("CREATE VIEW OPEN_BILLS AS SELECT ID FROM BILLS")
    return f"{db.database}.RAW.OPEN_BILLS"


def grants(db: SqlApi, view: str) -> list[tuple[str | None, ...]]:
    shown = db.sql(f"SHOW GRANTS ON VIEW {view}")
    assert shown.column_names() == SHOW_GRANTS_COLUMNS
    assert shown.column_types()[0] == "timestamp_ltz"
    return sorted(tuple(row[1:]) for row in shown.data)


def test_show_grants_lists_ownership_and_granted_privileges(db: SqlApi, view: str) -> None:
    assert db.sql(f"GRANT SELECT ON VIEW {view} TO ROLE {ANALYST_ROLE}").data == [["Statement executed successfully."]]
    assert grants(db, view) == [
        ("OWNERSHIP", "VIEW", view, "ROLE", LOADER_ROLE, "false", LOADER_ROLE),
        ("SELECT", "VIEW", view, "ROLE", ANALYST_ROLE, "false", LOADER_ROLE),
    ]
    # The same view named without its database and schema, and quoted.
    assert grants(db, "OPEN_BILLS") == grants(db, f'"{db.database}"."RAW"."OPEN_BILLS"')

    db.sql(f"REVOKE SELECT ON VIEW {view} FROM ROLE {ANALYST_ROLE}")
    assert [row[0] for row in grants(db, view)] == ["OWNERSHIP"]


def test_create_or_replace_view_drops_grants_unless_copy_grants(db: SqlApi, view: str) -> None:
    db.sql(f"GRANT SELECT ON VIEW {view} TO ROLE {ANALYST_ROLE}")

    db.sql(f"CREATE OR REPLACE VIEW {view} COPY GRANTS AS SELECT ID, AMOUNT FROM BILLS")
    assert ("SELECT", "VIEW", view, "ROLE", ANALYST_ROLE, "false", LOADER_ROLE) in grants(db, view)

    db.sql(f"CREATE OR REPLACE VIEW {view} AS SELECT ID FROM BILLS")
    assert grants(db, view) == [("OWNERSHIP", "VIEW", view, "ROLE", LOADER_ROLE, "false", LOADER_ROLE)]

    db.sql(f"DROP VIEW {view}")
    assert grants(db, view) == []


def test_grants_name_objects_and_roles_that_exist(db: SqlApi, view: str) -> None:
    missing_view = db.wait(db.submit(f"GRANT SELECT ON VIEW {db.database}.RAW.NO_SUCH_VIEW TO ROLE {ANALYST_ROLE}"))
    assert missing_view.status == 422
    assert (missing_view.body["code"], missing_view.body["message"]) == (
        "002003",
        f"SQL compilation error:\nView '{db.database}.RAW.NO_SUCH_VIEW' does not exist or not authorized.",
    )
    missing_role = db.wait(db.submit(f"GRANT SELECT ON VIEW {view} TO ROLE NOBODY"))
    assert missing_role.status == 422
    assert missing_role.body["message"] == "SQL compilation error:\nRole 'NOBODY' does not exist or not authorized."
    assert [row[0] for row in grants(db, view)] == ["OWNERSHIP"]
