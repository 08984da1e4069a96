"""Assemble the digest's plain data from intake and scoring, then hand it to mailer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import App
from bot.reporting import UnitState, scores, unit_states
from intake.decisions import actions_for, case_rows, channel_totals, refused_commands, review_items
from mailer.contacts import unreachable
from mailer.digest import CaseLine, DigestData, MatrixRow, UnitLine, changes_since_last
from mailer.models import OutboxMessage
from scoring.periods import Period, fiscal_year_of


def _c01_ids(states: list[UnitState]) -> list[int]:
    """The latest accepted Complaint_01 of each complete unit: its rows are the unit's cases."""
    return [st.c01_ref for st in states if st.kind == "complaints" and st.c01_ref is not None]


def _cases(app: App, session: Session, period: Period, ids: list[int]) -> Iterator[CaseLine]:
    names = {u.code: u.name for u in app.registry.units}
    for unit_code, *fields in case_rows(session, ids):  # fields in CASE_COLUMNS order, which CaseLine follows
        code = str(unit_code)
        yield CaseLine(code, names.get(code, code), period, *fields)


WAITING_SHOWN = 30  # messages waiting for review listed in a digest's mail (the oldest first)
REFUSED_WINDOW = timedelta(days=31)  # refused command mails of the last month are listed in a digest


def digest_data(app: App, session: Session, period: Period, as_of: datetime,
                include_personal: bool = False) -> DigestData:
    """Everything the digest shows, as of a moment. Cases are a generator: read while the workbook streams."""
    states = unit_states(app, session, period, as_of)
    fiscal_year = fiscal_year_of(period)
    periods, grid, unit_scores = scores(app, session, fiscal_year, as_of)
    by_code = {sc.unit: sc for sc in unit_scores}
    ids = _c01_ids(states)
    return DigestData(
        period=period, as_of=as_of, deadline=app.deadline(period), fiscal_year=fiscal_year,
        units=[UnitLine(st.unit.code, st.unit.name, st.status.value, st.kind, st.completed_at, dict(st.report.counts),
                        [(p.code, p.severity, app.problem_params(p)) for p in st.report.problems]) for st in states],
        cases=_cases(app, session, period, ids),
        matrix_periods=periods,
        matrix=[MatrixRow(u.code, u.name, grid[u.code], by_code[u.code]) for u in app.registry.active],
        channels=channel_totals(session, ids),
        unreachable=[(c.address, c.last_status, c.last_reason) for c in unreachable(session)],
        changes=changes_since_last(session, period, {st.unit.code: st.status.value for st in states}),
        actions=[(a.created_at, a.kind, a.unit_code or "", a.period or "", a.actor, a.reason)
                 for a in actions_for(session, str(period))],
        refused=[(m.arrived_at, m.from_addr, m.reason)
                 for m in refused_commands(session, as_of - REFUSED_WINDOW, as_of)],
        unit_requests=[(o.created_at, o.unit_code or "", o.kind, o.primary_to) for o in session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind.in_(("unit_record", "unit_evidence")),
                                        OutboxMessage.created_at >= as_of - REFUSED_WINDOW,
                                        OutboxMessage.created_at <= as_of).order_by(OutboxMessage.id))],
        # What waits for a person, with the unit the bot knew or the sender's first unit for the suggested line.
        waiting=[(m.id, m.from_addr, str(m.outcome), m.reason, m.unit_code or (m.candidates or [""])[0])
                 for m in review_items(session, limit=WAITING_SHOWN)],
        include_personal=include_personal,
    )
