"""Periods, the Thai calendar, deadlines and the status fold: pure functions."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from scoring.deadlines import deadline, deadline_day, is_on_time
from scoring.periods import (Period, find_periods, fiscal_year_of, fiscal_year_periods, normalize_year,
                             thai_digits_to_arabic)
from scoring.status import Part, Status, fold, unit_status
from tests.conftest import BKK, bkk

NOV = Period(2026, 11)


@pytest.mark.parametrize("text", [
    "ประจำเดือนพฤศจิกายน 2569", "ประจำเดือน พฤศจิกายน พ.ศ. 2569", "พ.ย. 69", "พย 69", "11/2569", "11/2026",
    "November 2026", "Nov 2026", "2026-11", "[CR-2569-11]", "๑๑/๒๕๖๙", "รายงานเดือน พ.ย.2569",
])
def test_find_periods_understands_every_way_units_write_a_month(text: str) -> None:
    assert find_periods(text) == [NOV]


@pytest.mark.parametrize("text", ["ส่งเมื่อ 20/11/2569", "โทร 02-590-4000", "ขอบคุณครับ", "เลขที่ 1234/2"])
def test_find_periods_ignores_full_dates_and_numbers(text: str) -> None:
    assert find_periods(text) == []


def test_period_formats_and_arithmetic() -> None:
    assert NOV.thai() == "พฤศจิกายน 2569"
    assert NOV.tag == "CR-2569-11"
    assert Period.parse("2569-11") == NOV
    assert Period(2026, 12).next() == Period(2027, 1)
    assert Period(2027, 1).prev() == Period(2026, 12)
    assert Period(2024, 2).last_day() == date(2024, 2, 29)


def test_fiscal_year_runs_october_to_september() -> None:
    assert fiscal_year_of(Period(2025, 10)) == 2569
    assert fiscal_year_of(Period(2026, 9)) == 2569
    assert fiscal_year_of(Period(2026, 10)) == 2570
    periods = fiscal_year_periods(2570)
    assert periods[0] == Period(2026, 10) and periods[-1] == Period(2027, 9) and len(periods) == 12


@given(st.integers(min_value=1960, max_value=2100))
def test_be_and_ce_years_agree(year: int) -> None:
    assert normalize_year(year + 543) == year
    assert normalize_year(year) == year


@given(st.integers(min_value=0, max_value=10**9))
def test_thai_digits_convert_like_arabic(n: int) -> None:
    thai = str(n).translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙"))
    assert thai_digits_to_arabic(thai) == str(n)


def test_deadline_is_end_of_the_25th_in_bangkok() -> None:
    due = deadline(NOV, BKK)
    assert due == bkk(2026, 11, 25, 23, 59, 59)
    assert is_on_time(bkk(2026, 11, 25, 23, 59, 59, 900000), due)
    assert not is_on_time(bkk(2026, 11, 26, 0, 0, 0), due)
    # 17:00 UTC on the 25th is already the 26th in Bangkok.
    assert not is_on_time(datetime(2026, 11, 25, 17, 0, 0, tzinfo=timezone.utc), due)
    assert is_on_time(datetime(2026, 11, 25, 16, 59, 59, tzinfo=timezone.utc), due)


def test_deadline_can_move_to_the_next_business_day() -> None:
    # 25 October 2026 is a Sunday.
    assert deadline_day(Period(2026, 10), 25, shift_to_business_day=True) == date(2026, 10, 26)
    assert deadline_day(Period(2026, 10), 25, shift_to_business_day=False) == date(2026, 10, 25)
    assert deadline_day(Period(2026, 11), 25, True, holidays={date(2026, 11, 25)}) == date(2026, 11, 26)


def _part(day: int, hour: int = 10, **kw: object) -> Part:
    return Part(arrived_at=bkk(2026, 11, day, hour), **kw)  # type: ignore[arg-type]


def test_complete_only_with_both_forms_and_keeps_the_first_completion() -> None:
    parts = [_part(20, has_c01=True, c01_rows=3), _part(27, has_c02=True, c02_total=3),
             _part(28, has_c01=True, c01_rows=4, has_c02=True, c02_total=4)]
    state = fold(parts)
    assert state.kind == "complaints"
    assert state.completed_at == bkk(2026, 11, 27, 10)  # the correction on the 28th keeps the 27th
    assert unit_status(state, deadline(NOV, BKK), bkk(2026, 12, 1)) == Status.LATE


def test_parts_in_separate_messages_before_the_deadline_are_on_time() -> None:
    state = fold([_part(24, has_c02=True, c02_total=2), _part(25, 23, has_c01=True, c01_rows=2)])
    assert unit_status(state, deadline(NOV, BKK), bkk(2026, 12, 1)) == Status.ON_TIME


@pytest.mark.parametrize("parts,kind", [
    ([_part(3, nil_statement=True)], "nil"),
    ([_part(3, has_c02=True, c02_total=0)], "nil"),
    ([_part(3, has_c01=True, c01_rows=0, has_c02=True, c02_total=0)], "nil"),
    ([_part(3, has_c02=True, c02_total=2)], None),
    ([_part(3, has_c01=True, c01_rows=2)], None),
    ([_part(3, nil_statement=True, has_c02=True, c02_total=2)], None),
])
def test_what_completes_a_period(parts: list[Part], kind: str | None) -> None:
    assert fold(parts).kind == kind


def test_incomplete_names_the_missing_form() -> None:
    assert fold([_part(3, has_c01=True, c01_rows=2)]).missing == ["Complaint_02"]
    assert fold([_part(3, has_c02=True, c02_total=2)]).missing == ["Complaint_01"]


@pytest.mark.parametrize("as_of,expected", [
    (bkk(2026, 11, 25, 23, 59, 59), Status.PENDING),
    (bkk(2026, 11, 26, 0, 0, 0), Status.MISSING),
])
def test_nothing_received_is_pending_then_missing(as_of: datetime, expected: Status) -> None:
    assert unit_status(fold([]), deadline(NOV, BKK), as_of) == expected


def test_review_and_exempt_statuses() -> None:
    due = deadline(NOV, BKK)
    assert unit_status(fold([]), due, bkk(2026, 11, 2), needs_review=True) == Status.NEEDS_REVIEW
    assert unit_status(fold([]), due, bkk(2026, 12, 2), exempt=True) == Status.EXEMPT
    assert unit_status(fold([_part(3, has_c01=True, c01_rows=1)]), due, bkk(2026, 12, 2)) == Status.INCOMPLETE


def test_fold_ignores_arrival_order_of_input() -> None:
    parts = [_part(27, has_c02=True, c02_total=1), _part(20, has_c01=True, c01_rows=1)]
    assert fold(parts).completed_at == fold(list(reversed(parts))).completed_at == bkk(2026, 11, 27, 10)
    assert timedelta(0) < bkk(2026, 11, 27, 10) - bkk(2026, 11, 20, 10)


def test_times_in_letters_have_no_seconds() -> None:
    """A Thai office writes `23.59 น.` and `10.05 น.`: the deadline's last second is not spelt out."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from scoring.periods import thai_datetime

    bkk = ZoneInfo("Asia/Bangkok")
    assert thai_datetime(datetime(2026, 11, 25, 23, 59, 59, tzinfo=bkk)) == "25 พฤศจิกายน 2569 เวลา 23.59 น."
    assert thai_datetime(datetime(2026, 11, 9, 10, 5, 42, tzinfo=bkk)) == "9 พฤศจิกายน 2569 เวลา 10.05 น."


_WORDS = st.sampled_from(["พฤศจิกายน", "พ.ย.", "พย", "มี.ค.", "ก.ย.", "ธันวาคม", "November", "NOV", "Sept", "sep.",
                          "2569", "69", "2026", "พ.ศ.", "ค.ศ.", ",", "ประจำเดือน", "xNov", "9", "๒๕๖๙", "เดือน", "  "])


@given(st.lists(_WORDS, max_size=12).map(" ".join) | st.text(max_size=60))
def test_month_words_are_found_where_they_begin_as_before(text: str) -> None:
    """The month-name pattern only tries positions where a month's word can begin (scoring/periods.py): what it
    finds is what the pattern without that shortcut finds, in any case and beside any text."""
    import re

    from scoring import periods

    plain = re.compile(periods._NAMED.pattern.split(")", 1)[1], re.IGNORECASE)  # without the leading (?=[...])
    assert periods._NAMED.pattern.startswith("(?=[")
    found = [(m.span(), m.groups()) for m in periods._NAMED.finditer(text)]
    assert found == [(m.span(), m.groups()) for m in plain.finditer(text)]
