"""Everything a command needs, built once from settings: database, registry, intake and mail contexts."""

from __future__ import annotations

import functools
import json
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from db.engine import make_engine
from bot.schema import migrate_if_needed
from config.errors import ConfigError
from config.settings import Settings, require_secret_key
from config.units import UnitRegistry, load_registry
from scoring.deadlines import deadline
from scoring.periods import Period, thai_short_datetime
from scoring.scores import Rubric, rubric_from_dict

if TYPE_CHECKING:  # imported where used: `status` and `score` need none of the mail machinery
    from sqlalchemy.orm import sessionmaker

    from intake.lease import Liveness
    from intake.message import ParsedMail
    from intake.problems import Problem
    from intake.mailbox import MailSource
    from intake.context import IntakeContext
    from intake.sandbox import Sandbox
    from mailer.context import MailContext
    from mailer.transport import Transport


@dataclass
class App:
    settings: Settings
    engine: Engine
    registry: UnitRegistry
    # Who holds a mailbox lease: unique per process, readable in the database.
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}")
    rubric: Rubric = field(default_factory=Rubric)  # RUBRIC_FILE, read and checked once in build_app

    @functools.cached_property
    def sessions(self) -> sessionmaker:
        """The ORM's sessions, made on first use: a command that only reads (`status`) runs Core statements
        on `engine` and never imports the ORM (a third of `import sqlalchemy` again at start-up)."""
        import intake.models  # noqa: F401  (every mapped class known before the first query)
        import mailer.models  # noqa: F401
        from db.orm import make_sessionmaker

        return make_sessionmaker(self.engine)

    @functools.cached_property
    def liveness(self) -> Liveness:
        """This worker's sign of life (intake.lease.Liveness): held before it names itself a holder."""
        from intake.lease import Liveness

        return Liveness(self.engine, self.worker_id)

    @property
    def lease_ttl(self) -> timedelta:
        """Long enough to outlive one IDLE wait; short enough for a standby worker to take over soon."""
        seconds = self.settings.mailbox_lease_seconds or 2 * self.settings.idle_seconds + 60
        return timedelta(seconds=seconds)

    def problem_params(self, problem: Problem) -> dict[str, str]:
        """A problem's values as mail and reports show them: a failed attempt's arrival in TIMEZONE."""
        if problem.arrived_at is None:
            return problem.params
        return {**problem.params, "attempt": thai_short_datetime(problem.arrived_at.astimezone(self.settings.tz))}

    def parse_stored(self, raw: bytes) -> ParsedMail:
        """A stored message parsed as intake parses it: here when small and flat, otherwise in the parser sandbox
        (a sender's MIME structure never costs this process)."""
        from intake.message import parse_message, small_and_flat

        return parse_message(raw) if small_and_flat(raw) else self.parsers.run(parse_message, raw)

    def deadline(self, period: Period) -> datetime:
        s = self.settings
        return deadline(period, s.tz, s.deadline_day, s.deadline_shift_business_day)

    @property
    def intake(self) -> IntakeContext:
        from intake.context import IntakeContext

        s = self.settings
        return IntakeContext(
            registry=self.registry,
            own_addresses=(s.secretariat_email,),
            msgid_domain=s.message_id_domain,
            secret=s.secret_key,
            trusted_domains=s.trusted_domains,
            deadline_for=self.deadline,
            sandbox=self.parsers,
            max_message_bytes=s.max_message_bytes,
            # The bot's own address may command too (the staff read and write in its mailbox): its own mail is
            # known by what it wrote (intake/triage.py), and a command must still be authenticated.
            command_senders=s.digest_to,
            staff=s.staff_emails,
            authserv_id=s.trusted_authserv_id,
        )

    @property
    def mail(self) -> MailContext:
        from mailer.context import MailContext
        from mailer.limits import RateLimits

        s = self.settings
        return MailContext(from_addr=s.secretariat_email, from_name="สำนักงานเลขานุการกรม (ระบบรับรายงานอัตโนมัติ)",
                           secret=s.secret_key, domain=s.message_id_domain, tz=s.tz,
                           contact=s.secretariat_contact,
                           limits=RateLimits(receipt=s.receipts_per_sender_per_hour,
                                             digest=s.digests_per_recipient_per_hour,
                                             staff=s.staff_commands_per_hour, total=s.mail_per_hour,
                                             unit_record=s.unit_requests_per_hour,
                                             unit_evidence=max(s.unit_requests_per_hour // 2, 1)))

    @functools.cached_property
    def parsers(self) -> Sandbox:
        """The pool of sandboxed attachment parsers (its workers start on first use)."""
        from intake.sandbox import Limits, Sandbox

        s = self.settings
        return Sandbox(Limits(memory_mb=s.parser_memory_mb, cpu_seconds=max(2, s.parser_seconds * 2 // 3),
                              wall_seconds=float(s.parser_seconds), workers=s.parser_workers, nice=s.parser_nice))

    @functools.cached_property
    def ocr(self) -> Sandbox:
        """One worker for OCR, apart from the parsers: a scan never holds another unit's forms."""
        from intake.sandbox import Limits, Sandbox

        s = self.settings
        return Sandbox(Limits(memory_mb=max(s.parser_memory_mb, 2048), cpu_seconds=s.ocr_seconds,
                              wall_seconds=float(s.ocr_seconds), workers=1, nice=s.parser_nice))

    def close(self) -> None:
        """Stop the parser workers and the database pool."""
        for name in ("parsers", "ocr", "liveness"):
            if name in self.__dict__:
                self.__dict__[name].close()
        self.engine.dispose()

    def source(self) -> MailSource:
        from intake.mailbox import ImapSource, MaildirSource

        s = self.settings
        imap = s.imap()
        if imap is not None:
            return ImapSource(imap, s.imap_done_keyword, s.imap_done_folder, ssl_context=s.ssl_context(),
                              token=self.token_provider())
        path = s.maildir()
        if path is None:
            raise ConfigError("MAIL_SOURCE", "MAIL_SOURCE is not set: give imap://, imaps:// or maildir:PATH")
        return MaildirSource(path)

    def transport(self) -> Transport:
        from mailer.transport import make_transport

        return make_transport(self.settings.smtp(), self.settings.ssl_context(), self.token_provider())

    def token_provider(self) -> Callable[[], str] | None:
        """With MAIL_AUTH=xoauth2: a function giving a fresh access token (refreshed when due)."""
        from config.oauth import access_token

        oauth = self.settings.oauth
        if oauth is None:
            return None
        return lambda: access_token(oauth)

    def now(self) -> datetime:
        return datetime.now(self.settings.tz)

    def period_in_focus(self, moment: datetime) -> Period:
        """The month people mean by "now": last month for two weeks after its deadline (on 2 December
        the secretariat asks about November), otherwise the current month."""
        current = Period.of(moment.astimezone(self.settings.tz))
        previous = current.prev()
        if timedelta(0) < moment - self.deadline(previous) <= timedelta(days=14):
            return previous
        return current


def load_rubric(settings: Settings) -> Rubric:
    """RUBRIC_FILE, checked at start (a broken file must not fail in the middle of a digest)."""
    path = settings.rubric_file
    if path is None:
        return Rubric()
    try:
        return rubric_from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError("RUBRIC_FILE", f"RUBRIC_FILE {path} is not a valid rubric: {exc}") from None


def build_app(settings: Settings, *, need_registry: bool = True) -> App:
    """Check the secret key, open the database (migrating it to the newest schema), load the unit registry."""
    require_secret_key(settings)  # refused at start, not in the middle of a message
    # Everything that can fail on configuration comes before the database is created or migrated.
    registry = load_registry(settings.units_file) if need_registry else UnitRegistry([])
    rubric = load_rubric(settings)
    engine = make_engine(settings.database_url)
    migrate_if_needed(engine)
    return App(settings=settings, engine=engine, registry=registry, rubric=rubric)
