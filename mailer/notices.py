"""Reminders before the deadline and overdue notices after it, to a unit's contact addresses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from config.msgid import make_message_id
from mailer.compose import OutgoingAttachment, build_message
from mailer.context import MailContext
from mailer.outbox import Envelope, enqueue
from mailer.render import render
from scoring.periods import Period, thai_date, thai_datetime


@dataclass(frozen=True)
class Notice:
    kind: str  # reminder | overdue
    key: str  # idempotency key: one per unit, period and slot
    unit_code: str
    unit_name: str
    period: Period
    deadline: datetime
    to: tuple[str, ...]
    missing: tuple[str, ...] = ()  # forms still needed when a part has arrived
    days_left: int = 0

    def to_dict(self) -> dict[str, object]:
        return {"unit": self.unit_code, "period": str(self.period), "kind": self.kind, "to": list(self.to)}


def notice_context(notice: Notice, ctx: MailContext) -> dict[str, object]:
    return {
        "unit_name": notice.unit_name, "unit_code": notice.unit_code, "period": notice.period.thai(),
        "tag": notice.period.tag, "deadline": thai_datetime(notice.deadline.astimezone(ctx.tz)),
        "deadline_date": thai_date(notice.deadline.astimezone(ctx.tz).date()), "days_left": notice.days_left,
        "missing": list(notice.missing), "reply_to": ctx.from_addr, "contact": ctx.contact,
    }


XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def enqueue_notice(session: Session, notice: Notice, ctx: MailContext, now: datetime,
                   forms: tuple[tuple[str, bytes], ...] = ()) -> bool:
    """Render and enqueue; False when this notice was queued before (the job ran again). `forms` are the
    blank Complaint_01 and Complaint_02 (filename, bytes), attached so a clerk can fill them in and reply."""
    message_id = make_message_id(ctx.secret, ctx.domain, notice.kind, notice.unit_code, str(notice.period), notice.key)
    rendered = render(notice.kind, notice_context(notice, ctx), ctx.templates_dir)
    raw = build_message(from_addr=ctx.from_addr, from_name=ctx.from_name, to=list(notice.to),
                        subject=rendered.subject, text=rendered.text, html=rendered.html, message_id=message_id,
                        date=now, auto_submitted="auto-generated",
                        attachments=[OutgoingAttachment(name, data, *XLSX) for name, data in forms])
    env = Envelope(key=notice.key, kind=notice.kind, recipients=list(notice.to), subject=rendered.subject,
                   message_id=message_id, raw=raw, unit_code=notice.unit_code, period=str(notice.period),
                   waits=True)  # once per unit and slot: over a limit it waits, it is not lost
    return enqueue(session, env, now, ctx.limits) is not None
