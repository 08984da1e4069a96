"""Unit statuses for a period (and for every month of a fiscal year), and the status JSON contract."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from bot.app import App
from config.units import Unit
from intake.problems import Problem
from intake.state import Reader, UnitReport, exempt_units, period_reports, period_states
from intake.tables import inbound_messages
from mailer.problem_text import problem_text
from scoring.periods import Period, fiscal_year_of, fiscal_year_periods
from scoring.scores import UnitScore, score_unit
from scoring.status import Status, unit_status

if TYPE_CHECKING:
    from mailer.unit_answers import Month


@dataclass(frozen=True)
class UnitState:
    """A unit's month: its report (the folded parts) and its status. The report's fields most readers want
    are here directly (`st.kind`, not `st.report.state.kind`)."""

    unit: Unit
    report: UnitReport
    status: Status

    @property
    def kind(self) -> str | None:
        return self.report.state.kind

    @property
    def completed_at(self) -> datetime | None:
        return self.report.state.completed_at

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(self.report.state.missing)

    @property
    def c01_ref(self) -> int | None:
        return self.report.state.c01_ref


def _statuses(app: App, session: Reader, period: Period, as_of: datetime,
              codes: list[str]) -> dict[str, tuple[UnitReport, Status]]:
    """These units' reports and statuses for the period as of a moment."""
    due = app.deadline(period)
    reports = period_reports(session, str(period), as_of, codes)
    exempt = exempt_units(session, str(period))
    return {c: (reports[c], unit_status(reports[c].state, due, as_of, exempt=c in exempt,
                                        needs_review=reports[c].needs_review)) for c in codes}


def unit_states(app: App, session: Reader, period: Period, as_of: datetime) -> list[UnitState]:
    """Every active unit's report and status for the period, in registry order."""
    units = app.registry.active
    found = _statuses(app, session, period, as_of, [u.code for u in units])
    return [UnitState(u, *found[u.code]) for u in units]


def _iso(moment: datetime | None, app: App) -> str | None:
    return moment.astimezone(app.settings.tz).isoformat(timespec="seconds") if moment else None


def status_report(app: App, period: Period, as_of: datetime) -> dict[str, Any]:
    """`{"period", "deadline", "units": [...]}`: every active unit once, inactive units never."""
    with app.engine.connect() as connection:  # Core reads only: this command never needs the ORM
        states = unit_states(app, connection, period, as_of)
    return {"period": str(period), "deadline": _iso(app.deadline(period), app), "units": [{
        "unit": st.unit.code,
        "status": st.status.value,
        "kind": st.kind,
        "completed_at": _iso(st.completed_at, app),
        "counts": dict(st.report.counts),
        "problems": _problems(app, st.report.problems),
    } for st in states]}


# What a problem is about, as its JSON says it (the file, sheet and row; for totals, which count and both numbers):
# two problems of one code are two facts only when these differ.
_ABOUT = ("category", "summary", "rows", "file", "sheet", "row")


def _problems(app: App, problems: list[Problem]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for p in problems:
        entry: dict[str, Any] = {"code": p.code, "severity": p.severity}
        entry.update((key, p.params[key]) for key in _ABOUT if p.params.get(key))
        if p.arrived_at:
            entry.update(arrived_at=_iso(p.arrived_at, app), message=problem_text(p.code, app.problem_params(p)))
        if entry not in out:  # one fact, once
            out.append(entry)
    return out


def _month_statuses(app: App, session: Reader, period: Period, as_of: datetime) -> dict[str, str]:
    """Every active unit's status for a month as of a moment: `unit_states`' statuses, from the parts' fields alone
    (`period_states`; a fiscal year reads twelve months of every unit, and their reports' counts and problems,
    decoded from JSON, cost most of that)."""
    codes = [u.code for u in app.registry.active]
    due = app.deadline(period)
    exempt = exempt_units(session, str(period))
    return {code: unit_status(state, due, as_of, exempt=code in exempt, needs_review=review).value
            for code, (state, review) in period_states(session, str(period), as_of, codes).items()}


def fiscal_year_statuses(app: App, session: Reader, fiscal_year: int,
                         as_of: datetime) -> tuple[list[Period], dict[str, list[str | None]]]:
    """Per unit, the status of each month of the fiscal year; None where the deadline is still ahead
    and nothing complete has arrived (an early on-time report already shows)."""
    periods = fiscal_year_periods(fiscal_year)
    grid: dict[str, list[str | None]] = {u.code: [] for u in app.registry.active}
    start = start_period(app, session)
    for period in periods:
        if start is not None and period < start:  # before the bot collected reports: not scored
            for code in grid:
                grid[code].append(None)
            continue
        due = app.deadline(period) <= as_of
        started = period.first_day() <= as_of.astimezone(app.settings.tz).date()
        by_code = _month_statuses(app, session, period, as_of) if started else {}
        for code in grid:
            status = by_code.get(code)
            grid[code].append(status if due or status in ("on_time", "exempt") else None)
    return periods, grid


def start_period(app: App, session: Reader) -> Period | None:
    """START_PERIOD, else the month of the first message the bot stored (its first month at work)."""
    if app.settings.start_period:
        return Period.parse(app.settings.start_period)
    first = session.execute(select(func.min(inbound_messages.c.arrived_at))).scalar()
    return Period.of(first.astimezone(app.settings.tz)) if first else None


def scores(app: App, session: Reader, fiscal_year: int, as_of: datetime) -> tuple[list[Period], dict[str, list[str | None]], list[UnitScore]]:
    periods, grid = fiscal_year_statuses(app, session, fiscal_year, as_of)
    start = start_period(app, session)
    counted = [i for i, p in enumerate(periods) if app.deadline(p) <= as_of and (start is None or p >= start)]
    out = [score_unit(code, [statuses[i] or "missing" for i in counted], app.rubric) for code, statuses in grid.items()]
    return periods, grid, out


def unit_score_now(app: App, session: Reader, unit_code: str, period: Period, as_of: datetime) -> UnitScore | None:
    """One unit's fiscal-year score (the year `period` is in) as of a moment: what an exemption's answer shows
    before and after."""
    _, _, results = scores(app, session, fiscal_year_of(period), as_of)
    return next((r for r in results if r.unit == unit_code), None)


def unit_status_now(app: App, session: Reader, unit_code: str, period: Period, as_of: datetime) -> str:
    """One unit's status for a period as of a moment (what a staff member's answer shows before and after)."""
    return _statuses(app, session, period, as_of, [unit_code])[unit_code][1].value


def unit_year(app: App, session: Reader, unit: Unit, fiscal_year: int, as_of: datetime) -> list[Month]:
    """A unit's months of a fiscal year up to now, from the bot's first month at work (START_PERIOD): each month's
    status, when it became complete, what is still missing. Its own data only."""
    from mailer.unit_answers import Month  # here: `status` must not load the outbox's ORM models

    start = start_period(app, session)
    today = as_of.astimezone(app.settings.tz).date()
    lines = []
    for period in fiscal_year_periods(fiscal_year):
        if period.first_day() > today or (start is not None and period < start):
            continue
        report, status = _statuses(app, session, period, as_of, [unit.code])[unit.code]
        lines.append(Month(period, app.deadline(period), status.value, report.state.kind,
                               report.state.completed_at, report.last_arrival, tuple(report.state.missing)))
    return lines
