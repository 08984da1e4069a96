"""Storing messages: one alone, or a batch with few commits (group commit; a savepoint a message only where one
failed), with its processing marker and quarantine; what follows each (its receipt, a bounce's effect, commands) is done by
bot/handlers.py in the same transaction. The intake loop (bot.service) hands it what it fetched and marks the server afterwards."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, delete, func, insert, literal, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bot.app import App
from bot.handlers import after_storing
from bot.lookahead import LookAhead
from db.owed import end_owed_statement, send_owed_writes
from db.trouble import is_transient
from intake.context import Fetched, IngestResult
from intake.models import InboundMessage, ProcessingAttempt
from intake.tables import processing_attempts
from intake.pipeline import Prepared, ingest
from intake.sandbox import ParsersUnavailable
from intake.store import is_duplicate, quarantine
from scoring.periods import Period

log = logging.getLogger("complaint_bot.intake")


MAX_ATTEMPTS = 2  # a message that failed this often, its worker alive to see it, is quarantined unread
# A worker that died while storing a message (SIGKILL, the OOM killer, a power cut) is nearly never the message's
# fault: files and large MIME structures are read in the sandbox, whose deaths cost one file. The deaths are
# counted apart and quarantine the message only after this many, so that one that really kills the storing
# process (should any do) cannot stop intake for good, while a worker killed a few times in a row never turns
# a unit's report into "poison".
MAX_KILLS = 10


def begin_attempt(app: App, fetched: Fetched) -> ProcessingAttempt | None:
    """Note (committed) that this message is being processed by this worker; the earlier attempts, if any.

    The row is deleted in the transaction that stores the message, so one that survives means the attempt
    died with its worker or failed outside ingest. Which of the two, its `holder` says: a worker of this host
    that is gone died (a kill, counted in `kills`); any other failed (counted in `attempts`)."""
    now = datetime.now(UTC)
    try:
        with app.sessions.begin() as s:
            if s.get_bind().dialect.name == "postgresql":  # a marker, not data: skip the WAL flush
                s.execute(text("SET LOCAL synchronous_commit = off"))
            row = s.get(ProcessingAttempt, fetched.sha256)
            if row is None:
                s.add(ProcessingAttempt(sha256=fetched.sha256, attempts=1, last_error="", updated_at=now,
                                        holder=app.worker_id, kills=0))
                return None
            died = bool(row.holder) and row.holder != app.worker_id and app.liveness.is_dead(row.holder or "")
            earlier = ProcessingAttempt(sha256=row.sha256, attempts=row.attempts - 1 if died else row.attempts,
                                        last_error=row.last_error, updated_at=row.updated_at,
                                        holder=row.holder, kills=row.kills + 1 if died else row.kills)
            row.attempts, row.kills = earlier.attempts + 1, earlier.kills
            row.holder, row.updated_at = app.worker_id, now
            return earlier
    except (IntegrityError, StaleDataError):  # another worker noted (or finished) it at the same moment
        return None


def not_its_fault(exc: BaseException) -> bool:
    """Whether a message's failure is the house's, not the message's: the database's trouble (unavailable, a
    deadlock: `is_transient`) or parser workers that cannot run at all. Such a message is tried again later,
    that attempt not counted, never quarantined for it."""
    return is_transient(exc) or isinstance(exc, ParsersUnavailable)


def note_failure(app: App, fetched: Fetched, exc: Exception) -> None:
    """Keep why an attempt failed, for the quarantine reason if it fails again (best effort). The house's trouble
    (`not_its_fault`) is not the message's fault: that attempt does not count. A write the database refuses is (a
    value it cannot store): counted, so the message is quarantined after its attempts instead of tried for ever."""
    try:
        with app.sessions.begin() as s:
            row = s.get(ProcessingAttempt, fetched.sha256)
            if row is not None:
                row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                if not_its_fault(exc):  # a deadlock, a lost connection, no parser worker
                    row.attempts = max(row.attempts - 1, 0)
    except SQLAlchemyError:
        pass


def process_one(app: App, fetched: Fetched) -> IngestResult | None:
    """Store one message and queue its receipt in one transaction; None for a message seen before."""
    app.liveness.hold()  # its marker names this worker
    try:
        earlier = begin_attempt(app, fetched)
        with app.sessions.begin() as s:
            _write_lock(s)
            return _store(app, s, fetched, earlier, datetime.now(UTC))
    except IntegrityError:
        with app.sessions() as s:
            if is_duplicate(s, fetched):  # another worker stored it between our check and our insert: theirs
                return None
        raise  # a write the database refused (its handlers'): not stored, so tried again, then given up


# A message of a batch and what was prepared ahead for it: the reading, the error its parse raised, or None (to be
# prepared anew).
Taken = tuple[Fetched, Prepared | Exception | None]


def process_batch(app: App, batch: list[Fetched], ahead: LookAhead | None = None,
                  between: Callable[[], None] = lambda: None) -> list[StoreResult]:
    """Store a batch of messages with few commits (group commit), so the batch costs a commit per INTAKE_BATCH_MS,
    not per message, and one bad message never costs another its report.

    1. A message with a processing marker left by an earlier attempt (the worker died) is a suspect: then
       every message of the batch goes alone through `process_one`, so a message that kills the worker
       is the only one whose attempts grow (and after two it is quarantined unread).
    2. Otherwise one committed write marks the whole batch as being processed,
    3. and transactions of at most INTAKE_BATCH_MS store each message (and its receipt), with no savepoint a
       message; a transaction in which a message fails is rolled back and its messages are stored again, each
       in its savepoint (`_store_transaction`). Which messages are stored already is asked once for the batch,
       and each transaction clears its messages' markers with one statement.
       The caller marks messages done on the server only after this returns. A transaction that fails itself
       (a fault outside any savepoint, the database gone) leaves its messages and the batch's rest for later
       (`NotStored`, its error noted against each it held); the transactions before it stay committed, and their
       messages are answered as stored.
    `ahead`: the batch's look-ahead, started while it was fetched (`LookAhead.add`); what it parsed ahead is
    not used when the messages go alone (1.), and its workers' results are dropped. `between`: called between two
    stored messages of 3. (the poll fetches its next batch ahead there: bot/fetching.py).
    """
    shas = [f.sha256 for f in batch]
    app.liveness.hold()  # the batch's markers name this worker
    with app.sessions() as s:
        suspects = set(s.scalars(select(ProcessingAttempt.sha256).where(ProcessingAttempt.sha256.in_(shas))))
        stored = set(s.scalars(select(InboundMessage.sha256).where(InboundMessage.sha256.in_(shas))))
    if suspects or len(batch) == 1 or not _mark_batch(app, batch):
        return _each_alone(app, batch)
    results: list[StoreResult] = []
    ahead = ahead if ahead is not None else LookAhead(app.intake, batch)
    again: list[Taken] = []  # a failed transaction's messages, to be stored again each in its savepoint
    careful = False  # once a message of the batch failed, the batch's rest goes a savepoint a message too
    while ahead.pending or again:  # a transaction lasts at most BATCH_MS (plus one message): other writers wait no longer
        committed, known = len(results), set(stored)
        taken: list[tuple[Fetched, Prepared | Exception]] = []
        try:
            if again:
                _store_transaction(app, iter(again), stored, results, between, careful=True, timed=False)
                again = []
            else:
                _store_transaction(app, ahead.taking(taken), stored, results, between, careful=careful, timed=True)
        except Exception as exc:  # noqa: BLE001 - this transaction is rolled back; the ones before it stand
            if taken and not careful and not not_its_fault(exc):  # a message failed, no savepoint around it
                log.warning("a message of a transaction of %d failed (%s); they and the batch's rest are stored "
                            "again, each in its savepoint", len(taken), type(exc).__name__)
                again = [(fetched, None if isinstance(prepared, Prepared) else prepared) for fetched, prepared in taken]
                careful = True
                del results[committed:]
                stored.intersection_update(known)
                continue
            log.error("a transaction of %d message(s) failed (%s); they and the batch's rest will be retried",
                      len(batch) - committed, type(exc).__name__)
            for fetched in batch[committed:]:
                note_failure(app, fetched, exc)
            return results[:committed] + [NotStored(exc)] * (len(batch) - committed)
    return results


def _store_transaction(app: App, messages: Iterator[Taken], stored: set[str], results: list[StoreResult],
                       between: Callable[[], None], *, careful: bool, timed: bool) -> None:
    """One transaction of a batch: its next messages (for at most BATCH_MS when `timed`, else all of them), their
    results appended to `results`, their processing markers cleared when it commits.

    Nearly every message stores without error, so a transaction first goes without a savepoint a message
    (`careful` False): on PostgreSQL a savepoint cost each message a wait for the server (its writes must answer
    for themselves before it is released) and two statements, 0.7-1 ms of CPU a message between the two
    processes on a backlog. Should any message fail then (its own error, not the database's trouble), the whole
    transaction is rolled back and its messages are stored again, `careful`, each in its own savepoint, where
    a failure costs only its message (`_store_in_savepoint`), and so is the batch's rest: a message that fails
    costs its neighbours one more attempt at most, never their report, and a batch of many such messages one
    rollback."""
    opened = time.monotonic()
    with app.sessions.begin() as s:
        _write_lock(s)
        handled: list[str] = []
        for fetched, prepared in messages:
            handled.append(fetched.sha256)
            if fetched.sha256 in stored:  # before this batch, or earlier in it
                results.append(None)
            elif careful:
                try:
                    results.append(_store_in_savepoint(app, s, fetched, prepared))
                    stored.add(fetched.sha256)
                except IntegrityError:
                    if not is_duplicate(s, fetched):  # its handlers' write refused: the transaction fails, tried again
                        raise
                    results.append(None)  # another worker stored it meanwhile: it is theirs
            else:
                results.append(_store_plainly(app, s, fetched, prepared))
                stored.add(fetched.sha256)
            between()
            if timed and (time.monotonic() - opened) * 1000 >= max(app.settings.batch_ms, 1):
                break
        s.execute(delete(ProcessingAttempt).where(ProcessingAttempt.sha256.in_(handled)))


@dataclass(frozen=True)
class NotStored:
    """A message of a batch that could not be stored this time (its transaction failed): it is left on the
    server unmarked, and its failure noted against it (see `note_failure`)."""

    error: Exception


StoreResult = IngestResult | NotStored | None  # None: stored before


def _each_alone(app: App, batch: list[Fetched]) -> list[StoreResult]:
    """Each message by `_alone`, until parser workers cannot run: the rest are then left as they are, not tried
    (each try would wait to learn the same)."""
    results: list[StoreResult] = []
    for fetched in batch:
        results.append(result := _alone(app, fetched))
        if isinstance(result, NotStored) and isinstance(result.error, ParsersUnavailable):
            return results + [result] * (len(batch) - len(results))
    return results


def _alone(app: App, fetched: Fetched) -> StoreResult:
    """`process_one`, with a failure costing only this message: the others of its batch are still stored."""
    try:
        return process_one(app, fetched)
    except Exception as exc:  # the database went away, or a bug no savepoint caught: retried, and counted
        log.error("message uid=%s could not be stored (%s); it will be retried", fetched.uid, type(exc).__name__)
        note_failure(app, fetched, exc)
        return NotStored(exc)


class _IngestFailed(Exception):
    """`ingest` failed for a message of a batch: its savepoint is rolled back, and it is stored again, quarantined,
    in a new one (a second savepoint around `ingest` itself would cost every message two statements)."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _store_in_savepoint(app: App, s: Session, fetched: Fetched, prepared: Prepared | Exception | None) -> IngestResult:
    """One message of a batch in its own savepoint, the only one around it: stored and followed by its handlers,
    or, when `ingest` fails (or its parse failed ahead, `prepared` the error), quarantined in a new one.
    `prepared` None: `ingest` prepares it anew (a message stored again after its transaction failed)."""
    now = datetime.now(UTC)
    if not isinstance(prepared, Exception):
        try:
            with s.begin_nested():
                try:
                    result = ingest(s, fetched, app.intake, prepared=prepared)
                    send_owed_writes(s.connection())  # its writes' errors are its own, not its handlers'
                except Exception as exc:
                    if not_its_fault(exc):  # the house's trouble: the transaction fails, stored again later
                        raise
                    raise _IngestFailed(exc) from exc
                after_storing(app, s, fetched, result, now)
                return result
        except _IngestFailed as failed:  # everything it wrote went with the savepoint
            if isinstance(failed.cause, IntegrityError) and is_duplicate(s, fetched):
                raise failed.cause from None  # another worker stored it meanwhile: the batch's answer
            prepared = failed.cause  # any other refusal (a NOT NULL, a value too long) is kept for a person
    with s.begin_nested():
        result = _quarantined(app, s, fetched, prepared)
        after_storing(app, s, fetched, result, now)
        return result


def _store_plainly(app: App, s: Session, fetched: Fetched, prepared: Prepared | Exception | None) -> IngestResult:
    """One message of a batch with no savepoint of its own (see `_store_transaction`): stored, or quarantined
    when its parse failed ahead (`prepared` the error), and followed by its handlers. Any error is raised."""
    now = datetime.now(UTC)
    if isinstance(prepared, Exception):
        result = _quarantined(app, s, fetched, prepared)
    else:
        result = ingest(s, fetched, app.intake, prepared=prepared)
    after_storing(app, s, fetched, result, now)
    end_owed_statement(s.connection())  # the next message's inserts go in a statement of their own
    return result


def _write_lock(s: Session) -> None:
    """On SQLite, take the write lock when the transaction starts (BEGIN IMMEDIATE). A deferred transaction
    that reads (is the message stored?) and then writes cannot upgrade once another writer has committed in
    between; SQLite then fails at once instead of waiting. Taking the lock first makes writers queue (up to
    the busy timeout) for at most one batch. PostgreSQL needs nothing."""
    if s.get_bind().dialect.name == "sqlite":
        s.execute(text("BEGIN IMMEDIATE"))


_A = processing_attempts.c
_MARK_ALL = insert(processing_attempts).from_select(
    ["sha256", "attempts", "last_error", "updated_at", "holder", "kills"],
    select(func.unnest(bindparam("shas", type_=postgresql.ARRAY(_A.sha256.type))), literal(1), literal(""),
           bindparam("now", type_=_A.updated_at.type), bindparam("holder", type_=_A.holder.type), literal(0)))


def _mark_batch(app: App, batch: list[Fetched]) -> bool:
    """One committed write: these messages are being processed (see `begin_attempt`). False when another
    worker marked one of them at the same moment (then each goes alone)."""
    now = datetime.now(UTC)
    shas = list(dict.fromkeys(f.sha256 for f in batch))
    try:
        with app.sessions.begin() as s:
            if s.get_bind().dialect.name == "postgresql":
                s.execute(text("SET LOCAL synchronous_commit = off"))  # a marker, not data: skip the WAL flush
                # One statement for the batch: psycopg's executemany sent each row as its own statement, which the
                # server executed alone (a statement a message).
                s.execute(_MARK_ALL, {"shas": shas, "now": now, "holder": app.worker_id})
            else:  # Core's executemany: the ORM's unit of work cost twice as much, one multi-row VALUES five
                # times (compiled anew for each batch)
                s.execute(insert(processing_attempts), [
                    {"sha256": sha, "attempts": 1, "last_error": "", "updated_at": now, "holder": app.worker_id,
                     "kills": 0} for sha in shas])
    except IntegrityError:
        return False
    return True


def _store(app: App, s: Session, fetched: Fetched, earlier: ProcessingAttempt | None, now: datetime) -> IngestResult | None:
    """One message alone, inside the caller's transaction: stored (or quarantined), its marker cleared, followed
    by its handlers; None for a message stored before. `earlier`: the attempts that died with it, if any."""
    if is_duplicate(s, fetched):
        s.execute(delete(ProcessingAttempt).where(ProcessingAttempt.sha256 == fetched.sha256))
        return None
    if earlier is not None and (earlier.attempts >= MAX_ATTEMPTS or earlier.kills >= MAX_KILLS):
        result = _given_up(app, s, fetched, earlier)
    else:
        try:
            with s.begin_nested():
                result = ingest(s, fetched, app.intake)
        except Exception as exc:  # a bug or hostile input: keep the original, answer, move on
            if not_its_fault(exc):  # the house's trouble, not the message's: tried again later (see `_alone`)
                raise
            result = _quarantined(app, s, fetched, exc)
    s.execute(delete(ProcessingAttempt).where(ProcessingAttempt.sha256 == fetched.sha256))
    after_storing(app, s, fetched, result, now)
    return result


def _given_up(app: App, s: Session, fetched: Fetched, earlier: ProcessingAttempt) -> IngestResult:
    """It failed twice (or the worker died with it, again and again): keep it for a person, unread, go on."""
    how = []
    if earlier.attempts:
        how.append(f"processing failed {earlier.attempts} times (the message could not be stored)")
    if earlier.kills:
        how.append(f"the worker stopped {earlier.kills} times while storing it")
    reason = f"{' and '.join(how)}: {earlier.last_error or 'the worker stopped while reading it'}"
    log.error("message uid=%s quarantined unread: %s", fetched.uid, reason)
    result = quarantine(s, fetched, reason)
    _answer_unit(app, s, result)
    return result


def _quarantined(app: App, s: Session, fetched: Fetched, exc: Exception) -> IngestResult:
    """A bug or hostile input stopped this message: keep the original with the error, answer a unit, move on.
    Parser workers that could not run at all (its parse failed ahead with that) are not the message's doing: raised,
    so that it is left for the next poll (`not_its_fault`)."""
    if isinstance(exc, ParsersUnavailable):
        raise exc
    log.error("message from %s quarantined", fetched.source, exc_info=exc)
    result = quarantine(s, fetched, f"{type(exc).__name__}: {exc}")
    _answer_unit(app, s, result)
    return result


def _answer_unit(app: App, session: Session, result: IngestResult) -> None:
    """A quarantined message is answered only when its sender is a registered unit address; its units then
    show "waiting for review" for the month it arrived in (the arrival rule), never "missing"."""
    stored = session.get(InboundMessage, result.inbound_id)
    units = app.registry.for_sender(stored.from_addr) if stored is not None else []
    if stored is not None and units:
        result.reply_to = stored.from_addr
        stored.candidates = [u.code for u in units]
        stored.period = stored.period or str(Period.of(stored.arrived_at.astimezone(app.settings.tz)))
