#!/usr/bin/env python3
"""Benchmark baseline: Intacct query pages (XML) to Parquet with lxml and pyarrow.

Usage: xml_to_parquet.py INPUT_DIR OUTPUT_DIR

Does what the Rust stage does for benches/stage.rs, on one thread: streams every
page-*.xml with lxml.etree.iterparse, converts each field to the same Arrow type (int64,
string, decimal128(38, 10), date32, timestamp[us, UTC] from America/Los_Angeles wall-clock
text, bool), and writes zstd Parquet parts of at most 1,000,000 rows with row groups of
131,072 rows. Prints "records seconds peak_rss_kib" as its last line.
"""

import datetime
import decimal
import os
import sys
import time
import zoneinfo

import pyarrow as pa
import pyarrow.parquet as pq
from lxml import etree

TZ = zoneinfo.ZoneInfo("America/Los_Angeles")
DEC = pa.decimal128(38, 10)
TS = pa.timestamp("us", tz="UTC")
FIELDS = [
    ("RECORDNO", "int"), ("RECORDID", "text"), ("VENDORID", "text"), ("VENDORNAME", "text"),
    ("DESCRIPTION", "text"), ("STATE", "text"), ("CURRENCY", "text"), ("ZIP", "text"),
    ("CITY", "text"), ("TERMNAME", "text"), ("TOTALENTERED", "dec"), ("TOTALPAID", "dec"),
    ("TOTALDUE", "dec"), ("EXCHANGE_RATE", "dec"), ("DISCOUNT", "dec"), ("LINECOUNT", "int"),
    ("WHENPOSTED", "date"), ("WHENDUE", "date"), ("WHENPAID", "date"), ("WHENCREATED", "ts"),
    ("WHENMODIFIED", "ts"), ("ONHOLD", "bool"), ("INCLUDEINREPORTS", "bool"),
    ("PRBATCH", "text"), ("MEGAENTITYID", "text"),
]
ARROW = {"int": pa.int64(), "text": pa.string(), "dec": DEC, "date": pa.date32(),
         "ts": TS, "bool": pa.bool_()}
SCHEMA = pa.schema(
    [(name, ARROW[kind]) for name, kind in FIELDS]
    + [("_BATCH_ID", pa.string()), ("_EXTRACTED_AT", TS), ("_DELETED", pa.bool_())]
)
PART_ROWS = 1_000_000
QUANT = decimal.Decimal(1).scaleb(-10)


def convert(kind, text):
    if text is None or text == "":
        return None
    if kind == "text":
        return text
    if kind == "int":
        return int(text)
    if kind == "dec":
        value = decimal.Decimal(text)
        if value.quantize(QUANT) != value:
            raise ValueError(f"too many fraction digits: {text}")
        return value
    if kind == "date":
        m, d, y = text.split("/")
        return datetime.date(int(y), int(m), int(d))
    if kind == "ts":
        date, _, clock = text.partition(" ")
        m, d, y = date.split("/")
        h, mi, s = (clock or "00:00:00").split(":")
        local = datetime.datetime(int(y), int(m), int(d), int(h), int(mi), int(s), tzinfo=TZ)
        return local.astimezone(datetime.timezone.utc)
    if kind == "bool":
        return text.lower() in ("true", "t")
    raise ValueError(kind)


def peak_rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main(input_dir, output_dir):
    pages = sorted(p for p in os.listdir(input_dir) if p.endswith(".xml"))
    extracted_at = datetime.datetime.now(datetime.timezone.utc)
    started = time.perf_counter()
    records = 0
    part_no = 0
    writer = None
    part_rows = 0
    for page in pages:
        columns = {name: [] for name, _ in FIELDS}
        rows = 0
        for _, element in etree.iterparse(os.path.join(input_dir, page), tag="APBILL"):
            seen = {child.tag: child.text for child in element}
            for name, kind in FIELDS:
                columns[name].append(convert(kind, seen.get(name)))
            rows += 1
            element.clear()
        arrays = [pa.array(columns[name], type=ARROW[kind]) for name, kind in FIELDS]
        arrays += [pa.array(["bench"] * rows), pa.array([extracted_at] * rows, type=TS),
                   pa.array([False] * rows)]
        batch = pa.RecordBatch.from_arrays(arrays, schema=SCHEMA)
        if writer is None or part_rows >= PART_ROWS:
            if writer is not None:
                writer.close()
            part_no += 1
            writer = pq.ParquetWriter(
                os.path.join(output_dir, f"part-{part_no:05}.parquet"), SCHEMA,
                compression="zstd", compression_level=3)
            part_rows = 0
        writer.write_batch(batch, row_group_size=131_072)
        part_rows += rows
        records += rows
    if writer is not None:
        writer.close()
    seconds = time.perf_counter() - started
    print(f"{records} {seconds} {peak_rss_kib()}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
