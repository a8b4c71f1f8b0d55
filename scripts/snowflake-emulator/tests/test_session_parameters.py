"""Per-request session settings: the TIMEZONE parameter (Snowflake's default America/Los_Angeles
when a request sets none), and the warehouse a query or DML statement needs
(--require-warehouse: 000606 without one; DDL runs without one)."""

from __future__ import annotations

from sqlapi_client import SqlApi

NO_WAREHOUSE = (
    "000606",
    "57P03",
    "No active warehouse selected in the current session.  Select an active warehouse with the 'use warehouse' command.",
)
# 2024-07-01 12:00 local time as epoch seconds: New York is UTC-4 then, Los Angeles UTC-7, Tokyo UTC+9.
NEW_YORK_NOON = 1719849600
LOS_ANGELES_NOON = 1719860400
TOKYO_NOON = 1719802800


def test_timezone_parameter_places_a_timestamp_without_offset(db: SqlApi) -> None:
    query = (
        "SELECT '2024-07-01 12:00:00'::TIMESTAMP_TZ AS LOCAL_NOON, "
        "'2024-07-01 12:00:00 +00:00'::TIMESTAMP_TZ AS UTC_NOON, "
        "TO_VARCHAR('2024-07-01 16:00:00 +00:00'::TIMESTAMP_LTZ, 'YYYY-MM-DD HH24:MI') AS LTZ_TEXT"
    )
    new_york = db.sql(query, parameters={"TIMEZONE": "America/New_York"})
    assert [value.split()[0] for value in new_york.data[0][:2]] == [f"{NEW_YORK_NOON}.000000000", "1719835200.000000000"]
    assert new_york.data[0][2] == "2024-07-01 12:00"

    tokyo = db.sql(query, parameters={"timezone": "Asia/Tokyo"})
    assert tokyo.data[0][0].split()[0] == f"{TOKYO_NOON}.000000000"
    assert tokyo.data[0][2] == "2024-07-02 01:00"

    # No TIMEZONE: Snowflake's default, America/Los_Angeles; one request's zone never leaks into the next.
    default = db.sql(query)
    assert default.data[0][0].split()[0] == f"{LOS_ANGELES_NOON}.000000000"
    assert default.data[0][2] == "2024-07-01 09:00"


def test_queries_and_dml_need_a_warehouse_ddl_does_not(db: SqlApi) -> None:
    bare = db.without_warehouse()
    created = bare.sql("CREATE TABLE NEEDS_WH (ID NUMBER)")
    assert created.data == [["Table NEEDS_WH successfully created."]]
    bare.sql("ALTER TABLE NEEDS_WH ADD COLUMN NAME VARCHAR")
    bare.sql("SHOW TABLES LIKE 'NEEDS_WH'")

    for statement in (
        "SELECT COUNT(*) FROM NEEDS_WH",
        "INSERT INTO NEEDS_WH (ID) VALUES (1)",
        "UPDATE NEEDS_WH SET NAME = 'x'",
        "DELETE FROM NEEDS_WH",
        "MERGE INTO NEEDS_WH t USING (SELECT 1 AS ID) s ON t.ID = s.ID WHEN NOT MATCHED THEN INSERT (ID) VALUES (s.ID)",
        "COPY INTO NEEDS_WH FROM @NO_SUCH_STAGE",
    ):
        failed = bare.wait(bare.submit(statement))
        assert failed.status == 422, statement
        assert (failed.body["code"], failed.body["sqlState"], failed.body["message"]) == NO_WAREHOUSE, statement

    assert db.sql("INSERT INTO NEEDS_WH (ID) VALUES (1)").body["stats"]["numRowsInserted"] == 1
    assert db.scalar("SELECT COUNT(*) FROM NEEDS_WH") == "1"
    # USE WAREHOUSE inside the request serves its later statements.
    used = bare.sql("USE WAREHOUSE LOAD_WH; SELECT COUNT(*) FROM NEEDS_WH", parameters={"MULTI_STATEMENT_COUNT": "2"})
    handles = used.body["statementHandles"]
    assert bare.status(handles[1]).data == [["1"]]
