"""Snowflake's nondeterministic-merge rule (ERROR_ON_NONDETERMINISTIC_MERGE = TRUE, the default):
a target row joined by several source rows fails the MERGE with 100090 and changes nothing, unless
the MERGE's own source removes the duplicates, the duplicates only delete, or they only insert."""

from __future__ import annotations

from conftest import VendorSetup
from vendor_parts import write_batch

UPSERT = (
    "MERGE INTO VENDOR t USING (SELECT * FROM VENDOR_STG) s ON t.RECORDNO = s.RECORDNO "
    "WHEN MATCHED THEN UPDATE SET NAME = s.NAME "
    "WHEN NOT MATCHED THEN INSERT (RECORDNO, NAME) VALUES (s.RECORDNO, s.NAME)"
)


def names(vendor: VendorSetup) -> list[list[str | None]]:
    return vendor.api.sql("SELECT RECORDNO, NAME FROM VENDOR ORDER BY RECORDNO").data


def test_a_target_row_joined_twice_fails_with_100090_and_changes_nothing(vendor: VendorSetup) -> None:
    api = vendor.api
    api.sql("INSERT INTO VENDOR (RECORDNO, NAME) VALUES (1, 'original')")
    api.sql("INSERT INTO VENDOR_STG (RECORDNO, NAME) VALUES (1, 'first'), (1, 'second'), (5, 'new')")

    failed = api.wait(api.submit(UPSERT))

    assert failed.status == 422
    assert (failed.body["code"], failed.body["sqlState"], failed.body["message"]) == (
        "100090", "42P18", "Duplicate row detected during DML action",
    )
    # The insert of key 5 is not kept either: the statement is all or nothing.
    assert names(vendor) == [["1", "original"]]


def test_duplicates_the_merge_source_removes_with_qualify_pass(vendor: VendorSetup) -> None:
    api = vendor.api
    # Keys 2 and 3 appear twice in the batch; the target holds both keys already.
    api.sql("INSERT INTO VENDOR (RECORDNO, NAME, WHENMODIFIED) VALUES "
            "(2, 'two', '2023-01-01 00:00:00+00:00'), (3, 'three', '2023-01-01 00:00:00+00:00')")
    api.sql(vendor.copy_sql(write_batch(vendor.stage_dir, "b1")))

    merged = api.sql(vendor.merge_sql("b1"))

    assert merged.data == [["2", "2"]]
    assert names(vendor) == [["1", "Acme"], ["2", "Bolt & Co (renamed)"], ["3", "three"], ["4", "Delta"]]


def test_duplicates_that_only_insert_or_only_delete_pass(vendor: VendorSetup) -> None:
    api = vendor.api
    api.sql("INSERT INTO VENDOR (RECORDNO, NAME) VALUES (1, 'doomed'), (2, 'kept')")
    api.sql("INSERT INTO VENDOR_STG (RECORDNO, NAME) VALUES (1, 'x'), (1, 'y'), (7, 'a'), (7, 'b')")

    merged = api.sql(
        "MERGE INTO VENDOR t USING (SELECT * FROM VENDOR_STG) s ON t.RECORDNO = s.RECORDNO "
        "WHEN MATCHED THEN DELETE "
        "WHEN NOT MATCHED THEN INSERT (RECORDNO, NAME) VALUES (s.RECORDNO, s.NAME)"
    )

    assert merged.column_names() == ["number of rows inserted", "number of rows deleted"]
    assert merged.data == [["2", "2"]]
    assert names(vendor) == [["2", "kept"], ["7", "a"], ["7", "b"]]


def test_one_updating_source_row_beside_rows_no_clause_takes_passes(vendor: VendorSetup) -> None:
    api = vendor.api
    api.sql("INSERT INTO VENDOR (RECORDNO, NAME) VALUES (1, 'original')")
    api.sql("INSERT INTO VENDOR_STG (RECORDNO, NAME, _DELETED) VALUES (1, 'ignored', TRUE), (1, 'taken', FALSE)")

    merged = api.sql(
        "MERGE INTO VENDOR t USING (SELECT * FROM VENDOR_STG) s ON t.RECORDNO = s.RECORDNO "
        "WHEN MATCHED AND NOT s._DELETED THEN UPDATE SET NAME = s.NAME"
    )

    assert merged.data == [["1"]]
    assert names(vendor) == [["1", "taken"]]
    # Two rows both taking the UPDATE clause are the nondeterministic case again.
    api.sql("INSERT INTO VENDOR_STG (RECORDNO, NAME, _DELETED) VALUES (1, 'rival', FALSE)")
    failed = api.wait(api.submit(
        "MERGE INTO VENDOR t USING (SELECT * FROM VENDOR_STG) s ON t.RECORDNO = s.RECORDNO "
        "WHEN MATCHED AND NOT s._DELETED THEN UPDATE SET NAME = s.NAME"
    ))
    assert (failed.status, failed.body["code"]) == (422, "100090")
    assert names(vendor) == [["1", "taken"]]
