"""What follows a stored message, decided by what became of it (its `IngestResult`) and done by the handler for
it, in the transaction that stored it: a bounce's effect on the address book, an address that works again, a
digest asked for, staff commands, and the receipt. `bot/storing.py` runs `AFTER_STORING` in order after
each message (docs/journey.md lists them); each handler is a plain function that tests call alone."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.answer import queue_receipt
from bot.app import App
from bot.cycle import queue_digest
from bot.staff import run_staff_commands
from bot.unit_requests import answer_unit_request
from intake.context import Fetched, IngestResult
from intake.models import InboundMessage, Outcome
from mailer.contacts import bounced_message_was_ours, clear_unreachable, record_bounce
from mailer.limits import over_limit

log = logging.getLogger("complaint_bot.intake")


@dataclass(frozen=True)
class Handler:
    name: str
    applies: Callable[[IngestResult], bool]
    run: Callable[[App, Session, Fetched, IngestResult, datetime], None]


def note_bounces(app: App, s: Session, fetched: Fetched, result: IngestResult, now: datetime) -> None:
    """Our mail did not arrive: the address is noted for the digest (only for a message the bot sent it)."""
    for bounce in result.bounces:
        if bounced_message_was_ours(s, bounce.original_message_id, bounce.address):
            record_bounce(s, bounce.address, bounce.status, bounce.permanent, "delivery status notification", now)


def address_works(app: App, s: Session, fetched: Fetched, result: IngestResult, now: datetime) -> None:
    """A unit's address that writes to the bot works: it is no longer listed as unreachable."""
    assert result.reply_to is not None
    clear_unreachable(s, [result.reply_to], "the address wrote to the bot", now)


def digest_requested(app: App, s: Session, fetched: Fetched, result: IngestResult, now: datetime) -> None:
    """The digest asked for by subject, queued as an answer (rate-limited before it is built: building one is
    the expensive part of a request flood)."""
    assert result.reply_to is not None
    if limit := over_limit(s, "digest", result.reply_to, now, app.mail.limits):
        log.warning("digest request #%d not answered: rate limit (%s)", result.inbound_id, limit)
        return
    period = result.period or app.period_in_focus(fetched.arrived_at)
    queue_digest(app, s, period, fetched.arrived_at, f"digest-request:{result.inbound_id}",
                 [result.reply_to], result.original_message_id)


def staff_commands(app: App, s: Session, fetched: Fetched, result: IngestResult, now: datetime) -> None:
    """Reply words from STAFF_EMAILS (authenticated by screening)."""
    _guarded("staff commands", run_staff_commands, app, s, fetched, result, now)


def _guarded(what: str, run: Callable[[App, Session, Fetched, IngestResult, datetime], None], app: App, s: Session,
             fetched: Fetched, result: IngestResult, now: datetime) -> None:
    """Done in a savepoint: a bug must not stop intake, so the mail stays stored and is quarantined for a person to
    look at, and the loop goes on."""
    try:
        with s.begin_nested():
            run(app, s, fetched, result, now)
    except Exception as exc:
        log.exception("%s of mail #%d could not be done", what, result.inbound_id)
        stored = s.get(InboundMessage, result.inbound_id)
        if stored is not None:
            stored.outcome, stored.reason = Outcome.QUARANTINED, f"{what}: {type(exc).__name__}: {exc}"


def unit_request(app: App, s: Session, fetched: Fetched, result: IngestResult, now: datetime) -> None:
    """A unit's own record or evidence pack (bot/unit_requests.py), for its own units only."""
    _guarded("unit request", answer_unit_request, app, s, fetched, result, now)


def receipt(app: App, s: Session, fetched: Fetched, result: IngestResult, now: datetime) -> None:
    """The sender's receipt (`bot/answer.py` decides whether and what)."""
    queue_receipt(app, s, result, now)


AFTER_STORING: tuple[Handler, ...] = (
    Handler("note_bounces", lambda r: bool(r.bounces), note_bounces),
    Handler("address_works", lambda r: r.unit is not None and bool(r.reply_to), address_works),
    Handler("digest_requested", lambda r: r.command == "digest" and bool(r.reply_to), digest_requested),
    Handler("staff_commands", lambda r: r.command == "staff", staff_commands),
    Handler("unit_request", lambda r: r.command in ("unit_record", "unit_evidence") and bool(r.reply_to), unit_request),
    # Scanned memos wait for the OCR queue, which answers once they are read.
    Handler("receipt", lambda r: not r.scans_pending, receipt),
)


def after_storing(app: App, s: Session, fetched: Fetched, result: IngestResult, now: datetime) -> None:
    for handler in AFTER_STORING:
        if handler.applies(result):
            handler.run(app, s, fetched, result, now)
