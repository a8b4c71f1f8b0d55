"""A file format that exists without the options the loader needs: CREATE FILE FORMAT IF NOT
EXISTS keeps it as it is, DESC FILE FORMAT shows it in Snowflake's columns, ALTER FILE FORMAT ...
SET changes it, and COPY reads Parquet by the format's real options: without USE_LOGICAL_TYPE =
TRUE a TIMESTAMP column is its raw integer, which a NUMBER column takes and a TIMESTAMP_TZ column
refuses."""

from __future__ import annotations

from conftest import VendorSetup
from vendor_parts import write_batch

DESCRIBE_COLUMNS = ["property", "property_type", "property_value", "property_default"]
FIRST_WHENMODIFIED_MICROS = 1704103200000000  # 2024-01-01 10:00:00 UTC, PART_0's first row


def copy_with(vendor: VendorSetup, table: str, file_format: str, files: list[str]) -> str:
    listed = ", ".join(f"'{name}'" for name in files)
    return (
        f"COPY INTO {table} FROM @SAGE_STAGE/vendor/ FILES = ({listed}) "
        f"FILE_FORMAT = (FORMAT_NAME = '{vendor.names['database']}.RAW.{file_format}') "
        "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE"
    )


def described(vendor: VendorSetup, name: str) -> dict[str, tuple[str | None, ...]]:
    answer = vendor.api.sql(f"DESC FILE FORMAT {name}")
    assert answer.column_names() == DESCRIBE_COLUMNS
    assert answer.column_types() == ["text"] * 4
    return {row[0]: tuple(row[1:]) for row in answer.data}


def test_if_not_exists_keeps_the_existing_format_and_desc_shows_it(vendor: VendorSetup) -> None:
    api = vendor.api
    api.sql("CREATE FILE FORMAT BARE_PARQUET TYPE = PARQUET")
    again = api.sql("CREATE FILE FORMAT IF NOT EXISTS BARE_PARQUET TYPE = PARQUET USE_LOGICAL_TYPE = TRUE BINARY_AS_TEXT = FALSE")
    assert again.data == [["BARE_PARQUET already exists, statement succeeded."]]

    properties = described(vendor, "BARE_PARQUET")
    assert properties["TYPE"] == ("String", "PARQUET", "CSV")
    assert properties["USE_LOGICAL_TYPE"] == ("Boolean", "FALSE", "FALSE")
    assert properties["BINARY_AS_TEXT"] == ("Boolean", "TRUE", "TRUE")
    assert properties["NULL_IF"] == ("List", "[\\\\N]", "[\\\\N]")
    assert list(properties) == [
        "TYPE", "COMPRESSION", "SNAPPY_COMPRESSION", "BINARY_AS_TEXT", "USE_LOGICAL_TYPE", "TRIM_SPACE",
        "USE_VECTORIZED_SCANNER", "REPLACE_INVALID_CHARACTERS", "NULL_IF",
    ]
    # The loader's own format, created with every option it needs.
    loader = described(vendor, f'"{vendor.names["database"]}"."RAW"."PARQUET_FMT"')
    assert loader["USE_LOGICAL_TYPE"][1] == "TRUE" and loader["BINARY_AS_TEXT"][1] == "FALSE"


def test_without_use_logical_type_timestamps_are_raw_integers(vendor: VendorSetup) -> None:
    api = vendor.api
    files = write_batch(vendor.stage_dir, "b1")
    api.sql("CREATE FILE FORMAT BARE_PARQUET TYPE = PARQUET")

    # A TIMESTAMP_TZ column refuses the raw integer; nothing loads and nothing is recorded.
    refused = api.wait(api.submit(copy_with(vendor, "VENDOR_STG", "BARE_PARQUET", files)))
    assert refused.status == 422
    assert (refused.body["code"], refused.body["sqlState"]) == ("100035", "22007")
    assert refused.body["message"].startswith(f"Timestamp '{FIRST_WHENMODIFIED_MICROS}' is not recognized\n")
    assert "/vendor/b1/part-00000.parquet'" in refused.body["message"]
    assert '"VENDOR_STG"["WHENMODIFIED":6]' in refused.body["message"]
    assert vendor.count("VENDOR_STG") == 0

    # A NUMBER column takes it: the microseconds since the epoch, as Snowflake loads them.
    api.sql("CREATE TABLE RAW_TIMES (RECORDNO NUMBER(38,0), WHENMODIFIED NUMBER(38,0), NAME VARCHAR)")
    api.sql(copy_with(vendor, "RAW_TIMES", "BARE_PARQUET", files[:1]))
    assert api.sql("SELECT WHENMODIFIED FROM RAW_TIMES WHERE RECORDNO = 1").data == [[str(FIRST_WHENMODIFIED_MICROS)]]

    # ALTER ... SET gives the format the option; the same files now load as instants.
    assert api.sql("ALTER FILE FORMAT BARE_PARQUET SET USE_LOGICAL_TYPE = TRUE").data == [["Statement executed successfully."]]
    assert described(vendor, "BARE_PARQUET")["USE_LOGICAL_TYPE"][1] == "TRUE"
    loaded = api.sql(copy_with(vendor, "VENDOR_STG", "BARE_PARQUET", files))
    assert [row[1:4] for row in loaded.data] == [["LOADED", "3", "3"], ["LOADED", "3", "3"]]
    assert api.sql("SELECT WHENMODIFIED FROM VENDOR_STG WHERE RECORDNO = 1").data == [["1704103200.000000000 1440"]]


def test_inline_options_override_the_named_format(vendor: VendorSetup) -> None:
    files = write_batch(vendor.stage_dir, "b1")
    vendor.api.sql("CREATE FILE FORMAT BARE_PARQUET TYPE = PARQUET")
    inline = copy_with(vendor, "VENDOR_STG", "BARE_PARQUET", files).replace(
        "RAW.BARE_PARQUET')", "RAW.BARE_PARQUET' USE_LOGICAL_TYPE = TRUE)"
    )
    assert [row[3] for row in vendor.api.sql(inline).data] == ["3", "3"]


def test_alter_of_a_missing_format_fails_unless_if_exists(vendor: VendorSetup) -> None:
    missing = vendor.api.wait(vendor.api.submit("ALTER FILE FORMAT NO_SUCH_FORMAT SET USE_LOGICAL_TYPE = TRUE"))
    assert missing.status == 422
    assert (missing.body["code"], missing.body["message"]) == (
        "002003",
        "SQL compilation error:\nFile format 'NO_SUCH_FORMAT' does not exist or not authorized.",
    )
    tolerated = vendor.api.sql("ALTER FILE FORMAT IF EXISTS NO_SUCH_FORMAT SET USE_LOGICAL_TYPE = TRUE")
    assert tolerated.data == [["Statement executed successfully."]]
