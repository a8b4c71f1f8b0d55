"""--db-path: tables, stages, file formats and COPY load metadata survive a restart of the
launcher; and --faults given at launch apply from the first request."""

from __future__ import annotations

from pathlib import Path

from conftest import ACCOUNT, USER, jwt_credentials
from key_pairs import KeyPair
from launcher import start_emulator
from sql_templates import render
from sqlapi_client import SqlApi
from vendor_parts import write_batch

ZERO_FILES = [["Copy executed with 0 files processed."]]


def test_data_and_load_history_survive_a_restart(tmp_path: Path, trusted_key: KeyPair) -> None:
    db_dir, stage_dir = tmp_path / "db", tmp_path / "stage"
    stage_dir.mkdir()
    files = write_batch(stage_dir, "b1")
    names = {"database": "SAGE", "schema": "RAW", "file_format": "PARQUET_FMT", "stage": "SAGE_STAGE"}
    copy_sql = render(
        "copy_into_staging.sql", **names, staging_table="VENDOR_STG", object_path="vendor",
        files=", ".join(f"'{name}'" for name in files),
    )
    args = ["--public-key", str(trusted_key.public_pem), "--account", ACCOUNT, "--user", USER, "--db-path", str(db_dir),
            "--storage-integration", "INT"]

    first = start_emulator([*args, "--faults", "429:copy:nth=1"], tmp_path / "first.log")
    try:
        api = SqlApi(first.base_url, lambda: jwt_credentials(trusted_key))
        api.sql("CREATE DATABASE SAGE")
        api.sql("CREATE SCHEMA SAGE.RAW")
        sage = api.scoped("SAGE", "RAW")
        sage.sql(render("parquet_file_format.sql", **names))
        sage.sql(render("external_stage.sql", **names, stage_url=stage_dir.as_uri() + "/", storage_integration="INT"))
        sage.sql(render("vendor_tables.sql", **names), parameters={"MULTI_STATEMENT_COUNT": "0"})
        assert sage.submit(copy_sql).status == 429  # the launch-time fault
        loaded = sage.sql(copy_sql)
        assert [row[3] for row in loaded.data] == ["3", "3"]
    finally:
        assert first.stop() == 0, first.log_tail()
    assert (db_dir / "SAGE.db").is_file()

    second = start_emulator(args, tmp_path / "second.log")
    try:
        sage = SqlApi(second.base_url, lambda: jwt_credentials(trusted_key), "SAGE", "RAW")
        assert sage.scalar("SELECT COUNT(*) FROM VENDOR_STG") == "6"
        assert sage.sql("SELECT ZIP FROM VENDOR_STG WHERE RECORDNO = 1").data == [["00640"]]
        # Stage, file format and load metadata came back too: the same COPY loads nothing.
        assert sage.sql(copy_sql).data == ZERO_FILES
        history = sage.sql("SELECT COUNT(*) FROM INFORMATION_SCHEMA.LOAD_HISTORY WHERE TABLE_NAME = 'VENDOR_STG'")
        assert history.data == [["2"]]
        # Fully qualified names work without naming the database in the request.
        unscoped = SqlApi(second.base_url, lambda: jwt_credentials(trusted_key))
        assert unscoped.scalar("SELECT COUNT(*) FROM SAGE.RAW.VENDOR") == "0"
    finally:
        assert second.stop() == 0, second.log_tail()
