"""Snowflake object names written in SQL text: `a.b.c` with each part plain or double-quoted.

A plain part is resolved upper-cased; a quoted part literally, with `""` standing for one quote
(docs.snowflake.com/en/sql-reference/identifiers-syntax). Used where a name reaches the emulator
as text rather than as a parsed identifier: stage references (`@"DB"."RAW"."STAGE"/path/`) and
`FORMAT_NAME = 'DB.RAW.FMT'` literals.
"""

from __future__ import annotations

import re

PLAIN_PART = re.compile(r"[^./\s\"]+")


def split_name(text: str) -> tuple[list[str], str] | None:
    """The name parts at the start of `text` and what follows them; None when `text` does not
    start with a name."""
    parts: list[str] = []
    position = 0
    while True:
        if position < len(text) and text[position] == '"':
            end = position + 1
            name: list[str] = []
            while end < len(text):
                if text[end] == '"':
                    if end + 1 < len(text) and text[end + 1] == '"':
                        name.append('"')
                        end += 2
                        continue
                    break
                name.append(text[end])
                end += 1
            else:
                return None  # unterminated quote
            parts.append("".join(name))
            position = end + 1
        else:
            match = PLAIN_PART.match(text, position)
            if not match:
                return None
            parts.append(match.group(0).upper())
            position = match.end()
        if position < len(text) and text[position] == ".":
            position += 1
            continue
        return parts, text[position:]


def qualify(parts: list[str], database: str | None, schema: str | None) -> tuple[str, str, str] | None:
    """(database, schema, name) of a one-, two- or three-part name; None when the session lacks
    the database or schema a shorter name needs."""
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    if len(parts) == 2 and database:
        return database, parts[0], parts[1]
    if len(parts) == 1 and database and schema:
        return database, schema, parts[0]
    return None


def quote_if_needed(name: str) -> str:
    """A part as Snowflake shows it in messages and SHOW GRANTS: plain when it would read back the
    same, else double-quoted."""
    if re.fullmatch(r"[A-Z_][A-Z0-9_$]*", name):
        return name
    return '"' + name.replace('"', '""') + '"'
