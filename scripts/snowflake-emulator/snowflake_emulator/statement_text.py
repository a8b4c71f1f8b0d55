"""Splitting a request's `statement` text into statements, and telling each statement's kind.

Snowflake counts the statements of a request to check `MULTI_STATEMENT_COUNT`, so the split must
respect quoting: semicolons inside strings, quoted identifiers, `$$` bodies and comments do not
end a statement. sqlglot's Snowflake tokenizer already knows those rules; a statement is the text
from its first token to its last before a top-level semicolon. Empty statements (`;;`, a trailing
`;`, a comment alone) are not statements.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot.dialects.snowflake import Snowflake
from sqlglot.errors import TokenError
from sqlglot.tokens import TokenType

from snowflake_emulator.sql_errors import SYNTAX_ERROR, StatementError

# The first word of a statement -> its verb for `statements_by_kind`; anything else is "other".
VERBS = {
    "COPY": "copy",
    "MERGE": "merge",
    "INSERT": "insert",
    "UPDATE": "update",
    "DELETE": "delete",
    "TRUNCATE": "truncate",
    "CREATE": "create",
    "ALTER": "alter",
    "DROP": "drop",
    "GRANT": "grant",
    "REVOKE": "grant",
    "SELECT": "select",
    "WITH": "select",
    "SHOW": "show",
    "DESC": "describe",
    "DESCRIBE": "describe",
    "LIST": "list",
    "LS": "list",
}
ALL_VERBS = sorted({*VERBS.values(), "other"})

TRANSACTION_COMMANDS = {"BEGIN": "TRANSACTION_BEGIN", "START": "TRANSACTION_BEGIN", "COMMIT": "TRANSACTION_COMMIT",
                        "ROLLBACK": "TRANSACTION_ROLLBACK"}


@dataclass(frozen=True)
class StatementText:
    sql: str
    kind: str  # copy, merge or other: what fault rules and statements_executed key on
    verb: str  # the finer kind statements_by_kind counts (VERBS)
    first_word: str
    line: int  # 1-based line of its first character in the request text
    position: int  # 0-based column of its first character


def split_statements(text: str) -> list[StatementText]:
    try:
        tokens = Snowflake().tokenize(text)
    except TokenError as error:
        raise StatementError(*SYNTAX_ERROR, f"SQL compilation error:\n{error}") from None

    statements: list[StatementText] = []
    group: list = []
    for token in [*tokens, None]:
        if token is not None and token.token_type != TokenType.SEMICOLON:
            group.append(token)
            continue
        if group:
            start, end = group[0].start, group[-1].end
            statements.append(_statement(text, start, end, group[0].text.upper()))
            group = []
    return statements


def _statement(text: str, start: int, end: int, first_word: str) -> StatementText:
    line_start = text.rfind("\n", 0, start) + 1
    kind = "copy" if first_word == "COPY" else "merge" if first_word == "MERGE" else "other"
    return StatementText(
        sql=text[start : end + 1],
        kind=kind,
        verb=VERBS.get(first_word, "other"),
        first_word=first_word,
        line=text.count("\n", 0, start) + 1,
        position=start - line_start,
    )
