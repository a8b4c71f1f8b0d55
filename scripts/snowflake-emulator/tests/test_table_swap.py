"""ALTER TABLE ... SWAP WITH: the two tables exchange names, rows, columns and load metadata in
one statement; a missing table is Snowflake's "does not exist" error and swaps nothing."""

from __future__ import annotations

from sqlapi_client import SqlApi


def test_swap_exchanges_rows_and_columns_and_views_read_the_new_table(db: SqlApi) -> None:
    db.sql("CREATE TABLE VENDOR (RECORDNO NUMBER(38,0), NAME VARCHAR)")
    db.sql("INSERT INTO VENDOR VALUES (1, 'old')")
    db.sql("CREATE TABLE VENDOR__RESET (RECORDNO NUMBER(38,0), NAME VARCHAR, TIER VARCHAR)")
    db.sql("INSERT INTO VENDOR__RESET VALUES (1, 'new', 'Gold'), (2, 'also new', NULL)")
    db.sql("CREATE VIEW LIVE_VENDORS AS SELECT RECORDNO, NAME FROM VENDOR")

    swapped = db.sql(f'ALTER TABLE "{db.database}"."RAW"."VENDOR" SWAP WITH "{db.database}"."RAW"."VENDOR__RESET"')

    assert swapped.status == 200
    assert db.sql("SELECT RECORDNO, NAME, TIER FROM VENDOR ORDER BY RECORDNO").data == [
        ["1", "new", "Gold"],
        ["2", "also new", None],
    ]
    assert db.sql("SELECT RECORDNO, NAME FROM VENDOR__RESET").data == [["1", "old"]]
    assert db.sql("SELECT COUNT(*) FROM LIVE_VENDORS").data == [["2"]]
    columns = db.sql(
        "SELECT TABLE_NAME, COLUMN_NAME FROM INFORMATION_SCHEMA.COLUMNS "
        "WHERE TABLE_NAME IN ('VENDOR', 'VENDOR__RESET') ORDER BY TABLE_NAME, ORDINAL_POSITION"
    ).data
    assert columns == [
        ["VENDOR", "RECORDNO"], ["VENDOR", "NAME"], ["VENDOR", "TIER"],
        ["VENDOR__RESET", "RECORDNO"], ["VENDOR__RESET", "NAME"],
    ]


def test_swap_with_a_missing_table_fails_and_changes_nothing(db: SqlApi) -> None:
    db.sql("CREATE TABLE VENDOR (RECORDNO NUMBER(38,0))")
    db.sql("INSERT INTO VENDOR VALUES (7)")

    failed = db.wait(db.submit("ALTER TABLE VENDOR SWAP WITH NO_SUCH_TABLE"))

    assert failed.status == 422
    assert (failed.body["code"], failed.body["sqlState"]) == ("002003", "42S02")
    assert "NO_SUCH_TABLE" in failed.body["message"]
    assert db.sql("SELECT RECORDNO FROM VENDOR").data == [["7"]]
