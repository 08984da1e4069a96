"""Enqueue in the caller's transaction; `send_due` claims due rows, delivers, and records the outcome."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, Text, bindparam, cast, false, func, null, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from db.driver import DriverStatement
from mailer.errors import DeliveryError
from mailer.limits import RateLimits, count_queued, log_held, over_limit, over_spare_share
from mailer.models import OutboxMessage
from mailer.transport import Transport

log = logging.getLogger("complaint_bot.outbox")

LEASE = timedelta(minutes=5)  # a claim older than this belongs to a crashed sender: take it over
MAX_AGE = timedelta(days=3)  # transient failures are retried for this long, then given up


@dataclass(frozen=True)
class Envelope:
    key: str
    kind: str
    recipients: list[str]
    subject: str
    message_id: str
    raw: bytes
    unit_code: str | None = None
    period: str | None = None
    payload: dict[str, Any] | None = None  # with raw=b"": composed by `send_due`'s `compose` when sent
    # Over a rate limit: `waits` is queued anyway and sent once the hour has room (a unit's receipt, a reminder:
    # never lost); `spare` may use only what the units leave (a stranger's notice: at most SPARE_SHARE of the
    # hour's total, mailer/limits.py, dropped beyond). Neither: dropped (answers to requests, against floods).
    waits: bool = False
    spare: bool = False


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


# The columns `enqueue` writes (the others are the sender's: a value missing for one of these is an error, not a
# NULL). Built once per dialect and run with each row's values (building it per message cost more than running it).
_ENQUEUED = tuple(c.key for c in OutboxMessage.__table__.columns if c.key not in ("id", "claimed_until", "claimed_by", "sent_at"))
_INSERT = {name: DriverStatement(insert(OutboxMessage).on_conflict_do_nothing(index_elements=["idempotency_key"])
                                  .returning(OutboxMessage.id), _ENQUEUED)
           for name, insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))}
_OWED_INSERT = DriverStatement(postgresql_insert(OutboxMessage).on_conflict_do_nothing(index_elements=["idempotency_key"]),
                               _ENQUEUED)


def enqueue(session: Session, env: Envelope, now: datetime, limits: RateLimits = RateLimits()) -> int | None:
    """Add the message unless a rate limit is reached (then it waits an hour, or is dropped and the limit logged:
    see `Envelope.waits`, `Envelope.spare`) or its idempotency key is already there, also when another worker
    inserts it at the same moment (one INSERT ... ON CONFLICT DO NOTHING: no lookup first, no savepoint). The new
    row's id, or None."""
    values = _row(session, env, now, limits)
    if values is None:
        return None
    return _insert_now(session, env.kind, values)


def queue(session: Session, env: Envelope, now: datetime, limits: RateLimits = RateLimits()) -> bool:
    """`enqueue` for a caller that needs no id (a stored message's receipt): on PostgreSQL the insert is owed, so
    it goes with the next statement, no wait for the server of its own (`DriverStatement.owe`). False when a rate
    limit dropped it; True when queued, or skipped by the database as a duplicate of its idempotency key (on
    PostgreSQL that is not known here, and a duplicate counts toward the hour's mail: the limit errs on the safe
    side)."""
    values = _row(session, env, now, limits)
    if values is None:
        return False
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        _insert_now(session, env.kind, values)
        return True
    _OWED_INSERT.owe(connection, values)
    count_queued(session, values["primary_to"], env.kind)
    return True


def _insert_now(session: Session, kind: str, values: dict[str, Any]) -> int | None:
    """Insert the row now: its id, or None when its idempotency key is there already."""
    connection = session.connection()
    row_id = _INSERT["postgresql" if connection.dialect.name == "postgresql" else "sqlite"].scalar(connection, values)
    if row_id is not None:
        count_queued(session, values["primary_to"], kind)
    return row_id


def _row(session: Session, env: Envelope, now: datetime, limits: RateLimits) -> dict[str, Any] | None:
    """The outbox row's values, due now or, over a rate limit, in an hour; None when the limit drops it."""
    due = now
    recipient = env.recipients[0] if env.recipients else ""
    reason = over_limit(session, env.kind, recipient, now, limits) if env.recipients else None
    if reason is None and env.spare:
        reason = over_spare_share(session, now, limits)
    if reason is not None:
        if not env.waits:
            log_held(recipient, env.kind, env.key, "not queued", reason)
            return None
        due = now + timedelta(hours=1)  # the hour it would break has passed by then
        log_held(recipient, env.kind, env.key, "queued to wait an hour", reason)
    return dict(
        idempotency_key=env.key, kind=env.kind, unit_code=env.unit_code, period=env.period,
        recipients=env.recipients, primary_to=recipient, subject=env.subject,
        message_id=env.message_id, raw=env.raw, payload=env.payload, status="pending", attempts=0, created_at=now,
        next_attempt_at=due, last_error="",
    )


def purge_sent(session: Session, before: datetime, dry_run: bool = False) -> int:
    """Drop the bytes of settled mail queued before `before` (receipts quote senders; digests carry every
    case): the row stays as the record that it was sent. Returns how many rows."""
    # A payload is data: SQL NULL is none, and so is the JSON `null` that rows purged (or queued with their
    # bytes) before 2026-12 hold (SQLAlchemy writes a JSON column's None so): they were counted again and
    # again. What is purged now gets SQL NULL.
    has_payload = cast(OutboxMessage.payload, Text) != "null"
    old = (OutboxMessage.created_at < before) & OutboxMessage.status.in_(("sent", "failed")) & (
        (func.length(OutboxMessage.raw) > 0) | has_payload)
    count = session.scalar(select(func.count()).select_from(OutboxMessage).where(old)) or 0
    if not dry_run:
        session.execute(update(OutboxMessage).where(old).values(raw=b"", payload=null())
                        .execution_options(synchronize_session=False))
    return count


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 6 * 3600))


def _claim(session_factory: sessionmaker, now: datetime, limit: int, lease: timedelta, holder: str,
           is_dead: Callable[[str], bool]) -> list[OutboxMessage]:
    """Claim up to `limit` due rows in one transaction and return them loaded (detached, for composing and sending
    outside any transaction). The UPDATE repeats the rows' claimable condition, so two senders never take the same
    row: one another sender claimed in between is simply not returned."""
    with session_factory.begin() as s:
        # Senders holding claims that have not expired: those whose process is gone give them up at once.
        holders = set(s.scalars(select(OutboxMessage.claimed_by).where(
            OutboxMessage.status == "sending", OutboxMessage.claimed_until >= now,
            OutboxMessage.claimed_by.is_not(None)).distinct()))
        # Our own claims too: the caller runs one send_due at a time (bot.service.flush_outbox), so a claim of
        # ours found now was left by a send that failed midway (the database went away while it settled).
        dead = sorted(h for h in holders if h == holder or is_dead(h)) if holder else sorted(filter(is_dead, holders))
        claimable = or_((OutboxMessage.status == "pending") & (OutboxMessage.next_attempt_at <= now),
                        (OutboxMessage.status == "sending") & (OutboxMessage.claimed_until < now),
                        (OutboxMessage.status == "sending") & OutboxMessage.claimed_by.in_(dead) if dead else false())
        if dead:
            log.warning("taking over the outbox claims left by %s", ", ".join(dead))
        due = select(OutboxMessage.id).where(claimable).order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        if s.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)  # rows another sender is claiming this moment are its own
        ids = s.scalars(due.limit(limit)).all()
        if not ids:
            return []
        claimed = s.scalars(update(OutboxMessage).where(OutboxMessage.id.in_(ids), claimable).values(
            status="sending", claimed_until=now + lease, claimed_by=holder, attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage.id).execution_options(synchronize_session=False)).all()
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(claimed))
                         .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)).all()
        s.expunge_all()
    return list(rows)


def _unexpected(exc: Exception) -> DeliveryError:
    """A failure the transport did not classify: this message's own (an address or header the
    server or the library cannot carry) is permanent; anything else is retried with backoff."""
    permanent = isinstance(exc, (UnicodeError, ValueError, TypeError))
    return DeliveryError(f"{type(exc).__name__}: {exc}", permanent=permanent)


Composer = Callable[[OutboxMessage], tuple[str, bytes]]  # a row queued as payload -> (subject, MIME bytes)


def _compose(row: OutboxMessage, compose: Composer | None) -> tuple[tuple[str, bytes] | None, DeliveryError | None]:
    """The message of a row queued as data, or why it cannot be built (permanent: trying again builds the
    same failure; the row stays as the record, with the error, for a person)."""
    try:
        if compose is None:
            raise ValueError(f"nothing composes a queued {row.kind}")
        return compose(row), None
    except Exception as exc:  # noqa: BLE001 - a template or data bug must not stall the queue
        log.exception("composing %s #%d failed", row.kind, row.id)
        return None, DeliveryError(f"could not compose: {type(exc).__name__}: {exc}", permanent=True)


SETTLE_EVERY = 1  # messages sent between two settlings: a process killed mid-send sends at most that one again
SETTLE_SECONDS = 1.0  # and at most this long between them


def send_due(session_factory: sessionmaker, transport: Transport, sender: str,
             now: Callable[[], datetime] = lambda: datetime.now(UTC), limit: int = 200,
             lease: timedelta = LEASE, compose: Composer | None = None, holder: str = "",
             holder_is_dead: Callable[[str], bool] = lambda holder: False, budget: float = 0.0) -> SendReport:
    """Deliver what is due: batches of `limit` rows, each claimed in one transaction, over one connection, until
    nothing is due or `budget` seconds have passed (0: one batch). A failing recipient delays only its own
    message. A row queued as data (a receipt) is first composed by `compose`; its bytes are kept, so a retry
    sends the same message. Outcomes are written every SETTLE_EVERY messages or SETTLE_SECONDS.

    A claimed row that is never settled (the sender died mid-send) is sent again after `lease`, or at once when
    `holder_is_dead` says the process that claimed it is gone, or it is this `holder`'s own (the caller sends
    one batch at a time per holder, so its own claims found now were left by a send cut short): at most the
    messages since the last settling again, with the same Message-IDs, which mail clients fold into one.
    """
    report = SendReport()
    started = time.monotonic()
    connection = _Connection(transport)
    try:
        with _settling(session_factory) as settle:
            while rows := _claim(session_factory, now(), limit, lease, holder, holder_is_dead):
                _send_batch(settle, connection, sender, rows, compose, now, report)
                if len(rows) < limit or time.monotonic() - started >= budget:
                    break
    finally:
        connection.close()
    return report


@contextmanager
def _settling(session_factory: sessionmaker) -> Iterator[Connection]:
    """One database connection for a flush's settlings, each its own short transaction, written without waiting
    for the disk (SQLite's synchronous=NORMAL in WAL mode, PostgreSQL's synchronous_commit=off): a process killed
    loses none of them, and what a power cut could lose is a settling, so at most that message is sent again
    (same Message-ID). Intake's own commits keep full durability: the setting is this connection's, and restored."""
    engine = session_factory.kw["bind"]
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        conn.exec_driver_sql("PRAGMA synchronous=NORMAL" if sqlite else "SET synchronous_commit = off")
        conn.commit()
        try:
            yield conn
        finally:
            conn.rollback()
            conn.exec_driver_sql("PRAGMA synchronous=FULL" if sqlite else "RESET synchronous_commit")
            conn.commit()


_Sent = tuple[OutboxMessage, "DeliveryError | None", "tuple[str, bytes] | None"]


def _send_batch(settle: Connection, connection: _Connection, sender: str, rows: list[OutboxMessage],
                compose: Composer | None, now: Callable[[], datetime], report: SendReport) -> None:
    settled: list[_Sent] = []
    last = time.monotonic()
    # Composing (templates, MIME) runs one message ahead in a thread while the connection waits for the server's
    # replies (socket waits release the GIL): the two overlap instead of adding up.
    with ThreadPoolExecutor(1, thread_name_prefix="compose") as ahead:
        built = ahead.map(lambda r: _compose(r, compose) if not r.raw and r.payload is not None else (None, None), rows)
        for row, (composed, error) in zip(rows, built):
            raw = composed[1] if composed is not None else row.raw
            error = error or connection.send(raw, sender, list(row.recipients), f"{row.id:06d}-{row.kind}")
            settled.append((row, error, composed))
            if len(settled) >= SETTLE_EVERY or time.monotonic() - last >= SETTLE_SECONDS:
                _settle(settle, settled, now(), report)
                settled, last = [], time.monotonic()
    if settled:
        _settle(settle, settled, now(), report)


_TABLE: Table = OutboxMessage.__table__  # type: ignore[assignment]
_SETTLE = update(_TABLE).where(_TABLE.c.id == bindparam("_id")).values(
    status=bindparam("status"), sent_at=bindparam("sent_at"), claimed_until=None, claimed_by=bindparam("claimed_by"),
    last_error=bindparam("last_error"), next_attempt_at=bindparam("next_attempt_at"))
_SETTLE_COMPOSED = _SETTLE.values(subject=bindparam("subject"), raw=bindparam("raw"))


def _settle(connection: Connection, settled: list[_Sent], moment: datetime, report: SendReport) -> None:
    """What became of each message, in one transaction: sent, failed for good (permanent, or too old), or pending
    again after a backoff; a composed message's bytes are kept, for retries and as the record."""
    plain = [{"_id": row.id, **_outcome(row, error, moment, report)} for row, error, c in settled if c is None]
    composed = [{"_id": row.id, **_outcome(row, error, moment, report), "subject": c[0], "raw": c[1]}
                for row, error, c in settled if c is not None]
    try:
        if plain:
            connection.execute(_SETTLE, plain)
        if composed:
            connection.execute(_SETTLE_COMPOSED, composed)
        connection.commit()
    except BaseException:
        connection.rollback()
        raise


def _outcome(row: OutboxMessage, error: DeliveryError | None, moment: datetime, report: SendReport) -> dict[str, Any]:
    if error is None:
        report.sent += 1
        log.info("sent %s #%d to %d recipient(s)", row.kind, row.id, len(row.recipients))
        return {"status": "sent", "sent_at": moment, "claimed_by": None, "last_error": "",
                "next_attempt_at": row.next_attempt_at}
    if error.permanent or moment - row.created_at > MAX_AGE:
        report.failed += 1
        log.warning("gave up %s #%d: %s", row.kind, row.id, error)
        return {"status": "failed", "sent_at": None, "claimed_by": row.claimed_by, "last_error": str(error)[:2000],
                "next_attempt_at": row.next_attempt_at}
    report.retrying += 1
    retry_at = moment + _backoff(row.attempts)
    log.warning("will retry %s #%d at %s: %s", row.kind, row.id, retry_at, error)
    return {"status": "pending", "sent_at": None, "claimed_by": row.claimed_by, "last_error": str(error)[:2000],
            "next_attempt_at": retry_at}


class _Connection:
    """The transport opened on the first message of a batch; once the server cannot be reached, every other
    message of the batch waits too (with that error) rather than trying again one by one."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.opened = False
        self.down: DeliveryError | None = None

    def send(self, raw: bytes, sender: str, recipients: list[str], name: str) -> DeliveryError | None:
        if self.down is not None:
            return self.down
        try:
            if not self.opened:
                try:
                    self.transport.open()
                except DeliveryError as exc:
                    self.down = exc
                    raise
                self.opened = True
            self.transport.send(raw, sender, recipients, name)
        except DeliveryError as exc:
            return exc
        except Exception as exc:  # noqa: BLE001 - no message may stall the queue, whatever it raises
            log.exception("sending %s raised %s", name, type(exc).__name__)
            return _unexpected(exc)
        return None

    def close(self) -> None:
        if self.opened:
            self.transport.close()
