"""The two values every step of a message's journey is handed: what the mailbox gave (`Fetched`) and what intake
knows of the department (`IntakeContext`). Their own module, below the steps (intake/pipeline.py runs the steps;
the steps import these, never the pipeline)."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from config.units import UnitRegistry
from intake.sandbox import Sandbox
from scoring.periods import Period


@dataclass(frozen=True)
class IntakeContext:
    registry: UnitRegistry
    own_addresses: tuple[str, ...]
    msgid_domain: str
    secret: str
    trusted_domains: tuple[str, ...]
    deadline_for: Callable[[Period], datetime]
    sandbox: Sandbox  # where attachment parsers run
    max_message_bytes: int = 30 * 1024 * 1024
    command_senders: tuple[str, ...] = ()  # secretariat addresses that may ask for a digest by mail
    staff: tuple[str, ...] = ()  # STAFF_EMAILS: who may command by replying to the bot's digests and alerts
    authserv_id: str | None = None  # our receiving server's Authentication-Results id, when trusted


@dataclass(frozen=True)
class Fetched:
    """A raw message as the mailbox gave it, with the server's arrival time."""

    raw: bytes
    arrived_at: datetime
    source: str = "maildir"
    uidvalidity: int | None = None
    uid: str | None = None

    @functools.cached_property
    def sha256(self) -> str:  # asked for at every step of a message: hashed once
        return hashlib.sha256(self.raw).hexdigest()
