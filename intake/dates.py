"""Dates as units write them: Excel dates, d/m/yyyy in either era, Thai month names, Thai digits."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from scoring.periods import month_from_name, normalize_year, thai_digits_to_arabic

_EXCEL_EPOCH = date(1899, 12, 30)
# Matched against stripped text of at most MAX_DATE_TEXT characters, with bounded repeats: linear time.
MAX_DATE_TEXT = 40
_NUMERIC = re.compile(r"(\d{1,2}) {0,3}[/\-.] {0,3}(\d{1,2}) {0,3}[/\-.] {0,3}(\d{2,4})")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T][0-9:.+\-Z ]{0,30})?")
_NAMED = re.compile(r"(\d{1,2}) {0,3}([^\d\s]{1,12}(?: {1,3}[^\d\s]{1,12})??) {0,3}(?:พ\.? {0,2}ศ\.?|ค\.? {0,2}ศ\.?)? {0,3}(\d{2,4})")


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
    text = " ".join(thai_digits_to_arabic(str(value)).split())
    if not text:
        return None
    if len(text) > MAX_DATE_TEXT:
        raise BadDate(f"not a date: {text[:MAX_DATE_TEXT]}…")
    try:
        if m := _ISO.fullmatch(text):
            return date(normalize_year(int(m.group(1))), int(m.group(2)), int(m.group(3)))
        if m := _NUMERIC.fullmatch(text):
            return date(normalize_year(int(m.group(3))), int(m.group(2)), int(m.group(1)))
        if m := _NAMED.fullmatch(text):
            month = month_from_name(m.group(2))
            if month:
                return date(normalize_year(int(m.group(3))), month, int(m.group(1)))
    except ValueError:
        raise BadDate(f"impossible date: {text}") from None
    raise BadDate(f"not a date: {text}")
