"""Named file formats: what they hold, how Snowflake describes and changes them, and what their
options do to a COPY of Parquet files.

fakesnow stores a CREATE FILE FORMAT's options (JSON) in `_fs_global._fs_information_schema.
_fs_file_formats` and keeps an existing format on `CREATE FILE FORMAT IF NOT EXISTS` (the answer
is "<NAME> already exists, statement succeeded.", as in Snowflake). This module adds:

* `DESC[RIBE] FILE FORMAT name`: one row per property, in Snowflake's columns `property`,
  `property_type`, `property_value`, `property_default` (docs.snowflake.com/en/sql-reference/sql/
  desc-file-format). As in that page's example: types `String`, `Integer`, `Boolean`, `List`;
  booleans `TRUE`/`FALSE`; lists `[\\N]`; the CSV properties in its order. Guess: the PARQUET
  property set, taken from CREATE FILE FORMAT's PARQUET options in their documented order (TYPE,
  COMPRESSION, SNAPPY_COMPRESSION, BINARY_AS_TEXT, USE_LOGICAL_TYPE, TRIM_SPACE,
  USE_VECTORIZED_SCANNER, REPLACE_INVALID_CHARACTERS, NULL_IF).
* `ALTER FILE FORMAT [IF EXISTS] name SET option = value ...`: changes the stored options
  (docs.snowflake.com/en/sql-reference/sql/alter-file-format); "Statement executed
  successfully.". A missing format is `002003` "File format '<NAME>' does not exist or not
  authorized." (fakesnow's wording for the same lookup in COPY).
* What a COPY's options mean for Parquet (`effective_options`, `needs_raw_temporals`).

USE_LOGICAL_TYPE. Snowflake's Parquet option defaults to FALSE; without TRUE, Snowflake ignores
the TIMESTAMP and TIME logical types and reads such a column as its raw INT64 (or INT32) storage
value. Evidence: bruin-data/ingestr#773 and #775 (microsecond TIMESTAMP columns landed in year
~55,000,000 until the COPY set USE_LOGICAL_TYPE = TRUE: the raw microseconds read as seconds);
tekumara/fakesnow#401 ("Without this argument, it infers a NUMBER, as an offset from UNIX epoch",
verified against a live warehouse); ibis-project/ibis#9181 (timestamps read back as integers).
The emulator therefore, for a Parquet COPY whose effective options lack USE_LOGICAL_TYPE = TRUE,
rewrites each file with its TIMESTAMP and TIME columns as their raw integers before fakesnow reads
it: a NUMBER or VARCHAR target column gets the raw integer (what Snowflake does), and a
TIMESTAMP, TIME or DATE target column fails the COPY with `100035` "Timestamp '<raw>' is not
recognized" naming the file, column and row. That is harsher than Snowflake, which stores the
far-future instant silently; a loud failure is what a test of the loader needs. DATE and DECIMAL
columns are read as such either way (guess: their converted types predate logical types).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from fakesnow.dialect import parse_one
from fakesnow.instance import GLOBAL_DATABASE_NAME
from fakesnow.transforms.options import parse_options
from sqlglot import exp

from snowflake_emulator.identifiers import qualify, split_name
from snowflake_emulator.sql_errors import (
    OBJECT_NOT_AUTHORIZED,
    SYNTAX_ERROR,
    TIMESTAMP_NOT_RECOGNIZED,
    StatementError,
)
from snowflake_emulator.wire_values import Column, text_column

FORMATS_TABLE = f"{GLOBAL_DATABASE_NAME}._fs_information_schema._fs_file_formats"
DESCRIBE_COLUMNS: list[Column] = [
    text_column("property"),
    text_column("property_type"),
    text_column("property_value"),
    text_column("property_default"),
]


@dataclass(frozen=True)
class Property:
    name: str
    kind: str  # String, Boolean, Integer, List
    default: Any  # noqa: ANN401 - the option's default value


PARQUET_PROPERTIES = [
    Property("TYPE", "String", "CSV"),
    Property("COMPRESSION", "String", "AUTO"),
    Property("SNAPPY_COMPRESSION", "Boolean", True),
    Property("BINARY_AS_TEXT", "Boolean", True),
    Property("USE_LOGICAL_TYPE", "Boolean", False),
    Property("TRIM_SPACE", "Boolean", False),
    Property("USE_VECTORIZED_SCANNER", "Boolean", False),
    Property("REPLACE_INVALID_CHARACTERS", "Boolean", False),
    Property("NULL_IF", "List", ["\\N"]),
]
CSV_PROPERTIES = [
    Property("TYPE", "String", "CSV"),
    Property("RECORD_DELIMITER", "String", "\n"),
    Property("FIELD_DELIMITER", "String", ","),
    Property("FILE_EXTENSION", "String", None),
    Property("SKIP_HEADER", "Integer", 0),
    Property("PARSE_HEADER", "Boolean", False),
    Property("DATE_FORMAT", "String", "AUTO"),
    Property("TIME_FORMAT", "String", "AUTO"),
    Property("TIMESTAMP_FORMAT", "String", "AUTO"),
    Property("BINARY_FORMAT", "String", "HEX"),
    Property("ESCAPE", "String", "NONE"),
    Property("ESCAPE_UNENCLOSED_FIELD", "String", "\\"),
    Property("TRIM_SPACE", "Boolean", False),
    Property("FIELD_OPTIONALLY_ENCLOSED_BY", "String", "NONE"),
    Property("NULL_IF", "List", ["\\N"]),
    Property("COMPRESSION", "String", "AUTO"),
    Property("ERROR_ON_COLUMN_COUNT_MISMATCH", "Boolean", True),
    Property("VALIDATE_UTF8", "Boolean", True),
    Property("SKIP_BLANK_LINES", "Boolean", False),
    Property("REPLACE_INVALID_CHARACTERS", "Boolean", False),
    Property("EMPTY_FIELD_AS_NULL", "Boolean", True),
    Property("SKIP_BYTE_ORDER_MARK", "Boolean", True),
    Property("ENCODING", "String", "UTF8"),
]
PROPERTIES_BY_TYPE = {"PARQUET": PARQUET_PROPERTIES, "CSV": CSV_PROPERTIES}


def format_name(
    text: str, current_database: str | None, current_schema: str | None
) -> tuple[str, str, str]:
    """(database, schema, name) of a file format named in SQL text."""
    split = split_name(text.strip())
    qualified = qualify(split[0], current_database, current_schema) if split and not split[1].strip() else None
    if qualified is None:
        raise StatementError(*SYNTAX_ERROR, f"SQL compilation error:\ninvalid file format name '{text}'")
    return qualified


def lookup(conn: duckdb.DuckDBPyConnection, name: tuple[str, str, str]) -> dict[str, Any]:
    found = conn.execute(
        f"SELECT options FROM {FORMATS_TABLE} WHERE database_name = ? AND schema_name = ? AND name = ?", list(name)
    ).fetchone()
    if not found:
        raise not_found(name[2])
    options: dict[str, Any] = json.loads(found[0])
    return options


def not_found(name: str) -> StatementError:
    return StatementError(
        *OBJECT_NOT_AUTHORIZED, f"SQL compilation error:\nFile format '{name}' does not exist or not authorized."
    )


def describe(options: dict[str, Any]) -> list[list[str | None]]:
    """DESC FILE FORMAT's rows for a format's stored options."""
    kind = str(options.get("TYPE", "CSV")).upper()
    known = PROPERTIES_BY_TYPE.get(kind)
    if known is None:
        known = [Property("TYPE", "String", "CSV")] + [
            Property(name, _kind_of(value), None) for name, value in options.items() if name != "TYPE"
        ]
    rows: list[list[str | None]] = []
    for prop in known:
        value = kind if prop.name == "TYPE" else options.get(prop.name, prop.default)
        rows.append([prop.name, prop.kind, _shown(value, prop.kind), _shown(prop.default, prop.kind)])
    return rows


def _kind_of(value: Any) -> str:  # noqa: ANN401
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, list):
        return "List"
    return "String"


def _shown(value: Any, kind: str) -> str | None:  # noqa: ANN401
    if value is None:
        return None
    if kind == "Boolean":
        return "TRUE" if is_true(value) else "FALSE"
    if kind == "List":
        items = value if isinstance(value, list) else [value]
        return "[" + ", ".join(str(item).replace("\\", "\\\\") for item in items) + "]"
    return str(value)


def is_true(value: Any) -> bool:  # noqa: ANN401 - a stored option: bool, or its text
    return value is True or (isinstance(value, str) and value.upper() == "TRUE")


def alter(conn: duckdb.DuckDBPyConnection, sql: str, current_database: str | None, current_schema: str | None) -> None:
    """ALTER FILE FORMAT [IF EXISTS] name SET option = value ... on the stored options."""
    words = sql.strip().rstrip(";").split(None, 3)
    rest = words[3] if len(words) > 3 else ""
    if_exists = rest.upper().startswith("IF EXISTS")
    if if_exists:
        rest = rest[len("IF EXISTS") :].lstrip()
    split = split_name(rest)
    if split is None:
        raise StatementError(*SYNTAX_ERROR, f"SQL compilation error:\nsyntax error in '{sql.strip()}'")
    parts, after = split
    action, _, settings = after.strip().partition(" ")
    if action.upper() != "SET":
        raise StatementError(
            "000002", "0A000", f"Unsupported feature in the local emulator: ALTER FILE FORMAT ... {action.upper()}"
        )
    name = qualify(parts, current_database, current_schema)
    if name is None:
        raise StatementError(*SYNTAX_ERROR, f"SQL compilation error:\ninvalid file format name '{rest}'")
    try:
        options = lookup(conn, name)
    except StatementError:
        if if_exists:
            return
        raise
    # The SET list has CREATE FILE FORMAT's option syntax: parse it the same way.
    parsed = parse_one(f"CREATE FILE FORMAT __EMULATOR_ALTERED {settings}")
    changes = parse_options(parsed.args.get("properties") or [])
    if "TYPE" in changes:
        changes["TYPE"] = str(changes["TYPE"]).upper()
    options.update(changes)
    conn.execute(
        f"UPDATE {FORMATS_TABLE} SET options = ?, type = ? WHERE database_name = ? AND schema_name = ? AND name = ?",
        [json.dumps(options), str(options.get("TYPE", "CSV")).upper(), *name],
    )


def effective_options(
    params: list[exp.CopyParameter],
    conn: duckdb.DuckDBPyConnection,
    current_database: str | None,
    current_schema: str | None,
) -> dict[str, Any]:
    """A COPY's file format options: the named format's, overridden by options written inline."""
    for param in params:
        if isinstance(param.this, exp.Var) and param.this.name.upper() == "FILE_FORMAT":
            options = parse_options(param.expressions)
            if named := options.pop("FORMAT_NAME", None):
                options = {**lookup(conn, format_name(str(named), current_database, current_schema)), **options}
            return options
    return {"TYPE": "CSV"}


def needs_raw_temporals(options: dict[str, Any]) -> bool:
    return str(options.get("TYPE", "CSV")).upper() == "PARQUET" and not is_true(options.get("USE_LOGICAL_TYPE"))


def temporal_columns(path: Path) -> list[str]:
    """The Parquet file's TIMESTAMP and TIME columns."""
    schema = pq.read_schema(path)
    return [field.name for field in schema if pa.types.is_timestamp(field.type) or pa.types.is_time(field.type)]


def rewrite_with_raw_temporals(source: Path, destination: Path) -> None:
    """`source` with its TIMESTAMP and TIME columns as their raw integer storage values."""
    table = pq.read_table(source)
    for index, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) or pa.types.is_time(field.type):
            storage = pa.int64() if pa.types.is_timestamp(field.type) or pa.types.is_time64(field.type) else pa.int32()
            table = table.set_column(index, pa.field(field.name, storage), table.column(index).cast(storage))
    destination.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, destination)


def refuse_raw_temporal_targets(
    path: Path, url: str, table: str, target_types: dict[str, str], case_insensitive: bool
) -> None:
    """Fail like a COPY whose raw-integer timestamps meet a TIMESTAMP/TIME/DATE column."""
    temporals = temporal_columns(path)
    names = list(target_types)
    for column in temporals:
        match = next((n for n in names if (n.upper() == column.upper() if case_insensitive else n == column)), None)
        if match is None or not any(word in target_types[match].upper() for word in ("TIMESTAMP", "TIME", "DATE")):
            continue
        raw = pq.read_table(path, columns=[column]).column(0)
        storage = pa.int64() if pa.types.is_timestamp(raw.type) or pa.types.is_time64(raw.type) else pa.int32()
        raw_value = next((value for value in raw.cast(storage).to_pylist() if value is not None), None)
        if raw_value is None:
            continue
        position = names.index(match) + 1
        raise StatementError(
            *TIMESTAMP_NOT_RECOGNIZED,
            f"Timestamp '{raw_value}' is not recognized\n  File '{url}', line 1, character 1\n"
            f'  Row 1, column "{table}"["{match}":{position}]\n'
            "  The file format does not set USE_LOGICAL_TYPE = TRUE, so Parquet TIMESTAMP and TIME "
            "columns are read as their raw integer values.",
        )
