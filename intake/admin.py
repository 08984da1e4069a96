"""The secretariat's own actions on intake data: exemptions, paper reports, review, all logged."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config.units import Unit
from intake.errors import IntakeError
from intake.models import Action, CaseRecord, Exemption, InboundMessage, Outcome, Submission
from intake.problems import Problem
from scoring.periods import Period

if TYPE_CHECKING:
    from intake.documents import Documents

REVIEW_OUTCOMES = (Outcome.NEEDS_REVIEW, Outcome.QUARANTINED)


class AdminError(IntakeError):
    """A secretariat action that cannot be done as asked (the message says why)."""


def log_action(session: Session, kind: str, actor: str, reason: str, now: datetime, *, unit: str | None = None,
               period: str | None = None, inbound_id: int | None = None) -> None:
    session.add(Action(kind=kind, unit_code=unit, period=period, inbound_id=inbound_id, actor=actor,
                       reason=reason, created_at=now))


def exempt(session: Session, unit: Unit, period: Period, reason: str, actor: str, now: datetime) -> None:
    if not reason.strip():
        raise AdminError("an exemption needs a reason")
    existing = session.scalar(select(Exemption).where(Exemption.unit_code == unit.code,
                                                      Exemption.period == str(period)))
    if existing is not None:
        raise AdminError(f"{unit.code} is already exempt for {period}")
    session.add(Exemption(unit_code=unit.code, period=str(period), reason=reason, actor=actor, created_at=now))
    log_action(session, "exempt", actor, reason, now, unit=unit.code, period=str(period))


def exempt_units(session: Session, period: str) -> set[str]:
    return set(session.scalars(select(Exemption.unit_code).where(Exemption.period == period)))


def record_paper(session: Session, unit: Unit, period: Period, received_at: datetime, *, nil: bool,
                 doc: Documents, actor: str, reason: str, now: datetime) -> tuple[Submission, list[Problem]]:
    """A report that came on paper (or by hand): stored like an e-mailed one, received at `received_at`.
    `doc` is what `read_documents` found in the files typed from the paper (read before the transaction)."""
    from intake.pipeline import Fetched, build_submission, store_submission  # the intake path, only here
    from intake.state import fold_in

    fetched = Fetched(raw=b"", arrived_at=received_at, source="paper")
    sub = build_submission(unit, period, "secretariat", fetched, doc, nil, list(doc.problems))
    if sub is None:
        raise AdminError("nothing to record: give --nil or a file holding Complaint_01/Complaint_02")
    sub.channel = "paper"
    store_submission(session, sub, doc)
    fold_in(session, sub)
    log_action(session, "record", actor, reason or "รายงานฉบับกระดาษ", now, unit=unit.code, period=str(period))
    return sub, list(doc.problems)


def review_items(session: Session, limit: int = 200) -> list[InboundMessage]:
    """What needs a person: undecidable or quarantined messages, and unknown senders set aside."""
    return list(session.scalars(
        select(InboundMessage).where(
            InboundMessage.outcome.in_(REVIEW_OUTCOMES)
            | ((InboundMessage.outcome == Outcome.SET_ASIDE) & (InboundMessage.reason == "unknown sender")))
        .order_by(InboundMessage.arrived_at).limit(limit)))


def get_message(session: Session, inbound_id: int) -> InboundMessage:
    msg = session.get(InboundMessage, inbound_id)
    if msg is None:
        raise AdminError(f"no stored message #{inbound_id}")
    return msg


def dismiss(session: Session, inbound_id: int, actor: str, reason: str, now: datetime) -> None:
    msg = get_message(session, inbound_id)
    msg.outcome, msg.reason = Outcome.DISMISSED, reason or "dismissed by the secretariat"
    log_action(session, "dismiss", actor, reason, now, unit=msg.unit_code, period=msg.period, inbound_id=inbound_id)


def actions_for(session: Session, period: str) -> list[Action]:
    return list(session.scalars(select(Action).where((Action.period == period) | Action.period.is_(None))
                                .order_by(Action.created_at)))


def case_rows(session: Session, submission_ids: list[int]) -> Iterator[tuple[Submission, CaseRecord]]:
    """Complaint_01 rows of the given submissions, streamed in unit and row order."""
    for start in range(0, len(submission_ids), 500):
        chunk = submission_ids[start:start + 500]
        query = (select(Submission, CaseRecord).join(CaseRecord, CaseRecord.submission_id == Submission.id)
                 .where(Submission.id.in_(chunk)).order_by(Submission.unit_code, CaseRecord.row))
        for sub, row in session.execute(query.execution_options(yield_per=1000)):
            yield sub, row


def channel_totals(session: Session, submission_ids: list[int]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for start in range(0, len(submission_ids), 500):
        chunk = submission_ids[start:start + 500]
        for channel, n in session.execute(select(CaseRecord.channel, func.count()).where(
                CaseRecord.submission_id.in_(chunk)).group_by(CaseRecord.channel)):
            key = (channel or "").strip()
            totals[key] = totals.get(key, 0) + n
    return totals


def unit_messages(session: Session, unit_code: str, periods: list[str]) -> list[InboundMessage]:
    return list(session.scalars(select(InboundMessage).where(
        InboundMessage.unit_code == unit_code, InboundMessage.period.in_(periods)).order_by(InboundMessage.arrived_at)))
