"""Receipts: what was understood from a unit's message, rendered from plain data and enqueued."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from config.msgid import make_message_id
from mailer.compose import build_message
from mailer.context import MailContext
from mailer.models import OutboxMessage
from mailer.outbox import Envelope, queue
from mailer.problem_text import file_note_text, problem_text
from mailer.render import render
from scoring.periods import Period, thai_datetime
from scoring.status import CATEGORIES
from mailer.words import CATEGORY_THAI, KIND_THAI, PERIOD_RULE_THAI, STATUS_THAI


@dataclass(frozen=True)
class ReceiptInfo:
    key: str  # stable per original message, so re-processing never sends a second receipt
    situation: str  # report | no_report | needs_review | unknown_sender | quarantined
    reference: str
    to: str
    arrived_at: datetime
    unit_code: str | None = None
    unit_name: str | None = None
    period: Period | None = None
    period_rule: str = ""
    deadline: datetime | None = None
    status: str | None = None
    report_kind: str | None = None
    completed_at: datetime | None = None
    files: list[tuple[str, str, str, dict[str, str]]] = field(default_factory=list)  # (name, kind, note, params)
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)  # (severity, code, params)
    original_message_id: str = ""
    original_subject: str = ""


def receipt_context(info: ReceiptInfo, ctx: MailContext) -> dict[str, object]:
    local = (lambda d: thai_datetime(d.astimezone(ctx.tz)) if d else "")
    return {
        "situation": info.situation,
        "reference": info.reference,
        "unit_name": info.unit_name or "",
        "unit_code": info.unit_code or "",
        "period": info.period.thai() if info.period else "",
        "tag": info.period.tag if info.period else "",
        "period_note": PERIOD_RULE_THAI.get(info.period_rule, ""),
        "arrived": local(info.arrived_at),
        "deadline": local(info.deadline),
        "status": info.status or "",
        "status_thai": STATUS_THAI.get(info.status or "", ""),
        "on_time": info.status == "on_time",
        "kind_thai": KIND_THAI.get(info.report_kind or "", ""),
        "completed": local(info.completed_at),
        "files": [{"name": plain(n, 80), "detail": file_note_text(k, d, p)} for n, k, d, p in info.files],
        "counts": [{"label": CATEGORY_THAI[c], "value": info.counts.get(c, 0)} for c in CATEGORIES],
        "has_counts": info.report_kind == "complaints",
        "errors": [plain(problem_text(c, p), 500) for s, c, p in info.problems if s == "error"],
        "warnings": [plain(problem_text(c, p), 500) for s, c, p in info.problems if s != "error"],
        "original_subject": plain(info.original_subject, 120),
        "contact": ctx.contact,
    }


_DEFANG = (("://", "[:]//"), ("www.", "www[.]"), ("WWW.", "WWW[.]"), ("@", "[at]"))


def plain(text: str, limit: int) -> str:
    """A sender's string quoted in our mail: one line, at most `limit` characters, and no link or address a
    mail client would make clickable (mail from the secretariat must not relay a stranger's URL)."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[:limit - 1] + "…"
    for old, new in _DEFANG:
        text = text.replace(old, new)
    return text


def enqueue_receipt(session: Session, info: ReceiptInfo, ctx: MailContext, now: datetime) -> bool:
    """Queue the receipt's data (`outbox.queue`: on PostgreSQL no wait for the server of its own); the sender
    renders it (`compose_receipt`). False when a rate limit dropped it; a receipt for this message queued
    already is skipped by the database.

    Rendering and building the MIME cost about a sixth of a message's intake: done at send time, a backlog
    is stored at the rate of reading it, while what the receipt says is still fixed now, in the transaction
    that stores the message (the data cannot change; a template fixed meanwhile renders it better)."""
    period = str(info.period) if info.period else None
    message_id = make_message_id(ctx.secret, ctx.domain, "receipt", info.unit_code, period, info.key)
    stranger = info.situation == "unknown_sender"  # a notice to a sender who is no unit: only what units leave
    env = Envelope(key=info.key, kind="receipt", recipients=[info.to], subject="", message_id=message_id, raw=b"",
                   unit_code=info.unit_code, period=period, payload=receipt_payload(info),
                   waits=not stranger, spare=stranger)
    return queue(session, env, now, ctx.limits)


def compose_receipt(payload: dict[str, Any], message_id: str, date: datetime, ctx: MailContext) -> tuple[str, bytes]:
    """The receipt queued as `payload`: (subject, MIME bytes), dated when it was queued."""
    info = receipt_from_payload(payload)
    rendered = render("receipt", receipt_context(info, ctx), ctx.templates_dir)
    raw = build_message(
        from_addr=ctx.from_addr, from_name=ctx.from_name, to=[info.to], subject=rendered.subject,
        text=rendered.text, html=rendered.html, message_id=message_id, date=date,
        in_reply_to=info.original_message_id, auto_submitted="auto-replied",
    )
    return rendered.subject, raw


_WHEN_FIELDS = ("arrived_at", "deadline", "completed_at")


def receipt_payload(info: ReceiptInfo) -> dict[str, Any]:
    """The receipt's data as JSON values (moments in ISO 8601 with their offset, the period as YYYY-MM)."""
    # Shallow (the info is frozen and its parts are plain values): asdict's deep copy cost more than the rest.
    data = {f.name: getattr(info, f.name) for f in fields(info)}
    for name in _WHEN_FIELDS:
        data[name] = data[name].isoformat() if data[name] else None
    data["period"] = str(info.period) if info.period else None
    return data


def receipt_from_payload(data: dict[str, Any]) -> ReceiptInfo:
    values = dict(data)
    for name in _WHEN_FIELDS:
        values[name] = datetime.fromisoformat(values[name]) if values.get(name) else None
    values["period"] = Period.parse(values["period"]) if values.get("period") else None
    values["files"] = [tuple(f) for f in values.get("files", [])]
    values["problems"] = [tuple(p) for p in values.get("problems", [])]
    return ReceiptInfo(**values)


def compose_queued(row: OutboxMessage, ctx: MailContext) -> tuple[str, bytes]:
    """`send_due`'s composer: the message of a row queued as data (receipts are the kind that is)."""
    if row.kind != "receipt" or row.payload is None:
        raise ValueError(f"a queued {row.kind} without its message has no composer")
    return compose_receipt(row.payload, row.message_id, row.created_at, ctx)
