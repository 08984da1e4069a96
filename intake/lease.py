"""A lease per mailbox, so that two workers never fetch the same mailbox at once (the classic
source of duplicates); the second one stands by and takes over when the first stops renewing.

A holder is named `host:pid:nonce`. A lease held by a process of this host that no longer exists
(SIGKILL, OOM, power cut of a container) is taken over at once instead of after its expiry.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from intake.models import MailboxLease


@dataclass(frozen=True)
class LeaseState:
    held: bool
    holder: str = ""  # who holds it when we do not
    expires_at: datetime | None = None


def holder_is_dead(holder: str) -> bool:
    """Whether `holder` names a process of this host that is gone."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, owned by another user
    return False


def acquire(sessions: sessionmaker, source: str, holder: str, now: datetime, ttl: timedelta) -> LeaseState:
    """Take or renew the lease; not held while another live worker holds it."""
    with sessions.begin() as s:
        current = s.scalar(select(MailboxLease).where(MailboxLease.source == source))
        if current is not None:
            free = current.holder == holder or current.expires_at < now or holder_is_dead(current.holder)
            if not free:
                return LeaseState(False, current.holder, current.expires_at)
            # Compare-and-set on the holder we saw: two standbys cannot both take a dead worker's lease.
            taken = s.execute(update(MailboxLease).where(
                MailboxLease.source == source, MailboxLease.holder == current.holder,
            ).values(holder=holder, expires_at=now + ttl)).rowcount
            return LeaseState(True) if taken else LeaseState(False, current.holder, current.expires_at)
    try:
        with sessions.begin() as s:
            s.add(MailboxLease(source=source, holder=holder, expires_at=now + ttl))
        return LeaseState(True)
    except IntegrityError:  # someone else took it between our look and our insert
        with sessions() as s:
            other = s.scalar(select(MailboxLease).where(MailboxLease.source == source))
        return LeaseState(False, other.holder if other else "", other.expires_at if other else None)


def release(session: Session, source: str, holder: str) -> None:
    session.execute(delete(MailboxLease).where(MailboxLease.source == source, MailboxLease.holder == holder))
