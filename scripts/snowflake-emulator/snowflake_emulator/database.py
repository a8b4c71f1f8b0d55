"""The fakesnow instance behind the emulator, in memory or persisted under `--db-path`.

fakesnow keeps each Snowflake database in its own DuckDB file (`<dir>/<DATABASE>.db`) when given a
directory, but it keeps stages, file formats and column metadata in a `_fs_global` catalog that is
always in memory, and it re-attaches a database file only when a connection names that database.
For data to survive a restart this module therefore:

* attaches `_fs_global` from `<dir>/_fs_global.db` instead of memory, so stages and file formats
  persist next to the tables;
* attaches every existing `<dir>/*.db` at start-up, so fully qualified names,
  `INFORMATION_SCHEMA.LOAD_HISTORY` and the COPY load metadata (kept inside each database, see
  load_metadata.py) work before any request names the database.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
from fakesnow import info_schema, macros
from fakesnow.instance import GLOBAL_DATABASE_NAME, FakeSnow
from fakesnow.transforms import show

log = logging.getLogger("snowflake_emulator.database")


def open_fakesnow(db_dir: Path | None) -> FakeSnow:
    # Snowflake fails a statement that needs a database or schema that does not exist rather than
    # creating it because a request named it, so fakesnow must not create them on connect.
    fake = FakeSnow(
        create_database_on_connect=False,
        create_schema_on_connect=False,
        db_path=db_dir,
    )
    if db_dir is not None:
        db_dir.mkdir(parents=True, exist_ok=True)
        _persist_global_catalog(fake.duck_conn, db_dir)
        for db_file in sorted(db_dir.glob("*.db")):
            if db_file.stem != GLOBAL_DATABASE_NAME:
                _attach_database(fake.duck_conn, db_file)
    return fake


def _persist_global_catalog(conn: duckdb.DuckDBPyConnection, db_dir: Path) -> None:
    conn.execute(f"DETACH {GLOBAL_DATABASE_NAME}")
    conn.execute(f"ATTACH '{_sql_path(db_dir / (GLOBAL_DATABASE_NAME + '.db'))}' AS {GLOBAL_DATABASE_NAME}")
    # The creation statements are all IF NOT EXISTS, so a reopened file keeps its rows.
    conn.execute(info_schema.fs_global_creation_sql())
    conn.execute(show.fs_global_creation_sql())


def _attach_database(conn: duckdb.DuckDBPyConnection, db_file: Path) -> None:
    name = db_file.stem
    conn.execute(f"ATTACH IF NOT EXISTS '{_sql_path(db_file)}' AS {name}")
    conn.execute(info_schema.per_db_creation_sql(name))
    conn.execute(macros.creation_sql(name))
    log.info("reopened database %s from %s", name, db_file)


def _sql_path(path: Path) -> str:
    return str(path.resolve()).replace("'", "''")
