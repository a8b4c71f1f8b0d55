"""Running a planned COPY (copy_statement.py): choose files by load metadata, put them where
fakesnow can read them, run fakesnow's COPY on exactly those, name them by their stage URL, and
record what was loaded.

Where fakesnow reads the files from:

* a `file://` stage whose files need no change: the stage's directory itself;
* an S3 stage: a scratch directory the chosen objects are downloaded to (deleted after the
  statement);
* Parquet read without logical types (file_formats.py): a scratch directory holding copies whose
  TIMESTAMP and TIME columns are rewritten as raw integers. Before that rewrite, a COPY by column
  name whose raw timestamps would land in a TIMESTAMP, TIME or DATE column fails (`100035`).

Runs inside the COPY's own transaction (engine.py), so a failure anywhere leaves neither rows nor
load metadata behind.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from snowflake_emulator import file_formats, load_metadata
from snowflake_emulator.clock import EmulatorClock
from snowflake_emulator.copy_statement import CopyPlan
from snowflake_emulator.load_metadata import Candidate, TableRef

# Runs a rendered COPY on fakesnow; the second argument maps the URLs fakesnow reads to the
# stage URLs the result must show. Returns the statement's result.
FakesnowCopy = Callable[[str, dict[str, str]], Any]


def run_copy(
    plan: CopyPlan,
    table: TableRef,
    duck: duckdb.DuckDBPyConnection,
    options: dict[str, Any],
    clock: EmulatorClock,
    run_fakesnow: FakesnowCopy,
    zero_files: Callable[[], Any],
) -> Any:  # noqa: ANN401 - the engine's StatementResult
    now = clock.now()
    # A file's LAST_MODIFIED is a wall-clock time: on the emulator's clock it is as old as if the
    # emulator had waited through every advance since it was written.
    candidates = [
        Candidate(plan.url(staged), staged.signature, clock.to_emulated(staged.last_modified)) for staged in plan.files
    ]
    decisions = load_metadata.decide(duck, table, candidates, now, plan.force, plan.load_uncertain)
    chosen = [staged for staged, decision in zip(plan.files, decisions, strict=True) if decision.load]
    if not chosen:
        return zero_files()
    raw_temporals = file_formats.needs_raw_temporals(options)
    with tempfile.TemporaryDirectory(prefix="snowflake-emulator-copy-") as scratch:
        directory = _readable_directory(plan, chosen, raw_temporals, Path(scratch), table, duck)
        directory_url = directory.as_uri().rstrip("/") + "/"
        renamed = {
            directory_url + staged.relative: plan.url(staged)
            for staged in chosen
            if directory_url + staged.relative != plan.url(staged)
        }
        result = run_fakesnow(plan.sql_for(directory_url, [staged.relative for staged in chosen]), renamed)
        for read_url, stage_url in renamed.items():
            duck.execute(
                f'UPDATE "{table.catalog}"._fs_information_schema._fs_load_history SET FILE_NAME = ? '
                "WHERE FILE_NAME = ? AND SCHEMA_NAME = ? AND TABLE_NAME = ?",
                [stage_url, read_url, table.schema, table.name],
            )
    load_metadata.record(
        duck,
        table,
        [candidate for candidate, decision in zip(candidates, decisions, strict=True) if decision.load],
        now,
    )
    return result


def _readable_directory(
    plan: CopyPlan,
    chosen: list[Any],
    raw_temporals: bool,
    scratch: Path,
    table: TableRef,
    duck: duckdb.DuckDBPyConnection,
) -> Path:
    stage_root = plan.storage.local_path("")
    if stage_root is not None and not (
        raw_temporals and any(file_formats.temporal_columns(stage_root / staged.relative) for staged in chosen)
    ):
        return stage_root
    readable = scratch / "read"
    target_types: dict[str, str] | None = None
    for staged in chosen:
        destination = readable / staged.relative
        plan.storage.copy_to(staged.relative, destination)
        if raw_temporals and file_formats.temporal_columns(destination):
            if plan.match_by_column_name != "NONE":
                if target_types is None:
                    target_types = _column_types(duck, table)
                file_formats.refuse_raw_temporal_targets(
                    destination,
                    plan.url(staged),
                    table.name,
                    target_types,
                    case_insensitive=plan.match_by_column_name == "CASE_INSENSITIVE",
                )
            rewritten = destination.with_name(destination.name + ".raw")
            file_formats.rewrite_with_raw_temporals(destination, rewritten)
            rewritten.replace(destination)
    return readable


def _column_types(duck: duckdb.DuckDBPyConnection, table: TableRef) -> dict[str, str]:
    rows = duck.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = ? AND schema_name = ? AND table_name = ? ORDER BY column_index",
        [table.catalog, table.schema, table.name],
    ).fetchall()
    return {name: str(kind) for name, kind in rows}

