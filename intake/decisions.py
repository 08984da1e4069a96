"""The secretariat's decisions on intake data: exemptions, paper reports, review, undo, all logged as actions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config.units import Unit
from intake.errors import IntakeError
from intake.forms import CaseRow
from intake.models import Action, CaseSheet, Exemption, InboundMessage, Outcome, ReviewAlert, Submission
from intake.problems import Problem
from intake.sheets import sheet_rows
from intake.tables import WAITING_OUTCOMES
from scoring.periods import Period

if TYPE_CHECKING:
    from intake.documents import Documents

REVIEW_OUTCOMES = WAITING_OUTCOMES
# A case row as the digest lists it: the unit's code, then these CaseRow fields in this order (all but `row`).
CASE_COLUMNS = CaseRow._fields[1:]
CaseColumns = tuple[Any, ...]


class SecretariatError(IntakeError):
    """A secretariat action that cannot be done as asked: the message says why (for the command line), `code`
    and `params` name it for mailer's message catalogue (for an answer by mail)."""

    def __init__(self, message: str, code: str = "failed", **params: str) -> None:
        super().__init__(message)
        self.code, self.params = code, params


def log_action(session: Session, kind: str, actor: str, reason: str, now: datetime, *, unit: str | None = None,
               period: str | None = None, inbound_id: int | None = None,
               details: dict[str, Any] | None = None) -> Action:
    action = Action(kind=kind, unit_code=unit, period=period, inbound_id=inbound_id, actor=actor, reason=reason,
                    created_at=now, details=details)
    session.add(action)
    session.flush()  # its id is the reference a person quotes to undo it
    return action


def exempt(session: Session, unit: Unit, period: Period, reason: str, actor: str, now: datetime) -> Action:
    if not reason.strip():
        raise SecretariatError("an exemption needs a reason", "exempt_no_reason")
    existing = session.scalar(select(Exemption).where(Exemption.unit_code == unit.code,
                                                      Exemption.period == str(period)))
    if existing is not None:
        raise SecretariatError(f"{unit.code} is already exempt for {period}", "already_exempt", unit=unit.code,
                         period=period.thai())
    session.add(Exemption(unit_code=unit.code, period=str(period), reason=reason, actor=actor, created_at=now))
    return log_action(session, "exempt", actor, reason, now, unit=unit.code, period=str(period), details={})


def record_paper(session: Session, unit: Unit, period: Period, received_at: datetime, *, nil: bool,
                 doc: Documents, actor: str, reason: str, now: datetime,
                 original_id: int | None = None) -> tuple[Submission, list[Problem], Action]:
    """A report that came on paper (or by hand): stored like an e-mailed one, received at `received_at`.
    `doc` is what `read_documents` found in the files typed from the paper (read before the transaction);
    `original_id` the stored message that brought its scan (a staff member's mail), kept as its original."""
    from intake.context import Fetched  # the intake path, only here (status and digests never load it)
    from intake.store import build_submission, store_submission
    from intake.state import fold_in

    fetched = Fetched(raw=b"", arrived_at=received_at, source="paper")
    sub = build_submission(unit, period, "secretariat", fetched, doc, nil, list(doc.problems))
    if sub is None:
        raise SecretariatError("nothing to record: give --nil or a file holding Complaint_01/Complaint_02", "paper_nothing")
    sub.channel = "paper"
    sub.inbound_id = original_id
    store_submission(session, sub, doc)
    fold_in(session, sub)
    action = log_action(session, "record", actor, reason or "รายงานฉบับกระดาษ", now, unit=unit.code,
                        period=str(period), inbound_id=original_id, details={"submission": sub.id})
    return sub, list(doc.problems), action


# What needs a person: undecidable or quarantined messages, and unknown senders set aside.
_WAITING = (InboundMessage.outcome.in_(REVIEW_OUTCOMES)
            | ((InboundMessage.outcome == Outcome.SET_ASIDE) & (InboundMessage.reason == "unknown sender")))


def review_items(session: Session, limit: int = 200) -> list[InboundMessage]:
    """What needs a person, oldest first."""
    return list(session.scalars(select(InboundMessage).where(_WAITING)
                                .order_by(InboundMessage.arrived_at).limit(limit)))


def is_waiting(session: Session, inbound_id: int) -> bool:
    """Whether this stored message still needs a person (one indexed lookup; no message is loaded)."""
    return session.scalar(select(InboundMessage.id).where(InboundMessage.id == inbound_id, _WAITING)) is not None


def get_message(session: Session, inbound_id: int) -> InboundMessage:
    msg = session.get(InboundMessage, inbound_id)
    if msg is None:
        raise SecretariatError(f"no stored message #{inbound_id}", "no_message", number=str(inbound_id))
    return msg


def dismiss(session: Session, inbound_id: int, actor: str, reason: str, now: datetime) -> Action:
    msg = get_message(session, inbound_id)
    before = {"outcome": str(msg.outcome), "reason": msg.reason}
    msg.outcome, msg.reason = Outcome.DISMISSED, reason or "dismissed by the secretariat"
    return log_action(session, "dismiss", actor, reason, now, unit=msg.unit_code, period=msg.period,
                      inbound_id=inbound_id, details=before)


UNDOABLE = ("exempt", "record", "dismiss", "resolve")


def undo(session: Session, reference: int, actor: str, now: datetime) -> Action:
    """Undo an exemption, a paper report or a dismissal by its action's reference; logged as its own action.
    (A resolve is undone by reading the message again, which the caller does.)"""
    from intake.state import refresh_fold_states

    action = session.get(Action, reference)
    if action is None:
        raise SecretariatError(f"no action A-{reference}", "no_action", reference=f"A-{reference}")
    if action.undone_at is not None:
        raise SecretariatError(f"A-{reference} was undone already", "already_undone", reference=f"A-{reference}")
    if action.details is None or action.kind not in UNDOABLE:
        raise SecretariatError(f"A-{reference} ({action.kind}) cannot be undone", "cannot_undo", reference=f"A-{reference}")
    if action.kind == "exempt":
        exemption = session.scalar(select(Exemption).where(Exemption.unit_code == action.unit_code,
                                                           Exemption.period == action.period))
        if exemption is not None:
            session.delete(exemption)
    elif action.kind == "record":
        sub = session.get(Submission, action.details.get("submission"))
        if sub is not None:
            session.delete(sub)
            session.flush()
            refresh_fold_states(session, sub.unit_code, sub.period)
    elif action.kind == "dismiss":
        msg = get_message(session, action.inbound_id or 0)
        msg.outcome, msg.reason = action.details["outcome"], action.details.get("reason", "")
    action.undone_at = now
    return log_action(session, "undo", actor, f"ยกเลิก A-{reference} ({action.kind})", now, unit=action.unit_code,
                      period=action.period, inbound_id=action.inbound_id)


def actions_for(session: Session, period: str) -> list[Action]:
    return list(session.scalars(select(Action).where((Action.period == period) | Action.period.is_(None))
                                .order_by(Action.created_at)))


def case_rows(session: Session, submission_ids: list[int]) -> Iterator[CaseColumns]:
    """Complaint_01 rows of the given submissions as plain tuples (unit code first, then CASE_COLUMNS), streamed
    in unit and row order (a unit's cases are those of its latest Complaint_01: one sheet). Columns, not
    entities: a digest reads 200,000 of them."""
    for unit_code, text in _sheets(session, submission_ids):
        for row in sheet_rows(text):
            yield (unit_code, *row[1:])  # CASE_COLUMNS


def channel_totals(session: Session, submission_ids: list[int]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for _, text in _sheets(session, submission_ids):
        for row in sheet_rows(text):
            key = (row.channel or "").strip()
            totals[key] = totals.get(key, 0) + 1
    return totals


def _sheets(session: Session, submission_ids: list[int]) -> Iterator[tuple[str, str]]:
    """The case sheets of the given submissions, (unit code, document), in unit order."""
    for start in range(0, len(submission_ids), 500):
        chunk = submission_ids[start:start + 500]
        query = (select(Submission.unit_code, CaseSheet.rows).join(CaseSheet, CaseSheet.submission_id == Submission.id)
                 .where(Submission.id.in_(chunk)).order_by(Submission.unit_code, Submission.id))
        for unit_code, text in session.execute(query.execution_options(yield_per=100)):
            yield unit_code, text


def unit_messages(session: Session, unit_code: str, periods: list[str]) -> list[InboundMessage]:
    return list(session.scalars(select(InboundMessage).where(
        InboundMessage.unit_code == unit_code, InboundMessage.period.in_(periods)).order_by(InboundMessage.arrived_at)))


def paper_originals(session: Session, unit_code: str, periods: list[str]) -> list[tuple[str, InboundMessage]]:
    """The stored mail that brought each of the unit's paper reports (a staff member's, its scan attached), with
    the month the report is for."""
    query = (select(Submission.period, InboundMessage).join(InboundMessage, InboundMessage.id == Submission.inbound_id)
             .where(Submission.unit_code == unit_code, Submission.period.in_(periods), Submission.channel == "paper")
             .order_by(InboundMessage.arrived_at))
    return [(period, msg) for period, msg in session.execute(query)]


def refused_commands(session: Session, since: datetime, until: datetime) -> list[InboundMessage]:
    """Mail that looked like a staff command but could not command (forged, not a reply, not staff)."""
    return list(session.scalars(select(InboundMessage).where(
        InboundMessage.outcome == Outcome.COMMAND_REFUSED,
        InboundMessage.arrived_at >= since, InboundMessage.arrived_at <= until).order_by(InboundMessage.arrived_at)))


def note_alert(session: Session, message_id: str, inbound_ids: list[int], now: datetime) -> None:
    session.add(ReviewAlert(message_id=message_id, inbound_ids=inbound_ids, created_at=now))


def alerted_ids(session: Session) -> set[int]:
    """Messages some review alert listed already (each is announced once)."""
    return {i for ids in session.scalars(select(ReviewAlert.inbound_ids)) for i in ids}


def last_alert_at(session: Session) -> datetime | None:
    return session.scalar(select(func.max(ReviewAlert.created_at)))


def alert_items(session: Session, message_ids: list[str]) -> list[int]:
    """The messages listed by the review alert a reply quotes (In-Reply-To, References), in one query;
    empty when it quotes none."""
    ids = [m.strip() for m in message_ids if m and m.strip()][:100]
    alert = session.scalars(select(ReviewAlert).where(ReviewAlert.message_id.in_(ids))
                            .order_by(ReviewAlert.id.desc()).limit(1)).first() if ids else None
    return list(alert.inbound_ids) if alert is not None else []
