"""The secretariat's digest: plain data in, a Thai mail (text + HTML with bars) and a workbook out."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.msgid import make_message_id
from mailer.compose import OutgoingAttachment, build_message
from mailer.context import MailContext
from mailer.models import DigestSnapshot
from mailer.outbox import Envelope, enqueue
from mailer.problem_text import problem_text
from mailer.render import render
from mailer.receipts import plain
from mailer.staff_mail import refusal_thai, review_why
from scoring.periods import Period, thai_date, thai_datetime
from scoring.scores import UnitScore
from scoring.status import CATEGORIES
from mailer.words import ACTION_THAI, CATEGORY_THAI, PROBLEM_SHORT, STATUS_THAI

STATUS_ORDER = ("on_time", "late", "missing", "incomplete", "needs_review", "pending", "exempt")


@dataclass(frozen=True)
class UnitLine:
    code: str
    name: str
    status: str
    kind: str | None
    completed_at: datetime | None
    counts: dict[str, int]
    problems: list[tuple[str, str, dict[str, str]]]  # (code, severity, params): mailer words them


class CaseLine(NamedTuple):
    """One case of the digest (a tuple: a digest makes hundreds of thousands of them)."""

    unit_code: str
    unit_name: str
    period: Period
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


@dataclass(frozen=True)
class MatrixRow:
    unit_code: str
    unit_name: str
    statuses: list[str | None]  # one per month of the fiscal year; None = not due yet
    score: UnitScore


@dataclass
class DigestData:
    period: Period
    as_of: datetime
    deadline: datetime
    fiscal_year: int
    units: list[UnitLine]
    cases: Iterable[CaseLine]  # may be a generator: the workbook streams it
    matrix_periods: list[Period]
    matrix: list[MatrixRow]
    channels: dict[str, int] = field(default_factory=dict)
    unreachable: list[tuple[str, str, str]] = field(default_factory=list)  # (address, status, reason)
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (unit, before, after)
    actions: list[tuple[datetime, str, str, str, str, str]] = field(default_factory=list)
    refused: list[tuple[datetime, str, str]] = field(default_factory=list)  # (arrived, from, why): commands refused
    # Units' own requests answered by mail: (when, unit, kind, to).
    unit_requests: list[tuple[datetime, str, str, str]] = field(default_factory=list)
    # Messages waiting for a person: (number, from, outcome, reason, the unit to suggest or "").
    waiting: list[tuple[int, str, str, str, str]] = field(default_factory=list)
    include_personal: bool = False

    def status_counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATUS_ORDER, 0)
        for u in self.units:
            out[u.status] = out.get(u.status, 0) + 1
        return out

    def category_totals(self) -> dict[str, int]:
        return {c: sum(u.counts.get(c, 0) for u in self.units) for c in CATEGORIES}

    def monthly(self) -> list[tuple[Period, int, int, int, int]]:
        """(period, on time, late, missing or incomplete, needing review) per month of the fiscal year, for
        the chart: the same groups as the summary (a unit waiting for a person is not 'missing')."""
        out = []
        for i, p in enumerate(self.matrix_periods):
            column = [row.statuses[i] for row in self.matrix]
            if all(s is None for s in column):
                continue
            out.append((p, column.count("on_time"), column.count("late"),
                        sum(1 for s in column if s in ("missing", "incomplete")), column.count("needs_review")))
        return out


def changes_since_last(session: Session, period: Period, statuses: dict[str, str]) -> list[tuple[str, str, str]]:
    last = session.scalars(select(DigestSnapshot).where(DigestSnapshot.period == str(period))
                           .order_by(DigestSnapshot.id.desc()).limit(1)).first()
    if last is None:
        return []
    return [(unit, last.statuses.get(unit, "-"), status) for unit, status in statuses.items()
            if last.statuses.get(unit) != status]


_ACTION_CODE = re.compile(r"\((" + "|".join(sorted(ACTION_THAI, key=len, reverse=True)) + r")\)")


def action_reason(reason: str) -> str:
    """An action's stored reason as a person reads it: an undone action's kind in words ("ยกเลิก A-3 (record)"
    reads "ยกเลิก A-3 (บันทึกรายงานที่ได้รับทางกระดาษ)")."""
    return _ACTION_CODE.sub(lambda m: f"({ACTION_THAI[m.group(1)]})", reason)


def month_words(period: str | None) -> str:
    """A stored YYYY-MM as the Thai month and Buddhist-era year; empty for none."""
    try:
        return Period.parse(period).thai() if period else ""
    except ValueError:
        return period or ""


def problem_list(problems: list[tuple[str, str, dict[str, str]]]) -> str:
    """A unit's problems in a few words each, once per kind."""
    return ", ".join(sorted({PROBLEM_SHORT.get(code, code) for code, _, _ in problems}))


def digest_context(data: DigestData, ctx: MailContext) -> dict[str, object]:
    counts = data.status_counts()
    total = max(len(data.units), 1)
    return {
        "period": data.period.thai(), "tag": data.period.tag, "fiscal_year": data.fiscal_year,
        "as_of": thai_datetime(data.as_of.astimezone(ctx.tz)), "deadline": thai_datetime(data.deadline.astimezone(ctx.tz)),
        "total_units": len(data.units),
        "status_rows": [{"label": STATUS_THAI[s], "status": s, "count": counts[s], "pct": round(100 * counts[s] / total)}
                        for s in STATUS_ORDER if counts[s] or s in ("on_time", "late", "missing")],
        "units": [{"code": u.code, "name": u.name, "status": STATUS_THAI.get(u.status, u.status), "key": u.status,
                   "completed": thai_datetime(u.completed_at.astimezone(ctx.tz)) if u.completed_at else "",
                   "problems": problem_list(u.problems)} for u in data.units],
        "categories": [{"label": CATEGORY_THAI[c], "count": n} for c, n in data.category_totals().items()],
        "channels": sorted(({"label": k or "(ไม่ระบุ)", "count": v} for k, v in data.channels.items()),
                           key=lambda c: -int(c["count"])),  # type: ignore[call-overload]
        "problems": [{"unit": u.code, "message": problem_text(p[0], p[2])} for u in data.units for p in u.problems],
        "unreachable": [{"address": a, "status": s, "reason": r} for a, s, r in data.unreachable],
        "changes": [{"unit": u, "before": STATUS_THAI.get(b, b), "after": STATUS_THAI.get(a, a)} for u, b, a in data.changes],
        "actions": [{"when": thai_date(w.astimezone(ctx.tz).date()), "kind": ACTION_THAI.get(k, k), "unit": u,
                     "period": month_words(p), "actor": who, "reason": action_reason(why)}
                    for w, k, u, p, who, why in data.actions],
        "refused": [{"when": thai_datetime(w.astimezone(ctx.tz)), "sender": who, "why": refusal_thai(why)}
                    for w, who, why in data.refused],
        "unit_requests": [{"when": thai_datetime(w.astimezone(ctx.tz)), "unit": u, "what": ACTION_THAI.get(k, k),
                           "to": plain(to, 80)} for w, u, k, to in data.unit_requests],
        "waiting": [{"number": n, "from": plain(who, 80), "why": review_why(outcome, reason),
                     "example_unit": unit or "รหัสหน่วยงาน"} for n, who, outcome, reason, unit in data.waiting],
        "example_unit": next((u.code for u in data.units if u.status in ("missing", "incomplete")), "HPC01"),
        "monthly": [{"label": p.thai(), "on_time": a, "late": b, "missing": c, "review": r, "total": max(a + b + c + r, 1)}
                    for p, a, b, c, r in data.monthly()],
    }


def enqueue_digest(session: Session, data: DigestData, workbook: bytes, to: list[str], key: str,
                   ctx: MailContext, now: datetime, in_reply_to: str = "") -> bool:
    """Queue the digest with its workbook, and remember the statuses it showed."""
    message_id = make_message_id(ctx.secret, ctx.domain, "digest", None, str(data.period), key)
    rendered = render("digest", digest_context(data, ctx), ctx.templates_dir)
    attachment = OutgoingAttachment(f"complaint-digest-{data.period.be_year}-{data.period.month:02d}.xlsx", workbook,
                                    "application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    raw = build_message(from_addr=ctx.from_addr, from_name=ctx.from_name, to=to, subject=rendered.subject,
                        text=rendered.text, html=rendered.html, message_id=message_id, date=now,
                        in_reply_to=in_reply_to, auto_submitted="auto-generated", attachments=[attachment])
    queued = enqueue(session, Envelope(key=key, kind="digest", recipients=to, subject=rendered.subject,
                                       message_id=message_id, raw=raw, period=str(data.period)), now,
                     ctx.limits) is not None
    if queued:
        session.add(DigestSnapshot(period=str(data.period), created_at=now,
                                   statuses={u.code: u.status for u in data.units}))
    return queued
