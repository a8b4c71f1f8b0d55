"""MERGE: the nondeterministic-merge check fakesnow lacks.

Snowflake's ERROR_ON_NONDETERMINISTIC_MERGE is TRUE by default, and its MERGE docs define when a
merge is deterministic, for each target row joined by several source rows: either one or more of
those source rows satisfy WHEN MATCHED ... DELETE clauses and no other satisfies any WHEN MATCHED
clause, or exactly one satisfies a WHEN MATCHED ... UPDATE clause and no other satisfies any WHEN
MATCHED clause. Any other target row joined by two or more source rows fails the statement with
`100090` / `42P18` "Duplicate row detected during DML action", and nothing changes. WHEN NOT
MATCHED (insert) rows never involve a target row, so an insert-only MERGE never fails this way.
fakesnow instead lets one of the source rows win silently.

The check is one query run before the merge, inside the same transaction: the target joined to
the MERGE's own source (so a source that removes its duplicates, e.g. with
`QUALIFY ROW_NUMBER() ... = 1`, passes), each pair labelled with the first WHEN MATCHED clause it
satisfies, grouped by the target row (DuckDB's `rowid`).

Guesses (undocumented): a target row joined by several source rows none of which satisfies a WHEN
MATCHED clause fails too (neither deterministic case of the docs holds; the harsher reading).
Snowflake's message carries a second line `Row Values: [...]` with the target row; the emulator's
message is the first line only.
"""

from __future__ import annotations

from sqlglot import exp

from snowflake_emulator.sql_errors import StatementError

DUPLICATE_ROW = ("100090", "42P18")
DUPLICATE_ROW_MESSAGE = "Duplicate row detected during DML action"

UPDATE_OP = "U"
DELETE_OP = "D"


def duplicate_check_sql(merge: exp.Merge) -> str | None:
    """A Snowflake-dialect query counting target rows the merge would change nondeterministically;
    None when the merge has no WHEN MATCHED clause (nothing to check)."""
    cases: list[tuple[exp.Expr, str]] = []
    for when in merge.args["whens"]:
        if not when.args.get("matched"):
            continue
        condition = when.args.get("condition")
        op = UPDATE_OP if isinstance(when.args.get("then"), exp.Update) else DELETE_OP
        cases.append((condition.copy() if condition is not None else exp.true(), op))
    if not cases:
        return None

    target = merge.this
    if not isinstance(target, exp.Table):
        return None
    source = merge.args["using"]
    on = merge.args["on"]
    target_ref = target.alias_or_name
    case = exp.Case(ifs=[exp.If(this=condition, true=exp.Literal.string(op)) for condition, op in cases])
    pairs = (
        exp.select(
            exp.alias_(exp.column("ROWID", table=target_ref), "FS_TARGET_ROW"),
            exp.alias_(case, "FS_MERGE_OP"),
        )
        .from_(target.copy())
        .join(source.copy(), on=on.copy(), join_type="inner")
    )
    updates, deletes = f"COUNT_IF(FS_MERGE_OP = '{UPDATE_OP}')", f"COUNT_IF(FS_MERGE_OP = '{DELETE_OP}')"
    deterministic = f"({deletes} >= 1 AND {updates} = 0) OR ({updates} = 1 AND {deletes} = 0)"
    duplicates = (
        exp.select("FS_TARGET_ROW")
        .from_(pairs.subquery("FS_PAIRS"))
        .group_by("FS_TARGET_ROW")
        .having(f"COUNT(*) > 1 AND NOT ({deterministic})")
    )
    return exp.select("COUNT(*)").from_(duplicates.subquery("FS_DUPLICATES")).sql(dialect="snowflake")


def duplicate_row_error() -> StatementError:
    return StatementError(*DUPLICATE_ROW, DUPLICATE_ROW_MESSAGE)
