"""The monthly cycle: which reminders, overdue notices and digests are due at a moment, and sending them.

Every notice has an idempotency key (kind, unit, period, slot): running the job again, or after a
restart, queues nothing twice. A slot missed while the bot was down is sent once when it comes back
(only the latest reminder slot, and only within NOTICE_WINDOW_DAYS).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import App
from bot.digest_data import digest_data
from bot.reporting import unit_states
from bot.staff import queue_review_alert
from mailer.contacts import unreachable
from mailer.digest import enqueue_digest
from mailer.models import OutboxMessage
from mailer.notices import Notice, enqueue_notice
from mailer.workbook import build_workbook
from scoring.periods import Period
from scoring.status import Status


@dataclass(frozen=True)
class Slot:
    kind: str  # reminder | overdue | digest
    period: Period
    at: datetime
    label: str  # distinguishes the reminder slots ("7", "2")


@dataclass
class CycleReport:
    notices: list[Notice] = field(default_factory=list)
    digests: list[str] = field(default_factory=list)
    review_alert: bool = False  # a review alert was queued to STAFF_EMAILS


def _at(app: App, day: datetime, clock: time, days: int) -> datetime:
    local = day.astimezone(app.settings.tz).date() + timedelta(days=days)
    return datetime.combine(local, clock, tzinfo=app.settings.tz)


def due_slots(app: App, as_of: datetime) -> list[Slot]:
    """Slots whose time has come and whose window is still open, for this month and the last."""
    s = app.settings
    window = timedelta(days=s.notice_window_days)
    current = Period.of(as_of.astimezone(s.tz))
    out: list[Slot] = []
    for period in (current.prev(), current):
        due = app.deadline(period)
        reminders = [Slot("reminder", period, _at(app, due, s.reminder_time, -d), str(d)) for d in s.reminder_days]
        open_reminders = [r for r in reminders if r.at <= as_of <= due]
        if open_reminders:
            out.append(max(open_reminders, key=lambda r: r.at))  # the latest only
        for kind, days, clock in (("overdue", s.overdue_days_after, s.overdue_time),
                                  ("digest", s.digest_days_after, s.digest_time)):
            at = _at(app, due, clock, days)
            if at <= as_of < at + window:
                out.append(Slot(kind, period, at, ""))
    return out


def _queued(session: Session, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    return set(session.scalars(select(OutboxMessage.idempotency_key).where(OutboxMessage.idempotency_key.in_(keys))))


def planned_digests(app: App, session: Session, as_of: datetime) -> list[dict[str, object]]:
    """The digests run_cycle would queue now (same slots, same keys), for `remind --dry-run`."""
    slots = [slot for slot in due_slots(app, as_of) if slot.kind == "digest"]
    done = _queued(session, [f"digest:{slot.period}" for slot in slots])
    return [{"unit": None, "period": str(slot.period), "kind": "digest", "to": list(app.settings.digest_to)}
            for slot in slots if f"digest:{slot.period}" not in done]


def plan_notices(app: App, session: Session, as_of: datetime) -> list[Notice]:
    """Reminders and overdue notices due now and not queued before."""
    bad = {c.address for c in unreachable(session)}
    notices: list[Notice] = []
    for slot in due_slots(app, as_of):
        if slot.kind == "digest":
            continue
        wanted = {Status.PENDING, Status.INCOMPLETE} if slot.kind == "reminder" else {Status.MISSING, Status.INCOMPLETE}
        due = app.deadline(slot.period)
        for st in unit_states(app, session, slot.period, as_of):
            if st.status not in wanted:
                continue
            to = tuple(a for a in st.unit.contacts if a not in bad) or st.unit.contacts
            days_left = max((due.date() - as_of.astimezone(app.settings.tz).date()).days, 0)
            notices.append(Notice(
                kind=slot.kind, key=f"{slot.kind}:{st.unit.code}:{slot.period}:{slot.label}", unit_code=st.unit.code,
                unit_name=st.unit.name, period=slot.period, deadline=due, to=to,
                missing=st.missing, days_left=days_left))
    done = _queued(session, [n.key for n in notices])
    return [n for n in notices if n.key not in done]


def queue_digest(app: App, session: Session, period: Period, as_of: datetime, key: str,
                 to: list[str] | None = None, in_reply_to: str = "") -> bool:
    """Build the digest as of `as_of` and queue it, inside the caller's transaction (once per key)."""
    if _queued(session, [key]):
        return False
    data = digest_data(app, session, period, as_of)
    workbook, _ = build_workbook(data)
    return enqueue_digest(session, data, workbook, to or list(app.settings.digest_to), key, app.mail,
                          datetime.now(UTC), in_reply_to)


def send_digest(app: App, period: Period, as_of: datetime, key: str, to: list[str] | None = None) -> bool:
    with app.sessions.begin() as s:
        return queue_digest(app, s, period, as_of, key, to)


def forms_for(notice: Notice) -> tuple[tuple[str, bytes], ...]:
    """Complaint_01 and Complaint_02 with the unit's name and code and the month already entered, so the clerk only
    types the cases (and the counts, where there are any); what they send back is read like any other form."""
    from mailer.blank_forms import complaint_01, complaint_02

    label = f"{notice.unit_name} ({notice.unit_code})"
    return (("Complaint_01.xlsx", complaint_01(label, notice.period)),
            ("Complaint_02.xlsx", complaint_02(label, notice.period)))


def run_cycle(app: App, as_of: datetime) -> CycleReport:
    """The scheduler's job: queue what is due now. Safe to run as often as you like."""
    report = CycleReport()
    with app.sessions.begin() as s:
        for notice in plan_notices(app, s, as_of):
            if enqueue_notice(s, notice, app.mail, datetime.now(UTC), forms_for(notice)):
                report.notices.append(notice)
    for slot in due_slots(app, as_of):
        if slot.kind == "digest" and send_digest(app, slot.period, as_of, f"digest:{slot.period}"):
            report.digests.append(str(slot.period))
    with app.sessions.begin() as s:
        report.review_alert = queue_review_alert(app, s, datetime.now(UTC))
    return report
