"""The emulator's COPY layer runs for every way of naming a named stage: quoted (what the loader
sends), unquoted, qualified or not, with a path, with FILES, with PATTERN. Each form keeps
content-signature load metadata (a rewritten file loads again, an identical one does not), names
files by their stage URL, and fails on a FILES entry that is not there."""

from __future__ import annotations

import pytest
from conftest import VendorSetup
from vendor_parts import PART_1, write_batch, write_part

ZERO_FILES = [["Copy executed with 0 files processed."]]
FORMAT = "FILE_FORMAT = (FORMAT_NAME = 'PARQUET_FMT') MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE"

# (label, FROM clause and file selection): {db} is the test's database.
FORMS = [
    ("quoted, qualified, FILES", '@"{db}"."RAW"."SAGE_STAGE"/vendor/ FILES = (\'b1/part-00000.parquet\', \'b1/part-00001.parquet\')'),
    ("unquoted lower case, qualified, FILES", "@{db_lower}.raw.sage_stage/vendor/ FILES = ('b1/part-00000.parquet', 'b1/part-00001.parquet')"),
    ("schema-qualified, FILES", "@RAW.SAGE_STAGE/vendor/b1/ FILES = ('part-00000.parquet', 'part-00001.parquet')"),
    ("bare name, FILES from the stage root", "@SAGE_STAGE FILES = ('vendor/b1/part-00000.parquet', 'vendor/b1/part-00001.parquet')"),
    ("quoted, path prefix", '@"{db}"."RAW"."SAGE_STAGE"/vendor/b1/'),
    ("quoted, PATTERN", '@"{db}"."RAW"."SAGE_STAGE" PATTERN = \'.*vendor/b1/part-0000[01][.]parquet\''),
]


def copy_sql(vendor: VendorSetup, source: str) -> str:
    db = vendor.names["database"]
    return f"COPY INTO VENDOR_STG FROM {source.format(db=db, db_lower=db.lower())} {FORMAT}"


def loaded(data: list[list[str | None]]) -> list[tuple[str, str | None]]:
    return [(row[0].split("/vendor/", 1)[1], row[3]) for row in data]


@pytest.mark.parametrize(("label", "source"), FORMS, ids=[label for label, _ in FORMS])
def test_every_copy_form_keeps_content_load_metadata(vendor: VendorSetup, label: str, source: str) -> None:
    write_batch(vendor.stage_dir, "b1")
    sql = copy_sql(vendor, source)

    first = vendor.api.sql(sql)
    assert loaded(first.data) == [("b1/part-00000.parquet", "3"), ("b1/part-00001.parquet", "3")], label
    # The result names each file by its URL under the stage, whatever the form.
    assert first.data[0][0] == f"{vendor.stage_dir.as_uri()}/vendor/b1/part-00000.parquet"
    assert vendor.api.sql(sql).data == ZERO_FILES, label

    # Same path, other content: a new file for Snowflake's load metadata (fakesnow alone, keyed
    # by URL, would skip it).
    write_part(vendor.stage_dir / "vendor" / "b1" / "part-00001.parquet", PART_1[:1], "b1")
    assert loaded(vendor.api.sql(sql).data) == [("b1/part-00001.parquet", "1")], label
    assert vendor.count("VENDOR_STG") == 7


def test_the_loaders_own_statement_shape(vendor: VendorSetup) -> None:
    """COPY as the loader renders it: every name quoted, FORMAT_NAME as a literal, FORCE = FALSE."""
    write_batch(vendor.stage_dir, "b1")
    db = vendor.names["database"]
    sql = (
        f'COPY INTO "{db}"."RAW"."VENDOR_STG"\n  FROM @"{db}"."RAW"."SAGE_STAGE"/vendor/\n'
        "  FILES = ('b1/part-00000.parquet', 'b1/part-00001.parquet')\n"
        f"  FILE_FORMAT = (FORMAT_NAME = '{db}.RAW.PARQUET_FMT')\n"
        "  MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE\n  ON_ERROR = ABORT_STATEMENT\n  FORCE = FALSE;"
    )
    assert [row[1:4] for row in vendor.api.sql(sql).data] == [["LOADED", "3", "3"], ["LOADED", "3", "3"]]
    assert vendor.api.sql(sql).data == ZERO_FILES

    missing = vendor.api.wait(vendor.api.submit(sql.replace("part-00001", "part-00009")))
    assert missing.status == 422
    assert missing.body["code"] == "091016"
    assert missing.body["message"].startswith(
        f"Remote file '{vendor.stage_dir.as_uri()}/vendor/b1/part-00009.parquet' was not found."
    )
    assert vendor.count("VENDOR_STG") == 6


@pytest.mark.parametrize(
    "source",
    [
        '@"{db}"."RAW"."SAGE_STAGE"/vendor/ FILES = (\'b1/part-00000.parquet\', \'b1/absent.parquet\')',
        "@SAGE_STAGE/vendor/b1/ FILES = ('part-00000.parquet', 'absent.parquet')",
    ],
)
def test_a_named_file_that_is_not_there_fails_every_form_and_loads_nothing(vendor: VendorSetup, source: str) -> None:
    write_batch(vendor.stage_dir, "b1")
    failed = vendor.api.wait(vendor.api.submit(copy_sql(vendor, source)))
    assert failed.status == 422
    assert failed.body["code"] == "091016"
    assert "absent.parquet' was not found" in failed.body["message"]
    assert vendor.count("VENDOR_STG") == 0


def test_a_quoted_mixed_case_stage_name_is_taken_literally(vendor: VendorSetup) -> None:
    db = vendor.names["database"]
    other = vendor.stage_dir.parent / "mixed"
    write_batch(other, "b1")
    vendor.api.sql(
        f"CREATE STAGE \"{db}\".\"RAW\".\"mixed.Case\" URL = '{other.as_uri()}/' STORAGE_INTEGRATION = SAGE_S3_INT"
    )
    copied = vendor.api.sql(f'COPY INTO VENDOR_STG FROM @"{db}"."RAW"."mixed.Case"/vendor/b1/ {FORMAT}')
    assert [row[0] for row in copied.data] == [
        f"{other.as_uri()}/vendor/b1/part-00000.parquet",
        f"{other.as_uri()}/vendor/b1/part-00001.parquet",
    ]
    unknown = vendor.api.wait(vendor.api.submit(f"COPY INTO VENDOR_STG FROM @{db}.RAW.MIXED_CASE {FORMAT}"))
    assert unknown.status == 422
    assert (unknown.body["code"], unknown.body["message"]) == (
        "002003",
        f"SQL compilation error:\nStage '{db}.RAW.MIXED_CASE' does not exist or not authorized.",
    )
