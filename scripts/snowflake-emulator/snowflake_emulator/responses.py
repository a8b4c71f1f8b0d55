"""SQL API v2 response bodies, in the shapes of Snowflake's documented examples and of the
published OpenAPI spec (snowflakedb/snowflake-rest-api-specs `specifications/sqlapi.yaml`; the
tests validate every answer against its schemas).

Owns what a statement's state looks like on the wire: 200 `ResultSet` with `resultSetMetaData`,
`data`, `code` 090001, `statementStatusUrl`, `requestId`, `sqlState`, `statementHandle`,
`message`, `createdOn` and (DML) `stats` on partition 0, `data` alone for a later partition; 202
`QueryStatus` (`333334`) while running; 422 `QueryFailureStatus` with `code`/`sqlState`/`message`/
`statementHandle` (the spec requires `message` and `statementHandle`, so an unknown handle is
answered with that handle); 408 `QueryStatus` for a timeout; the cancel acknowledgement
(`CancelStatus`); and the partition `Link` header.

Differences from the spec, each following what Snowflake sends:

* `rowType` entries carry `null` for `length`, `precision`, `scale` and `byteLength` where they
  do not apply, as the docs' examples show ("Handling responses",
  docs.snowflake.com/en/developer-guide/sql-api/handling-responses), where the spec types them as
  integers.
* `requestId` on a 200: not in the spec's ResultSet; SQL API v2 clients that run against real
  accounts deserialize it as a required member of the result.
* DML `stats` name the MERGE duplicate count `numDmlDuplicates`, not the spec's
  `numDuplicateRowsUpdated` (see engine.py's `_dml_stats`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from snowflake_emulator.sql_errors import CANCELED, STATEMENT_NOT_FOUND, TIMED_OUT
from snowflake_emulator.statements import State, Statement

STATEMENTS_PATH = "/api/v2/statements"

SUCCESS_CODE = "090001"
SUCCESS_MESSAGE = "Statement executed successfully."
RUNNING_CODE = "333334"
RUNNING_MESSAGE = (
    "Asynchronous execution in progress. Use provided query id to perform query monitoring and management."
)
CANCELED_MESSAGE = "SQL execution canceled"


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    gzip_allowed: bool = False  # Snowflake gzips partitions after the first when the client accepts it


def status_url(handle: str, request_id: str | None = None) -> str:
    return f"{STATEMENTS_PATH}/{handle}" + (f"?requestId={request_id}" if request_id else "")


def for_statement(statement: Statement, partition: int, partition_rows: int, held: bool = False) -> Reply:
    """The reply for a statement's current state, as both POST and GET give it."""
    if held or not statement.is_finished:
        return running(statement)
    if statement.state == State.SUCCEEDED:
        return succeeded(statement, partition, partition_rows)
    if statement.state == State.TIMED_OUT:
        code, sql_state = TIMED_OUT
        message = (
            f"Statement reached its statement or warehouse timeout of {statement.timeout_secs} second(s) "
            "and was canceled."
        )
        return Reply(408, _status_body(statement, code, sql_state, message))
    if statement.state == State.CANCELED:
        return Reply(422, _status_body(statement, *CANCELED, CANCELED_MESSAGE))
    assert statement.error is not None
    error = statement.error
    return Reply(422, _status_body(statement, error.code, error.sql_state, error.message))


def running(statement: Statement) -> Reply:
    return Reply(
        202,
        {
            "code": RUNNING_CODE,
            "message": RUNNING_MESSAGE,
            "statementHandle": statement.handle,
            "statementStatusUrl": status_url(statement.handle),
        },
    )


def succeeded(statement: Statement, partition: int, partition_rows: int) -> Reply:
    result = statement.result
    assert result is not None
    partitions = _partitions(result.rows, partition_rows)
    if not 0 <= partition < len(partitions):
        # UNVERIFIED: Snowflake's answer to a partition past the end; 422 with an explicit message.
        return Reply(
            422,
            _status_body(
                statement,
                "000606",
                "22023",
                f"Invalid partition number {partition}: the result has {len(partitions)} partition(s).",
            ),
        )
    data = [_nulls_as_text(row) for row in partitions[partition]] if not statement.nullable else partitions[partition]
    headers = {"Link": _link_header(statement.handle, partition, len(partitions))}
    if partition > 0:
        return Reply(200, {"data": data}, headers, gzip_allowed=True)

    body: dict[str, Any] = {
        "resultSetMetaData": {
            "numRows": len(result.rows),
            "format": "jsonv2",
            "rowType": [column.row_type() for column in result.columns],
            "partitionInfo": [
                {"rowCount": len(rows), "uncompressedSize": len(json.dumps(rows, separators=(",", ":")))}
                for rows in partitions
            ],
        },
        "data": data,
        "code": SUCCESS_CODE,
        "statementStatusUrl": status_url(statement.handle, statement.request_id),
        "requestId": statement.request_id,
        "sqlState": "00000",
        "statementHandle": statement.handle,
        "message": SUCCESS_MESSAGE,
        "createdOn": statement.created_on_ms,
    }
    if result.stats is not None:
        body["stats"] = result.stats
    if statement.child_handles is not None:
        body["statementHandles"] = list(statement.child_handles)
    return Reply(200, body, headers)


def cancel_acknowledged(statement: Statement) -> Reply:
    return Reply(200, _status_body(statement, *CANCELED, CANCELED_MESSAGE))


def handle_not_found(handle: str) -> Reply:
    code, sql_state = STATEMENT_NOT_FOUND
    return Reply(
        422, {"code": code, "sqlState": sql_state, "message": f"Statement {handle} not found", "statementHandle": handle}
    )


def _status_body(statement: Statement, code: str, sql_state: str, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "sqlState": sql_state,
        "message": message,
        "statementHandle": statement.handle,
        "statementStatusUrl": status_url(statement.handle),
        "createdOn": statement.created_on_ms,
    }


def _partitions(rows: list[list[str | None]], partition_rows: int) -> list[list[list[str | None]]]:
    # An empty result is still one (empty) partition, so partition 0 always exists.
    return [rows[start : start + partition_rows] for start in range(0, len(rows), partition_rows)] or [[]]


def _nulls_as_text(row: list[str | None]) -> list[str]:
    return ["null" if value is None else value for value in row]


def _link_header(handle: str, partition: int, count: int) -> str:
    def link(number: int, rel: str) -> str:
        return f'<{STATEMENTS_PATH}/{handle}?partition={number}>; rel="{rel}"'

    links = [link(0, "first")]
    if partition > 0:
        links.append(link(partition - 1, "prev"))
    if partition + 1 < count:
        links.append(link(partition + 1, "next"))
    links.append(link(count - 1, "last"))
    return ",".join(links)
