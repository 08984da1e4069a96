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
    since = now - timedelta(hours=1)
    if _recent_to(session, recipient, kind, since, limits.per_recipient(kind)) >= limits.per_recipient(kind):
        return f"{kind} to this recipient: {limits.per_recipient(kind)} per hour"
    if _queued_last_hour(session, since) >= limits.total:
        return f"all automatic mail: {limits.total} per hour"
    return None


_HOUR_COUNT = "complaint_bot.outbox.queued_last_hour"  # session.info: (monotonic time counted, count)
_RECIPIENT_COUNTS = "complaint_bot.outbox.recipient_counts"  # session.info: {(recipient, kind): (time, count)}
_COUNT_REUSE_SECONDS = 1.0


def _recent_to(session: Session, recipient: str, kind: str, since: datetime, limit: int) -> int:
    """`recent_count` up to the limit, counted at most once a second per recipient and kind in a session, which
    adds its own inserts (`enqueue`): one unit's corrections in a backlog asked for it with every message, a
    round trip each on PostgreSQL. Like the hourly total, a count a second old misses only other workers'
    mail of that second."""
    counts: dict[tuple[str, str], tuple[float, int]] = session.info.setdefault(_RECIPIENT_COUNTS, {})
    cached = counts.get((recipient, kind))
    if cached is not None and time.monotonic() - cached[0] < _COUNT_REUSE_SECONDS:
        return cached[1]
    counted = recent_count(session, recipient, kind, since, up_to=limit)
    counts[(recipient, kind)] = (time.monotonic(), counted)
    return counted


def _queued_last_hour(session: Session, since: datetime) -> int:
    """All mail queued since `since`. Counting scans the hour's rows (thousands in a rush), so a session
    counts at most once a second and adds its own inserts (`enqueue`); rows leaving the hour meanwhile are
    not taken off, which can only make the limit stricter, never looser."""
    cached = session.info.get(_HOUR_COUNT)
    if cached is not None and time.monotonic() - cached[0] < _COUNT_REUSE_SECONDS:
        return int(cached[1])
    total = session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.created_at >= since)) or 0
    session.info[_HOUR_COUNT] = (time.monotonic(), total)
    return total


def over_spare_share(session: Session, now: datetime, limits: RateLimits) -> str | None:
    """Why a stranger's notice may not take more of the hour (see `Envelope.spare`); None when it may."""
    if _queued_last_hour(session, now - timedelta(hours=1)) >= limits.total * SPARE_SHARE:
        return f"notices to senders who are not units: {int(limits.total * SPARE_SHARE)} per hour"
    return None


def count_queued(session: Session, recipient: str, kind: str) -> None:
    """One more message queued in this session: added to its counts, which it asks the database for at most once
    a second."""
    if (cached := session.info.get(_HOUR_COUNT)) is not None:
        session.info[_HOUR_COUNT] = (cached[0], cached[1] + 1)
    counts = session.info.get(_RECIPIENT_COUNTS)
    if counts and (mine := counts.get((recipient, kind))) is not None:
        counts[(recipient, kind)] = (mine[0], mine[1] + 1)


# Counts at most `up_to` rows: the limit only asks whether the hour holds that many, and one unit's thousand
# corrections within the hour would otherwise be counted whole again for every message (O(backlog) each).
_RECENT = DriverStatement(select(func.count()).select_from(
    select(OutboxMessage.id).where(OutboxMessage.primary_to == bindparam("address"),
                                   OutboxMessage.kind == bindparam("kind"),
                                   OutboxMessage.created_at >= bindparam("since"))
    .limit(bindparam("up_to")).subquery()))


def recent_count(session: Session, address: str, kind: str, since: datetime, up_to: int = 1_000_000) -> int:
    """How many `kind` messages to `address` were queued since `since`, counted up to `up_to` (asked for every
    message queued: built once, run on the connection, where outbox rows are inserted)."""
    return int(_RECENT.scalar(session.connection(),
                              {"address": address, "kind": kind, "since": since, "up_to": up_to}) or 0)


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
