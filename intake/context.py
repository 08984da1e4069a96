"""The values of a message's journey: what the mailbox gave (`Fetched`), what intake knows of the department
(`IntakeContext`) and what became of the message (`IngestResult`). Their own module, below the steps
(intake/pipeline.py runs the steps; the steps import these, never the pipeline)."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from config.units import Unit, UnitRegistry
from intake.bounces import Bounce
from intake.documents import FileNote
from intake.problems import Problem
from intake.sandbox import Sandbox
from intake.state import UnitReport
from intake.tables import Outcome
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


@dataclass
class IngestResult:
    """What became of one message, as plain data for the handlers that follow storing (its receipt, its bounces'
    effect, a digest asked for, staff commands) and for the intake loop's report."""

    inbound_id: int
    outcome: Outcome
    reason: str
    arrived_at: datetime
    reply_to: str | None = None  # None: never answer this message
    original_message_id: str = ""
    original_subject: str = ""
    unit: Unit | None = None
    period: Period | None = None
    period_rule: str = ""
    files: list[FileNote] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    report: UnitReport | None = None
    nil: bool = False
    rows: int = 0
    bounces: list[Bounce] = field(default_factory=list)
    command: str | None = None  # "digest" (asked by subject), "staff" (reply words), "unit_record", "unit_evidence"
    for_units: tuple[str, ...] = ()  # a unit's request: the units it is answered for
    fiscal_year: int | None = None  # a unit's request: the fiscal year it names (BE), None for the current one
    scans_pending: bool = False  # scanned memos wait for the OCR queue; answer once they are read
