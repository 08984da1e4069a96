"""Periods (months), the Thai calendar, Buddhist Era years and fiscal years."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

BE_OFFSET = 543

THAI_MONTHS = (
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
)
THAI_MONTHS_ABBR = (
    "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
    "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.",
)
ENGLISH_MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)
THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


def thai_digits_to_arabic(text: str) -> str:
    return text.translate(THAI_DIGITS)


def month_from_name(token: str) -> int | None:
    """1-12 for a Thai month name or abbreviation (dots optional) or an English name/abbreviation."""
    t = token.strip().lower()
    if not t:
        return None
    bare = t.replace(".", "").replace(" ", "")
    for i, name in enumerate(THAI_MONTHS):
        if bare == name:
            return i + 1
    for i, abbr in enumerate(THAI_MONTHS_ABBR):
        if bare == abbr.replace(".", ""):
            return i + 1
    for i, name in enumerate(ENGLISH_MONTHS):
        if bare == name or (len(bare) >= 3 and name.startswith(bare)):
            return i + 1
    return None


def normalize_year(year: int) -> int:
    """A Gregorian year from a BE or CE year, four or two digits (two-digit 60-99 are BE 25xx)."""
    if year > 2400:
        return year - BE_OFFSET
    if year < 100:
        if year >= 60:
            return 2500 + year - BE_OFFSET
        return 2000 + year
    return year


def typed_year(year: int) -> int:
    """The Gregorian year a person meant by a four-digit year they typed: above 2400 it is Buddhist Era
    (2569 is 2026). Anything outside 1990-2200 after that is refused (ValueError with the hint)."""
    ce = year - BE_OFFSET if year > 2400 else year
    if not 1990 <= ce <= 2200:
        raise ValueError(f"year {year} is neither a Buddhist Era year (e.g. 2569) nor a Gregorian one (e.g. 2026)")
    return ce


@dataclass(frozen=True, order=True)
class Period:
    year: int  # Gregorian
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month out of range: {self.month}")

    @classmethod
    def parse(cls, text: str) -> Period:
        """`YYYY-MM` in either era (`2026-11` or `2569-11`)."""
        m = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", thai_digits_to_arabic(text))
        if not m:
            raise ValueError(f"period must look like YYYY-MM, got {text!r}")
        return cls(normalize_year(int(m.group(1))), int(m.group(2)))

    @classmethod
    def of(cls, moment: date | datetime) -> Period:
        return cls(moment.year, moment.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def be_year(self) -> int:
        return self.year + BE_OFFSET

    @property
    def tag(self) -> str:
        """The subject tag that threads replies back: `CR-2569-11`."""
        return f"CR-{self.be_year}-{self.month:02d}"

    def thai(self) -> str:
        return f"{THAI_MONTHS[self.month - 1]} {self.be_year}"

    def next(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def prev(self) -> Period:
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def last_day(self) -> date:
        return date.fromordinal(self.next().first_day().toordinal() - 1)

    def contains(self, day: date) -> bool:
        return day.year == self.year and day.month == self.month

    @property
    def fiscal_year_be(self) -> int:
        return fiscal_year_of(self)


def fiscal_year_of(period: Period) -> int:
    """The BE fiscal year: October CE N-544 .. September CE N-543 is fiscal year N."""
    return period.year + BE_OFFSET + (1 if period.month >= 10 else 0)


def fiscal_year_periods(fiscal_year_be: int) -> list[Period]:
    start = Period(fiscal_year_be - BE_OFFSET - 1, 10)
    out = [start]
    while len(out) < 12:
        out.append(out[-1].next())
    return out


def thai_date(day: date) -> str:
    return f"{day.day} {THAI_MONTHS[day.month - 1]} {day.year + BE_OFFSET}"


def thai_short_datetime(moment: datetime) -> str:
    """`10 พ.ย. 69 10:05`: for tables."""
    return f"{moment.day} {THAI_MONTHS_ABBR[moment.month - 1]} {(moment.year + BE_OFFSET) % 100:02d} {moment:%H:%M}"


def thai_datetime(moment: datetime) -> str:
    """`9 ตุลาคม 2569 เวลา 10.05 น.` as a Thai office writes it in a letter: hours and minutes, never seconds
    (the deadline reads `25 พฤศจิกายน 2569 เวลา 23.59 น.`)."""
    return f"{thai_date(moment.date())} เวลา {moment:%H.%M} น."


_TAG = re.compile(r"\[?CR-(\d{4})-(\d{1,2})\]?", re.IGNORECASE)
_MONTH_WORD = (
    "|".join(sorted(THAI_MONTHS, key=len, reverse=True))
    + "|"
    + "|".join(re.escape(a).replace(r"\.", r"\.?") for a in THAI_MONTHS_ABBR)
    + "|"
    + "|".join(ENGLISH_MONTHS)
    + "|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
# Every repeat is bounded (`\s{0,3}`, not `\s*`): two unbounded runs of spaces around an optional
# group made "Nov." + 20,000 spaces cost 18 s; bounded, the scan is linear in the text.
# Only where a month's word can begin does the alternation of ~50 words run: the character class in front
# fails a position in one step (25 -> 4.5 us for a form's title rows, which every form read asks).
_MONTH_INITIALS = "".join(sorted({word[0] for word in (*THAI_MONTHS, *THAI_MONTHS_ABBR, *ENGLISH_MONTHS, "sept")}))
_NAMED = re.compile(
    rf"(?=[{re.escape(_MONTH_INITIALS)}])(?<![A-Za-z])({_MONTH_WORD})\.?\s{{0,3}}(?:(?:พ\.?\s{{0,2}}ศ\.?|ค\.?\s{{0,2}}ศ\.?|,)\s{{0,3}})?(\d{{4}}|\d{{2}})(?!\d)",
    re.IGNORECASE,
)
_NUMERIC = re.compile(r"(?<![\d/.\-])(\d{1,2})\s{0,3}[/\-.]\s{0,3}(\d{4})(?![\d/.\-])")
_DAY_BEFORE = re.compile(r"(?<!\d)(?:[1-9]|[12]\d|3[01])[ \t]{1,2}$")
_ISO = re.compile(r"(?<![\d/.\-])(\d{4})-(\d{2})(?![\d/.\-])")


def _valid(year: int, month: int) -> Period | None:
    if 1 <= month <= 12 and 1990 <= year <= 2200:
        return Period(year, month)
    return None


MAX_PERIOD_TEXT = 20_000  # a period is written near the top of a subject, body or memo


def find_periods(text: str) -> list[Period]:
    """Every month-and-year written in `text`, in order of appearance, without repeats.

    Understands `ประจำเดือนพฤศจิกายน 2569`, `พ.ย. 69`, `11/2569`, `November 2026`, `2026-11`,
    the bot's own subject tag `[CR-2569-11]`, and Thai digits.
    """
    text = thai_digits_to_arabic(text[:MAX_PERIOD_TEXT])
    found: list[tuple[int, Period]] = []
    for m in _TAG.finditer(text):
        p = _valid(normalize_year(int(m.group(1))), int(m.group(2)))
        if p:
            found.append((m.start(), p))
    for m in _NAMED.finditer(text):
        month = month_from_name(m.group(1))
        if month and _DAY_BEFORE.search(text, max(0, m.start() - 6), m.start()):
            continue  # "9 ตุลาคม 2569" is a date (a memo's วันที่), not the month reported on
        if month:
            p = _valid(normalize_year(int(m.group(2))), month)
            if p:
                found.append((m.start(), p))
    for m in _NUMERIC.finditer(text):
        p = _valid(normalize_year(int(m.group(2))), int(m.group(1)))
        if p:
            found.append((m.start(), p))
    for m in _ISO.finditer(text):
        p = _valid(normalize_year(int(m.group(1))), int(m.group(2)))
        if p:
            found.append((m.start(), p))
    out: list[Period] = []
    for _, p in sorted(found, key=lambda item: item[0]):
        if p not in out:
            out.append(p)
    return out


def find_tag_period(text: str) -> Period | None:
    m = _TAG.search(text)
    return _valid(normalize_year(int(m.group(1))), int(m.group(2))) if m else None
