"""COPY load metadata: which files a table loaded, with what content, when; and which files a COPY
may load, by Snowflake's rules, including the 64-day rule for older files.

Snowflake's doc "Loading older files" (docs.snowflake.com/en/user-guide/data-load-considerations-
load#loading-older-files) is the source of every rule here:

* Per table, Snowflake keeps each loaded file's name, size, ETag/checksum and load time. **This
  load metadata expires after 64 days.**
* A file with live (unexpired) metadata and the same content is skipped: it was loaded. A file
  rewritten at the same path with other content (another checksum/ETag) is a new file.
* A file without live metadata is loaded when its load status is known, which it is when its
  LAST_MODIFIED is at most 64 days old, or when the table's initial set of data (the first load
  after the table was created) was loaded at most 64 days ago. For a table that has never loaded
  anything, this COPY *is* that initial load, so its files load.
* Otherwise the status is uncertain (LAST_MODIFIED older than 64 days, no live metadata, initial
  load more than 64 days ago) and COPY skips the file, silently: when every file is skipped the
  answer is "Copy executed with 0 files processed.".
* `LOAD_UNCERTAIN_FILES = TRUE` loads uncertain files too (and still skips files with live
  metadata); `FORCE = TRUE` loads every file, ignoring metadata.
* `TRUNCATE TABLE` erases the table's load metadata; `DELETE` does not; a new table (CREATE,
  CREATE OR REPLACE) starts with none.

Ages are measured on the emulator's clock (clock.py): advancing it by 65 days makes every load
and every staged file 65 days older. LAST_MODIFIED is the file's modification time (local stages)
or the object's LastModified (S3); the signature is size+MD5 (local) or the ETag (S3).

Guess (undocumented): TRUNCATE keeps the table's initial-load time, so after a TRUNCATE an old
file is still uncertain (the harsher reading); only a new table resets it.

Storage: `<database>._fs_information_schema._emulator_load_metadata` (one row per table and file
URL) and `..._emulator_table_loads` (each table's initial-load time), next to fakesnow's
`_fs_load_history` (which still feeds INFORMATION_SCHEMA.LOAD_HISTORY). The emulator decides which
files to load and hands fakesnow only those, with FORCE, so fakesnow never skips on its own. Rows
are written in the COPY's own transaction: a COPY that fails or is cancelled records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from snowflake_emulator.clock import SECONDS_PER_DAY

EXPIRY_SECS = 64 * SECONDS_PER_DAY
FILES_TABLE = "_fs_information_schema._emulator_load_metadata"
TABLES_TABLE = "_fs_information_schema._emulator_table_loads"


@dataclass(frozen=True)
class Candidate:
    """A file a COPY could load."""

    url: str
    signature: str
    last_modified: float  # epoch seconds


@dataclass(frozen=True)
class Decision:
    candidate: Candidate
    load: bool
    reason: str  # "force", "new", "changed", "known", "uncertain-allowed", "loaded", "uncertain"


@dataclass(frozen=True)
class TableRef:
    catalog: str
    schema: str
    name: str


def _ensure(conn: duckdb.DuckDBPyConnection, catalog: str) -> tuple[str, str]:
    files = f'"{catalog}".{FILES_TABLE}'
    tables = f'"{catalog}".{TABLES_TABLE}'
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {files} "
        "(schema_name VARCHAR, table_name VARCHAR, file_name VARCHAR, signature VARCHAR, loaded_at DOUBLE)"
    )
    conn.execute(f"CREATE TABLE IF NOT EXISTS {tables} (schema_name VARCHAR, table_name VARCHAR, first_load_at DOUBLE)")
    return files, tables


def decide(
    conn: duckdb.DuckDBPyConnection,
    table: TableRef,
    candidates: list[Candidate],
    now: float,
    force: bool = False,
    load_uncertain: bool = False,
) -> list[Decision]:
    """For each candidate, whether this COPY loads it and why."""
    if force:
        return [Decision(candidate, True, "force") for candidate in candidates]
    if not candidates:
        return []
    files, tables = _ensure(conn, table.catalog)
    live = {
        url: signature
        for url, signature in conn.execute(
            f"SELECT file_name, signature FROM {files} WHERE schema_name = ? AND table_name = ? AND loaded_at >= ?",
            [table.schema, table.name, now - EXPIRY_SECS],
        ).fetchall()
    }
    first = conn.execute(
        f"SELECT first_load_at FROM {tables} WHERE schema_name = ? AND table_name = ?", [table.schema, table.name]
    ).fetchone()
    initial_load_recent = first is None or now - first[0] <= EXPIRY_SECS

    decisions = []
    for candidate in candidates:
        if candidate.url in live:
            if live[candidate.url] == candidate.signature:
                decisions.append(Decision(candidate, False, "loaded"))
            else:
                decisions.append(Decision(candidate, True, "changed"))
        elif now - candidate.last_modified <= EXPIRY_SECS:
            decisions.append(Decision(candidate, True, "new"))
        elif initial_load_recent:
            decisions.append(Decision(candidate, True, "known"))
        elif load_uncertain:
            decisions.append(Decision(candidate, True, "uncertain-allowed"))
        else:
            decisions.append(Decision(candidate, False, "uncertain"))
    return decisions


def record(conn: duckdb.DuckDBPyConnection, table: TableRef, loaded: list[Candidate], now: float) -> None:
    if not loaded:
        return
    files, tables = _ensure(conn, table.catalog)
    for candidate in loaded:
        conn.execute(
            f"DELETE FROM {files} WHERE schema_name = ? AND table_name = ? AND file_name = ?",
            [table.schema, table.name, candidate.url],
        )
        conn.execute(
            f"INSERT INTO {files} VALUES (?, ?, ?, ?, ?)",
            [table.schema, table.name, candidate.url, candidate.signature, now],
        )
    if not conn.execute(
        f"SELECT 1 FROM {tables} WHERE schema_name = ? AND table_name = ?", [table.schema, table.name]
    ).fetchone():
        conn.execute(f"INSERT INTO {tables} VALUES (?, ?, ?)", [table.schema, table.name, now])


def forget_table(conn: duckdb.DuckDBPyConnection, table: TableRef, new_table: bool) -> None:
    """Erase a table's load metadata (TRUNCATE; a new table under the name also forgets its
    initial load): its files load again."""
    files, tables = _ensure(conn, table.catalog)
    conn.execute(f"DELETE FROM {files} WHERE schema_name = ? AND table_name = ?", [table.schema, table.name])
    if new_table:
        conn.execute(f"DELETE FROM {tables} WHERE schema_name = ? AND table_name = ?", [table.schema, table.name])
    conn.execute(
        f'DELETE FROM "{table.catalog}"._fs_information_schema._fs_load_history WHERE SCHEMA_NAME = ? AND TABLE_NAME = ?',
        [table.schema, table.name],
    )
