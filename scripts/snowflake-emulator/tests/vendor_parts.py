"""Parquet parts of the VENDOR example, written with pyarrow the way the extractor writes them:
lower-case column names in another order than the table, an extra column the table lacks,
money as DECIMAL(38,2), instants as TIMESTAMP(MICROS, UTC), a ZIP code with a leading zero."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

SCHEMA = pa.schema(
    [
        ("whenmodified", pa.timestamp("us", tz="UTC")),
        ("recordno", pa.int64()),
        ("name", pa.string()),
        ("vendorid", pa.string()),
        ("zip", pa.string()),
        ("totaldue", pa.decimal128(38, 2)),
        ("_batch_id", pa.string()),
        ("_extracted_at", pa.timestamp("us", tz="UTC")),
        ("_deleted", pa.bool_()),
        ("extra_col", pa.string()),
    ]
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


EXTRACTED_AT = utc(2024, 1, 5, 8, 0, 0)

# recordno -> rows across the two parts of batch b1; 2 and 3 appear twice (dedup by WHENMODIFIED).
PART_0 = [
    (utc(2024, 1, 1, 10, 0, 0), 1, "Acme", "V001", "00640", Decimal("1234.50"), False),
    (utc(2024, 1, 2, 11, 30, 15, 123456), 2, "Bolt & Co", "V002", "10001", Decimal("0.07"), False),
    (utc(2024, 1, 3, 0, 0, 0), 3, "Ção Ltd", "V003", None, None, True),
]
PART_1 = [
    (utc(2024, 1, 4, 9, 0, 0), 2, "Bolt & Co (renamed)", "V002", "10001", Decimal("10.00"), False),
    (utc(2023, 12, 30, 0, 0, 0), 3, "Ção Ltd (stale)", "V003", "99999", Decimal("5.00"), False),
    (utc(2024, 1, 4, 12, 0, 0), 4, "Delta", "V004", "02134", Decimal("-3.25"), False),
]


def write_part(path: Path, rows: list[tuple], batch_id: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(zip(*rows, strict=True))
    table = pa.table(
        {
            "whenmodified": pa.array(columns[0], SCHEMA.field("whenmodified").type),
            "recordno": pa.array(columns[1], pa.int64()),
            "name": pa.array(columns[2], pa.string()),
            "vendorid": pa.array(columns[3], pa.string()),
            "zip": pa.array(columns[4], pa.string()),
            "totaldue": pa.array(columns[5], pa.decimal128(38, 2)),
            "_batch_id": pa.array([batch_id] * len(rows), pa.string()),
            "_extracted_at": pa.array([EXTRACTED_AT] * len(rows), SCHEMA.field("_extracted_at").type),
            "_deleted": pa.array(columns[6], pa.bool_()),
            "extra_col": pa.array(["ignored"] * len(rows), pa.string()),
        },
        schema=SCHEMA,
    )
    pq.write_table(table, path)
    return path


def write_batch(stage_dir: Path, batch_id: str) -> list[str]:
    """Both parts of a batch under <stage>/vendor/<batch_id>/; returns paths relative to vendor/."""
    write_part(stage_dir / "vendor" / batch_id / "part-00000.parquet", PART_0, batch_id)
    write_part(stage_dir / "vendor" / batch_id / "part-00001.parquet", PART_1, batch_id)
    return [f"{batch_id}/part-00000.parquet", f"{batch_id}/part-00001.parquet"]
