"""Rendering the VENDOR example's SQL (tests/sql/: the loader's statement shapes with plain
`{{name}}` placeholders, for driving the emulator by hand; the loader's own rendered statements
run against the emulator in the Rust integration tests)."""

from __future__ import annotations

import re
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent / "sql"
PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def render(template: str, **values: str) -> str:
    text = (SQL_DIR / template).read_text()
    missing = sorted({name for name in PLACEHOLDER.findall(text) if name not in values})
    assert not missing, f"{template}: no value for {missing}"
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)
