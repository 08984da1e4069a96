"""Complaint_01 and Complaint_02 read from workbooks by their labels, not by cell positions."""

from __future__ import annotations

import csv
import functools
import io
import operator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from python_calamine import CalamineWorkbook, SheetTypeEnum

from db.storable import storable
from intake.dates import BadDate, parse_date
from intake.encodings import decode_bytes
from intake.errors import DocumentError
from intake.labels import C01_LABELS, C02_LABELS, category_of, header_columns, is_total, merge_header, result_of
from intake.problems import WARNING, Problem, where
from scoring.periods import Period, find_periods, thai_digits_to_arabic
from scoring.status import CATEGORIES

WORKBOOK_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
HEADER_SCAN_ROWS = 40

class CaseRow(NamedTuple):
    """A Complaint_01 row, its fields in the order a case sheet stores them (intake/sheets.py). A tuple: a backlog sends
    thousands of them from the parser sandbox, and a tuple is unpickled in half a dataclass's time."""

    row: int  # 1-based row in the sheet
    seq: str
    received: date | None
    channel: str
    category: str | None
    subject: str
    complainant: str
    action: str
    result: str | None
    completed: date | None
    note: str


_as_case_row = functools.partial(tuple.__new__, CaseRow)


@dataclass
class FormReading:
    form: str  # "complaint_01" | "complaint_02"
    filename: str
    sheet: str
    header_text: str  # the title cells above the table, where unit and period are written
    rows: list[CaseRow] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # C02: category -> received/done/in_progress
    problems: list[Problem] = field(default_factory=list)
    filled: bool = True  # False for a Complaint_02 whose count cells are all empty (a blank form)
    # The months named above the table: found where the form is read (a parser worker), not by each step of
    # the storing process that asks.
    periods: list[Period] = field(init=False)

    def __post_init__(self) -> None:
        self.periods = find_periods(self.header_text)

    # A reading travels pickled from the parser workers. A named tuple pickles through a Python-level call per
    # row each way (`__getnewargs__`, then its constructor): the rows go as plain tuples and are made CaseRows
    # again in C (measured on 101 rows: 139 -> 51 µs to pickle, 78 -> 55 µs to unpickle).
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["rows"] = [tuple(r) for r in self.rows]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state["rows"] = list(map(_as_case_row, state["rows"]))
        self.__dict__.update(state)

    def category_counts(self) -> dict[str, int]:
        if self.form == "complaint_01":
            out = dict.fromkeys(CATEGORIES, 0)
            for r in self.rows:
                if r.category:
                    out[r.category] += 1
            return out
        return {c: self.counts.get(c, {}).get("received", 0) for c in CATEGORIES}


def _text(value: object) -> str:
    if value.__class__ is str:
        return value.strip()  # type: ignore[attr-defined]
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _number(value: object) -> int | None:
    if value is None or value == "":
        return 0
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    text = thai_digits_to_arabic(str(value)).replace(",", "").strip()
    if text in ("", "-", "–"):
        return 0
    try:
        return int(float(text))
    except ValueError:
        return None


def _find_header(rows: list[list[Any]], labels: dict[str, tuple[str, ...]], required: set[str],
                 minimum: int) -> tuple[int, dict[str, int]] | None:
    """The header row: the first row naming enough known columns. A header split over two rows
    (merged cells) is read as one, and the table then starts below the second row."""
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        cols = header_columns(row, labels)
        if len(cols) < 2:
            continue
        if i + 1 < len(rows):
            merged = header_columns(merge_header(row, rows[i + 1]), labels)
            below = header_columns(rows[i + 1], labels)
            if len(merged) > len(cols) and len(below) >= 1 and required <= merged.keys() and len(merged) >= minimum:
                return i + 1, merged
        if required <= cols.keys() and len(cols) >= minimum:
            return i, cols
    return None


def _header_text(rows: list[list[Any]], upto: int) -> str:
    return "\n".join(" ".join(_text(c) for c in row if _text(c)) for row in rows[:upto])


# Cell values repeat a great deal down a column (categories, statuses, dates): read each once.
_category = functools.lru_cache(maxsize=4096)(lambda value: category_of(value))
_result = functools.lru_cache(maxsize=4096)(lambda value: result_of(value))
_total = functools.lru_cache(maxsize=4096)(lambda value: is_total(value))


@functools.lru_cache(maxsize=8192)
def _date(value: Any) -> date | BadDate | None:
    try:
        return parse_date(value)
    except BadDate as exc:
        return exc


MAX_SEQ = 32  # a row's sequence "number" as written, kept to what a sequence number needs (case rows' old width)

_C01_FIELDS = ("seq", "received", "channel", "category", "subject", "complainant", "action", "result", "completed",
               "note")


def _read_c01(filename: str, sheet: str, rows: list[list[Any]], hdr: int, cols: dict[str, int]) -> FormReading:
    """Rows below the header until a total row or a long run of blank rows (notes below the table).
    Written for speed (a backlog reads hundreds of thousands of rows, in the parser workers that share the
    cores with the storing process): cells are taken by one itemgetter, strings stripped in line, a row's
    tuple built without the named tuple's Python-level constructor, no generator per row, and a date or a
    problem helper only for a cell that is wrong."""
    reading = FormReading("complaint_01", filename, sheet, _header_text(rows, hdr))
    width = max(cols.values()) + 1
    # A column the form lacks reads as an empty cell just past the table (rows are then cut to the table
    # and padded with it); a row shorter than the table is padded.
    lacks = any(name not in cols for name in _C01_FIELDS)
    fields = operator.itemgetter(*(cols.get(name, width) for name in _C01_FIELDS))
    pad: list[Any] = [None] * (width + 1)
    same: dict[str, str] = {}
    out = reading.rows
    new_row = tuple.__new__
    date_of, category_of_cell, result_of_cell = _date, _category, _result
    blank_run = 0
    for offset, raw_row in enumerate(rows[hdr + 1:], start=hdr + 2):
        if not any(raw_row):
            blank_run += 1
            if blank_run >= 5 and out:
                break
            continue
        blank_run = 0
        if lacks:
            row = raw_row[:width]
            row.extend(pad[len(row):])
        else:
            row = raw_row if len(raw_row) >= width else [*raw_row, *pad[len(raw_row):width]]
        seq, received, channel, category, subject, complainant, action, result, completed, note = fields(row)
        if _total_row(row, seq):
            break
        if (received in _BLANK and category in _BLANK and subject in _BLANK and channel in _BLANK
                and action in _BLANK):
            continue  # only a sequence number, or a note: not a case
        got, done = date_of(received), date_of(completed)
        bad = False
        if isinstance(got, BadDate):
            got, bad = _readable(reading, offset, received, got), True
        if isinstance(done, BadDate):
            done, bad = _readable(reading, offset, completed, done), True
        # A column's repeated values (channels, the usual action, notes) as one object each: the reading
        # travels pickled from the sandbox, and pickle writes (and the storing process rebuilds) an object once.
        channel = channel.strip() if channel.__class__ is str else _text(channel)
        action = action.strip() if action.__class__ is str else _text(action)
        note = note.strip() if note.__class__ is str else _text(note)
        kind = category_of_cell(category)
        out.append(new_row(CaseRow, (
            offset, (seq.strip() if seq.__class__ is str else _text(seq))[:MAX_SEQ], got,
            same.setdefault(channel, channel), kind,
            subject.strip() if subject.__class__ is str else _text(subject),
            complainant.strip() if complainant.__class__ is str else _text(complainant),
            same.setdefault(action, action), result_of_cell(result), done, same.setdefault(note, note),
        )))
        if kind is None or got is None and not bad:
            _row_problems(reading, offset, category, kind, got is None and not bad)
    return _storable_rows(reading)


def _total_row(row: list[Any], seq: Any) -> bool:
    """A total row says so in one of its first cells ("รวม", "Total"), or in its sequence cell."""
    first, second, third = row[0], row[1], row[2]
    return bool(first.__class__ is str and first and _total(first) or second.__class__ is str and second
                and _total(second) or third.__class__ is str and third and _total(third)
                or seq.__class__ is str and seq and _total(seq))


def _row_problems(reading: FormReading, offset: int, category: Any, kind: str | None, no_date: bool) -> None:
    """A case row without a known category, or without a date (one that could not be read is a bad_date)."""
    if kind is None:
        raw = _text(category)
        code = "row_missing_category" if not raw else "unknown_category"
        reading.problems.append(Problem(code, WARNING, {**where(reading.filename, reading.sheet, offset), "value": raw}))
    if no_date:
        reading.problems.append(Problem("row_missing_date", WARNING, where(reading.filename, reading.sheet, offset)))


def _readable(reading: FormReading, offset: int, cell: Any, parsed: date | BadDate | None) -> date | None:
    """A date cell as read: one that could not be read is a problem naming it, and no date."""
    if not isinstance(parsed, BadDate):
        return parsed
    reading.problems.append(Problem("bad_date", WARNING,
                                    {**where(reading.filename, reading.sheet, offset), "value": _text(cell)}))
    return None


def _storable_rows(reading: FormReading) -> FormReading:
    """A cell holding NUL or another control character (CSV, `_x0000_` in shared strings, BIFF strings) is made
    storable here, in the parser worker, after one scan of all the row's text finds one: the case sheet
    (intake/sheets.py) and every count and digest cell read from it then hold what a person can read."""
    text = "\n".join([v for row in reading.rows for v in row if v.__class__ is str])
    if storable(text) is not text:
        reading.rows = [CaseRow._make(storable(v) if v.__class__ is str else v for v in row) for row in reading.rows]
    return reading


_BLANK = ("", None)


def _read_c02(filename: str, sheet: str, rows: list[list[Any]], hdr: int, cols: dict[str, int]) -> FormReading:
    reading = FormReading("complaint_02", filename, sheet, _header_text(rows, hdr), filled=False)
    for offset, row in enumerate(rows[hdr + 1:], start=hdr + 2):
        label = row[cols["category"]] if cols["category"] < len(row) else None
        if is_total(label):
            break
        cat = category_of(label)
        if cat is None:
            continue
        counts: dict[str, int] = {}
        for name in ("received", "done", "in_progress"):
            idx = cols.get(name)
            raw = row[idx] if idx is not None and idx < len(row) else None
            reading.filled = reading.filled or _text(raw) != ""
            value = _number(raw)
            if value is None:
                reading.problems.append(Problem("bad_number", WARNING,
                                                {**where(filename, sheet, offset), "value": _text(raw)}))
                value = 0
            counts[name] = value
        reading.counts[cat] = counts
    return reading


def read_table(filename: str, sheet: str, rows: list[list[Any]]) -> FormReading | None:
    """Recognise one sheet as Complaint_01 or Complaint_02 by its header labels."""
    c01 = _find_header(rows, C01_LABELS, {"category"}, 4)
    if c01 and {"subject", "received"} & c01[1].keys():  # a Complaint_01 whatever else the sheet holds
        return _read_c01(filename, sheet, rows, *c01)
    c02 = _find_header(rows, C02_LABELS, {"category", "received"}, 2)
    if c01 and not c02:
        return _read_c01(filename, sheet, rows, *c01)
    if c02:
        return _read_c02(filename, sheet, rows, *c02)
    return None


def workbook_sheets(filename: str, data: bytes) -> list[tuple[str, list[list[Any]]]]:
    """Every sheet's cells as Python values (python-calamine: fast, reads .xlsx/.xlsm/.xls/.ods)."""
    lower = filename.lower()
    if lower.endswith(".csv"):
        text = decode_bytes(data.removeprefix(b"\xef\xbb\xbf"))
        try:
            dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        return [("csv", [list(r) for r in csv.reader(io.StringIO(text), dialect)])]
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises several types for corrupt, encrypted or foreign files
        text = str(exc).lower()
        if "password" in text or "encrypt" in text or type(exc).__name__ == "PasswordError" or \
                data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" and lower.endswith((".xlsx", ".xlsm")):
            raise DocumentError(filename, "encrypted_attachment", "workbook is password-protected") from exc
        raise DocumentError(filename, "unreadable_attachment", f"cannot read workbook: {exc}") from exc
    sheets = []
    try:
        # Chart sheets, dialog and macro sheets hold no table: skip them, read the rest.
        worksheets = [m.name for m in wb.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet] or wb.sheet_names
        for name in worksheets:
            try:
                sheets.append((name, wb.get_sheet_by_name(name).to_python(skip_empty_area=False)))
            except Exception as exc:
                raise DocumentError(filename, "unreadable_attachment", f"sheet {name}: {exc}") from exc
    finally:
        wb.close()
    return sheets


def read_forms(filename: str, data: bytes) -> list[FormReading]:
    """All forms in one file (a workbook may hold both); DocumentError when it cannot be read at all."""
    readings = []
    for sheet, rows in workbook_sheets(filename, data):
        reading = read_table(filename, sheet, rows)
        if reading:
            readings.append(reading)
    return readings
