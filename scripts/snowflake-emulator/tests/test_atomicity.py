"""COPY and MERGE are all or nothing, as every Snowflake DML statement: a failure in the second
file of a COPY, an error inside a MERGE, or a cancel part-way leaves no rows and no load history."""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import VendorSetup
from in_process import new_session
from sqlapi_client import SqlApi
from sql_templates import render
from vendor_parts import write_batch


def write_unconvertible_part(path: Path) -> None:
    """A part whose TOTALDUE is text that is not a number."""
    pq.write_table(pa.table({"recordno": pa.array([9], pa.int64()), "totaldue": pa.array(["twelve"], pa.string())}), path)


def history_rows(vendor: VendorSetup) -> int:
    return int(vendor.api.scalar("SELECT COUNT(*) FROM INFORMATION_SCHEMA.LOAD_HISTORY WHERE TABLE_NAME = 'VENDOR_STG'"))


def test_copy_failing_in_its_second_file_loads_nothing_and_records_nothing(vendor: VendorSetup) -> None:
    files = write_batch(vendor.stage_dir, "b1")
    write_unconvertible_part(vendor.stage_dir / "vendor" / files[1])

    failed = vendor.api.wait(vendor.api.submit(vendor.copy_sql(files)))

    assert failed.status == 422
    assert (failed.body["code"], failed.body["sqlState"]) == ("100038", "22018")
    assert vendor.count("VENDOR_STG") == 0
    assert history_rows(vendor) == 0
    # The first file was not recorded as loaded: once the bad file is fixed, both load.
    write_batch(vendor.stage_dir, "b1")
    copied = vendor.api.sql(vendor.copy_sql(files))
    assert [row[1:4] for row in copied.data] == [["LOADED", "3", "3"], ["LOADED", "3", "3"]]
    assert vendor.count("VENDOR_STG") == 6


def test_merge_failing_after_its_update_changes_nothing(vendor: VendorSetup) -> None:
    api = vendor.api
    api.sql("INSERT INTO VENDOR (RECORDNO, NAME) VALUES (1, 'original')")
    # Key 1 updates the target; the NULL key is inserted and breaks VENDOR's NOT NULL.
    api.sql("INSERT INTO VENDOR_STG (RECORDNO, NAME) VALUES (1, 'updated'), (NULL, 'no key')")

    failed = api.wait(api.submit(
        "MERGE INTO VENDOR t USING (SELECT * FROM VENDOR_STG) s ON t.RECORDNO = s.RECORDNO "
        "WHEN MATCHED THEN UPDATE SET NAME = s.NAME "
        "WHEN NOT MATCHED THEN INSERT (RECORDNO, NAME) VALUES (s.RECORDNO, s.NAME)"
    ))

    assert failed.status == 422
    assert (failed.body["code"], failed.body["sqlState"]) == ("100072", "22000")
    assert api.sql("SELECT RECORDNO, NAME FROM VENDOR").data == [["1", "original"]]


def test_copy_cancelled_after_its_rows_were_written_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # In-process: the engine itself, so the cancel can land at an exact point.
    from snowflake_emulator import load_metadata
    from snowflake_emulator.database import open_fakesnow
    from snowflake_emulator.sql_errors import StatementInterrupted

    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    fake = open_fakesnow(None)
    stage_dir = tmp_path / "stage"
    files = write_batch(stage_dir, "b1")
    names = {"database": "ATOMIC", "schema": "RAW", "file_format": "PARQUET_FMT", "stage": "SAGE_STAGE"}
    setup = new_session(fake, None, None)
    setup.execute("CREATE DATABASE ATOMIC")
    setup.execute("CREATE SCHEMA ATOMIC.RAW")
    setup.close()
    session = new_session(fake, "ATOMIC", "RAW", storage_integrations=("X",))
    session.execute(render("parquet_file_format.sql", **names))
    session.execute(render("external_stage.sql", **names, stage_url=stage_dir.as_uri() + "/", storage_integration="X"))
    for ddl in render("vendor_tables.sql", **names).split(";")[:2]:
        session.execute(ddl)
    copy = render("copy_into_staging.sql", **names, staging_table="VENDOR_STG", object_path="vendor",
                  files=", ".join(f"'{name}'" for name in files))

    def interrupted(*_args: object) -> None:
        raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")

    # The cancel lands after fakesnow inserted both files' rows and its load history.
    monkeypatch.setattr(load_metadata, "record", interrupted)
    with pytest.raises(StatementInterrupted):
        session.execute(copy)
    monkeypatch.undo()

    assert session.execute("SELECT COUNT(*) AS N FROM VENDOR_STG").rows == [["0"]]
    assert session.execute(
        "SELECT COUNT(*) AS N FROM INFORMATION_SCHEMA.LOAD_HISTORY WHERE TABLE_NAME = 'VENDOR_STG'"
    ).rows == [["0"]]
    assert [row[1] for row in session.execute(copy).rows] == ["LOADED", "LOADED"]
    session.close()
    fake.duck_conn.close()


def test_copy_and_merge_by_full_names_from_a_request_without_that_database(vendor: VendorSetup, api: SqlApi) -> None:
    # The request names no database at all, as a loader that qualifies every name may do.
    files = write_batch(vendor.stage_dir, "b1")

    copied = api.sql(vendor.copy_sql(files))
    assert [row[1:4] for row in copied.data] == [["LOADED", "3", "3"], ["LOADED", "3", "3"]]
    assert api.sql(vendor.copy_sql(files)).data == [["Copy executed with 0 files processed."]]

    merged = api.sql(vendor.merge_sql("b1"))
    assert merged.data == [["4", "0"]]
    assert vendor.count("VENDOR") == 4
