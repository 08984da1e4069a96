"""A lease per mailbox, so that two workers never fetch the same mailbox at once (the classic
source of duplicates); the second one stands by and takes over when the first stops renewing.

A holder is named `host:pid:nonce`. A lease held by a process of this host that no longer exists
(SIGKILL, OOM, power cut of a container) is taken over at once instead of after its expiry; on PostgreSQL,
so is one of a process on another host (`Liveness`: each worker holds an advisory lock named after itself
for its life, which the server releases when its session dies).
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
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


def _lock_key(holder: str) -> int:
    return int.from_bytes(hashlib.sha256(holder.encode()).digest()[:8], "big", signed=True)


class Liveness:
    """This worker's sign of life that others can test, so that what it claims (a mailbox lease, outbox rows,
    a message being stored) is taken over at once when it dies. On PostgreSQL: a session advisory lock keyed by
    its name, held on a connection of its own for the worker's life (the server releases it when the process
    dies, on whatever host it ran). Elsewhere (SQLite: one host) a holder is judged by its pid alone."""

    def __init__(self, engine: Engine, holder: str) -> None:
        self.engine, self.holder = engine, holder
        self._connection: Any = None
        self._lock = threading.Lock()

    @property
    def _postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def hold(self) -> None:
        """Take the lock (once; again after a lost connection) before naming this worker as a holder."""
        if not self._postgres:
            return
        with self._lock:
            if self._connection is not None and not self._connection.closed:
                return
            try:
                self._connection = self.engine.raw_connection()
                cursor = self._connection.cursor()
                cursor.execute("SELECT pg_advisory_lock(%s)", (_lock_key(self.holder),))
                cursor.close()
                self._connection.commit()
            except Exception:  # noqa: BLE001 - the database is away: the lock is taken again next time
                self._connection = None

    def is_dead(self, holder: str) -> bool:
        """Whether `holder`'s process is gone: on this host by its pid; on PostgreSQL by its lock being free."""
        if holder == self.holder:
            return False
        if holder_is_dead(holder):
            return True
        if not self._postgres or holder.partition(":")[0] == socket.gethostname():
            return False
        try:
            with self.engine.connect() as c:
                key = _lock_key(holder)
                if not c.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
                    return False
                c.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                return True
        except SQLAlchemyError:
            return False

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                try:
                    self._connection.close()
                except Exception:  # noqa: BLE001 - closing a dead connection
                    pass
                self._connection = None


def acquire(sessions: sessionmaker, source: str, holder: str, now: datetime, ttl: timedelta,
            is_dead: Callable[[str], bool] = holder_is_dead) -> LeaseState:
    """Take or renew the lease; not held while another live worker holds it."""
    with sessions.begin() as s:
        current = s.scalar(select(MailboxLease).where(MailboxLease.source == source))
        if current is not None:
            free = current.holder == holder or current.expires_at < now or is_dead(current.holder)
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
