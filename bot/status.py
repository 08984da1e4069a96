"""The status of every active unit for a period, as the JSON contract in the SPEC and as a table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.app import App
from intake.state import period_reports
from scoring.periods import Period
from scoring.status import unit_status


def _iso(moment: datetime | None, app: App) -> str | None:
    return moment.astimezone(app.settings.tz).isoformat(timespec="seconds") if moment else None


def status_report(app: App, period: Period, as_of: datetime) -> dict[str, Any]:
    """`{"period", "deadline", "units": [...]}`: every active unit once, inactive units never."""
    due = app.deadline(period)
    units = app.registry.active
    with app.sessions() as s:
        reports = period_reports(s, str(period), as_of, [u.code for u in units])
    rows = []
    for unit in units:
        rep = reports[unit.code]
        status = unit_status(rep.state, due, as_of, needs_review=rep.needs_review)
        rows.append({
            "unit": unit.code,
            "status": status.value,
            "kind": rep.state.kind,
            "completed_at": _iso(rep.state.completed_at, app),
            "counts": dict(rep.counts),
            "problems": [{"code": p.code, "severity": p.severity} for p in rep.problems],
        })
    return {"period": str(period), "deadline": _iso(due, app), "units": rows}
