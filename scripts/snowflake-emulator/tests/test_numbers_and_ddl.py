"""Fixed-point SUM and AVG of NUMBER, and the DDL and catalog statements the loader sends, in
Snowflake's result shapes: CREATE DATABASE (with its PUBLIC schema), IF NOT EXISTS answers,
ALTER TABLE ADD COLUMN, INFORMATION_SCHEMA.COLUMNS, CREATE OR REPLACE VIEW, CREATE STAGE and
CREATE FILE FORMAT IF NOT EXISTS."""

from __future__ import annotations

import uuid

from conftest import VendorSetup
from sql_templates import render
from sqlapi_client import SqlApi


def row_type(response, index: int) -> tuple[str, int | None, int | None]:  # noqa: ANN001
    column = response.body["resultSetMetaData"]["rowType"][index]
    return column["type"], column["precision"], column["scale"]


def test_sum_and_avg_of_number_are_exact_fixed_point(db: SqlApi) -> None:
    db.sql("CREATE TABLE LEDGER (ID NUMBER(38,0), AMOUNT NUMBER(38,2), RATE FLOAT)")
    # 0.1 + 0.2 is 0.30000000000000004 in binary floating point.
    db.sql("INSERT INTO LEDGER VALUES (1, 1234.26, 0.5), (2, 0.1, 0.25), (3, 0.2, 0.25)")

    totals = db.sql(
        "SELECT SUM(AMOUNT) AS TOTAL, AVG(AMOUNT) AS MEAN, SUM(ID) AS IDS, AVG(ID) AS MEAN_ID, "
        "SUM(RATE) AS RATES, AVG(RATE) AS MEAN_RATE FROM LEDGER"
    )

    assert totals.data == [["1234.56", "411.52000000", "6", "2.000000", "1.0", "0.3333333333333333"]]
    assert row_type(totals, 0) == ("fixed", 38, 2)
    # AVG of NUMBER(p,s): scale max(s, min(s + 6, 12)).
    assert row_type(totals, 1) == ("fixed", 38, 8)
    assert row_type(totals, 2) == ("fixed", 38, 0)
    assert row_type(totals, 3) == ("fixed", 38, 6)
    assert row_type(totals, 4)[0] == "real"
    assert row_type(totals, 5)[0] == "real"

    grouped = db.sql("SELECT ID > 1 AS LATER, SUM(AMOUNT), AVG(AMOUNT) FROM LEDGER GROUP BY 1 ORDER BY 1")
    assert grouped.column_names() == ["LATER", "SUM(AMOUNT)", "AVG(AMOUNT)"]
    assert grouped.data == [["false", "1234.26", "1234.26000000"], ["true", "0.30", "0.15000000"]]
    # A repeating decimal is cut at the scale; an empty group averages to NULL.
    db.sql("INSERT INTO LEDGER VALUES (4, 0.01, 0), (5, 0.01, 0), (6, 0.02, 0)")
    assert db.sql("SELECT AVG(AMOUNT) AS M FROM LEDGER WHERE ID > 3").data == [["0.01333333"]]
    assert db.sql("SELECT AVG(AMOUNT) AS M FROM LEDGER WHERE ID > 99").data == [[None]]


def test_create_database_has_a_public_schema_and_if_not_exists_answers(api: SqlApi) -> None:
    name = "D_" + uuid.uuid4().hex[:10].upper()

    created = api.sql(f"CREATE DATABASE {name}")
    assert created.data == [[f"Database {name} successfully created."]]
    assert api.sql(f"CREATE TABLE {name}.PUBLIC.T (ID NUMBER)").data == [["Table T successfully created."]]

    assert api.sql(f"CREATE DATABASE IF NOT EXISTS {name}").data == [[f"{name} already exists, statement succeeded."]]
    assert api.sql(f"CREATE SCHEMA IF NOT EXISTS {name}.PUBLIC").data == [["PUBLIC already exists, statement succeeded."]]
    assert api.sql(f"CREATE SCHEMA IF NOT EXISTS {name}.RAW").data == [["Schema RAW successfully created."]]
    assert api.sql(f"CREATE SCHEMA IF NOT EXISTS {name}.RAW").data == [["RAW already exists, statement succeeded."]]
    # The table in PUBLIC survived the IF NOT EXISTS statements.
    assert api.scalar(f"SELECT COUNT(*) FROM {name}.PUBLIC.T") == "0"


def test_add_column_and_information_schema_columns(vendor: VendorSetup) -> None:
    api, database = vendor.api, vendor.names["database"]

    added = api.sql(f"ALTER TABLE {database}.RAW.VENDOR ADD COLUMN PAYMENTPRIORITY VARCHAR")
    assert added.data == [["Statement executed successfully."]]
    again = api.sql(f"ALTER TABLE {database}.RAW.VENDOR ADD COLUMN IF NOT EXISTS PAYMENTPRIORITY VARCHAR")
    assert again.data == [["Statement executed successfully."]]
    api.sql(f"ALTER TABLE {database}.RAW.VENDOR ADD COLUMN IF NOT EXISTS CREDITLIMIT NUMBER(18,4)")
    api.sql(f"ALTER TABLE {database}.RAW.VENDOR ADD COLUMN IF NOT EXISTS ONHOLD BOOLEAN")
    api.sql(f"ALTER TABLE {database}.RAW.VENDOR ADD COLUMN IF NOT EXISTS LASTPAID DATE")

    columns = api.sql(
        f"SELECT COLUMN_NAME, DATA_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE FROM {database}.INFORMATION_SCHEMA.COLUMNS "
        "WHERE TABLE_SCHEMA = 'RAW' AND TABLE_NAME = 'VENDOR' ORDER BY ORDINAL_POSITION"
    )
    assert columns.column_names() == ["COLUMN_NAME", "DATA_TYPE", "NUMERIC_PRECISION", "NUMERIC_SCALE"]
    assert columns.data == [
        ["RECORDNO", "NUMBER", "38", "0"],
        ["VENDORID", "TEXT", None, None],
        ["NAME", "TEXT", None, None],
        ["ZIP", "TEXT", None, None],
        ["TOTALDUE", "NUMBER", "38", "2"],
        ["WHENMODIFIED", "TIMESTAMP_TZ", None, None],
        ["_BATCH_ID", "TEXT", None, None],
        ["_EXTRACTED_AT", "TIMESTAMP_TZ", None, None],
        ["_DELETED", "BOOLEAN", None, None],
        ["PAYMENTPRIORITY", "TEXT", None, None],
        ["CREDITLIMIT", "NUMBER", "18", "4"],
        ["ONHOLD", "BOOLEAN", None, None],
        ["LASTPAID", "DATE", None, None],
    ]


def test_view_stage_and_file_format_ddl_repeat_cleanly(vendor: VendorSetup) -> None:
    api, names = vendor.api, vendor.names
    view = f"CREATE OR REPLACE VIEW {names['database']}.RAW.VENDOR_CURRENT AS SELECT RECORDNO, NAME FROM {names['database']}.RAW.VENDOR WHERE NOT COALESCE(_DELETED, FALSE)"
    assert api.sql(view).data == [["View VENDOR_CURRENT successfully created."]]
    assert api.sql(view).data == [["View VENDOR_CURRENT successfully created."]]
    api.sql("INSERT INTO VENDOR (RECORDNO, NAME, _DELETED) VALUES (1, 'live', FALSE), (2, 'gone', TRUE)")
    assert api.sql("SELECT RECORDNO, NAME FROM VENDOR_CURRENT").data == [["1", "live"]]

    stage = render("external_stage.sql", **names, stage_url=vendor.stage_dir.as_uri() + "/", storage_integration="SAGE_S3_INT")
    assert api.sql(stage).data == [["SAGE_STAGE already exists, statement succeeded."]]
    file_format = render("parquet_file_format.sql", **names)
    assert api.sql(file_format).data == [["PARQUET_FMT already exists, statement succeeded."]]
