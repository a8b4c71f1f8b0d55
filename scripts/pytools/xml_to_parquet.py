#!/usr/bin/env python3
"""Benchmark baseline: Intacct query pages (XML) to Parquet, vectorised, with lxml and pyarrow.

Usage: xml_to_parquet.py INPUT_DIR OUTPUT_DIR

What a careful Python engineer would write for what the Rust stage does in benches/stage.rs,
on one thread: lxml.etree.iterparse streams every page-*.xml and appends each field's text to
a list of strings per column; every 131,072 rows (a row group) each column is converted once
with pyarrow.compute (cast to int64, to decimal128(38, 10) for currencies and (38, 18) for
rates and percentages, strptime to date32, strptime + assume_timezone from
America/Los_Angeles wall-clock text to timestamp[us, UTC], equal for booleans) and written
as one row group. The Parquet settings are the Rust writer's: zstd level 3, dictionary
encoding for string and boolean columns only, parts of at most 1,000,000 rows (the last row
group of a part is cut short there, as in Rust). An empty field is null. Values are not
validated beyond what the casts do.

Prints "records seconds peak_rss_kib" as its last line.
"""

import datetime
import os
import sys
import time

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from lxml import etree

TIME_ZONE = "America/Los_Angeles"
DEC = pa.decimal128(38, 10)  # CURRENCY
WIDE_DEC = pa.decimal128(38, 18)  # DECIMAL and PERCENT: rates and percentages
TS = pa.timestamp("us", tz="UTC")
FIELDS = [
    ("RECORDNO", "int"), ("RECORDID", "text"), ("VENDORID", "text"), ("VENDORNAME", "text"),
    ("DESCRIPTION", "text"), ("STATE", "text"), ("CURRENCY", "text"), ("ZIP", "text"),
    ("CITY", "text"), ("TERMNAME", "text"), ("TOTALENTERED", "dec"), ("TOTALPAID", "dec"),
    ("TOTALDUE", "dec"), ("EXCHANGE_RATE", "wdec"), ("DISCOUNT", "wdec"), ("LINECOUNT", "int"),
    ("WHENPOSTED", "date"), ("WHENDUE", "date"), ("WHENPAID", "date"), ("WHENCREATED", "ts"),
    ("WHENMODIFIED", "ts"), ("ONHOLD", "bool"), ("INCLUDEINREPORTS", "bool"),
    ("PRBATCH", "text"), ("MEGAENTITYID", "text"),
]
ARROW = {"int": pa.int64(), "text": pa.string(), "dec": DEC, "wdec": WIDE_DEC, "date": pa.date32(),
         "ts": TS, "bool": pa.bool_()}
SCHEMA = pa.schema(
    [(name, ARROW[kind]) for name, kind in FIELDS]
    + [("_BATCH_ID", pa.string()), ("_EXTRACTED_AT", TS), ("_DELETED", pa.bool_())]
)
DICTIONARY_COLUMNS = [f.name for f in SCHEMA if f.type in (pa.string(), pa.bool_())]
ROW_GROUP_ROWS = 131_072
PART_ROWS = 1_000_000


def convert(kind, texts):
    """One column of a row group: a list of str/None → an Arrow array, one compute call chain."""
    strings = pa.array(texts, type=pa.string())
    if kind == "text":
        return strings
    if kind == "int":
        return pc.cast(strings, pa.int64())
    if kind in ("dec", "wdec"):
        return pc.cast(strings, ARROW[kind])
    if kind == "date":
        return pc.cast(pc.strptime(strings, format="%m/%d/%Y", unit="s"), pa.date32())
    if kind == "ts":
        local = pc.strptime(strings, format="%m/%d/%Y %H:%M:%S", unit="us")
        # A repeated DST hour reads as the earlier instant, as in the Rust stage.
        utc = pc.assume_timezone(local, TIME_ZONE, ambiguous="earliest", nonexistent="latest")
        return pc.cast(utc, TS)
    if kind == "bool":
        return pc.equal(strings, "true")
    raise ValueError(kind)


def peak_rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


class Parts:
    """Parquet parts of at most PART_ROWS rows, each written a row group at a time."""

    def __init__(self, output_dir):
        self.output_dir = output_dir
        self.writer = None
        self.part_no = 0
        self.part_rows = 0

    def room(self):
        """Rows the next row group may hold without crossing a part boundary."""
        if self.writer is None:
            return ROW_GROUP_ROWS
        return min(ROW_GROUP_ROWS, PART_ROWS - self.part_rows)

    def write(self, table):
        if self.writer is None:
            self.part_no += 1
            self.writer = pq.ParquetWriter(
                os.path.join(self.output_dir, f"part-{self.part_no:05}.parquet"), SCHEMA,
                compression="zstd", compression_level=3, use_dictionary=DICTIONARY_COLUMNS)
            self.part_rows = 0
        self.writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
        self.part_rows += table.num_rows
        if self.part_rows >= PART_ROWS:
            self.close()

    def close(self):
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def main(input_dir, output_dir):
    pages = sorted(p for p in os.listdir(input_dir) if p.endswith(".xml"))
    extracted_at = datetime.datetime.now(datetime.timezone.utc)
    started = time.perf_counter()
    parts = Parts(output_dir)
    columns = {name: [] for name, _ in FIELDS}
    appenders = {name: column.append for name, column in columns.items()}
    rows = 0
    records = 0

    def flush():
        nonlocal rows
        for name, column in columns.items():
            if len(column) != rows:
                raise ValueError(f"{name}: {len(column)} values for {rows} records")
        arrays = [convert(kind, columns[name]) for name, kind in FIELDS]
        arrays += [pa.array(["bench"] * rows, type=pa.string()),
                   pa.array([extracted_at] * rows, type=TS),
                   pa.array([False] * rows, type=pa.bool_())]
        parts.write(pa.Table.from_arrays(arrays, schema=SCHEMA))
        for column in columns.values():
            column.clear()
        rows = 0

    for page in pages:
        for _, element in etree.iterparse(os.path.join(input_dir, page), tag="APBILL"):
            for child in element:
                append = appenders.get(child.tag)
                if append is not None:
                    append(child.text)
            element.clear()
            rows += 1
            records += 1
            if rows == parts.room():
                flush()
    if rows:
        flush()
    parts.close()
    seconds = time.perf_counter() - started
    print(f"{records} {seconds} {peak_rss_kib()}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
