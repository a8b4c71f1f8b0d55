"""Running SQL on fakesnow the way one SQL API v2 request does.

Owns the per-request session and what one statement returns. Snowflake gives every SQL API request
its own session: `ALTER SESSION` and an open transaction do not outlive the request, so each
request here gets a fresh fakesnow connection (a DuckDB cursor on the shared database), and a
transaction still open when the request ends is rolled back, as Snowflake does when a session ends.

A statement's outcome is a `StatementResult`: Snowflake-typed columns, rows already in wire
encoding, and the DML `stats` Snowflake adds for INSERT, UPDATE, DELETE and MERGE.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
from fakesnow.conn import FakeSnowflakeConnection
from fakesnow.converter import from_binding
from fakesnow.dialect import parse_one
from fakesnow.instance import GLOBAL_DATABASE_NAME, FakeSnow
from fakesnow.rowtype import describe_as_rowtype
from sqlglot import Expr, exp

from snowflake_emulator import copy_statement
from snowflake_emulator.sql_errors import (
    BINDING_NOT_RECOGNIZED,
    StatementError,
    StatementInterrupted,
    from_exception,
)
from snowflake_emulator.wire_values import (
    Column,
    column_from_arrow_field,
    columns_from_fakesnow_rowtype,
    encode_table,
)

# fakesnow reads results through DuckDB's DB-API Arrow export, which warns about an extra copy on
# every statement; the copy is harmless here and the warning would flood the log.
warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning)

DML_EXPRESSIONS = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.MultitableInserts)


@dataclass
class StatementResult:
    columns: list[Column]
    rows: list[list[str | None]]
    stats: dict[str, int] | None = None


class Session:
    """One request's session on the shared fakesnow database."""

    def __init__(self, fake: FakeSnow, database: str | None, schema: str | None) -> None:
        self._conn = FakeSnowflakeConnection(
            fake.duck_conn.cursor(),
            {},  # fakesnow's RESULT_SCAN cache: per session, so results are not kept forever
            database,
            schema,
            create_database=False,
            create_schema=False,
            db_path=fake.db_path,
        )

    def execute(self, sql: str, bindings: dict[str, Any] | None = None) -> StatementResult:
        try:
            return self._execute(sql, bindings)
        except duckdb.InterruptException as interrupted:
            raise StatementInterrupted() from interrupted
        except (StatementError, StatementInterrupted):
            raise
        except Exception as error:  # noqa: BLE001 - every failure becomes a Snowflake error triple
            raise from_exception(error) from error

    def interrupt(self) -> None:
        # Thread-safe in DuckDB: stops the query running on this connection from another thread.
        self._conn._duck_conn.interrupt()  # noqa: SLF001

    def close(self) -> None:
        try:
            self._conn._duck_conn.execute("ROLLBACK")  # noqa: SLF001
        except duckdb.Error:
            pass  # no transaction was open, the usual case
        self._conn.close()

    def _execute(self, sql: str, bindings: dict[str, Any] | None) -> StatementResult:
        expression = parse_one(sql)
        params = _binding_params(bindings)

        if isinstance(expression, exp.Copy):
            plan = copy_statement.plan_copy(
                expression,
                self._conn.database if self._conn.database_set else None,
                self._conn.schema if self._conn.schema_set else None,
                self._stage_url,
            )
            if plan.no_files:
                columns, table = copy_statement.zero_files()
                return StatementResult(columns, encode_table(table, columns))
            cursor = self._conn.cursor()
            cursor.execute(plan.sql or sql, binding_params=params, server=True)
            columns, table = copy_statement.shape_result(cursor._arrow_table)  # noqa: SLF001
            return StatementResult(columns, encode_table(table, columns))

        cursor = self._conn.cursor()
        # server=True: fakesnow must not copy PUT files itself; the SQL API has no PUT either.
        cursor.execute(sql, binding_params=params, server=True)
        table: pa.Table = cursor._arrow_table  # noqa: SLF001
        columns = _describe(cursor, table)
        rows = encode_table(table, columns)
        return StatementResult(columns, rows, _dml_stats(expression, columns, rows))

    def _stage_url(self, database: str, schema: str, name: str) -> str | None:
        found = self._conn._duck_conn.execute(  # noqa: SLF001
            f"SELECT url FROM {GLOBAL_DATABASE_NAME}._fs_information_schema._fs_stages "
            "WHERE database_name = ? AND schema_name = ? AND name = ?",
            [database, schema, name],
        ).fetchone()
        return found[0] if found else None


def _binding_params(bindings: dict[str, Any] | None) -> tuple[Any, ...] | dict[str, Any] | None:
    """SQL API `bindings` ({"1": {"type": "FIXED", "value": "1"}}) as fakesnow parameters."""
    if not bindings:
        return None
    try:
        if all(key.isdigit() for key in bindings):
            return tuple(from_binding(bindings[str(position)]) for position in range(1, len(bindings) + 1))
        return {name: from_binding(binding) for name, binding in bindings.items()}
    except (KeyError, TypeError, ValueError) as error:
        raise StatementError(*BINDING_NOT_RECOGNIZED, f"Binding is not recognized: {error}") from error


def _describe(cursor: Any, table: pa.Table) -> list[Column]:  # noqa: ANN401 - fakesnow's cursor
    """Snowflake types of the result: fakesnow's DESCRIBE when it can, else the Arrow types.

    DESCRIBE is preferred because Arrow cannot tell VARIANT (DuckDB JSON) from VARCHAR.
    """
    try:
        columns = columns_from_fakesnow_rowtype(describe_as_rowtype(cursor._describe_last_sql()))  # noqa: SLF001
        if [column.name for column in columns] == table.column_names:
            return columns
    except Exception:  # noqa: BLE001, S110 - fall back to the Arrow schema below
        pass
    return [column_from_arrow_field(field) for field in table.schema]


def _dml_stats(expression: Expr, columns: list[Column], rows: list[list[str | None]]) -> dict[str, int] | None:
    """The `stats` member Snowflake adds to DML results, summed from the count columns."""
    if not isinstance(expression, DML_EXPRESSIONS):
        return None
    stats = {"numRowsInserted": 0, "numRowsUpdated": 0, "numRowsDeleted": 0, "numDmlDuplicates": 0}
    for index, column in enumerate(columns):
        name = column.name.lower()
        if "multi-joined" in name:
            key = "numDmlDuplicates"
        elif "inserted" in name:
            key = "numRowsInserted"
        elif "updated" in name:
            key = "numRowsUpdated"
        elif "deleted" in name:
            key = "numRowsDeleted"
        else:
            continue
        stats[key] += sum(int(row[index]) for row in rows if row[index] is not None)
    return stats
