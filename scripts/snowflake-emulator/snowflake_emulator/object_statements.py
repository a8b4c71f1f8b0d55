"""Statements about stages, file formats and catalog listings that the emulator answers itself
instead of fakesnow, each in Snowflake's result shape:

* `LIST @stage[/path] [PATTERN = '...']` for named external stages (stage_storage.py);
* `DESC[RIBE] FILE FORMAT name` and `ALTER FILE FORMAT name SET ...` (file_formats.py);
* the `LIKE` filter of `SHOW <objects> LIKE '<pattern>'`: fakesnow lists every schema for
  `SHOW SCHEMAS LIKE 'RAW' IN DATABASE D`; Snowflake lists the objects whose name matches the
  pattern, case-insensitively (docs.snowflake.com/en/sql-reference/sql/show-schemas: "LIKE
  '<pattern>' ... The command supports SQL wildcard characters (% and _) ... case-insensitive").
"""

from __future__ import annotations

import re
from collections.abc import Callable

import duckdb
from sqlglot import exp

from snowflake_emulator import file_formats
from snowflake_emulator.stage_storage import (
    StageName,
    StageStorage,
    list_rows,
    matches,
    parse_stage_reference,
    resolve_stage_name,
)
from snowflake_emulator.wire_values import Column, fixed_column, text_column

LIST_COLUMNS: list[Column] = [text_column("name"), fixed_column("size"), text_column("md5"), text_column("last_modified")]


def list_stage(
    expression: exp.ListStage,
    current_database: str | None,
    current_schema: str | None,
    open_stage: Callable[[StageName], StageStorage | None],
    to_emulated: Callable[[float], float],
) -> tuple[list[Column], list[list[str | None]]] | None:
    """LIST of a named external stage; None for stages fakesnow lists (internal, table, user).
    `last_modified` is on the emulator's clock (`to_emulated`)."""
    target = expression.this
    reference = parse_stage_reference(target.name) if isinstance(target, exp.Var) else None
    if reference is None:
        return None
    storage = open_stage(resolve_stage_name(reference, current_database, current_schema, command="LIST"))
    if storage is None:
        return None
    files = storage.list(reference.path)
    pattern = expression.args.get("pattern")
    if pattern is not None:
        compiled = re.compile(pattern.name)
        files = [staged for staged in files if matches(compiled, storage, staged)]
    return LIST_COLUMNS, list_rows(storage, files, to_emulated)


def is_alter_file_format(expression: exp.Expr) -> bool:
    return (
        isinstance(expression, exp.Command)
        and str(expression.this).upper() == "ALTER"
        and re.match(r"\s*FILE\s+FORMAT\b", str(expression.expression.name if isinstance(expression.expression, exp.Literal) else expression.expression), re.IGNORECASE) is not None
    )


def is_describe_file_format(expression: exp.Expr) -> bool:
    return isinstance(expression, exp.Describe) and str(expression.args.get("kind") or "").upper() == "FILE FORMAT"


def describe_file_format(
    duck: duckdb.DuckDBPyConnection, name: tuple[str, str, str]
) -> tuple[list[Column], list[list[str | None]]]:
    return file_formats.DESCRIBE_COLUMNS, file_formats.describe(file_formats.lookup(duck, name))


def like_filter(expression: exp.Expr) -> re.Pattern[str] | None:
    """The compiled LIKE of a SHOW statement, if it has one."""
    if not isinstance(expression, exp.Show):
        return None
    like = expression.args.get("like")
    if like is None:
        return None
    regex = "".join(".*" if char == "%" else "." if char == "_" else re.escape(char) for char in like.name)
    return re.compile(regex, re.IGNORECASE | re.DOTALL)


def filter_like(
    pattern: re.Pattern[str], columns: list[Column], rows: list[list[str | None]]
) -> list[list[str | None]]:
    names = [column.name for column in columns]
    if "name" not in names:
        return rows
    index = names.index("name")
    return [row for row in rows if row[index] is not None and pattern.fullmatch(row[index])]
