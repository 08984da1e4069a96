"""How much automatic mail may go: per recipient and kind, and in all, per hour (`RateLimits`), counted from the
outbox's rows with a session's own inserts added; and what a message held back by a limit leaves in the log."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from db.driver import DriverStatement
from mailer.models import OutboxMessage

log = logging.getLogger("complaint_bot.outbox")

SPARE_SHARE = 0.5  # strangers' notices never take more than this share of the hour's automatic mail


@dataclass(frozen=True)
class RateLimits:
    """Automatic mail allowed per hour: per recipient for each kind of message, and in all.

    A mail loop, a flood of digest requests or a bug in a job cannot turn the bot into a spammer.
    Reminders and notices are once per unit and slot already; the limits are the backstop.
    """

    receipt: int = 20
    reminder: int = 3
    overdue: int = 3
    digest: int = 4
    alert: int = 6
    staff: int = 20  # answers to a staff member's command mails (STAFF_COMMANDS_PER_HOUR)
    review: int = 2  # review alerts (one an hour is planned; the backstop allows a second)
    unit_record: int = 4  # a unit's own record asked for by mail (UNIT_REQUESTS_PER_HOUR)
    unit_evidence: int = 2  # a unit's evidence pack asked for by mail: large, rarer
    other: int = 20
    total: int = 5000

    def per_recipient(self, kind: str) -> int:
        return int(getattr(self, kind, self.other)) if kind in ("receipt", "reminder", "overdue", "digest", "alert",
                                                                  "staff", "review", "unit_record",
                                                                  "unit_evidence") else self.other


def over_limit(session: Session, kind: str, recipient: str, now: datetime, limits: RateLimits) -> str | None:
    """Why one more `kind` message to `recipient` now would break a limit; None when it may go."""
    hour = _the_hour(session, now - timedelta(hours=1))
    if hour.sent.get((recipient, kind), 0) >= limits.per_recipient(kind):
        return f"{kind} to this recipient: {limits.per_recipient(kind)} per hour"
    if hour.total >= limits.total:
        return f"all automatic mail: {limits.total} per hour"
    return None


def over_spare_share(session: Session, now: datetime, limits: RateLimits) -> str | None:
    """Why a stranger's notice may not take more of the hour (see `Envelope.spare`); None when it may."""
    if _the_hour(session, now - timedelta(hours=1)).total >= limits.total * SPARE_SHARE:
        return f"notices to senders who are not units: {int(limits.total * SPARE_SHARE)} per hour"
    return None


@dataclass
class _Hour:
    """The mail queued in the last hour, as a session counted it: in all, and by recipient and kind."""

    counted_at: float  # time.monotonic()
    total: int
    sent: dict[tuple[str, str], int]  # (recipient, kind): messages


_HOUR = "complaint_bot.outbox.hour"  # session.info: its _Hour
_COUNT_REUSE_SECONDS = 1.0

# Every recipient's messages of every kind in the hour, in one statement. Asked for each recipient alone, a
# backlog of many units' reports cost a statement (a round trip, ~0.25 ms of the two processes' CPU on
# PostgreSQL) for every message; the hour's rows are read here at most once a second per session instead, as
# the hour's total always was (bounded by the total limit: 5,000 rows in a rush).
HOURS_MAIL = DriverStatement(
    select(OutboxMessage.primary_to, OutboxMessage.kind, func.count())
    .where(OutboxMessage.created_at >= bindparam("since"))
    .group_by(OutboxMessage.primary_to, OutboxMessage.kind))


def _the_hour(session: Session, since: datetime) -> _Hour:
    """The hour's mail, counted at most once a second in a session, which adds its own inserts (`count_queued`).
    A count a second old misses only other workers' mail of that second; rows leaving the hour meanwhile are not
    taken off, which can only make the limits stricter, never looser."""
    hour: _Hour | None = session.info.get(_HOUR)
    if hour is None or time.monotonic() - hour.counted_at >= _COUNT_REUSE_SECONDS:
        sent = {(to, kind): int(n) for to, kind, n in HOURS_MAIL.all(session.connection(), {"since": since})}
        hour = session.info[_HOUR] = _Hour(time.monotonic(), sum(sent.values()), sent)
    return hour


def count_queued(session: Session, recipient: str, kind: str) -> None:
    """One more message queued in this session: added to its counts, which it asks the database for at most once
    a second."""
    hour: _Hour | None = session.info.get(_HOUR)
    if hour is not None:
        hour.total += 1
        hour.sent[(recipient, kind)] = hour.sent.get((recipient, kind), 0) + 1


# When each (recipient, kind, held or dropped) was last logged at WARNING (monotonic seconds): a backlog of one
# unit's corrections held 1,980 receipts back and logged a warning for each; now the first of an hour says so.
_HELD_LOGGED: dict[tuple[str, str, str], float] = {}
_HELD_LOG_SECONDS = 3600.0


def log_held(recipient: str, kind: str, key: str, what: str, reason: str) -> None:
    """A message held back (`what`: "queued to wait an hour") or dropped ("not queued") by a rate limit: a warning
    for the first to its recipient and kind in an hour, saying that the hour's others are logged at debug level;
    each of those others at debug level."""
    seen = (recipient, kind, what)
    now = time.monotonic()
    if now - _HELD_LOGGED.get(seen, -_HELD_LOG_SECONDS) < _HELD_LOG_SECONDS:
        log.debug("%s %s %s: rate limit (%s)", kind, key, what, reason)
        return
    if len(_HELD_LOGGED) > 10_000:  # many recipients: forget the oldest hour's (memory stays bounded)
        _HELD_LOGGED.clear()
    _HELD_LOGGED[seen] = now
    log.warning("%s %s %s: rate limit (%s); the others this hour to the same recipient are logged at debug level",
                kind, key, what, reason)
