"""The emulator's replacements for fakesnow transforms, installed once at import of the engine.

fakesnow's cursor looks its transforms up on the `fakesnow.transforms` package on every statement,
so a replacement set there applies to every statement the emulator runs:

* `numeric_agg_implicit_cast`: SUM and AVG keep exact decimals (see aggregates.py).
* `extract_comment_on_table`: fakesnow records a table comment for every CREATE TABLE that has any
  property (TEMPORARY, TRANSIENT), writing the text "None" into its global catalog when there is
  no comment. That write lands in the `_fs_global` database, and DuckDB lets one transaction write
  to one database only, so it broke every MERGE (whose temporary `merge_candidates` table is such
  a CREATE) run inside the statement's own transaction. A CREATE without a comment records none.
"""

from __future__ import annotations

from fakesnow import transforms
from fakesnow.transforms import transforms as fakesnow_transforms
from sqlglot import Expr

from snowflake_emulator import aggregates

_fakesnow_extract_comment_on_table = fakesnow_transforms.extract_comment_on_table


def extract_comment_on_table(expression: Expr) -> Expr:
    transformed = _fakesnow_extract_comment_on_table(expression)
    table_comment = transformed.args.get("table_comment")
    if table_comment is not None and table_comment[1] is None:
        del transformed.args["table_comment"]
    return transformed


def install() -> None:
    transforms.numeric_agg_implicit_cast = aggregates.exact_numeric_aggregates
    transforms.extract_comment_on_table = extract_comment_on_table
