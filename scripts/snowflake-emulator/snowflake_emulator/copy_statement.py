"""COPY INTO: where Snowflake and fakesnow disagree, and the translation between them.

Three things are corrected here (FILE_FORMAT and MATCH_BY_COLUMN_NAME handling are fakesnow's):

1. Which files a COPY from a `file://` named stage reads. Snowflake treats the path after the stage
   name as a recursive prefix and supports `PATTERN`; fakesnow lists only direct children of a
   directory, rejects `PATTERN`, and records a file loaded through `FILES` under a different
   load-history key than the same file loaded through a prefix (so it would load twice). The front
   therefore resolves the stage, lists the files itself, and hands fakesnow
   `FROM 'file:///<stage dir>/' FILES = (<paths relative to the stage>)`: every load of a file is
   then keyed by its absolute `file://` URL, however the COPY named it. Which of those files are
   loaded is decided with the emulator's own load metadata (load_metadata.py).
2. The result. Snowflake lists only the files it processed and, when there were none (all loaded
   before, or nothing matched), answers one row with one column:
   `status = "Copy executed with 0 files processed."`. fakesnow adds a `LOAD_SKIPPED` row per file
   that was loaded before; those rows are dropped, and an all-skipped result becomes the one-row
   shape.
3. FORCE. fakesnow takes any `FORCE` parameter as TRUE; `FORCE = FALSE` is the default behaviour
   (skip files loaded before), so a FORCE that is not TRUE is dropped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from snowflake_emulator.sql_errors import REMOTE_FILE_NOT_FOUND, StatementError
from snowflake_emulator.wire_values import Column, fixed_column, text_column

ZERO_FILES_STATUS = "Copy executed with 0 files processed."

# Snowflake's per-file COPY result columns, typed as Snowflake types them.
RESULT_COLUMNS: list[Column] = [
    text_column("file"),
    text_column("status"),
    fixed_column("rows_parsed"),
    fixed_column("rows_loaded"),
    fixed_column("error_limit"),
    fixed_column("errors_seen"),
    text_column("first_error"),
    fixed_column("first_error_line"),
    fixed_column("first_error_character"),
    text_column("first_error_column_name"),
]
ZERO_FILES_COLUMNS: list[Column] = [text_column("status")]

# (database, schema, stage name) -> the stage's URL, or None when there is no such stage.
StageResolver = Callable[[str, str, str], "str | None"]


@dataclass
class CopyPlan:
    """A COPY from a `file://` named stage, resolved: the stage directory, the files it names
    (relative to the stage), whether it forces a reload, and a template to render the statement
    for any subset of those files."""

    template: exp.Copy
    stage_dir: Path
    files: list[str]
    force: bool

    def url(self, relative: str) -> str:
        """The file's absolute URL: fakesnow's load-history key for it, and the result's `file`."""
        return f"{self.stage_dir.as_uri().rstrip('/')}/{relative}"

    def sql_for(self, files: list[str]) -> str:
        """The statement fakesnow runs: exactly `files`, with FORCE because the emulator already
        chose them (see load_metadata)."""
        rendered = self.template.copy()
        params = [
            exp.CopyParameter(
                this=exp.var("FILES"),
                expression=exp.Tuple(expressions=[exp.Literal.string(path) for path in files]),
            ),
            exp.CopyParameter(this=exp.var("FORCE"), expression=exp.true()),
            *rendered.args.get("params", []),
        ]
        rendered.set("params", params)
        return rendered.sql(dialect="snowflake")


def force_value(param: exp.CopyParameter | None) -> bool:
    """FORCE = TRUE forces; FORCE = FALSE (or no FORCE) does not."""
    if param is None:
        return False
    value = param.expression
    if isinstance(value, exp.Boolean):
        return bool(value.this)
    return value is not None and value.name.upper() == "TRUE"


def without_false_force(expression: exp.Copy) -> exp.Copy:
    """fakesnow treats any FORCE parameter as TRUE; drop a FORCE that is not TRUE."""
    params = list(expression.args.get("params") or [])
    kept = [
        param
        for param in params
        if not (isinstance(param.this, exp.Var) and param.this.name.upper() == "FORCE" and not force_value(param))
    ]
    if len(kept) == len(params):
        return expression
    rewritten = expression.copy()
    rewritten.set("params", kept)
    return rewritten


def plan_copy(
    expression: exp.Copy,
    current_database: str | None,
    current_schema: str | None,
    resolve_stage_url: StageResolver,
) -> CopyPlan | None:
    """Resolve a COPY from a `file://` named stage into its files; None for any other COPY."""
    source = expression.args["files"][0] if expression.args.get("files") else None
    if not isinstance(source, exp.Table) or not isinstance(source.this, exp.Var):
        return None  # a URL literal or a transformation subquery: fakesnow as is
    reference = source.this.name
    if not reference.startswith("@") or reference.startswith(("@%", "@~")) or '"' in reference:
        return None  # table and user stages, quoted names: fakesnow as is

    stage_name, _, from_path = reference[1:].partition("/")
    parts = [part.upper() for part in stage_name.split(".")]
    if len(parts) == 1 and current_database and current_schema:
        parts = [current_database, current_schema, *parts]
    elif len(parts) == 2 and current_database:
        parts = [current_database, *parts]
    if len(parts) != 3:
        return None  # fakesnow reports the missing database or schema
    url = resolve_stage_url(*parts)
    if not url or not url.lower().startswith("file://"):
        return None  # unknown stage (fakesnow reports it) or a cloud URL

    stage_dir = Path(unquote(urlparse(url).path))
    params: list[exp.CopyParameter] = list(expression.args.get("params") or [])
    named = {param.this.name.upper(): param for param in params if isinstance(param.this, exp.Var)}

    if files_param := named.get("FILES"):
        prefix = from_path.rstrip("/")
        listed = [lit.name for lit in files_param.find_all(exp.Literal)]
        relative = [f"{prefix}/{name.lstrip('/')}" if prefix else name.lstrip("/") for name in listed]
        for path in relative:
            if not (stage_dir / path).is_file():
                raise StatementError(
                    *REMOTE_FILE_NOT_FOUND,
                    f"Remote file '{stage_dir.as_uri()}/{path}' was not found. If you are running a copy "
                    "command, please make sure files are not deleted when they are being loaded or files "
                    "are not being loaded into two different tables concurrently with auto purge option.",
                )
    else:
        relative = _list_prefix(stage_dir, from_path)
        if pattern_param := named.get("PATTERN"):
            # The pattern applies to the path after the stage's own URL, and must match all of it.
            pattern = re.compile(pattern_param.expression.name)
            relative = [path for path in relative if pattern.fullmatch(path)]

    kept = [param for name, param in named.items() if name not in {"FILES", "PATTERN", "FORCE"}]
    kept += [param for param in params if not isinstance(param.this, exp.Var)]
    template = expression.copy()
    template.set("files", [exp.Table(this=exp.Literal.string(stage_dir.as_uri().rstrip("/") + "/"))])
    template.set("params", kept)
    return CopyPlan(template=template, stage_dir=stage_dir, files=relative, force=force_value(named.get("FORCE")))


def _list_prefix(stage_dir: Path, prefix: str) -> list[str]:
    """Every file under the stage whose path relative to it starts with `prefix`, sorted."""
    found: list[str] = []
    for root, _dirs, names in os.walk(stage_dir):
        for name in names:
            relative = (Path(root) / name).relative_to(stage_dir).as_posix()
            if relative.startswith(prefix):
                found.append(relative)
    return sorted(found)


def zero_files() -> tuple[list[Column], pa.Table]:
    return ZERO_FILES_COLUMNS, pa.table({"status": [ZERO_FILES_STATUS]})


def shape_result(table: pa.Table) -> tuple[list[Column], pa.Table]:
    """fakesnow's COPY result in Snowflake's shape: processed files only, or the one-row status."""
    if "status" not in table.column_names or "file" not in table.column_names:
        return zero_files()
    processed = table.filter(pc.not_equal(table.column("status"), "LOAD_SKIPPED"))
    if processed.num_rows == 0:
        return zero_files()
    return RESULT_COLUMNS, processed
