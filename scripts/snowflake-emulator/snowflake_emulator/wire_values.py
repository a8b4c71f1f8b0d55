"""Snowflake SQL API v2 wire encoding of result columns and values.

Owns how a result column becomes a `rowType` entry and how every value becomes the string (or
JSON null) carried in `data`, following Snowflake's documented default output formats:

* NUMBER as decimal text (`"1.50"`), FLOAT as its shortest text (`"1.5"`, `"NaN"`, `"inf"`);
* BOOLEAN as `"true"` / `"false"`; VARCHAR as is; BINARY as upper-case hex;
* DATE as days since the epoch (`"19723"`);
* TIME, TIMESTAMP_NTZ and TIMESTAMP_LTZ as seconds since the epoch (or midnight) with exactly
  nine decimals (`"1704103200.000000000"`);
* TIMESTAMP_TZ as the same seconds, a space, and the UTC offset in minutes plus 1440
  (`"1704103200.000000000 1440"` for UTC);
* VARIANT, OBJECT and ARRAY as JSON text;
* SQL NULL as JSON null (the caller swaps in the string `"null"` for `nullable=false`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa

# VARCHAR without an explicit length is VARCHAR(16777216) in Snowflake; BINARY's default is 8 MiB.
MAX_TEXT_LENGTH = 16777216
MAX_BINARY_LENGTH = 8388608

# DuckDB keeps TIMESTAMPTZ values as UTC instants and forgets the offset they were written with,
# so every TIMESTAMP_TZ value goes out with offset 0, encoded by Snowflake as 0 + 1440.
UTC_OFFSET_FIELD = 1440

NANOS_PER_SECOND = 1_000_000_000
NANOS_PER_UNIT = {"s": NANOS_PER_SECOND, "ms": 1_000_000, "us": 1_000, "ns": 1}


@dataclass(frozen=True)
class Column:
    """One result column as Snowflake describes it in `resultSetMetaData.rowType`."""

    name: str
    type: str  # lower-case on the wire: fixed, real, text, boolean, date, time, timestamp_*, variant, binary
    precision: int | None = None
    scale: int | None = None
    length: int | None = None
    byte_length: int | None = None
    nullable: bool = True

    def row_type(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "database": "",
            "schema": "",
            "table": "",
            "nullable": self.nullable,
            "type": self.type,
            "byteLength": self.byte_length,
            "length": self.length,
            "scale": self.scale,
            "precision": self.precision,
            "collation": None,
        }


def text_column(name: str) -> Column:
    return Column(name, "text", length=MAX_TEXT_LENGTH, byte_length=MAX_TEXT_LENGTH)


def fixed_column(name: str, precision: int = 38, scale: int = 0) -> Column:
    return Column(name, "fixed", precision=precision, scale=scale)


def columns_from_fakesnow_rowtype(rowtype: list[dict[str, Any]]) -> list[Column]:
    """Columns from fakesnow's `describe_as_rowtype`, which already speaks Snowflake type names."""
    return [
        Column(
            name=info["name"],
            type=info["type"].lower(),
            precision=info.get("precision"),
            scale=info.get("scale"),
            length=info.get("length"),
            byte_length=info.get("byteLength"),
            nullable=bool(info.get("nullable", True)),
        )
        for info in rowtype
    ]


def column_from_arrow_field(field: pa.Field) -> Column:
    """A column typed from its Arrow storage type, for results fakesnow cannot describe."""
    kind = field.type
    if pa.types.is_decimal(kind):
        return fixed_column(field.name, kind.precision, kind.scale)
    if pa.types.is_integer(kind):
        return fixed_column(field.name)
    if pa.types.is_floating(kind):
        return Column(field.name, "real")
    if pa.types.is_boolean(kind):
        return Column(field.name, "boolean")
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        return Column(field.name, "binary", length=MAX_BINARY_LENGTH, byte_length=MAX_BINARY_LENGTH)
    if pa.types.is_date(kind):
        return Column(field.name, "date")
    if pa.types.is_time(kind):
        return Column(field.name, "time", precision=0, scale=9)
    if pa.types.is_timestamp(kind):
        return Column(field.name, "timestamp_tz" if kind.tz else "timestamp_ntz", precision=0, scale=9)
    if pa.types.is_nested(kind):
        return Column(field.name, "variant")
    return text_column(field.name)


def encode_table(table: pa.Table, columns: list[Column]) -> list[list[str | None]]:
    """Every row of `table` as wire strings, column by column in `columns`' order."""
    encoded_columns = [encode_column(table.column(i), column) for i, column in enumerate(columns)]
    return [list(row) for row in zip(*encoded_columns, strict=True)] if encoded_columns else []


def encode_column(values: pa.ChunkedArray, column: Column) -> list[str | None]:
    kind = values.type
    if pa.types.is_null(kind):
        return [None] * len(values)
    if pa.types.is_timestamp(kind):
        per_unit = NANOS_PER_UNIT[kind.unit]
        suffix = f" {UTC_OFFSET_FIELD}" if column.type == "timestamp_tz" else ""
        return [
            None if raw is None else seconds_text(raw * per_unit) + suffix
            for raw in values.cast(pa.int64()).to_pylist()
        ]
    if pa.types.is_time(kind):
        per_unit = NANOS_PER_UNIT[kind.unit]
        storage = pa.int64() if pa.types.is_time64(kind) else pa.int32()
        return [None if raw is None else seconds_text(raw * per_unit) for raw in values.cast(storage).to_pylist()]
    if pa.types.is_date32(kind):
        return [None if days is None else str(days) for days in values.cast(pa.int32()).to_pylist()]
    if pa.types.is_date64(kind):
        return [None if ms is None else str(ms // 86_400_000) for ms in values.cast(pa.int64()).to_pylist()]
    return [encode_value(value) for value in values.to_pylist()]


def encode_value(value: Any) -> str | None:  # noqa: ANN401 - any scalar Arrow hands back
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        # 'f' keeps "1.50" and never switches to exponent notation ("1E+2").
        return format(value, "f")
    if isinstance(value, float):
        return float_text(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex().upper()
    # Nested Arrow values (lists, structs, maps) are semi-structured data: JSON text.
    return json.dumps(value, default=str, separators=(",", ":"))


def float_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)


def seconds_text(nanos: int) -> str:
    """Nanoseconds as seconds with nine decimals, sign in front: -1.5 s is "-1.500000000"."""
    sign = "-" if nanos < 0 else ""
    whole, fraction = divmod(abs(nanos), NANOS_PER_SECOND)
    return f"{sign}{whole}.{fraction:09d}"
