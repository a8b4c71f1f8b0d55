"""Snowflake statement errors: the (code, sqlState, message) triple of a 422, and how the
exceptions raised by fakesnow and DuckDB map onto it.

fakesnow already raises `snowflake.connector` errors with Snowflake error numbers and SQL states
for most failures; this module keeps those, rewrites the one message that clients commonly match
on (a missing table), and gives the exceptions fakesnow lets through a Snowflake-like triple
instead of an HTTP 500, which Snowflake never answers for a SQL problem.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import duckdb
import snowflake.connector.errors

log = logging.getLogger("snowflake_emulator.sql")


@dataclass
class StatementError(Exception):
    """A statement failed: answered as HTTP 422 with these fields."""

    code: str
    sql_state: str
    message: str

    def __str__(self) -> str:
        return f"{self.code} ({self.sql_state}): {self.message}"


class StatementInterrupted(Exception):
    """DuckDB stopped the statement because it was cancelled or reached its timeout."""


# Error triples the emulator produces itself. Codes marked UNVERIFIED are the documented-most-likely
# choice where no primary source gives them.
SYNTAX_ERROR = ("001003", "42000")
OBJECT_NOT_FOUND = ("002003", "42S02")
STATEMENT_NOT_FOUND = ("000709", "02000")
CANCELED = ("000604", "57014")
TIMED_OUT = ("000630", "57014")
# UNVERIFIED: the count-mismatch message is recorded from Snowflake, its code 000008 is seen in a
# recording and 0A000 is the most likely SQL state.
STATEMENT_COUNT_MISMATCH = ("000008", "0A000")
# A multi-statement failure is reported by Snowflake's SYSTEM$MULTISTMT wrapper with this pair; the
# real code is only in the message text.
MULTI_STATEMENT_FAILED = ("100132", "P0000")
# Recorded from Snowflake: BEGIN, COMMIT or ROLLBACK sent alone.
COMMAND_NOT_SUPPORTED = ("391911", "0A000")
# Something Snowflake accepts but fakesnow does not implement.
UNSUPPORTED_FEATURE = ("000002", "0A000")
# UNVERIFIED code; Snowflake's message text for a FILES entry that is not on the stage.
REMOTE_FILE_NOT_FOUND = ("091016", "22000")
NOT_NULL_VIOLATION = ("100072", "22000")
NUMERIC_NOT_RECOGNIZED = ("100038", "22018")
BINDING_NOT_RECOGNIZED = ("100037", "22018")
# Snowflake's answer to a query or DML statement in a session without a warehouse.
NO_ACTIVE_WAREHOUSE = ("000606", "57P03")
NO_ACTIVE_WAREHOUSE_MESSAGE = (
    "No active warehouse selected in the current session.  Select an active warehouse with the 'use warehouse' command."
)
# UNVERIFIED code and state: a session parameter given a value Snowflake does not accept.
INVALID_PARAMETER_VALUE = ("002146", "22023")
# "Cannot perform <COMMAND>. This session does not have a current database|schema." (recorded
# driver output: 090105 for the database, 090106 for the schema).
NO_CURRENT_DATABASE = ("090105", "22000")
NO_CURRENT_SCHEMA = ("090106", "22000")
# "SQL access control error:\nInsufficient privileges to operate on <kind> '<name>'", as drivers
# print it for CREATE SCHEMA IF NOT EXISTS without the privilege (see access_control.py).
INSUFFICIENT_PRIVILEGES = ("003001", "42501")
# "SQL compilation error:\nObject does not exist, or operation cannot be performed." for USE of an
# object that is not there.
OBJECT_DOES_NOT_EXIST_OR_CANNOT_OPERATE = ("002043", "02000")
# "<Kind> '<name>' does not exist or not authorized." at compile time.
OBJECT_NOT_AUTHORIZED = ("002003", "02000")
# A role the request names that the user does not have: Snowflake's login error (see access_control.py).
ROLE_NOT_AUTHORIZED = ("390189", "08004")
# UNVERIFIED state: a Parquet value that does not fit the target column ("Timestamp '...' is not recognized").
TIMESTAMP_NOT_RECOGNIZED = ("100035", "22007")

DUCKDB_MISSING_TABLE = re.compile(r"Table with name (\S+) does not exist")


def from_exception(error: BaseException) -> StatementError:
    """The Snowflake error for an exception raised while fakesnow ran a statement."""
    if isinstance(error, StatementError):
        return error
    if isinstance(error, snowflake.connector.errors.Error):
        code = f"{error.errno:06d}" if isinstance(error.errno, int) and error.errno > 0 else UNSUPPORTED_FEATURE[0]
        # raw_msg: the connector prefixes msg with "<code> (<state>): <query id>:", which the
        # SQL API keeps in separate fields.
        message = getattr(error, "raw_msg", None) or error.msg or str(error)
        if code == OBJECT_NOT_FOUND[0] and (missing := DUCKDB_MISSING_TABLE.search(message)):
            # Snowflake's wording, which loaders (dlt, for one) recognise by text.
            message = f"SQL compilation error:\nObject '{missing.group(1)}' does not exist or not authorized."
        return StatementError(code, error.sqlstate or "", message)
    if isinstance(error, duckdb.ConstraintException):
        return StatementError(*NOT_NULL_VIOLATION, first_line(error))
    if isinstance(error, (duckdb.ConversionException, duckdb.InvalidInputException)):
        return StatementError(*NUMERIC_NOT_RECOGNIZED, first_line(error))
    if isinstance(error, duckdb.CatalogException):
        return StatementError(*OBJECT_NOT_FOUND, first_line(error))
    if isinstance(error, duckdb.ParserException):
        return StatementError(*SYNTAX_ERROR, first_line(error))
    log.error("statement failed inside fakesnow", exc_info=error)
    return StatementError(*UNSUPPORTED_FEATURE, f"Unsupported feature in the local emulator: {first_line(error)}")


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
