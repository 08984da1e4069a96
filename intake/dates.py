"""Dates as units write them: Excel dates, d/m/yyyy in either era, Thai month names, Thai digits."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from scoring.periods import month_from_name, normalize_year, thai_digits_to_arabic

_EXCEL_EPOCH = date(1899, 12, 30)
_NUMERIC = re.compile(r"^\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{2,4})\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$")
_NAMED = re.compile(r"^\s*(\d{1,2})\s*([^\d\s]+(?:\s*[^\d\s]+)??)\s*(?:พ\.?\s*ศ\.?|ค\.?\s*ศ\.?)?\s*(\d{2,4})\s*$")


class BadDate(ValueError):
    """Text that looks like a date but is not a real one (31/02/2569)."""


def parse_date(value: object) -> date | None:
    """A date, None for an empty cell; BadDate for text that is not a date."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 1 <= value < 2958466:  # Excel serial day numbers
            return _EXCEL_EPOCH + timedelta(days=int(value))
        raise BadDate(f"not a date: {value!r}")
    text = thai_digits_to_arabic(str(value)).strip()
    if not text:
        return None
    try:
        if m := _ISO.match(text):
            return date(normalize_year(int(m.group(1))), int(m.group(2)), int(m.group(3)))
        if m := _NUMERIC.match(text):
            return date(normalize_year(int(m.group(3))), int(m.group(2)), int(m.group(1)))
        if m := _NAMED.match(text):
            month = month_from_name(m.group(2))
            if month:
                return date(normalize_year(int(m.group(3))), month, int(m.group(1)))
    except ValueError:
        raise BadDate(f"impossible date: {text}") from None
    raise BadDate(f"not a date: {text}")
