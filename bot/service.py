"""The intake loop's plain functions: poll a mailbox once, read the OCR queue, flush the outbox. Storing
what a poll fetched is bot.storing's."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from bot.app import App
from bot.answer import queue_receipt
from bot.fetching import Batches
from bot.lookahead import LookAhead
from bot.storing import NotStored, note_failure, process_batch
from intake.lease import acquire
from intake.mailbox import MailSource
from intake.documents import ocr_attachments
from intake.message import parse_message
from intake.models import InboundMessage
from intake.context import Fetched, IngestResult
from intake.pipeline import ingest
from intake.sandbox import ParsersUnavailable, SandboxFailure
from mailer.outbox import SendReport, send_due
from mailer.context import MailContext
from mailer.receipts import compose_queued

log = logging.getLogger("complaint_bot.intake")

@dataclass
class PollReport:
    skipped: bool = False  # another worker holds this mailbox's lease, or the database is unavailable
    db_unavailable: bool = False
    parsers_unavailable: bool = False  # no parser worker could run: the poll stopped, the rest left for the next
    lease_holder: str = ""  # who holds the mailbox when we were skipped
    lease_expires: datetime | None = None
    seen: int = 0
    processed: int = 0
    duplicates: int = 0
    failed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


def known_uids(app: App) -> Callable[[str, int | None, list[str]], set[str]]:
    """Which of these UIDs are stored already (a crash between commit and server mark)."""

    def known(source: str, uidvalidity: int | None, uids: list[str]) -> set[str]:
        found: set[str] = set()
        with app.sessions() as s:
            for start in range(0, len(uids), 500):
                chunk = uids[start:start + 500]
                query = select(InboundMessage.uid).where(InboundMessage.source == source,
                                                         InboundMessage.uid.in_(chunk))
                if uidvalidity is not None:
                    query = query.where(InboundMessage.uidvalidity == uidvalidity)
                found.update(u for u in s.scalars(query) if u)
        return found

    return known


def read_pending_scans(app: App, stop: Callable[[], bool] = lambda: False, limit: int = 50) -> list[IngestResult]:
    """The OCR queue: read the scanned memos of stored messages, oldest first, each message within its
    time budget in the OCR sandbox; read the message again with that text and answer its sender.
    Off the intake path, so a unit's plain e-mail never waits behind another unit's scan."""
    with app.sessions() as s:
        ids = list(s.scalars(select(InboundMessage.id).where(InboundMessage.scans_pending.is_(True))
                             .order_by(InboundMessage.arrived_at).limit(limit)))
    done: list[IngestResult] = []
    for inbound_id in ids:
        if stop():
            break
        with app.sessions() as s:
            raw = s.scalar(select(InboundMessage.raw).where(InboundMessage.id == inbound_id))
        if raw is None:
            continue
        try:
            texts = app.ocr.run(ocr_attachments, parse_message(raw).attachments)
        except SandboxFailure as exc:
            log.warning("OCR of message #%d stopped (%s); a person will read its scans", inbound_id, exc)
            texts = {}  # every scan then needs a person
        now = datetime.now(UTC)
        with app.sessions.begin() as s:
            msg = s.get(InboundMessage, inbound_id)
            if msg is None or not msg.scans_pending:
                continue
            fetched = Fetched(raw=raw, arrived_at=msg.arrived_at, source=msg.source,
                              uidvalidity=msg.uidvalidity, uid=msg.uid)
            result = ingest(s, fetched, app.intake, existing=msg, scans=texts)
            queue_receipt(app, s, result, now)
        done.append(result)
    return done


def _log_line(fetched: Fetched, result: IngestResult | None) -> str:
    if result is None:
        return f"{fetched.source} uid={fetched.uid}: duplicate, already stored"
    unit = result.unit.code if result.unit else "-"
    period = str(result.period) if result.period else "-"
    status = ""
    if result.report is not None and result.report.state.kind:
        status = f" kind={result.report.state.kind}"
    return f"msg #{result.inbound_id} unit={unit} period={period} outcome={result.outcome}{status}"


def poll_once(app: App, source: MailSource, stop: Callable[[], bool] = lambda: False,
              progress: Callable[[int], None] | None = None) -> PollReport:
    """Process every new message in the source, then return. The commit comes before the server mark."""
    report = PollReport()
    app.liveness.hold()  # before this worker names itself the holder of anything
    try:
        lease = acquire(app.sessions, source.name, app.worker_id, datetime.now(UTC), app.lease_ttl,
                        app.liveness.is_dead)
    except SQLAlchemyError as exc:  # the database is locked or gone: touch nothing, try again later
        log.error("database unavailable (%s); the mailbox is left as it is", type(exc).__name__)
        report.skipped = report.db_unavailable = True
        return report
    if not lease.held:
        report.skipped = True
        report.lease_holder, report.lease_expires = lease.holder, lease.expires_at
        return report
    def fetched() -> None:
        report.seen += 1

    def renew() -> None:  # a long backlog: keep the lease while working through it
        acquire(app.sessions, source.name, app.worker_id, datetime.now(UTC), app.lease_ttl, app.liveness.is_dead)

    batches = Batches(iter(source.fetch_new(known_uids(app))), app.intake, app.settings.batch_messages,
                      app.settings.batch_ms, fetched, renew, stop)
    while True:
        batch, ahead = batches.fill()
        if not batch:
            break
        _settle(app, source, batch, report, progress, ahead, functools.partial(batches.top_up, ahead))
        if stop() or report.parsers_unavailable:  # what was fetched ahead is left on the server, unmarked
            break
    return report


def _settle(app: App, source: MailSource, batch: list[Fetched], report: PollReport,
            progress: Callable[[int], None] | None, ahead: LookAhead, between: Callable[[], None]) -> None:
    """Store a batch, then mark each message done on the server (never before the commit). `between`: called
    between two of its stored messages (the next batch is fetched ahead there)."""
    try:
        results = process_batch(app, batch, ahead, between)
    except Exception as exc:  # the database is unavailable: leave the messages for the next poll
        report.failed += len(batch)
        report.parsers_unavailable |= isinstance(exc, ParsersUnavailable)
        log.error("could not store %d message(s) (%s); they will be retried", len(batch), type(exc).__name__)
        for fetched in batch:
            note_failure(app, fetched, exc)
        return
    source.mark_all([f for f, r in zip(batch, results) if not isinstance(r, NotStored)])
    for fetched, result in zip(batch, results):
        if isinstance(result, NotStored):  # left on the server for the next poll; counted against it
            report.failed += 1
            report.parsers_unavailable |= isinstance(result.error, ParsersUnavailable)
            continue
        if result is None:
            report.duplicates += 1
        else:
            report.processed += 1
            outcome = str(result.outcome)  # the plain word in reports and JSON, not the enum's repr
            report.outcomes[outcome] = report.outcomes.get(outcome, 0) + 1
        log.info(_log_line(fetched, result))
    if progress:
        progress(report.seen)


_SENDING = threading.Lock()  # one send_due at a time in this process: its own leftover claims are then stale


def flush_outbox(app: App, budget: float | None = None) -> SendReport:
    """Send everything due, in batches over one connection, for at most `budget` seconds (default: most of the
    interval between two flushes of `run`, so a month-end rush of thousands goes out in one flush, and the next
    flush is never late)."""
    mail = app.mail
    with _SENDING:
        return _flush(app, mail, budget if budget is not None else max(app.settings.send_interval_seconds * 0.8, 5))


def _flush(app: App, mail: MailContext, budget: float) -> SendReport:
    app.liveness.hold()
    return send_due(app.sessions, app.transport(), app.settings.secretariat_email,
                    lease=timedelta(seconds=app.settings.send_lease_seconds),
                    compose=lambda row: compose_queued(row, mail), holder=app.worker_id,
                    holder_is_dead=app.liveness.is_dead, budget=budget)

