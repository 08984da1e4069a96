"""Text any database will take: what a stranger's message holds (a header decoded from utf-7 to a lone surrogate,
a NUL in an encoded word, control characters in a cell) reaches the database only through here (docs/spec.md, "Trust").

SQLite's driver refuses a string holding a lone surrogate (UnicodeEncodeError) and PostgreSQL refuses NUL in text
and json; neither is anything a person wrote. A lone surrogate becomes U+FFFD; NUL and the other C0 controls but
tab, newline and carriage return are dropped. The database's column types apply it to every value they bind
(db/engine.py); rows written on the driver directly apply it themselves."""

from __future__ import annotations

import json
import re
from typing import Any

_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def _replace(match: re.Match[str]) -> str:
    return "\ufffd" if match.group() >= "\ud800" else ""


def storable(text: str) -> str:
    """`text` with what no database stores replaced (a lone surrogate) or dropped (NUL, C0 controls)."""
    if _UNSTORABLE.search(text) is None:  # the common case: one scan in C, the same object back
        return text
    return _UNSTORABLE.sub(_replace, text)


# What json.dumps writes for a C0 control in a string (keys too): \u0000-\u001f, or the short \b and \f; tab,
# newline and carriage return (\t \n \r) are storable. A backslash typed in a string is written doubled, so a
# match may be a false alarm (then the value is walked), never a miss.
_ESCAPED_CONTROL = re.compile(r"\\(?:u00[01]|[bf])")


def storable_json(value: Any) -> Any:
    """A JSON value with every string in it (keys too) made storable. Nearly every value is storable already:
    serialised once in C (ensure_ascii=False keeps a lone surrogate as it is, and writes each control as an
    escape) and scanned, it comes back as it is; only a value with something to replace is walked (the walk for
    every value cost the storing process ~0.1 ms a message, more than the rest of its JSON columns' binding)."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):  # not plain JSON: walked, and the column's serializer says what is wrong
        return _walk(value)
    if _UNSTORABLE.search(text) is None and _ESCAPED_CONTROL.search(text) is None:
        return value
    return _walk(value)


def _walk(value: Any) -> Any:
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable(k) if isinstance(k, str) else k: _walk(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_walk(v) for v in value]
    return value
