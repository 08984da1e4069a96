"""When a period's report is due: end of the deadline day in local time, optionally moved to a business day."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scoring.periods import Period


def deadline_day(period: Period, day: int = 25, shift_to_business_day: bool = False,
                 holidays: Collection[date] = ()) -> date:
    due = date(period.year, period.month, min(day, period.last_day().day))
    if shift_to_business_day:
        while due.weekday() >= 5 or due in holidays:
            due += timedelta(days=1)
    return due


def deadline(period: Period, tz: ZoneInfo, day: int = 25, shift_to_business_day: bool = False,
             holidays: Collection[date] = ()) -> datetime:
    """The last second on which a report still counts as on time, as an aware local datetime."""
    due = deadline_day(period, day, shift_to_business_day, holidays)
    return datetime.combine(due, time(23, 59, 59), tzinfo=tz)


def is_on_time(moment: datetime, due: datetime) -> bool:
    # Compare whole seconds: 23:59:59.900 on the deadline day is still on time.
    return moment.replace(microsecond=0) <= due
