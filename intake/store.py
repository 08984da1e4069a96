"""Persistence of a message's journey: is it stored already, the message row (new, or a stored one read again),
its submission and case rows, and the quarantine that keeps what broke the pipeline. Written inside the
caller's transaction; the steps that decide what to write are in intake/pipeline.py and intake/screening.py."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, event, insert, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session, SessionTransaction

from db.driver import DriverStatement, copy_rows, executemany, reserve_id, with_defaults
from config.units import Unit
from intake import tables
from intake.context import Fetched, IngestResult
from intake.documents import Documents
from intake.forms import CaseRow
from intake.message import ParsedMail, parse_message
from intake.models import InboundMessage, Outcome, Submission
from intake.problems import Problem
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
            values: dict[str, Any]) -> int:
    """Insert a row and give its id. On PostgreSQL the id is taken from the table's sequence ahead (`reserve_id`)
    and the insert is owed (`DriverStatement.owe`): it goes with the next statement, no round trip of its own;
    elsewhere it runs now and returns its id."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return int(returning.scalar(connection, values))
    row_id = reserve_id(connection, session.info, table.name)
    owed.owe(connection, {**values, "id": row_id})
    return row_id


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
    result.outcome, result.reason = Outcome(inbound.outcome), inbound.reason


def forget_earlier_reading(session: Session, existing: InboundMessage | None) -> set[tuple[str, str]]:
    """A message read again replaces its own earlier submissions; the (unit, period) chains to rebuild."""
    replaced: set[tuple[str, str]] = set()
    if existing is not None:
        write_owed_cases(session)  # its submissions' rows go with them (the ORM's cascade: models.Submission.rows)
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
_CASE_COLUMNS = ("submission_id", *CaseRow._fields)


@functools.lru_cache(maxsize=8)
def _case_insert(dialect: Dialect) -> str:
    """The driver's own INSERT for case rows (SQLite's; PostgreSQL takes them by COPY)."""
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    return (f"INSERT INTO {quote(tables.case_rows.name)} ({', '.join(quote(c) for c in _CASE_COLUMNS)}) "
            f"VALUES ({', '.join([mark] * len(_CASE_COLUMNS))})")


def store_submission(session: Session, sub: Submission, doc: Documents) -> None:
    """Insert the submission (`sub` gets its id and stays outside the session: `fold_in` writes its fold
    state); its Complaint_01 rows are owed to the transaction (`write_owed_cases`). Core, not the ORM, for the
    submission: SQLAlchemy's handling of each row's parameters cost more than the database's writing it."""
    values = with_defaults(tables.submissions, {name: getattr(sub, name) for name in _SUBMISSION_COLUMNS})
    sub.id = _insert(session, _INSERT_SUBMISSION, _OWE_SUBMISSION, tables.submissions, values)
    c01 = next((f for f in doc.forms if f.form == "complaint_01"), None)
    if c01 and sub.has_c01 and c01.rows:
        transaction = session.get_nested_transaction() or session.get_transaction()
        session.info.setdefault(_OWED_CASES, []).append((transaction, sub.id, c01.rows))


# A transaction's Complaint_01 rows not yet written: (the (nested) transaction that stored them, submission id,
# rows). A batch of a few hundred messages writes them all in one COPY (PostgreSQL) or executemany (SQLite)
# when it commits: a COPY per message cost two round trips and ~2 ms of waiting for the server each.
_OWED_CASES = "complaint_bot.intake.owed_case_rows"
_OwedCases = list[tuple[SessionTransaction, int, list[CaseRow]]]


# A batch's case rows are written whenever this many are owed (about ten messages' worth), not all at its commit:
# a batch's transaction of a few hundred messages wrote ~20,000 rows at its end, 0.1 s in which the storing
# process did nothing else and the parser workers, their look-ahead full, sat idle (a fifth of a backlog's time at
# half the cores). Written between messages, the rows cost the same, while the workers read on.
OWED_ROWS_WRITTEN_AT = 1000


def write_owed_cases(session: Session, at_least: int = 0) -> None:
    """Write the case rows this transaction owes: before it commits, and before anything reads or deletes case
    rows in it (the digest's readers, a submission deleted or read again). `at_least`: only if that many rows are
    owed (a batch writes its rows as it goes: `OWED_ROWS_WRITTEN_AT`). Rows written inside a savepoint are the
    database's to roll back with it from then on, like every other row written there."""
    owed: _OwedCases | None = session.info.get(_OWED_CASES)
    if not owed or at_least and sum(len(rows) for _, _, rows in owed) < at_least:
        return
    del session.info[_OWED_CASES]
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        copy_rows(connection, tables.case_rows.name, _CASE_COLUMNS,
                  [(sub_id, *r) for _, sub_id, rows in owed for r in rows])
        return
    # The settings take SQLite or PostgreSQL only. SQLAlchemy stores a date on SQLite as "YYYY-MM-DD" (its DATE's
    # storage format): date.isoformat() writes the same text in C, without a Python call per date, and without
    # sqlite3's default date adapter (deprecated since Python 3.12).
    values = [(sub_id, *r[:2], r[2] and r[2].isoformat(), *r[3:9], r[9] and r[9].isoformat(), r[10])
              for _, sub_id, rows in owed for r in rows]
    executemany(connection, _case_insert(connection.dialect), values)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if not session.in_nested_transaction():  # the transaction itself, not one of its savepoints
        write_owed_cases(session)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous: SessionTransaction) -> None:
    """A savepoint rolled back (a message quarantined instead): the rows it stored are not owed any more."""
    owed: _OwedCases | None = session.info.get(_OWED_CASES)
    if owed:
        session.info[_OWED_CASES] = [entry for entry in owed if not _within(entry[0], previous)]


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # nothing owed outlives its transaction (written by now, or rolled back)
        session.info.pop(_OWED_CASES, None)


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def _next_id(session: Session) -> int | None:
    """A quarantined message's id in its place among the ids reserved for the batch's messages (PostgreSQL), so
    that ids follow the mailbox's order; None: the database gives it."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return None
    return reserve_id(connection, session.info, tables.inbound_messages.name)


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
            if (row_id := _next_id(session)) is not None:
                inbound.id = row_id
            session.add(inbound)
    except Exception as exc:  # its headers cannot be stored: keep it bare rather than lose it
        mail = None
        with session.begin_nested():
            inbound = inbound_row(fetched, None, Outcome.QUARANTINED,
                                  f"{error[:2000]} (its headers could not be stored: {type(exc).__name__})")
            if (row_id := _next_id(session)) is not None:
                inbound.id = row_id
            session.add(inbound)
    return IngestResult(inbound_id=inbound.id, outcome=Outcome.QUARANTINED, reason=error, arrived_at=fetched.arrived_at,
                        original_message_id=mail.message_id if mail else "",
                        original_subject=mail.subject if mail else "")
