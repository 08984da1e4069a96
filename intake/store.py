"""Persistence of a message's journey: is it stored already, the message row (new, or a stored one read again),
its submission and case sheet, and the quarantine that keeps what broke the pipeline. Written inside the
caller's transaction; the steps that decide what to write are in intake/pipeline.py and intake/screening.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, event, insert, select
from sqlalchemy.orm import Session

from db.driver import DriverStatement, reserve_id, with_defaults
from config.units import Unit
from intake import tables
from intake.context import Fetched, IngestResult
from intake.documents import Documents
from intake.message import ParsedMail, parse_message
from intake.models import InboundMessage, Outcome, Submission
from intake.problems import Problem
from intake.sheets import sheet_text
from intake.state import forget
from intake.tables import WAITING_OUTCOMES
from scoring.periods import Period

# Asked for every message: built once, run on the connection (every stored message is flushed by then).
_STORED = select(InboundMessage.id).where(InboundMessage.sha256 == bindparam("sha256")).limit(1)


def is_duplicate(session: Session, fetched: Fetched) -> bool:
    return session.connection().execute(_STORED, {"sha256": fetched.sha256}).first() is not None


def inbound_row(fetched: Fetched, mail: ParsedMail | None, outcome: Outcome, reason: str) -> InboundMessage:
    """The message's row (not yet added): its bytes, headers, outcome and why."""
    return InboundMessage(
        sha256=fetched.sha256, source=fetched.source, uidvalidity=fetched.uidvalidity, uid=fetched.uid,
        arrived_at=fetched.arrived_at, processed_at=datetime.now(UTC),
        from_addr=mail.from_addr[:320] if mail else "", subject=mail.subject if mail else "",
        message_id=mail.message_id if mail else "", size=len(fetched.raw), raw=fetched.raw,
        outcome=outcome, reason=reason, candidates=[], problems=[],
    )


_INBOUND_COLUMNS = tuple(c.key for c in tables.inbound_messages.columns if c.key not in ("id", "purged_at"))
_INSERT_INBOUND = DriverStatement(insert(tables.inbound_messages).returning(tables.inbound_messages.c.id), _INBOUND_COLUMNS)
_OWE_INBOUND = DriverStatement(insert(tables.inbound_messages), ("id", *_INBOUND_COLUMNS))


def _insert(session: Session, returning: DriverStatement, owed: DriverStatement, table: Any,
            values: dict[str, Any], row_id: int | None = None) -> int:
    """Insert a row and give its id. On PostgreSQL the id is taken from the table's sequence ahead (`reserve_id`,
    unless `row_id` was taken so already) and the insert is owed (`DriverStatement.owe`): it goes with the next
    statement, no round trip of its own; elsewhere it runs now and returns its id."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return int(returning.scalar(connection, values))
    if row_id is None:
        row_id = reserve_id(connection, session.info, table.name)
    owed.owe(connection, {**values, "id": row_id})
    return row_id


def reserve_submission_id(session: Session, sub: Submission) -> bool:
    """Give a new submission its id before its insert where the database allows it (PostgreSQL, `reserve_id`),
    so that what needs the id (its fold state) goes in the insert; False elsewhere (the insert gives it)."""
    row_id = _reserved_id(session, tables.submissions)
    if row_id is None:
        return False
    sub.id = row_id
    return True


def _reserved_id(session: Session, table: Any) -> int | None:
    """An id for a new row of `table` taken ahead from its sequence (PostgreSQL, `reserve_id`), so that ids follow
    the order rows are written in; None: the database gives it at the insert."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return None
    return reserve_id(connection, session.info, table.name)


def store_message(session: Session, inbound: InboundMessage, existing: InboundMessage | None,
                  result: IngestResult) -> None:
    """Insert the message (or update the stored one read again) and note its id and outcome."""
    if existing is not None:
        for name in ("outcome", "reason", "unit_code", "period", "candidates", "problems", "processed_at",
                     "scans_pending"):
            setattr(existing, name, getattr(inbound, name))
        session.flush()
        result.inbound_id = existing.id
    else:  # a new message: one Core insert (the ORM's unit of work cost more than the row; nothing edits it later)
        values = with_defaults(tables.inbound_messages, {name: getattr(inbound, name) for name in _INBOUND_COLUMNS})
        values["scans_pending"] = bool(inbound.scans_pending)
        result.inbound_id = _insert(session, _INSERT_INBOUND, _OWE_INBOUND, tables.inbound_messages, values)
        if inbound.outcome in WAITING_OUTCOMES:  # what fold_ahead read of the period's waiting messages is old now
            forget(session.info, waiting_only=True)
    result.outcome, result.reason = Outcome(inbound.outcome), inbound.reason


def forget_earlier_reading(session: Session, existing: InboundMessage | None) -> set[tuple[str, str]]:
    """A message read again replaces its own earlier submissions; the (unit, period) chains to rebuild."""
    replaced: set[tuple[str, str]] = set()
    if existing is not None:
        for old in session.scalars(select(Submission).where(Submission.inbound_id == existing.id)):
            replaced.add((old.unit_code, old.period))
            session.delete(old)
        session.flush()
    return replaced


def build_submission(unit: Unit, period: Period, rule: str, fetched: Fetched, doc: Documents,
                     nil: bool, problems: list[Problem]) -> Submission | None:
    """The report part this message holds (its forms' counts, a nil statement), or None when it holds none."""
    c01 = next((f for f in doc.forms if f.form == "complaint_01"), None)
    c02 = next((f for f in doc.forms if f.form == "complaint_02" and f.filled), None)
    if not (c01 or c02 or nil):
        return None
    return Submission(
        unit_code=unit.code, period=str(period), arrived_at=fetched.arrived_at, channel="email",
        period_rule=rule, has_c01=c01 is not None, c01_rows=len(c01.rows) if c01 else 0,
        has_c02=c02 is not None, c02_total=sum(c02.category_counts().values()) if c02 else 0,
        nil_statement=nil, c01_counts=c01.category_counts() if c01 else {}, c02_counts=c02.counts if c02 else {},
        files=[{"filename": f.filename, "kind": f.kind, "detail": f.detail, "params": f.params} for f in doc.files],
        problems=[p.to_dict() for p in problems],
    )


_SUBMISSION_COLUMNS = tuple(c.key for c in tables.submissions.columns if c.key != "id")
_INSERT_SUBMISSION = DriverStatement(insert(tables.submissions).returning(tables.submissions.c.id), _SUBMISSION_COLUMNS)
_OWE_SUBMISSION = DriverStatement(insert(tables.submissions), ("id", *_SUBMISSION_COLUMNS))
_INSERT_SHEET = DriverStatement(insert(tables.case_sheets), ("submission_id", "rows"))


def store_submission(session: Session, sub: Submission, doc: Documents) -> None:
    """Insert the submission (with its fold state when it was folded ahead; `sub` gets its id, if it has none
    yet, and stays outside the session) and its Complaint_01 rows, one document (intake/sheets.py). Core, not the
    ORM: SQLAlchemy's handling of each row's parameters cost more than the database's writing it. On PostgreSQL
    both inserts are owed (no round trip of their own: `DriverStatement.owe`)."""
    values = with_defaults(tables.submissions, {name: getattr(sub, name) for name in _SUBMISSION_COLUMNS})
    sub.id = _insert(session, _INSERT_SUBMISSION, _OWE_SUBMISSION, tables.submissions, values, sub.id)
    c01 = next((f for f in doc.forms if f.form == "complaint_01"), None)
    if c01 and sub.has_c01 and c01.rows:
        _INSERT_SHEET.owe(session.connection(), {"submission_id": sub.id, "rows": sheet_text(c01.rows)})


def quarantine(session: Session, fetched: Fetched, error: str) -> IngestResult:
    """Keep a message that broke the pipeline, with its error, so the loop can move on. Only its header block is
    read (its body may be what broke it, and is not parsed in the storing process again). Should even that row
    fail to store, the message is kept with what cannot fail: its bytes, hash and arrival, and the error."""
    try:
        mail: ParsedMail | None = parse_message(fetched.raw, body=False)
    except Exception:
        mail = None
    try:
        with session.begin_nested():
            inbound = inbound_row(fetched, mail, Outcome.QUARANTINED, error[:4000])
            if (row_id := _reserved_id(session, tables.inbound_messages)) is not None:
                inbound.id = row_id
            session.add(inbound)
    except Exception as exc:  # its headers cannot be stored: keep it bare rather than lose it
        mail = None
        with session.begin_nested():
            inbound = inbound_row(fetched, None, Outcome.QUARANTINED,
                                  f"{error[:2000]} (its headers could not be stored: {type(exc).__name__})")
            if (row_id := _reserved_id(session, tables.inbound_messages)) is not None:
                inbound.id = row_id
            session.add(inbound)
    return IngestResult(inbound_id=inbound.id, outcome=Outcome.QUARANTINED, reason=error, arrived_at=fetched.arrived_at,
                        original_message_id=mail.message_id if mail else "",
                        original_subject=mail.subject if mail else "")


# What a transaction read as it folded (intake/state.py fold_ahead) ends with it, and with any rollback in it: a
# savepoint rolled back undoes the parts stored in it and releases the locks taken in it.
@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
@event.listens_for(Session, "after_soft_rollback")
def _forget_folding(session: Session, *_: object) -> None:
    forget(session.info)


@event.listens_for(Session, "before_flush")
def _forget_waiting(session: Session, *_: object) -> None:
    """A stored message changed (a person's decision, a message read again or quarantined): which messages wait
    for a person is asked again."""
    if any(isinstance(obj, InboundMessage) for obj in (*session.new, *session.dirty, *session.deleted)):
        forget(session.info, waiting_only=True)
