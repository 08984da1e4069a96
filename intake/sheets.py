"""A submission's Complaint_01 rows as one stored document (the `case_sheets` table): a JSON array of rows, each
an array of the CaseRow fields in their order (row, seq, received, channel, category, subject, complainant,
action, result, completed, note), dates as YYYY-MM-DD, absent values as null.

One document a sheet, not a database row a case: a sheet is written once, with its submission, and read whole
(the digest's case list, the channel totals, retention's masking); nothing asks for one case by its fields. A
row a case cost PostgreSQL's server a heap tuple and two index entries each, ~110 a message in a backlog: its
COPY was 0.55-1.2 ms of the server's time a message, two thirds of all of it, where the document's one insert
costs 0.04-0.2 ms (issue #27; docs/performance.md). The text is written compact and unescaped (Thai letters as
themselves, three bytes each, not six-character escapes); PostgreSQL compresses it with lz4 (migration 0019).
Ad hoc, in SQL: `SELECT c ->> 5 FROM case_sheets, json_array_elements(rows::json) AS c` (PostgreSQL) or
`SELECT json_extract(value, '$[5]') FROM case_sheets, json_each(rows)` (SQLite) lists the subjects."""

from __future__ import annotations

import json
from datetime import date

from intake.forms import CaseRow

_RECEIVED, _COMPLETED = CaseRow._fields.index("received"), CaseRow._fields.index("completed")
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=date.isoformat).encode
_decode = json.JSONDecoder().decode
_from_iso = date.fromisoformat


def sheet_text(rows: list[CaseRow]) -> str:
    """The rows as the document stores them."""
    return _encode(rows)


def sheet_rows(text: str) -> list[CaseRow]:
    """The rows a document holds, dates as dates."""
    out = []
    make = CaseRow._make
    for values in _decode(text):
        received, completed = values[_RECEIVED], values[_COMPLETED]
        if received is not None:
            values[_RECEIVED] = _from_iso(received)
        if completed is not None:
            values[_COMPLETED] = _from_iso(completed)
        out.append(make(values))
    return out

