"""SUM and AVG of NUMBER: exact decimals, typed as Snowflake types them.

fakesnow wraps the argument of SUM and AVG in `TRY_CAST(... AS DOUBLE)` (so that VARCHAR
arguments work), which turns every SUM of NUMBER(38,2) into a FLOAT with binary rounding errors
("1234.5600000001"). Snowflake computes both in fixed point:

* SUM of NUMBER(p,s) is NUMBER(38,s) (DuckDB's SUM of a DECIMAL already is), of FLOAT is FLOAT.
* AVG of NUMBER(p,s): Snowflake's docs show AVG of integers as NUMBER with 6 decimals
  (`1.666667`, `3.600000`) and give the division rule "scale = max(S1, min(S1 + 6, 12))". The
  emulator applies that rule to AVG: scale max(s, min(s + 6, 12)), precision 38, rounded half away
  from zero. Guess: the rule for s > 0 is taken from division, not documented for AVG itself.

How: the emulator replaces fakesnow's transform (`numeric_agg_implicit_cast`) by one that keeps
SUM's and AVG's argument as it is. DuckDB's AVG of a DECIMAL is a DOUBLE, so an AVG that is a
column of the statement's outermost SELECT is rewritten to a struct of its exact SUM and COUNT,
and the engine turns that column into the decimal average (`finish_averages`). An AVG elsewhere
(inside an expression, a window, a subquery, an INSERT ... SELECT) stays DuckDB's DOUBLE.

Differences kept: SUM or AVG of a VARCHAR fails (Snowflake casts the text to a number), and the
other numeric aggregates (VARIANCE, STDDEV, ...) keep fakesnow's DOUBLE cast.
"""

from __future__ import annotations

import decimal
from decimal import Decimal

import pyarrow as pa
from fakesnow.transforms import transforms as fakesnow_transforms
from sqlglot import Expr, exp

from snowflake_emulator.wire_values import Column, fixed_column

SUM_FIELD = "__fs_avg_sum"
COUNT_FIELD = "__fs_avg_count"
MAX_PRECISION = 38

_fakesnow_numeric_agg_cast = fakesnow_transforms.numeric_agg_implicit_cast


def exact_numeric_aggregates(expression: Expr) -> Expr:
    """fakesnow's transform, except for SUM and AVG, which keep their argument's type."""
    if not isinstance(expression, (exp.Sum, exp.Avg)):
        return _fakesnow_numeric_agg_cast(expression)
    projected = isinstance(expression.parent, exp.Select) or (
        isinstance(expression.parent, exp.Alias) and isinstance(expression.parent.parent, exp.Select)
    )
    name = None
    if not isinstance(expression.parent, exp.Alias):
        # fakesnow's name for an unaliased aggregate ("SUM(AMOUNT)"), which Snowflake also uses.
        name = fakesnow_transforms._numeric_agg_col_name(expression, expression.this)  # noqa: SLF001
    result: Expr = expression
    if isinstance(expression, exp.Avg) and projected and _is_outermost(expression):
        argument = expression.this
        result = exp.Struct(
            expressions=[
                exp.PropertyEQ(this=exp.Identifier(this=SUM_FIELD), expression=exp.Sum(this=argument.copy())),
                exp.PropertyEQ(this=exp.Identifier(this=COUNT_FIELD), expression=exp.Count(this=argument.copy())),
            ]
        )
    if name and isinstance(expression.parent, exp.Select):
        return exp.alias_(result, name, quoted=True)
    return result


def _is_outermost(expression: Expr) -> bool:
    select = expression.find_ancestor(exp.Select)
    return select is not None and select.parent is None


def finish_averages(table: pa.Table, columns: list[Column]) -> tuple[pa.Table, list[Column]]:
    """Turn every SUM/COUNT struct column into the exact average, typed NUMBER(38, scale)."""
    for index, field in enumerate(table.schema):
        kind = field.type
        if not _is_average_struct(kind):
            continue
        sum_type = kind.field(SUM_FIELD).type
        pairs = table.column(index).to_pylist()
        if pa.types.is_floating(sum_type):
            values = [
                None if pair is None or not pair[COUNT_FIELD] else pair[SUM_FIELD] / pair[COUNT_FIELD]
                for pair in pairs
            ]
            array: pa.Array = pa.array(values, type=pa.float64())
            column = Column(field.name, "real", nullable=True)
        else:
            input_scale = sum_type.scale if pa.types.is_decimal(sum_type) else 0
            scale = max(input_scale, min(input_scale + 6, 12))
            quantum = Decimal(1).scaleb(-scale)
            context = decimal.Context(prec=80, rounding=decimal.ROUND_HALF_UP)
            values = [
                None
                if pair is None or not pair[COUNT_FIELD]
                else context.divide(Decimal(pair[SUM_FIELD]), Decimal(pair[COUNT_FIELD])).quantize(
                    quantum, context=context
                )
                for pair in pairs
            ]
            array = pa.array(values, type=pa.decimal128(MAX_PRECISION, scale))
            column = fixed_column(field.name, MAX_PRECISION, scale)
        table = table.set_column(index, pa.field(field.name, array.type), array)
        columns = [*columns[:index], column, *columns[index + 1 :]]
    return table, columns


def _is_average_struct(kind: pa.DataType) -> bool:
    return pa.types.is_struct(kind) and {kind.field(i).name for i in range(kind.num_fields)} == {SUM_FIELD, COUNT_FIELD}
