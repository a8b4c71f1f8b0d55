"""COPY load metadata as Snowflake keeps it: per table and file content. CREATE ... IF NOT EXISTS
leaves an existing table (rows and load history) alone; FORCE = FALSE is no force; TRUNCATE
erases the metadata, DELETE does not; a file rewritten with other content loads again."""

from __future__ import annotations

from conftest import VendorSetup
from sql_templates import render
from vendor_parts import PART_0, PART_1, write_batch, write_part

ZERO_FILES = [["Copy executed with 0 files processed."]]


def loaded_files(copied_data: list[list[str | None]]) -> list[tuple[str, str | None, str | None]]:
    return [(row[0].rsplit("/vendor/", 1)[1], row[1], row[3]) for row in copied_data]


def test_create_table_if_not_exists_keeps_the_table_and_its_load_history(vendor: VendorSetup) -> None:
    api, names = vendor.api, vendor.names
    files = write_batch(vendor.stage_dir, "b1")
    api.sql(vendor.copy_sql(files))

    again = api.sql(render("vendor_tables.sql", **names), parameters={"MULTI_STATEMENT_COUNT": "2"})
    assert again.body["statementHandles"] and len(again.body["statementHandles"]) == 2
    children = [api.status(handle).data for handle in again.body["statementHandles"]]
    assert children == [[["VENDOR already exists, statement succeeded."]], [["VENDOR_STG already exists, statement succeeded."]]]
    single = api.sql(f"CREATE TRANSIENT TABLE IF NOT EXISTS {names['database']}.RAW.VENDOR_STG (RECORDNO NUMBER)")
    assert single.column_names() == ["status"]
    assert single.data == [["VENDOR_STG already exists, statement succeeded."]]

    assert vendor.count("VENDOR_STG") == 6
    assert api.sql(vendor.copy_sql(files)).data == ZERO_FILES
    assert vendor.count("VENDOR_STG") == 6


def test_force_false_skips_loaded_files_and_force_true_reloads(vendor: VendorSetup) -> None:
    files = write_batch(vendor.stage_dir, "b1")
    vendor.api.sql(vendor.copy_sql(files))
    copy = vendor.copy_sql(files).rstrip().rstrip(";")

    assert vendor.api.sql(copy + " FORCE = FALSE").data == ZERO_FILES
    assert vendor.count("VENDOR_STG") == 6

    forced = vendor.api.sql(copy + " FORCE = TRUE")
    assert loaded_files(forced.data) == [("b1/part-00000.parquet", "LOADED", "3"), ("b1/part-00001.parquet", "LOADED", "3")]
    assert vendor.count("VENDOR_STG") == 12


def test_truncate_erases_load_metadata_and_delete_keeps_it(vendor: VendorSetup) -> None:
    files = write_batch(vendor.stage_dir, "b1")
    vendor.api.sql(vendor.copy_sql(files))

    vendor.api.sql("DELETE FROM VENDOR_STG")
    assert vendor.api.sql(vendor.copy_sql(files)).data == ZERO_FILES
    assert vendor.count("VENDOR_STG") == 0

    vendor.api.sql("TRUNCATE TABLE VENDOR_STG")
    reloaded = vendor.api.sql(vendor.copy_sql(files))
    assert loaded_files(reloaded.data) == [("b1/part-00000.parquet", "LOADED", "3"), ("b1/part-00001.parquet", "LOADED", "3")]
    assert vendor.count("VENDOR_STG") == 6


def test_a_file_rewritten_with_new_content_loads_again(vendor: VendorSetup) -> None:
    files = write_batch(vendor.stage_dir, "b1")
    vendor.api.sql(vendor.copy_sql(files))

    # Same path, other rows: another size and checksum.
    write_part(vendor.stage_dir / "vendor" / "b1" / "part-00001.parquet", PART_1[:1], "b1")
    copied = vendor.api.sql(vendor.copy_sql(files))

    assert loaded_files(copied.data) == [("b1/part-00001.parquet", "LOADED", "1")]
    assert vendor.count("VENDOR_STG") == 7
    # Rewriting identical content is the same file: still skipped.
    write_part(vendor.stage_dir / "vendor" / "b1" / "part-00000.parquet", PART_0, "b1")
    assert vendor.api.sql(vendor.copy_sql(files)).data == ZERO_FILES
