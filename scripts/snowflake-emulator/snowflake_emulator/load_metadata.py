"""COPY load metadata: which files a table has loaded, and with what content.

Snowflake keeps, per table, the files COPY loaded with their ETag/checksum, and skips a file it
loaded before unless the COPY says `FORCE = TRUE`. A file rewritten at the same path with other
content (another checksum) is a new file and loads again. `TRUNCATE TABLE` erases the table's
load metadata; `DELETE` does not; a new table (CREATE, CREATE OR REPLACE) starts with none.

fakesnow keys its load history by file URL alone, so a rewritten file would be skipped. The
emulator therefore keeps its own record, one row per (schema, table, file URL) with the file's
signature (size and MD5), in `<database>._fs_information_schema._emulator_loaded_files`, next to
fakesnow's `_fs_load_history` (which still feeds INFORMATION_SCHEMA.LOAD_HISTORY). The emulator
decides which files to load and hands fakesnow only those, with FORCE, so fakesnow never skips.
Rows are written in the COPY's own transaction: a COPY that fails or is cancelled records nothing.

Guess: Snowflake compares the ETag (S3) or MD5; the emulator compares size and MD5 of the local
file, which changes exactly when the content does.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

TABLE = "_fs_information_schema._emulator_loaded_files"
CHUNK_BYTES = 1 << 20


def file_signature(path: Path) -> str:
    digest = hashlib.md5()  # noqa: S324 - a content checksum, as Snowflake's load metadata keeps
    with path.open("rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            digest.update(chunk)
    return f"{path.stat().st_size}:{digest.hexdigest()}"


def _ensure(conn: duckdb.DuckDBPyConnection, catalog: str) -> str:
    table = f'"{catalog}".{TABLE}'
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {table} "
        "(schema_name VARCHAR, table_name VARCHAR, file_name VARCHAR, signature VARCHAR)"
    )
    return table


def loaded_before(
    conn: duckdb.DuckDBPyConnection, catalog: str, schema: str, table_name: str, signatures: dict[str, str]
) -> set[str]:
    """The URLs among `signatures` this table loaded before with the same content."""
    if not signatures:
        return set()
    table = _ensure(conn, catalog)
    rows = conn.execute(
        f"SELECT file_name, signature FROM {table} WHERE schema_name = ? AND table_name = ?",
        [schema, table_name],
    ).fetchall()
    return {url for url, signature in rows if signatures.get(url) == signature}


def record(
    conn: duckdb.DuckDBPyConnection, catalog: str, schema: str, table_name: str, signatures: dict[str, str]
) -> None:
    if not signatures:
        return
    table = _ensure(conn, catalog)
    for url, signature in signatures.items():
        conn.execute(
            f"DELETE FROM {table} WHERE schema_name = ? AND table_name = ? AND file_name = ?",
            [schema, table_name, url],
        )
        conn.execute(f"INSERT INTO {table} VALUES (?, ?, ?, ?)", [schema, table_name, url, signature])


def forget_table(conn: duckdb.DuckDBPyConnection, catalog: str, schema: str, table_name: str) -> None:
    """Erase a table's load metadata (TRUNCATE, a new table under the name): its files load again."""
    table = _ensure(conn, catalog)
    conn.execute(f"DELETE FROM {table} WHERE schema_name = ? AND table_name = ?", [schema, table_name])
    conn.execute(
        f'DELETE FROM "{catalog}"._fs_information_schema._fs_load_history WHERE SCHEMA_NAME = ? AND TABLE_NAME = ?',
        [schema, table_name],
    )
