"""`ALTER TABLE a SWAP WITH b`, which fakesnow does not implement.

Snowflake documents SWAP WITH as "a single transaction": the two tables exchange their names, so
every query reads one whole table or the other, and each table's content and metadata (columns,
load metadata, grants) go with it. The emulator renames the two DuckDB tables through a
temporary name inside one transaction of the tables' database (a failure part-way rolls back to
neither name moved), then moves, with each table, its COPY load metadata (load_metadata.py, in
the same database and transaction) and fakesnow's text-length metadata (`_fs_columns_ext`, in the
global catalog, which one DuckDB transaction cannot write together with another database: it is
swapped right after the commit, under the same single-statement executor, so no other statement
sees the gap).

Errors as Snowflake's: a table that does not exist is `002003` / `42S02` "Object '<name>' does
not exist or not authorized."; both names in different databases is refused (guess: Snowflake
allows a swap across schemas of one database; the emulator, like the loader, only swaps in one
schema and refuses anything else as unsupported).
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
from fakesnow.instance import GLOBAL_DATABASE_NAME
from sqlglot import exp

from snowflake_emulator import load_metadata
from snowflake_emulator.sql_errors import OBJECT_NOT_FOUND, UNSUPPORTED_FEATURE, StatementError

COLUMNS_EXT = f"{GLOBAL_DATABASE_NAME}._fs_information_schema._fs_columns_ext"
SWAP_SUFFIX = "__EMULATOR_SWAP"

TableName = tuple[str, str, str]


def swap_target(expression: exp.Expr) -> exp.Table | None:
    """The table named after SWAP WITH, when the statement is `ALTER TABLE ... SWAP WITH ...`."""
    if not isinstance(expression, exp.Alter) or str(expression.args.get("kind") or "").upper() != "TABLE":
        return None
    actions = expression.args.get("actions") or []
    if len(actions) == 1 and isinstance(actions[0], exp.SwapTable) and isinstance(actions[0].this, exp.Table):
        return actions[0].this
    return None


def swap(conn: duckdb.DuckDBPyConnection, first: TableName | None, second: TableName | None,
         names: tuple[str, str]) -> None:
    """Swaps two tables (database, schema, table each); `names` are the statement's names for
    the messages."""
    for name, shown in ((first, names[0]), (second, names[1])):
        if name is None or not _exists(conn, name):
            raise StatementError(*OBJECT_NOT_FOUND, f"Object '{shown}' does not exist or not authorized.")
    assert first is not None and second is not None
    if first[:2] != second[:2]:
        raise StatementError(*UNSUPPORTED_FEATURE, "SWAP WITH across schemas is not supported by the emulator")
    database, schema, a = first
    b = second[2]
    temporary = a + SWAP_SUFFIX

    def rename(old: str, new: str) -> None:
        conn.execute(f'ALTER TABLE {_quoted(database, schema, old)} RENAME TO "{_escape(new)}"')

    def names_and_load_metadata() -> None:
        rename(a, temporary)
        rename(b, a)
        rename(temporary, b)
        # Its own tables' names: the files each table loaded, and when it first loaded.
        for metadata in load_metadata._ensure(conn, database):  # noqa: SLF001
            _swap_rows(conn, metadata, "schema_name", "table_name", schema, a, b)

    _in_transaction(conn, names_and_load_metadata)
    _in_transaction(conn, lambda: _swap_rows(
        conn, COLUMNS_EXT, "ext_table_schema", "ext_table_name", schema, a, b,
        catalog=("ext_table_catalog", database),
    ))


def _swap_rows(conn: duckdb.DuckDBPyConnection, table: str, schema_column: str, name_column: str,
               schema: str, a: str, b: str, catalog: tuple[str, str] | None = None) -> None:
    """Rows keyed by table name move with their table: a's rows become b's and b's become a's."""
    where = f"{schema_column} = ?"
    params: list[str] = [schema]
    if catalog is not None:
        where += f" AND {catalog[0]} = ?"
        params.append(catalog[1])
    conn.execute(
        f"UPDATE {table} SET {name_column} = CASE {name_column} WHEN ? THEN ? ELSE ? END "
        f"WHERE {where} AND {name_column} IN (?, ?)",
        [a, b, a, *params, a, b],
    )


def _in_transaction(conn: duckdb.DuckDBPyConnection, run: Callable[[], object]) -> None:
    conn.begin()
    try:
        run()
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


def _exists(conn: duckdb.DuckDBPyConnection, name: TableName) -> bool:
    return conn.execute(
        "SELECT 1 FROM duckdb_tables() WHERE database_name = ? AND schema_name = ? AND table_name = ?",
        list(name),
    ).fetchone() is not None


def _quoted(database: str, schema: str, table: str) -> str:
    return ".".join(f'"{_escape(part)}"' for part in (database, schema, table))


def _escape(name: str) -> str:
    return name.replace('"', '""')
