"""The loader's sequence over HTTP with a real RS256 JWT: DDL from sql/, COPY of Parquet parts
from a file:// external stage, the repeated COPY, MERGE with QUALIFY dedup, DELETE of the batch."""

from __future__ import annotations

from conftest import VendorSetup
from vendor_parts import write_batch, write_part, PART_0

ZERO_FILES = [["Copy executed with 0 files processed."]]
COPY_COLUMNS = [
    "file", "status", "rows_parsed", "rows_loaded", "error_limit", "errors_seen",
    "first_error", "first_error_line", "first_error_character", "first_error_column_name",
]


def test_ddl_from_sql_templates_creates_typed_tables_stage_and_format(vendor: VendorSetup) -> None:
    columns = vendor.api.sql(
        "SELECT COLUMN_NAME, DATA_TYPE FROM INFORMATION_SCHEMA.COLUMNS "
        "WHERE TABLE_NAME = 'VENDOR_STG' ORDER BY ORDINAL_POSITION"
    ).data
    assert [name for name, _ in columns] == [
        "RECORDNO", "VENDORID", "NAME", "ZIP", "TOTALDUE", "WHENMODIFIED", "_BATCH_ID", "_EXTRACTED_AT", "_DELETED",
    ]
    assert dict(columns)["TOTALDUE"] == "NUMBER"
    assert dict(columns)["WHENMODIFIED"] == "TIMESTAMP_TZ"
    stages = vendor.api.sql(f"SHOW STAGES IN SCHEMA {vendor.names['database']}.RAW")
    row = dict(zip(stages.column_names(), stages.data[0], strict=True))
    assert row["name"] == "SAGE_STAGE"
    assert row["url"] == vendor.stage_dir.as_uri() + "/"
    assert row["type"] == "EXTERNAL"
    # The templates are idempotent: running them again changes nothing.
    again = vendor.api.sql(
        f"CREATE FILE FORMAT IF NOT EXISTS {vendor.names['database']}.RAW.PARQUET_FMT TYPE = PARQUET"
    )
    assert again.data == [["PARQUET_FMT already exists, statement succeeded."]]


def test_copy_loads_listed_parquet_parts_by_column_name(vendor: VendorSetup) -> None:
    files = write_batch(vendor.stage_dir, "b1")

    copied = vendor.api.sql(vendor.copy_sql(files))

    assert copied.column_names() == COPY_COLUMNS
    assert copied.column_types()[:4] == ["text", "text", "fixed", "fixed"]
    assert copied.data == [
        [f"{vendor.stage_dir.as_uri()}/vendor/b1/part-00000.parquet", "LOADED", "3", "3", "1", "0", None, None, None, None],
        [f"{vendor.stage_dir.as_uri()}/vendor/b1/part-00001.parquet", "LOADED", "3", "3", "1", "0", None, None, None, None],
    ]
    assert "stats" not in copied.body  # COPY is read from its rows_loaded column, not stats
    assert vendor.count("VENDOR_STG") == 6

    rows = vendor.api.sql(
        "SELECT RECORDNO, VENDORID, NAME, ZIP, TOTALDUE, WHENMODIFIED, _BATCH_ID, _EXTRACTED_AT, _DELETED "
        "FROM VENDOR_STG ORDER BY RECORDNO, WHENMODIFIED LIMIT 3"
    )
    assert rows.column_types() == [
        "fixed", "text", "text", "text", "fixed", "timestamp_tz", "text", "timestamp_tz", "boolean",
    ]
    assert rows.data == [
        ["1", "V001", "Acme", "00640", "1234.50", "1704103200.000000000 1440", "b1", "1704441600.000000000 1440", "false"],
        ["2", "V002", "Bolt & Co", "10001", "0.07", "1704195015.123456000 1440", "b1", "1704441600.000000000 1440", "false"],
        ["2", "V002", "Bolt & Co (renamed)", "10001", "10.00", "1704358800.000000000 1440", "b1", "1704441600.000000000 1440", "false"],
    ]
    totaldue = rows.body["resultSetMetaData"]["rowType"][4]
    assert (totaldue["precision"], totaldue["scale"]) == (38, 2)
    unicode_row = vendor.api.sql("SELECT NAME, ZIP, TOTALDUE, _DELETED FROM VENDOR_STG WHERE RECORDNO = 3 AND _DELETED")
    assert unicode_row.data == [["Ção Ltd", None, None, "true"]]


def test_repeated_copy_answers_zero_files_processed_and_loads_nothing(vendor: VendorSetup) -> None:
    files = write_batch(vendor.stage_dir, "b1")
    vendor.api.sql(vendor.copy_sql(files))

    repeated = vendor.api.sql(vendor.copy_sql(files))

    assert repeated.data == ZERO_FILES
    assert repeated.column_names() == ["status"]
    assert repeated.column_types() == ["text"]
    assert repeated.body["resultSetMetaData"]["numRows"] == 1
    assert vendor.count("VENDOR_STG") == 6

    # A new part next to loaded ones: only the new file is processed and listed.
    write_part(vendor.stage_dir / "vendor" / "b1" / "part-00002.parquet", PART_0[:1], "b1")
    partial = vendor.api.sql(vendor.copy_sql([*files, "b1/part-00002.parquet"]))
    assert [row[:4] for row in partial.data] == [
        [f"{vendor.stage_dir.as_uri()}/vendor/b1/part-00002.parquet", "LOADED", "1", "1"],
    ]

    # The same files named through a prefix are the same files: still nothing to load.
    by_prefix = vendor.api.sql(
        "COPY INTO VENDOR_STG FROM @SAGE_STAGE/vendor/ "
        "FILE_FORMAT = (TYPE = PARQUET USE_LOGICAL_TYPE = TRUE) MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE"
    )
    assert by_prefix.data == ZERO_FILES
    assert vendor.count("VENDOR_STG") == 7


def test_copy_inline_format_with_files_from_the_stage_root(vendor: VendorSetup) -> None:
    write_batch(vendor.stage_dir, "b7")
    copied = vendor.api.sql(
        "COPY INTO VENDOR_STG FROM @SAGE_STAGE FILES=('vendor/b7/part-00001.parquet') "
        "FILE_FORMAT=(TYPE=PARQUET USE_LOGICAL_TYPE=TRUE) MATCH_BY_COLUMN_NAME=CASE_INSENSITIVE"
    )
    assert [row[1:4] for row in copied.data] == [["LOADED", "3", "3"]]


def test_copy_prefix_is_recursive_and_pattern_filters(vendor: VendorSetup) -> None:
    write_batch(vendor.stage_dir, "b2")
    write_batch(vendor.stage_dir, "b3")
    fmt = "FILE_FORMAT = (FORMAT_NAME = 'PARQUET_FMT') MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE"

    patterned = vendor.api.sql(f"COPY INTO VENDOR_STG FROM @SAGE_STAGE PATTERN = '.*b3/part-00000[.]parquet' {fmt}")
    assert [row[0].rsplit("/", 2)[-2:] for row in patterned.data] == [["b3", "part-00000.parquet"]]

    # Snowflake matches the path after the stage as a prefix, through subdirectories.
    prefixed = vendor.api.sql(f"COPY INTO VENDOR_STG FROM @SAGE_STAGE/vendor/ {fmt}")
    assert sorted(row[0].split("/vendor/")[1] for row in prefixed.data) == [
        "b2/part-00000.parquet", "b2/part-00001.parquet", "b3/part-00001.parquet",
    ]
    assert vendor.count("VENDOR_STG") == 12

    nothing = vendor.api.sql(f"COPY INTO VENDOR_STG FROM @SAGE_STAGE/nothing-here/ {fmt}")
    assert nothing.data == ZERO_FILES


def test_copy_of_a_missing_listed_file_fails_and_loads_nothing(vendor: VendorSetup) -> None:
    write_batch(vendor.stage_dir, "b1")
    failed = vendor.api.wait(vendor.api.submit(vendor.copy_sql(["b1/part-00000.parquet", "b1/missing.parquet"])))
    assert failed.status == 422
    assert failed.body["code"] == "091016"
    assert "missing.parquet' was not found" in failed.body["message"]
    assert vendor.count("VENDOR_STG") == 0


def test_merge_dedups_with_qualify_and_reports_counts(vendor: VendorSetup) -> None:
    api = vendor.api
    api.sql(
        "INSERT INTO VENDOR (RECORDNO, VENDORID, NAME, WHENMODIFIED) VALUES "
        "(1, 'V001', 'Acme (newer in target)', '2024-02-01 00:00:00+00:00'), "
        "(3, 'V003', 'old three', '2023-12-01 00:00:00+00:00')"
    )
    vendor.api.sql(vendor.copy_sql(write_batch(vendor.stage_dir, "b1")))

    merged = api.sql(vendor.merge_sql("b1"))

    # Source after QUALIFY: 1 (older than target: untouched), 2 (newest of two: insert),
    # 3 (newest of two, newer than target, a tombstone: marked deleted, columns kept), 4 (insert).
    assert merged.column_names() == ["number of rows inserted", "number of rows updated"]
    assert merged.data == [["2", "1"]]
    assert merged.body["stats"] == {"numRowsInserted": 2, "numRowsUpdated": 1, "numRowsDeleted": 0, "numDmlDuplicates": 0}
    target = api.sql("SELECT RECORDNO, NAME, ZIP, TOTALDUE, _DELETED FROM VENDOR ORDER BY RECORDNO").data
    assert target == [
        ["1", "Acme (newer in target)", None, None, None],
        ["2", "Bolt & Co (renamed)", "10001", "10.00", "false"],
        ["3", "old three", None, None, "true"],
        ["4", "Delta", "02134", "-3.25", "false"],
    ]

    replayed = api.sql(vendor.merge_sql("b1"))
    assert replayed.data == [["0", "0"]]
    assert replayed.body["stats"]["numRowsInserted"] == 0 and replayed.body["stats"]["numRowsUpdated"] == 0

    deleted = api.sql(vendor.delete_sql("b1"))
    assert deleted.data == [["6"]]
    assert deleted.body["stats"] == {"numRowsInserted": 0, "numRowsUpdated": 0, "numRowsDeleted": 6, "numDmlDuplicates": 0}
    assert vendor.count("VENDOR_STG") == 0
    # DELETE keeps the load metadata: the batch's files are still not loaded twice.
    assert api.sql(vendor.copy_sql(["b1/part-00000.parquet", "b1/part-00001.parquet"])).data == ZERO_FILES
    history = api.sql(
        "SELECT FILE_NAME, STATUS, ROW_COUNT FROM INFORMATION_SCHEMA.LOAD_HISTORY "
        "WHERE TABLE_NAME = 'VENDOR_STG' ORDER BY FILE_NAME"
    ).data
    assert [row[1:] for row in history] == [["LOADED", "3"], ["LOADED", "3"]]
