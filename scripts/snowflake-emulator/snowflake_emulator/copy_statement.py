"""COPY INTO from a named external stage: which files it names, and Snowflake's result shape.

Every COPY from a named stage whose URL is `file://` or `s3://` goes through the emulator's own
COPY layer, whatever its form: `@STAGE`, `@"DB"."RAW"."STAGE"` (what the loader sends),
`@db.raw.stage`, with a path after the name, with `FILES = (...)` or `PATTERN = '...'`. The layer:

1. Resolves the stage (stage_storage.py): an unknown stage is `002003` "Stage '<DB>.<SCHEMA>.
   <NAME>' does not exist or not authorized.".
2. Lists the files the COPY names. Snowflake treats the path after the stage name as a recursive
   prefix; `FILES` names are relative to that path and each must exist, else the statement fails
   with Snowflake's "Remote file '<url>' was not found. ..." (`091016`, code UNVERIFIED) and loads
   nothing; `PATTERN` filters the listing (see stage_storage.py for what it is matched against).
3. Decides which files to load from the load metadata (load_metadata.py: content signatures,
   the 64-day rule, `FORCE`, `LOAD_UNCERTAIN_FILES`).
4. Hands fakesnow exactly those files, with FORCE, as `FROM 'file:///<dir>/' FILES = (...)`: the
   stage's own directory, or (S3 stages, and Parquet whose timestamps must be read raw, see
   file_formats.py) a scratch directory holding downloaded or rewritten copies. The result's
   `file` column and INFORMATION_SCHEMA.LOAD_HISTORY then name each file by its stage URL
   (`s3://bucket/prefix/vendor/b1/part-00000.parquet`), however it was read.

Table stages, the user stage, internal named stages, URL literals and transformation subqueries
(`FROM (SELECT ... FROM @stage)`) stay fakesnow's.

The result: Snowflake lists only the files it processed and, when there were none (all loaded
before, uncertain, or nothing matched), answers one row with one column:
`status = "Copy executed with 0 files processed."`. fakesnow's `LOAD_SKIPPED` rows are dropped.
`FORCE = FALSE` is no force (fakesnow takes any FORCE as TRUE, so a FORCE that is not TRUE is
dropped before fakesnow sees the statement), and `LOAD_UNCERTAIN_FILES` never reaches fakesnow.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from snowflake_emulator.sql_errors import OBJECT_NOT_AUTHORIZED, StatementError
from snowflake_emulator.stage_storage import (
    StagedFile,
    StageName,
    StageStorage,
    file_url,
    matches,
    missing_file_error,
    parse_stage_reference,
    resolve_stage_name,
)
from snowflake_emulator.wire_values import Column, fixed_column, text_column

ZERO_FILES_STATUS = "Copy executed with 0 files processed."
# Parameters the emulator's COPY layer consumes; fakesnow never sees them.
CONSUMED_PARAMETERS = {"FILES", "PATTERN", "FORCE", "LOAD_UNCERTAIN_FILES"}

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

# A named stage's storage, or None for an internal stage; raises the Snowflake error for a stage
# that does not exist.
StageOpener = Callable[[StageName], "StageStorage | None"]


@dataclass
class CopyPlan:
    """A COPY from a named external stage, resolved: the store, the files the statement names,
    its force options, and a template to render the statement fakesnow runs."""

    template: exp.Copy
    stage: StageName
    storage: StageStorage
    files: list[StagedFile]
    force: bool
    load_uncertain: bool
    match_by_column_name: str

    def url(self, staged: StagedFile) -> str:
        """The file's URL under the stage: its load-metadata key and the result's `file`."""
        return file_url(self.storage, staged.relative)

    def sql_for(self, directory_url: str, relative_paths: list[str]) -> str:
        """The statement fakesnow runs: exactly these files of `directory_url`, with FORCE
        because the emulator already chose them (see load_metadata)."""
        rendered = self.template.copy()
        rendered.set("files", [exp.Table(this=exp.Literal.string(directory_url))])
        params = [
            exp.CopyParameter(
                this=exp.var("FILES"),
                expression=exp.Tuple(expressions=[exp.Literal.string(path) for path in relative_paths]),
            ),
            exp.CopyParameter(this=exp.var("FORCE"), expression=exp.true()),
            *rendered.args.get("params", []),
        ]
        rendered.set("params", params)
        return rendered.sql(dialect="snowflake")


def bool_value(param: exp.CopyParameter | None) -> bool:
    """`X = TRUE` is true; `X = FALSE` (or no X) is not."""
    if param is None:
        return False
    value = param.expression
    if isinstance(value, exp.Boolean):
        return bool(value.this)
    return value is not None and value.name.upper() == "TRUE"


def without_emulator_parameters(expression: exp.Copy) -> exp.Copy:
    """For a COPY left to fakesnow: drop a FORCE that is not TRUE (fakesnow takes any FORCE as
    TRUE) and LOAD_UNCERTAIN_FILES (fakesnow keeps no load-metadata age)."""
    params = list(expression.args.get("params") or [])
    kept = [
        param
        for param in params
        if not (
            isinstance(param.this, exp.Var)
            and (
                (param.this.name.upper() == "FORCE" and not bool_value(param))
                or param.this.name.upper() == "LOAD_UNCERTAIN_FILES"
            )
        )
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
    open_stage: StageOpener,
) -> CopyPlan | None:
    """Resolve a COPY from a named external stage into its files; None for any other COPY."""
    source = expression.args["files"][0] if expression.args.get("files") else None
    if not isinstance(source, exp.Table) or not isinstance(source.this, exp.Var):
        return None  # a URL literal or a transformation subquery: fakesnow as is
    reference = parse_stage_reference(source.this.name)
    if reference is None:
        return None  # table and user stages: fakesnow as is
    stage = resolve_stage_name(reference, current_database, current_schema)
    storage = open_stage(stage)
    if storage is None:
        return None  # an internal stage: fakesnow as is

    params: list[exp.CopyParameter] = list(expression.args.get("params") or [])
    named = {param.this.name.upper(): param for param in params if isinstance(param.this, exp.Var)}

    if files_param := named.get("FILES"):
        prefix = reference.path.rstrip("/")
        listed = [literal.name for literal in files_param.find_all(exp.Literal)]
        files = []
        for name in listed:
            relative = f"{prefix}/{name.lstrip('/')}" if prefix else name.lstrip("/")
            staged = storage.stat(relative)
            if staged is None:
                raise missing_file_error(file_url(storage, relative))
            files.append(staged)
    else:
        files = storage.list(reference.path)
        if pattern_param := named.get("PATTERN"):
            pattern = re.compile(pattern_param.expression.name)
            files = [staged for staged in files if matches(pattern, storage, staged)]

    match_param = named.get("MATCH_BY_COLUMN_NAME")
    match_by_column_name = match_param.expression.name.upper() if match_param is not None else "NONE"
    template = expression.copy()
    template.set(
        "params",
        [param for param in params if not (isinstance(param.this, exp.Var) and param.this.name.upper() in CONSUMED_PARAMETERS)],
    )
    return CopyPlan(
        template=template,
        stage=stage,
        storage=storage,
        files=files,
        force=bool_value(named.get("FORCE")),
        load_uncertain=bool_value(named.get("LOAD_UNCERTAIN_FILES")),
        match_by_column_name=match_by_column_name,
    )


def stage_not_found(stage: StageName) -> StatementError:
    return StatementError(
        *OBJECT_NOT_AUTHORIZED, f"SQL compilation error:\nStage '{stage.qualified()}' does not exist or not authorized."
    )


def zero_files() -> tuple[list[Column], pa.Table]:
    return ZERO_FILES_COLUMNS, pa.table({"status": [ZERO_FILES_STATUS]})


def shape_result(table: pa.Table, renamed: dict[str, str] | None = None) -> tuple[list[Column], pa.Table]:
    """fakesnow's COPY result in Snowflake's shape: processed files only (named by their stage
    URL when `renamed` maps the URLs fakesnow read), or the one-row status."""
    if "status" not in table.column_names or "file" not in table.column_names:
        return zero_files()
    processed = table.filter(pc.not_equal(table.column("status"), "LOAD_SKIPPED"))
    if processed.num_rows == 0:
        return zero_files()
    if renamed:
        names = [renamed.get(name, name) for name in processed.column("file").to_pylist()]
        processed = processed.set_column(processed.schema.get_field_index("file"), "file", pa.array(names, pa.string()))
    return RESULT_COLUMNS, processed
