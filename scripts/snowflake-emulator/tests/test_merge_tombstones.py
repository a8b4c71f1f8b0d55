"""MERGE of the delete feed's tombstones (rows with _DELETED = TRUE, WHENMODIFIED = the delete
time, NULL elsewhere) through sql/merge_from_staging.sql: a tombstone marks the target row
deleted without nulling its columns, never undoes a newer change, wins at an equal instant, is
inserted for a key the target lacks, and a replay of the batch changes nothing."""

from __future__ import annotations

from conftest import VendorSetup
from vendor_parts import utc, write_part

T1, T2, T4, T5, T6 = (utc(2024, 1, d, 12, 0, 0) for d in (1, 2, 4, 5, 6))


def epoch(t) -> str:
    """How the SQL API writes a TIMESTAMP_TZ in UTC."""
    return f"{int(t.timestamp())}.000000000 1440"


def test_tombstones_mark_rows_deleted_and_keep_their_columns(vendor: VendorSetup) -> None:
    api = vendor.api
    api.sql(
        "INSERT INTO VENDOR (RECORDNO, VENDORID, NAME, ZIP, TOTALDUE, WHENMODIFIED, _BATCH_ID, _DELETED) VALUES "
        f"(1, 'V001', 'Acme', '00640', 12.50, '{T1.isoformat()}', 'b1', FALSE), "
        f"(2, 'V002', 'Bolt', '10001', 1.00, '{T4.isoformat()}', 'b1', FALSE), "
        f"(5, 'V005', 'Echo', '02134', 7.00, '{T4.isoformat()}', 'b1', FALSE)"
    )
    tombstone = lambda when, key: (when, key, None, None, None, None, True)  # noqa: E731
    rows = [
        tombstone(T5, 1),  # newer than the target row: marked deleted
        tombstone(T2, 2),  # older than the target row (changed after the delete): untouched
        tombstone(T4, 5),  # same instant as the target's last change: the delete wins
        tombstone(T5, 9),  # unknown key: inserted as a tombstone
        (T6, 6, "Foxtrot", "V006", "00001", None, False),  # live and deleted at one instant:
        tombstone(T6, 6),  # QUALIFY keeps the tombstone
    ]
    write_part(vendor.stage_dir / "vendor" / "b2" / "part-00001.parquet", rows, "b2")
    api.sql(vendor.copy_sql(["b2/part-00001.parquet"]))

    merged = api.sql(vendor.merge_sql("b2"))

    assert merged.data == [["2", "2"]]
    target = api.sql(
        "SELECT RECORDNO, VENDORID, NAME, ZIP, TOTALDUE, WHENMODIFIED, _BATCH_ID, _DELETED "
        "FROM VENDOR ORDER BY RECORDNO"
    ).data
    assert target == [
        ["1", "V001", "Acme", "00640", "12.50", epoch(T5), "b2", "true"],
        ["2", "V002", "Bolt", "10001", "1.00", epoch(T4), "b1", "false"],
        ["5", "V005", "Echo", "02134", "7.00", epoch(T4), "b2", "true"],
        ["6", None, None, None, None, epoch(T6), "b2", "true"],
        ["9", None, None, None, None, epoch(T5), "b2", "true"],
    ]

    replayed = api.sql(vendor.merge_sql("b2"))
    assert replayed.data == [["0", "0"]]
