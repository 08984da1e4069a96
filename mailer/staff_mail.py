"""The secretariat's side by mail: the answer to a staff member's command mail and the review alert.
Rendered from plain data; every sentence a person reads comes from mailer/words.py or the templates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from config.msgid import make_message_id
from mailer.compose import build_message
from mailer.context import MailContext
from mailer.outbox import Envelope, enqueue
from mailer.receipts import plain
from mailer.render import render
from scoring.periods import Period, thai_datetime
from mailer.words import ACTION_THAI, LINE_ERRORS, REFUSAL_THAI, REVIEW_WHY, STATUS_THAI


def refusal_thai(reason: str) -> str:
    """Why a command mail was refused (the pipeline's reason), in Thai."""
    for key, thai in REFUSAL_THAI:
        if key in reason:
            return thai
    return "ไม่รับคำสั่ง"


def review_why(outcome: str, reason: str) -> str:
    for prefix, thai in REVIEW_WHY:
        if reason.startswith(prefix):
            return thai
    if outcome == "quarantined":
        return "ระบบอ่านไฟล์แนบของอีเมลนี้ไม่สำเร็จ"
    if any("\u0e01" <= ch <= "\u0e5b" for ch in reason):  # the readers' own words: which file, and why
        return f"ระบบอ่านเอกสารแนบไม่ได้ ต้องให้เจ้าหน้าที่อ่าน ({reason[:300]})"
    return "ระบบไม่สามารถตัดสินได้ว่าเป็นรายงานของหน่วยงานใดหรือเดือนใด"


@dataclass(frozen=True)
class LineOutcome:
    """One line of a command mail and what became of it."""

    line_no: int
    text: str
    verb: str = ""  # exempt | record | resolve | dismiss | reprocess | undo ("" for a line not read)
    unit: str | None = None
    unit_name: str | None = None
    period: Period | None = None
    before: str | None = None  # the unit's status for the period before and after (STATUS_THAI keys)
    after: str | None = None
    reference: str | None = None  # "A-12": quote it with ยกเลิก to undo
    message_number: int | None = None
    undone: tuple[str, str] | None = None  # an undo: the reference undone and its kind ("A-12", "record")
    score: tuple[int, float, float] | None = None  # an exemption: the fiscal year, its score before and after
    error: str = ""  # a LINE_ERRORS code; "" when done
    params: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass(frozen=True)
class StaffAnswer:
    key: str
    to: str
    original_message_id: str
    original_subject: str
    lines: list[LineOutcome]
    ignored: list[str]
    # The thread it answers (the command mail's References, then the command mail), so that the digest it replied
    # to stays in it; and the digest's month, tagged in the subject: a reply to the answer defaults to that month
    # as a reply to the digest does.
    references: tuple[str, ...] = ()
    period: Period | None = None


def _line_context(line: LineOutcome) -> dict[str, object]:
    return {
        "no": line.line_no, "text": plain(line.text, 200), "ok": line.ok, "verb": ACTION_THAI.get(line.verb, ""),
        "unit": line.unit or "", "unit_name": line.unit_name or "", "period": line.period.thai() if line.period else "",
        "before": STATUS_THAI.get(line.before or "", line.before or ""),
        "after": STATUS_THAI.get(line.after or "", line.after or ""),
        "reference": line.reference or "", "message": f"#{line.message_number}" if line.message_number else "",
        "undone": f"{line.undone[0]} ({ACTION_THAI.get(line.undone[1], line.undone[1])})" if line.undone else "",
        "late": line.verb == "exempt" and line.before == "late",
        "score": ({"year": line.score[0], "before": f"{line.score[1]:g}", "after": f"{line.score[2]:g}"}
                  if line.score else None),
        "error": LINE_ERRORS.get(line.error, LINE_ERRORS["failed"]).format_map(line.params) if line.error else "",
    }


def enqueue_staff_answer(session: Session, answer: StaffAnswer, ctx: MailContext, now: datetime) -> bool:
    """The answer to a command mail: each line, what changed and how to undo it, or why it was not done."""
    done = [line for line in answer.lines if line.ok]
    context = {"lines": [_line_context(line) for line in answer.lines], "done": len(done),
               "failed": len(answer.lines) - len(done), "ignored": [plain(t, 80) for t in answer.ignored],
               "contact": ctx.contact, "tag": answer.period.tag if answer.period else ""}
    message_id = make_message_id(ctx.secret, ctx.domain, "staff", None, None, answer.key)
    rendered = render("staff_answer", context, ctx.templates_dir)
    raw = build_message(from_addr=ctx.from_addr, from_name=ctx.from_name, to=[answer.to], subject=rendered.subject,
                        text=rendered.text, html=rendered.html, message_id=message_id, date=now,
                        in_reply_to=answer.original_message_id, auto_submitted="auto-replied",
                        references=answer.references)  # compose adds the command mail itself
    return enqueue(session, Envelope(key=answer.key, kind="staff", recipients=[answer.to], subject=rendered.subject,
                                     message_id=message_id, raw=raw), now, ctx.limits) is not None


@dataclass(frozen=True)
class ReviewItem:
    number: int
    arrived_at: datetime
    from_addr: str
    subject: str
    outcome: str
    reason: str
    candidates: list[tuple[str, str]]  # (code, name) of the units the sender may speak for
    period: Period | None
    files: list[str]


def enqueue_review_alert(session: Session, items: list[ReviewItem], to: list[str], key: str, ctx: MailContext,
                         now: datetime) -> str | None:
    """Tell the staff what waits for a person and the reply words that settle each; the alert's Message-ID
    (for the caller to remember which messages it listed), or None when it was not queued."""
    single = len(items) == 1
    context = {
        "count": len(items), "single": single, "contact": ctx.contact,
        "items": [{"number": i.number, "arrived": thai_datetime(i.arrived_at.astimezone(ctx.tz)),
                   "from": i.from_addr, "subject": plain(i.subject, 120), "why": review_why(i.outcome, i.reason),
                   "candidates": [f"{code} {name}" for code, name in i.candidates],
                   "example_unit": i.candidates[0][0] if i.candidates else "รหัสหน่วยงาน",
                   "period": i.period.thai() if i.period else "", "files": [plain(f, 80) for f in i.files],
                   "prefix": "" if single else f"#{i.number} "} for i in items],
    }
    message_id = make_message_id(ctx.secret, ctx.domain, "review", None, None, key)
    rendered = render("review_alert", context, ctx.templates_dir)
    raw = build_message(from_addr=ctx.from_addr, from_name=ctx.from_name, to=to, subject=rendered.subject,
                        text=rendered.text, html=rendered.html, message_id=message_id, date=now,
                        auto_submitted="auto-generated")
    queued = enqueue(session, Envelope(key=key, kind="review", recipients=to, subject=rendered.subject,
                                       message_id=message_id, raw=raw), now, ctx.limits)
    return message_id if queued is not None else None
