"""A unit's answers to its own requests by mail: its fiscal-year record, and its evidence pack (a zip). Rendered
from plain data handed in by bot/; only that unit's data is ever in them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from config.msgid import make_message_id
from mailer.compose import OutgoingAttachment, build_message
from mailer.context import MailContext
from mailer.outbox import Envelope, enqueue
from mailer.render import render
from mailer.words import KIND_SHORT, STATUS_THAI
from scoring.periods import Period, thai_datetime


@dataclass(frozen=True)
class Month:
    period: Period
    deadline: datetime
    status: str
    kind: str | None
    completed_at: datetime | None
    last_arrival: datetime | None
    missing: tuple[str, ...]


@dataclass(frozen=True)
class UnitAnswer:
    """What a unit asked for and what it gets: `kind` is record or evidence."""

    kind: str
    key: str  # idempotency key: one answer per request mail
    to: str
    unit_code: str
    unit_name: str
    fiscal_year: int
    months: list[Month] = field(default_factory=list)
    original_message_id: str = ""
    original_subject: str = ""
    pack: bytes = b""  # the evidence zip, for kind "evidence"
    pack_note: str = ""  # what was left out of the pack and why (a code: originals_left_out, too_large)


_MISSING = {"complaint_01": "แบบ Complaint_01", "complaint_02": "แบบ Complaint_02"}
PACK_NOTES = {
    "originals_left_out": "ไฟล์อีเมลต้นฉบับไม่ได้แนบมา เนื่องจากมีข้อมูลส่วนบุคคลของผู้ร้องเรียน ชุดหลักฐานมีรายการค่า SHA-256 "
                          "ของต้นฉบับทุกฉบับแทน สำนักงานเลขานุการกรมเก็บต้นฉบับไว้และยืนยันได้",
    "too_large": "ชุดหลักฐานฉบับเต็มมีขนาดเกินที่ส่งทางอีเมลได้ จึงแนบเฉพาะสรุปและรายการค่า SHA-256 "
                 "หากต้องการฉบับเต็ม กรุณาติดต่อสำนักงานเลขานุการกรม",
}


def answer_context(answer: UnitAnswer, ctx: MailContext) -> dict[str, object]:
    local = (lambda d: thai_datetime(d.astimezone(ctx.tz)) if d else "")
    return {
        "kind": answer.kind, "unit_name": answer.unit_name, "unit_code": answer.unit_code,
        "fiscal_year": answer.fiscal_year, "contact": ctx.contact,
        "months": [{"period": m.period.thai(), "deadline": local(m.deadline), "status": STATUS_THAI.get(m.status, m.status),
                    "key": m.status, "kind": KIND_SHORT.get(m.kind or "", ""), "completed": local(m.completed_at),
                    "arrived": local(m.last_arrival), "missing": [_MISSING.get(x, x) for x in m.missing]}
                   for m in answer.months],
        "pack_note": PACK_NOTES.get(answer.pack_note, ""),
    }


def enqueue_unit_answer(session: Session, answer: UnitAnswer, ctx: MailContext, now: datetime) -> bool:
    """Render and queue the answer (in reply to the request mail); False when this request was answered before or
    a rate limit holds it (the request stays recorded as the stored mail)."""
    kind = f"unit_{answer.kind}"
    message_id = make_message_id(ctx.secret, ctx.domain, kind, answer.unit_code, None, answer.key)
    rendered = render(kind, answer_context(answer, ctx), ctx.templates_dir)
    files = [OutgoingAttachment(f"หลักฐาน-{answer.unit_code}-ปีงบประมาณ-{answer.fiscal_year}.zip", answer.pack,
                                "application", "zip")] if answer.pack else []
    raw = build_message(from_addr=ctx.from_addr, from_name=ctx.from_name, to=[answer.to], subject=rendered.subject,
                        text=rendered.text, html=rendered.html, message_id=message_id, date=now,
                        in_reply_to=answer.original_message_id, auto_submitted="auto-replied", attachments=files)
    env = Envelope(key=answer.key, kind=kind, recipients=[answer.to], subject=rendered.subject,
                   message_id=message_id, raw=raw, unit_code=answer.unit_code)
    return enqueue(session, env, now, ctx.limits) is not None
