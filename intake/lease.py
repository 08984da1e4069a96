"""A lease per mailbox, so that two workers never fetch the same mailbox at once (the classic
source of duplicates); the second one stands by and takes over when the first stops renewing."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from intake.models import MailboxLease


def acquire(sessions: sessionmaker, source: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease; False while another live worker holds it."""
    with sessions.begin() as s:
        taken = s.execute(update(MailboxLease).where(
            MailboxLease.source == source,
            (MailboxLease.holder == holder) | (MailboxLease.expires_at < now),
        ).values(holder=holder, expires_at=now + ttl)).rowcount
        if taken:
            return True
    try:
        with sessions.begin() as s:
            s.add(MailboxLease(source=source, holder=holder, expires_at=now + ttl))
        return True
    except IntegrityError:
        return False  # someone else holds it


def release(session: Session, source: str, holder: str) -> None:
    session.execute(delete(MailboxLease).where(MailboxLease.source == source, MailboxLease.holder == holder))
