#!/usr/bin/env python3
"""Independent reader of staged Parquet files, for tests.

Usage: read_parquet.py FILE [FILE ...]

Prints one JSON document: for each file its Arrow schema (name, type string as pyarrow
spells it, e.g. "decimal128(38, 10)", "timestamp[us, tz=UTC]"), its row count, and every row
with values rendered as text (decimals exactly, timestamps in ISO 8601 with offset, dates ISO,
strings unchanged), so a test can compare them with its own ground truth byte for byte.
"""

import datetime
import decimal
import json
import sys

import pyarrow.parquet as pq


def render(value):
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    return str(value)


def main(paths):
    out = []
    for path in paths:
        table = pq.read_table(path)
        meta = pq.ParquetFile(path).metadata
        compression = sorted(
            {
                meta.row_group(g).column(c).compression
                for g in range(meta.num_row_groups)
                for c in range(meta.num_columns)
            }
        )
        out.append(
            {
                "path": path,
                "num_rows": table.num_rows,
                "compression": compression,
                "schema": [{"name": f.name, "type": str(f.type)} for f in table.schema],
                "rows": [
                    {k: render(v) for k, v in row.items()} for row in table.to_pylist()
                ],
            }
        )
    json.dump(out, sys.stdout, ensure_ascii=True)


if __name__ == "__main__":
    main(sys.argv[1:])
