"""Snowflake's 64-day rule on an emulator of its own whose clock the tests move forward: load
metadata expires after 64 days; a file whose load status is then uncertain is skipped by COPY
unless LOAD_UNCERTAIN_FILES = TRUE (or FORCE = TRUE); a file younger than 64 days, or any file of
a table whose initial load is recent, loads normally."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import VendorSetup, client_of, extra_emulator, fresh_database, vendor_setup
from key_pairs import KeyPair
from sqlapi_client import SqlApi
from vendor_parts import PART_0, write_batch, write_part

ZERO_FILES = [["Copy executed with 0 files processed."]]


@pytest.fixture(scope="module")
def aging_api(tmp_path_factory: pytest.TempPathFactory, trusted_key: KeyPair) -> Iterator[SqlApi]:
    with extra_emulator(tmp_path_factory, trusted_key, []) as running:
        yield client_of(running, trusted_key)


@pytest.fixture
def aged(aging_api: SqlApi, tmp_path: Path) -> VendorSetup:
    return vendor_setup(fresh_database(aging_api), tmp_path / "stage")


def with_option(sql: str, option: str) -> str:
    return sql.rstrip().rstrip(";") + f" {option};"


def test_the_clock_reports_and_moves_only_forward(aging_api: SqlApi) -> None:
    before = aging_api.clock()
    assert set(before) == {"now", "now_epoch_secs", "offset_secs"}
    after = aging_api.advance_clock(days=1, secs=30)
    assert after["offset_secs"] == pytest.approx(before["offset_secs"] + 86_430)
    assert after["now_epoch_secs"] >= before["now_epoch_secs"] + 86_430
    backwards = aging_api.request("POST", "/__emulator/clock", {"advance_secs": -5}, auth=False)
    assert backwards.status == 400
    assert aging_api.clock()["offset_secs"] == pytest.approx(after["offset_secs"])


def test_a_loaded_file_aged_past_64_days_is_uncertain_and_skipped(aged: VendorSetup) -> None:
    api = aged.api
    files = write_batch(aged.stage_dir, "b1")
    copy = aged.copy_sql(files)
    api.sql(copy)
    assert aged.count("VENDOR_STG") == 6

    api.advance_clock(days=63)
    # Metadata 63 days old is live: loaded, so skipped, and LOAD_UNCERTAIN_FILES changes nothing.
    assert api.sql(copy).data == ZERO_FILES
    assert api.sql(with_option(copy, "LOAD_UNCERTAIN_FILES = TRUE")).data == ZERO_FILES

    api.advance_clock(days=2)
    # 65 days: the metadata expired, the files are 65 days old and so is the table's initial
    # load. The load status is uncertain: COPY skips the files without a word.
    assert api.sql(copy).data == ZERO_FILES
    assert api.sql(with_option(copy, "LOAD_UNCERTAIN_FILES = FALSE")).data == ZERO_FILES
    assert aged.count("VENDOR_STG") == 6

    reloaded = api.sql(with_option(copy, "LOAD_UNCERTAIN_FILES = TRUE"))
    assert [row[1:4] for row in reloaded.data] == [["LOADED", "3", "3"], ["LOADED", "3", "3"]]
    # Snowflake's documented risk: the uncertain files load twice.
    assert aged.count("VENDOR_STG") == 12
    # That load wrote fresh metadata: the next COPY skips them as loaded.
    assert api.sql(with_option(copy, "LOAD_UNCERTAIN_FILES = TRUE")).data == ZERO_FILES


def test_an_old_file_never_loaded_is_skipped_once_the_initial_load_is_old(aged: VendorSetup) -> None:
    api = aged.api
    api.sql(aged.copy_sql(write_batch(aged.stage_dir, "b1")))  # the table's initial load
    write_part(aged.stage_dir / "vendor" / "b2" / "part-00000.parquet", PART_0, "b2")
    late = aged.copy_sql(["b2/part-00000.parquet"])

    api.advance_clock(days=65)

    assert api.sql(late).data == ZERO_FILES
    assert aged.count("VENDOR_STG") == 6
    assert [row[3] for row in api.sql(with_option(late, "LOAD_UNCERTAIN_FILES = TRUE")).data] == ["3"]
    assert aged.count("VENDOR_STG") == 9


def test_a_recent_file_or_a_recent_initial_load_keeps_the_status_known(aged: VendorSetup) -> None:
    api = aged.api
    old_files = write_batch(aged.stage_dir, "b1")
    api.advance_clock(days=70)

    # A table whose first load is now: that load is its initial set, so its old files load.
    first = api.sql(aged.copy_sql(old_files))
    assert [row[3] for row in first.data] == ["3", "3"]

    # A file written now (LAST_MODIFIED within 64 days) loads whatever the table's history.
    write_part(aged.stage_dir / "vendor" / "b3" / "part-00000.parquet", PART_0, "b3")
    api.advance_clock(days=65)
    assert aged.count("VENDOR_STG") == 6
    write_part(aged.stage_dir / "vendor" / "b4" / "part-00000.parquet", PART_0, "b4")
    fresh = api.sql(aged.copy_sql(["b4/part-00000.parquet"]))
    assert [row[3] for row in fresh.data] == ["3"]
    # b3 was written before the clock moved 65 days: old, never loaded, initial load old.
    assert api.sql(aged.copy_sql(["b3/part-00000.parquet"])).data == ZERO_FILES


def test_force_loads_uncertain_files_and_a_new_table_forgets_the_initial_load(aged: VendorSetup) -> None:
    api = aged.api
    files = write_batch(aged.stage_dir, "b1")
    copy = aged.copy_sql(files)
    api.sql(copy)
    api.advance_clock(days=65)

    assert [row[1] for row in api.sql(with_option(copy, "FORCE = TRUE")).data] == ["LOADED", "LOADED"]
    assert aged.count("VENDOR_STG") == 12

    # A table created again under the name starts a new history: its first COPY is its initial load.
    api.sql(
        f"CREATE OR REPLACE TRANSIENT TABLE {aged.names['database']}.RAW.VENDOR_STG "
        "(RECORDNO NUMBER(38,0), VENDORID VARCHAR, NAME VARCHAR, ZIP VARCHAR, TOTALDUE NUMBER(38,2), "
        "WHENMODIFIED TIMESTAMP_TZ, _BATCH_ID VARCHAR, _EXTRACTED_AT TIMESTAMP_TZ, _DELETED BOOLEAN)"
    )
    assert [row[3] for row in api.sql(copy).data] == ["3", "3"]
